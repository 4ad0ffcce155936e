import { randomUUID } from 'node:crypto';
import { mapLimit } from '../concurrency.js';
import { MemberNotFoundError, NotSubscribedError } from '../errors.js';
import type { Topic } from '../topics/topic.js';
import { compare, planHeartbeat, type HeartbeatPlan, type PartitionView, type TopicPartition } from './assignment.js';
import { CONCURRENCY, type GroupContext } from './context.js';
import { currentLeases, ownerOf, partitionKey, partitionsOf, resolveTopics } from './group-records.js';
import type { GroupRecords, LeaseRecord, MemberRecord } from './lease-store.js';
import { ACTIVITY_RESOLUTION_MS, DEFAULT_SESSION_TIMEOUT_MS, heartbeatIntervalMs, isLive, liveMembers } from './session.js';
import { memberTopics, requireSubscribed, subscribedTopics } from './subscriptions.js';

/*
 * Membership and the coordinator's heartbeat: join, heartbeat and leave, each one iteration of KCL's
 * `runLeaseTaker()` at most, so nothing outlives a request.
 *
 * A member's liveness is its member record (`sessionExpiresAtMs`); a lease is held only while its owner's
 * record is live under the session that took it. A heartbeat therefore renews ONE item, whatever the number
 * of leases (KCL renews every lease every few seconds), then reads the group with one Query and applies
 * `planHeartbeat`: conditional writes happen only when the assignment changes.
 */

export interface JoinInput {
  /** Topics the group is subscribed to; absent: every subscription, as they are at each heartbeat. */
  readonly topics?: readonly string[];
  readonly memberId?: string;
  readonly sessionTimeoutMs?: number;
}

/** A lease as its holder sees it. */
export interface Assignment extends TopicPartition {
  readonly leaseToken: string;
  readonly committedOffset: number | null;
}

export interface Membership {
  readonly memberId: string;
  readonly heartbeatIntervalMs: number;
  readonly assignments: Assignment[];
}

/**
 * Joins (or rejoins, with a stable `memberId`) a group: a new session, then a first heartbeat iteration.
 * Leases held under an earlier session of the same member id are free again and get new tokens when taken.
 * Nothing is written unless every topic is subscribed and exists.
 * @throws NotSubscribedError when a topic is not subscribed, or no topic is named and none is; TopicNotFoundError
 *   when a named topic does not exist (a subscribed topic deleted since).
 */
export async function join(ctx: GroupContext, group: string, input: JoinInput): Promise<Membership> {
  const subscribed = subscribedTopics(await ctx.store.loadSubscriptions(group));
  const topics = input.topics === undefined ? null : [...new Set(input.topics)].sort();
  if (topics === null && subscribed.size === 0) throw new NotSubscribedError(group, null);
  if (topics !== null) {
    requireSubscribed(group, subscribed, topics);
    await Promise.all(topics.map((t) => ctx.topics.get(t)));
  }
  const now = ctx.now();
  const sessionTimeoutMs = input.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const member: MemberRecord = {
    memberId: input.memberId ?? randomUUID(),
    session: ctx.newToken(),
    topics,
    sessionTimeoutMs,
    sessionExpiresAtMs: now + sessionTimeoutMs,
  };
  await ctx.store.putMember(group, member);
  const { membership, records } = await coordinate(ctx, group, member, now);
  // The first member of a new group puts it in the registry; later joins need no write for that.
  if (records.leases.length === 0 && liveMembers(records.members, now).length <= 1) await ctx.store.registerGroup(group, now);
  return membership;
}

/**
 * One heartbeat: renews the session (the one write of a settled group) and runs one iteration of the
 * assignment rule.
 * @throws MemberNotFoundError when the member is unknown or its session expired (it joins again).
 */
export async function heartbeat(ctx: GroupContext, group: string, memberId: string): Promise<Membership> {
  const now = ctx.now();
  // The member's own session length is applied by the write itself, so the heartbeat needs no read first.
  const member = await ctx.store.renewMember(group, memberId, now);
  if (!member) throw new MemberNotFoundError(group, memberId);
  return (await coordinate(ctx, group, member, now)).membership;
}

/**
 * Leaves the group: the member record goes, and with it the member's hold on its leases, at once.
 * @throws MemberNotFoundError when the member is unknown or its session had expired.
 */
export async function leave(ctx: GroupContext, group: string, memberId: string): Promise<void> {
  const deleted = await ctx.store.deleteMember(group, memberId);
  if (!deleted || !isLive(deleted, ctx.now())) throw new MemberNotFoundError(group, memberId);
}

