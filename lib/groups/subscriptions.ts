import { mapLimit } from '../concurrency.js';
import { InvalidRequestError, NotSubscribedError } from '../errors.js';
import { CONCURRENCY, type GroupContext } from './context.js';
import type { MemberRecord, SubscriptionRecord } from './lease-store.js';

/*
 * Subscriptions (docs/api.md v1.1): a group reads only the topics it is subscribed to, and subscribing is a
 * route of its own with the topic in the path, so that an IAM grant on that route ARN decides which topics a
 * group may read (invariant 8 in docs/design.md). Every path that reads or moves a group's position checks
 * here: a join's topics, a fetch's positions, a commit's offsets and a reset's topic are refused with 409
 * NOT_SUBSCRIBED before anything is written; a heartbeat and a fetch see the group's leases only on subscribed
 * topics (a lease of a topic unsubscribed since, or of a group created before v1.1, is ignored, never read).
 *
 * Subscriptions are kept by topic name, as Kafka's are: a subscribed topic that is deleted stays subscribed,
 * and once created again it is read from the reset policy (its old leases name another incarnation).
 */

/**
 * A group subscribes to at most this many topics. Each heartbeat plans over every partition of every
 * subscribed topic and reads each topic's metadata: 64 topics of the largest size are 65,536 partitions, far
 * beyond what one member's response carries (a member joining with explicit topics names at most 32).
 */
export const MAX_SUBSCRIPTIONS_PER_GROUP = 64;

/**
 * `PUT /v1/groups/{group}/subscriptions/{topic}`: subscribes the group, creating it on first use (idempotent).
 * Writes the activity item, the subscription, then the registry entry: the registry entry last, so that a
 * group deletion that raced this sees the new items when it re-checks (docs/design.md, "Consumer groups").
 * @throws TopicNotFoundError when the topic does not exist; InvalidRequestError past
 *   {@link MAX_SUBSCRIPTIONS_PER_GROUP}.
 */
export async function subscribe(ctx: GroupContext, group: string, topic: string): Promise<{ group: string; topic: string }> {
  await ctx.topics.get(topic, { fresh: true });
  const existing = await ctx.store.loadSubscriptions(group);
  if (!existing.some((s) => s.topic === topic) && existing.length >= MAX_SUBSCRIPTIONS_PER_GROUP) {
    throw new InvalidRequestError(`group '${group}' has ${existing.length} subscriptions, the most a group may have`, {
      details: { limitSubscriptions: MAX_SUBSCRIPTIONS_PER_GROUP },
    });
  }
  const now = ctx.now();
  await ctx.store.recordActivity(group, now, { create: true });
  await ctx.store.putSubscription(group, topic, now);
  await ctx.store.registerGroup(group, now);
  return { group, topic };
}

/**
 * `DELETE /v1/groups/{group}/subscriptions/{topic}`: the group no longer reads the topic; its leases there end
 * (their holders' commits are fenced) and their committed offsets stay until the group is deleted, so a later
 * subscription resumes from them. Idempotent: an absent subscription is not an error. The subscription goes
 * first: a heartbeat that plans after it takes none of the topic's leases back, and a lease taken by one that
 * planned before is ignored anyway (heartbeats, fetches and commits look at subscribed topics only).
 */
export async function unsubscribe(ctx: GroupContext, group: string, topic: string): Promise<void> {
  await ctx.store.deleteSubscription(group, topic);
  const { leases } = await ctx.store.loadGroup(group);
  const held = leases.filter((lease) => lease.topic === topic && lease.owner !== null);
  await mapLimit(held, CONCURRENCY, (lease) => ctx.store.endLease(group, lease));
}

/** The names of `subscriptions`. */
export function subscribedTopics(subscriptions: readonly SubscriptionRecord[]): Set<string> {
  return new Set(subscriptions.map((s) => s.topic));
}

/**
 * Refuses a request that names a topic the group is not subscribed to (the first such topic, by name).
 * @throws NotSubscribedError
 */
export function requireSubscribed(group: string, subscribed: ReadonlySet<string>, topics: Iterable<string>): void {
  const missing = [...new Set(topics)].filter((topic) => !subscribed.has(topic)).sort();
  if (missing.length > 0) throw new NotSubscribedError(group, missing[0]!);
}

/**
 * The topics a member reads: those it named at its join that the group is still subscribed to, or, when it
 * named none, every subscription (as the subscriptions are now, so a new one is read at the next heartbeat).
 */
export function memberTopics(member: Pick<MemberRecord, 'topics'>, subscribed: ReadonlySet<string>): string[] {
  if (member.topics === null) return [...subscribed].sort();
  return member.topics.filter((topic) => subscribed.has(topic));
}
