import type { TopicPartition } from './assignment.js';
import type {
  ExpiryCursor,
  GroupItemKind,
  GroupRecords,
  LeaseRecord,
  MemberRecord,
  RegistryEntry,
  SubscriptionRecord,
} from './lease-store.js';
import { MAX_SESSION_TIMEOUT_MS } from './session.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../storage/tables.js';

/*
 * The lease table's layout, in one place: every key, attribute name and item codec of the consumer-group
 * coordinator (`DynamoLeaseStore` writes through these; nothing else spells them). The key schema and
 * the TTL attribute of the table itself are in tables.ts.
 *
 * One partition key per group, so ONE Query returns the whole group:
 *
 * | item           | pk              | sk                          | attributes                                     |
 * |----------------|-----------------|-----------------------------|------------------------------------------------|
 * | activity       | `group#<group>` | `activity`                  | `ACTIVITY`: when the group was last seen live  |
 * | lease          | `group#<group>` | `lease#<topic>#<partition>` | `LEASE`: owner, token, incarnation, offset     |
 * | member         | `group#<group>` | `member#<memberId>`         | `MEMBER`: session, topics, liveness, TTL       |
 * | subscription   | `group#<group>` | `sub#<topic>`               | `SUBSCRIPTION`: the topic, when subscribed     |
 * | registry entry | `groups`        | `group#<group>`             | `REGISTRY`: the group, when first registered   |
 * | expiry cursor  | `group-expiry`  | `cursor`                    | `EXPIRY_CURSOR`: where the expiry pass resumes |
 *
 * Names are `[A-Za-z0-9._-]`, so `#` never occurs inside one. Ownership is not renewed per lease (KCL writes
 * every held lease every few seconds): a lease is held only while its owner's member record is live, so a
 * heartbeat writes one item whatever the number of leases. `decodeGroup` skips sort keys of other kinds,
 * so a new kind of item under a group's key can be added beside these.
 *
 * Subscriptions (docs/api.md v1.1) are kept by topic NAME, as Kafka keeps them: a topic deleted and created
 * again is subscribed still, and read again from the reset policy (its leases name the old `topicId`). A
 * member record written by a join without `topics` has no `topics` attribute: the member reads every
 * subscription of its group, whatever they are at each heartbeat. Items written before v1.1 always have it.
 *
 * docs/design.md ("Lease table", "Consumer groups") describes the coordinator these items serve.
 */

/** A lease table key: `{ pk, sk }`. */
export type LeaseTableKey = Record<typeof PARTITION_KEY | typeof SORT_KEY, string>;

const GROUP_PREFIX = 'group#';
const MEMBER_PREFIX = 'member#';
const LEASE_PREFIX = 'lease#';
const SUBSCRIPTION_PREFIX = 'sub#';
const ACTIVITY_SK = 'activity';
/** The partition key of the registry read by `GET /v1/groups`: one Query lists every group. */
export const REGISTRY_PK = 'groups';

/** The partition key holding one group's members and leases. */
export const groupPk = (group: string): string => `${GROUP_PREFIX}${group}`;

export const memberKey = (group: string, memberId: string): LeaseTableKey => ({
  [PARTITION_KEY]: groupPk(group),
  [SORT_KEY]: `${MEMBER_PREFIX}${memberId}`,
});

export const leaseKey = (group: string, p: TopicPartition): LeaseTableKey => ({
  [PARTITION_KEY]: groupPk(group),
  [SORT_KEY]: `${LEASE_PREFIX}${p.topic}#${p.partition}`,
});

export const registryKey = (group: string): LeaseTableKey => ({ [PARTITION_KEY]: REGISTRY_PK, [SORT_KEY]: `${GROUP_PREFIX}${group}` });

/**
 * The key of a subscription of the items under `pk` to `topic`. Any kind of group keeps its subscriptions as
 * `sub#<topic>` items beside its other items (see {@link subscriptionKey} for consumer groups), so the codec
 * below serves them all.
 */
export const subscriptionKeyUnder = (pk: string, topic: string): LeaseTableKey => ({
  [PARTITION_KEY]: pk,
  [SORT_KEY]: `${SUBSCRIPTION_PREFIX}${topic}`,
});

/** A consumer group's subscription to `topic`. */
export const subscriptionKey = (group: string, topic: string): LeaseTableKey => subscriptionKeyUnder(groupPk(group), topic);

export const activityKey = (group: string): LeaseTableKey => ({ [PARTITION_KEY]: groupPk(group), [SORT_KEY]: ACTIVITY_SK });