/**
 * One iteration of the coordinator for `member` (KCL's `runLeaseTaker()`): read the group, plan, and write
 * only what the plan changes. A lost race is skipped, not retried: the next heartbeat plans again.
 */
async function coordinate(
  ctx: GroupContext,
  group: string,
  member: MemberRecord,
  now: number,
): Promise<{ membership: Membership; records: GroupRecords }> {
  const records = await ctx.store.loadGroup(group);
  await recordActivity(ctx, group, records.activeAt, now);
  const subscribed = subscribedTopics(records.subscriptions);
  const live = [...liveMembers(records.members, now).filter((m) => m.memberId !== member.memberId), member];
  const readers = live.map((m) => ({ memberId: m.memberId, topics: memberTopics(m, subscribed) }));
  const topics = await resolveTopics(ctx.topics, new Set(readers.flatMap((m) => m.topics)), records.leases);
  const owner = ownerOf(live);
  const leases = currentLeases(records.leases, topics);
  const view: PartitionView[] = [...topics.values()].flatMap((topic) =>
    partitionsOf(topic).map((partition) => {
      const lease = leases.get(partitionKey({ topic: topic.name, partition }));
      return { topic: topic.name, partition, owner: lease ? owner(lease) : null };
    }),
  );
  const plan = planHeartbeat(
    member.memberId,
    readers.map((m) => ({ memberId: m.memberId, topics: m.topics.filter((t) => topics.has(t)) })),
    view,
  );
  const mine = new Map<string, LeaseRecord>();
  for (const lease of leases.values()) if (owner(lease) === member.memberId) mine.set(partitionKey(lease), lease);
  await applyPlan(ctx, group, member, plan, { mine, stored: records.leases, topics, now });

  const assignments = [...mine.values()].sort(compare).map((l) => ({
    topic: l.topic,
    partition: l.partition,
    leaseToken: l.leaseToken,
    committedOffset: l.committedOffset,
  }));
  return {
    membership: { memberId: member.memberId, heartbeatIntervalMs: heartbeatIntervalMs(member.sessionTimeoutMs), assignments },
    records,
  };
}

/**
 * Keeps the group's activity item (what group expiry counts from, see group-deletion.ts) within
 * {@link ACTIVITY_RESOLUTION_MS} of now while members are live: one small write per group per hour at most,
 * so a settled group's heartbeat stays one write. A group without the item (created before v1.1 and not
 * subscribed since) gets none: only a subscription creates it.
 */
async function recordActivity(ctx: GroupContext, group: string, activeAt: number | null, now: number): Promise<void> {
  if (activeAt !== null && activeAt + ACTIVITY_RESOLUTION_MS <= now) await ctx.store.recordActivity(group, now, { create: false });
}

/** What {@link applyPlan} works on: `mine` (the member's current leases by partition) it updates in place. */
interface PlanState {
  readonly mine: Map<string, LeaseRecord>;
  readonly stored: readonly LeaseRecord[];
  readonly topics: ReadonlyMap<string, Topic>;
  readonly now: number;
}

/** The conditional writes of a plan: releases, then takes (and the steal), each a race that may be lost. */
async function applyPlan(ctx: GroupContext, group: string, member: MemberRecord, plan: HeartbeatPlan, state: PlanState): Promise<void> {
  const { mine } = state;
  for (const p of plan.release) {
    const lease = mine.get(partitionKey(p));
    mine.delete(partitionKey(p));
    // Lost or won, it is not ours any more: a lost release means someone else changed the lease first.
    if (lease) await ctx.store.releaseLease(group, p, member.memberId, lease.leaseToken);
  }
  // Leases of an earlier incarnation are free to take (with a new token, their offset dropped); a take is
  // still conditional on the item as stored, whatever incarnation it names.
  const stored = new Map(state.stored.map((l) => [partitionKey(l), l]));
  const takes = [...plan.take, ...(plan.steal ? [plan.steal.partition] : [])];
  const taken = await mapLimit(takes, CONCURRENCY, (p) =>
    ctx.store.takeLease(group, {
      partition: p,
      topicId: state.topics.get(p.topic)!.topicId,
      expected: stored.get(partitionKey(p)) ?? null,
      owner: member.memberId,
      ownerSession: member.session,
      newToken: ctx.newToken(),
      now: state.now,
    }),
  );
  for (const lease of taken) if (lease) mine.set(partitionKey(lease), lease);
}
