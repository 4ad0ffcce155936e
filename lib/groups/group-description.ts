import { mapLimit } from '../concurrency.js';
import { GroupNotFoundError } from '../errors.js';
import { CONCURRENCY, policyOffset, type GroupContext } from './context.js';
import { currentLeases, isEmptyGroup, ownerOf, partitionKey, partitionsOf, resolveTopics } from './group-records.js';
import type { LeaseRecord } from './lease-store.js';
import { liveMembers } from './session.js';
import { subscribedTopics } from './subscriptions.js';

/** `GET /v1/groups/{group}` (docs/api.md, "Consumer groups"). */
export interface GroupDescription {
  readonly group: string;
  /** The topics the group is subscribed to, by name (v1.1). */
  readonly subscriptions: string[];
  readonly members: { memberId: string; expiresAt: number; partitions: number }[];
  readonly partitions: {
    topic: string;
    partition: number;
    owner: string | null;
    committedOffset: number | null;
    endOffset: number;
    lag: number;
  }[];
}

/**
 * Subscriptions, members, owners, committed offsets, end offsets and lag of every partition of a topic the
 * group subscribes to or has a lease on (committed offsets stay after an unsubscribe, until the group is
 * deleted). Lag counts from the committed offset, or from where the reset policy would start. Only a lease of
 * a subscribed topic has an owner.
 * @throws GroupNotFoundError when the group has no subscription, no live member, no lease (see {@link isEmptyGroup}).
 */
export async function describe(ctx: GroupContext, group: string): Promise<GroupDescription> {
  const now = ctx.now();
  const records = await ctx.store.loadGroup(group);
  if (isEmptyGroup(records, now)) throw new GroupNotFoundError(group);
  const live = liveMembers(records.members, now);
  const subscribed = subscribedTopics(records.subscriptions);
  const names = new Set([...subscribed, ...records.leases.map((l) => l.topic)]);
  const topics = await resolveTopics(ctx.topics, names, records.leases);
  const leases = currentLeases(records.leases, topics);
  const liveOwner = ownerOf(live);
  const owner = (lease: LeaseRecord) => (subscribed.has(lease.topic) ? liveOwner(lease) : null);
  const parts = [...topics.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((topic) => partitionsOf(topic).map((partition) => ({ topic, partition })));
  const partitions = await mapLimit(parts, CONCURRENCY, async ({ topic, partition }) => {
    const lease = leases.get(partitionKey({ topic: topic.name, partition }));
    const bounds = await ctx.log.bounds(topic, partition);
    const committed = lease?.committedOffset ?? null;
    return {
      topic: topic.name,
      partition,
      owner: lease ? owner(lease) : null,
      committedOffset: committed,
      endOffset: bounds.endOffset,
      lag: Math.max(0, bounds.endOffset - (committed ?? policyOffset(ctx.resetPolicy, bounds))),
    };
  });
  const counts = new Map<string, number>();
  for (const p of partitions) if (p.owner !== null) counts.set(p.owner, (counts.get(p.owner) ?? 0) + 1);
  return {
    group,
    subscriptions: [...subscribed].sort(),
    members: live
      .map((m) => ({ memberId: m.memberId, expiresAt: m.sessionExpiresAtMs, partitions: counts.get(m.memberId) ?? 0 }))
      .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0)),
    partitions,
  };
}

/** Every registered group, with its live member count. */
export async function list(ctx: GroupContext): Promise<{ group: string; members: number }[]> {
  const now = ctx.now();
  const names = (await ctx.store.listGroups()).sort();
  return mapLimit(names, CONCURRENCY, async (group) => {
    const records = await ctx.store.loadGroup(group);
    return { group, members: liveMembers(records.members, now).length };
  });
}