/** Where the group expiry pass keeps its place in the registry between passes. */
export const EXPIRY_CURSOR_KEY: LeaseTableKey = { [PARTITION_KEY]: 'group-expiry', [SORT_KEY]: 'cursor' };

/** The sort key prefix (`begins_with`) of one kind of a group's items: how a deletion takes them kind by kind. */
export function groupItemPrefix(kind: GroupItemKind): string {
  return kind === 'subscriptions' ? SUBSCRIPTION_PREFIX : kind === 'leases' ? LEASE_PREFIX : ACTIVITY_SK;
}

/** The sort key prefix of a group's subscriptions, for a Query of them alone. */
export const SUBSCRIPTIONS_PREFIX = SUBSCRIPTION_PREFIX;
/** The sort key prefix of a group's member records. */
export const MEMBERS_PREFIX = MEMBER_PREFIX;

/*
 * Attribute names by item kind, each under its logical name. Expressions name attributes only through
 * `#<logical name>` placeholders ({@link expressionNames}): OWNER and SESSION are DynamoDB reserved words, and
 * a renamed attribute is then an edit of this file alone.
 */

/** A member's liveness record. */
export const MEMBER = {
  sk: SORT_KEY,
  memberId: 'memberId',
  session: 'session',
  topics: 'topics',
  sessionTimeoutMs: 'sessionTimeoutMs',
  sessionExpiresAtMs: 'sessionExpiresAtMs',
  /** Epoch seconds, the table's TTL attribute: see {@link memberTtlSeconds}. */
  ttl: TTL_ATTRIBUTE,
} as const;

/** A (group, topic, partition) lease. */
export const LEASE = {
  sk: SORT_KEY,
  topic: 'topic',
  partition: 'partition',
  topicId: 'topicId',
  owner: 'owner',
  ownerSession: 'ownerSession',
  leaseToken: 'leaseToken',
  committedOffset: 'committedOffset',
  committedToken: 'committedToken',
  updatedAt: 'updatedAt',
} as const;

/** A group's entry in the registry. */
export const REGISTRY = {
  group: 'group',
  createdAt: 'createdAt',
} as const;

/** A subscription of a group to a topic (by name). */
export const SUBSCRIPTION = {
  topic: 'topic',
  subscribedAt: 'subscribedAt',
} as const;

/** A group's activity item: written by a subscription, then refreshed (at most hourly) by joins and heartbeats. */
export const ACTIVITY = {
  sk: SORT_KEY,
  activeAt: 'activeAt',
} as const;

/** The expiry pass's place: the last group it examined (absent: at the start), and until when it rests. */
export const EXPIRY_CURSOR = {
  after: 'after',
  restUntil: 'restUntil',
} as const;

/**
 * `ExpressionAttributeNames` for the given logical names of one item kind: `#<name>` → the stored name.
 * @example expressionNames(LEASE, 'owner', 'leaseToken') // { '#owner': 'owner', '#leaseToken': 'leaseToken' }
 */
export function expressionNames<K extends string>(attributes: Readonly<Record<K, string>>, ...names: readonly K[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [`#${name}`, attributes[name]]));
}

/**
 * The update that puts `group` in a registry (the consumer groups' or, with its own key, the share groups':
 * lib/share-groups/share-table.ts): its name, and `createdAt` only the first time, so a repeat changes nothing.
 * Everything of an `UpdateCommand` but the table.
 */
export function registryUpdate(key: Readonly<Record<string, string>>, group: string, now: number) {
  return {
    Key: key,
    UpdateExpression: 'SET #group = :group, #createdAt = if_not_exists(#createdAt, :now)',
    ExpressionAttributeNames: expressionNames(REGISTRY, 'group', 'createdAt'),
    ExpressionAttributeValues: { ':group': group, ':now': now },
  };
}

/** Keeps TTL'd member records (seconds) a little past their session, which reads check in milliseconds. */
const TTL_GRACE_SECONDS = 60;

/** The TTL (epoch seconds) of a member record whose session ends at `sessionExpiresAtMs`. */
export function memberTtlSeconds(sessionExpiresAtMs: number): number {
  return Math.ceil(sessionExpiresAtMs / 1000) + TTL_GRACE_SECONDS;
}

/**
 * The TTL a heartbeat writes at `now`. The renewal sets the session from the stored `sessionTimeoutMs` without
 * reading it first, so the TTL covers the longest session a member may have.
 */
export function renewedMemberTtlSeconds(now: number): number {
  return memberTtlSeconds(now + MAX_SESSION_TIMEOUT_MS);
}

/** The whole item of a member record (a join writes it, starting a new session). */
export function encodeMember(group: string, member: MemberRecord): Record<string, unknown> {
  return {
    ...memberKey(group, member.memberId),
    [MEMBER.memberId]: member.memberId,
    [MEMBER.session]: member.session,
    ...(member.topics === null ? {} : { [MEMBER.topics]: [...member.topics] }),
    [MEMBER.sessionTimeoutMs]: member.sessionTimeoutMs,
    [MEMBER.sessionExpiresAtMs]: member.sessionExpiresAtMs,
    [MEMBER.ttl]: memberTtlSeconds(member.sessionExpiresAtMs),
  };
}

export function decodeMember(item: Record<string, unknown>): MemberRecord {
  const topics = item[MEMBER.topics];
  return {
    memberId: String(item[MEMBER.memberId]),
    session: String(item[MEMBER.session]),
    topics: Array.isArray(topics) ? topics.map(String) : null,
    sessionTimeoutMs: Number(item[MEMBER.sessionTimeoutMs]),
    sessionExpiresAtMs: Number(item[MEMBER.sessionExpiresAtMs]),
  };
}

export function decodeLease(item: Record<string, unknown>): LeaseRecord {
  return {
    topic: String(item[LEASE.topic]),
    partition: Number(item[LEASE.partition]),
    topicId: stringOrNull(item[LEASE.topicId]),
    owner: stringOrNull(item[LEASE.owner]),
    ownerSession: stringOrNull(item[LEASE.ownerSession]),
    leaseToken: String(item[LEASE.leaseToken]),
    committedOffset: typeof item[LEASE.committedOffset] === 'number' ? (item[LEASE.committedOffset] as number) : null,
    committedToken: stringOrNull(item[LEASE.committedToken]),
    updatedAt: numberOrNull(item[LEASE.updatedAt]),
  };
}

/** The whole item of a subscription under `pk` (see {@link subscriptionKeyUnder}). */
export function encodeSubscription(pk: string, subscription: SubscriptionRecord): Record<string, unknown> {
  return {
    ...subscriptionKeyUnder(pk, subscription.topic),
    [SUBSCRIPTION.topic]: subscription.topic,
    [SUBSCRIPTION.subscribedAt]: subscription.subscribedAt,
  };
}

export function decodeSubscription(item: Record<string, unknown>): SubscriptionRecord {
  return { topic: String(item[SUBSCRIPTION.topic]), subscribedAt: Number(item[SUBSCRIPTION.subscribedAt]) };
}

/**
 * A group's items, as one Query under {@link groupPk} returns them, sorted into members, leases, subscriptions
 * and the activity item (items written before v1.1 have neither of the last two).
 */
export function decodeGroup(items: readonly Record<string, unknown>[]): GroupRecords {
  const members: MemberRecord[] = [];
  const leases: LeaseRecord[] = [];
  const subscriptions: SubscriptionRecord[] = [];
  let activeAt: number | null = null;
  for (const item of items) {
    const sk = String(item[SORT_KEY]);
    if (sk.startsWith(MEMBER_PREFIX)) members.push(decodeMember(item));
    else if (sk.startsWith(LEASE_PREFIX)) leases.push(decodeLease(item));
    else if (sk.startsWith(SUBSCRIPTION_PREFIX)) subscriptions.push(decodeSubscription(item));
    else if (sk === ACTIVITY_SK) activeAt = numberOrNull(item[ACTIVITY.activeAt]);
  }
  return { members, leases, subscriptions, activeAt };
}

/** A registry entry: the group it names and when it was first registered. */
export function decodeRegistryEntry(item: Record<string, unknown>): RegistryEntry {
  return { group: String(item[REGISTRY.group]), createdAt: Number(item[REGISTRY.createdAt] ?? 0) };
}

/** The expiry cursor as stored; an absent item is a pass at the start of the registry, not resting. */
export function decodeExpiryCursor(item: Record<string, unknown> | undefined): ExpiryCursor {
  const after = item?.[EXPIRY_CURSOR.after];
  return { after: typeof after === 'string' ? after : null, restUntil: numberOrNull(item?.[EXPIRY_CURSOR.restUntil]) ?? 0 };
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const numberOrNull = (value: unknown): number | null => (typeof value === 'number' ? value : null);
