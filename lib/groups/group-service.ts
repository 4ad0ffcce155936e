import { randomUUID } from 'node:crypto';
import type { MetricsSink } from '../observability/metrics-sink.js';
import type { TopicStore } from '../topics/topic.js';
import { commit, type CommitInput, type CommitResult, type TopicPartitionOffset } from './commits.js';
import type { GroupContext, GroupLog, ResetPolicy } from './context.js';
import type { GroupBatch } from './group-batch.js';
import { describe, list, type GroupDescription } from './group-description.js';
import { deleteGroup, expireIdleGroups } from './group-deletion.js';
import { fetch, type GroupFetchInput } from './group-fetch.js';
import { sweepLag, type LagSweep } from './group-lag.js';
import type { LeaseStore } from './lease-store.js';
import { heartbeat, join, leave, type JoinInput, type Membership } from './membership.js';
import { resetOffsets, type ResetInput } from './offset-reset.js';
import { subscribe, unsubscribe } from './subscriptions.js';

// lib/groups is used through this module: the types of GroupService's methods and the session limits the
// handlers validate against, from the modules that define them.
export type { CommitInput, CommitResult, TopicPartitionOffset } from './commits.js';
export type { ResetPolicy } from './context.js';
export type { GroupBatch } from './group-batch.js';
export type { GroupDescription } from './group-description.js';
export type { GroupFetchInput } from './group-fetch.js';
export type { LagSweep } from './group-lag.js';
export type { JoinInput, Membership } from './membership.js';
export type { ResetInput, ResetTarget } from './offset-reset.js';
export { DEFAULT_SESSION_TIMEOUT_MS, MAX_SESSION_TIMEOUT_MS, MIN_SESSION_TIMEOUT_MS } from './session.js';
export { MAX_SUBSCRIPTIONS_PER_GROUP } from './subscriptions.js';

export interface GroupServiceOptions {
  readonly store: LeaseStore;
  readonly topics: Pick<TopicStore, 'get'>;
  readonly log: GroupLog;
  readonly now?: () => number;
  readonly newToken?: () => string;
  /** Default `earliest` (docs/api.md). */
  readonly resetPolicy?: ResetPolicy;
  /** Where consumer lag goes (`RecordsBehind`, `OldestUnreadRecordAge`); default: nowhere. */
  readonly metrics?: MetricsSink;
}

/**
 * Consumer groups over the lease table: a KCL-style coordinator whose every step is one iteration per HTTP
 * request (`runLeaseTaker()` / `runLeaseRenewer()` as a heartbeat), so nothing outlives a Lambda invocation.
 * This class is the one the handlers call; each concern is a module beside it:
 *
 * - subscriptions.ts: subscribe, unsubscribe, and the check every read path makes (docs/api.md v1.1);
 * - membership.ts: join, heartbeat, leave, and the heartbeat's one iteration of the assignment rule;
 * - group-fetch.ts and group-batch.ts: reading the member's partitions and cutting the response;
 * - commits.ts: fenced commits and how their outcomes answer the request;
 * - group-description.ts: describe and list; offset-reset.ts: seek/reset;
 * - group-deletion.ts: deleting a group, and expiring idle ones (a step of the maintenance pass);
 * - group-records.ts: how all of them read a group (live owners, topics, the current incarnation's leases);
 * - session.ts: session limits and the liveness rule; lib/groups/lease-table.ts: the items they are stored as.
 *
 * The lease token changes at every change of owner and at every reset; a commit is a conditional write on
 * owner and token, so a member that lost a lease can never move its offset (invariant 5 in docs/design.md).
 *
 * @example
 * await groups.subscribe('billing', 'orders');
 * const { memberId, assignments } = await groups.join('billing', { topics: ['orders'] });
 * const batches = await groups.fetch('billing', memberId, { limit: 100, maxBytes: 1 << 20, waitMs: 0 });
 * await groups.commit('billing', memberId, [{ topic: 'orders', partition: 0, offset: 10, leaseToken }]);
 */
export class GroupService {
  private readonly ctx: GroupContext;

  constructor(options: GroupServiceOptions) {
    this.ctx = {
      store: options.store,
      topics: options.topics,
      log: options.log,
      now: options.now ?? Date.now,
      newToken: options.newToken ?? randomUUID,
      resetPolicy: options.resetPolicy ?? 'earliest',
      ...(options.metrics ? { metrics: options.metrics } : {}),
    };
  }

  /**
   * Subscribes a group to a topic, creating the group on first use (idempotent).
   * @throws TopicNotFoundError; InvalidRequestError past `MAX_SUBSCRIPTIONS_PER_GROUP`.
   */
  subscribe(group: string, topic: string): Promise<{ group: string; topic: string }> {
    return subscribe(this.ctx, group, topic);
  }

  /** Unsubscribes (idempotent): the topic's leases end, its committed offsets stay until the group is deleted. */
  unsubscribe(group: string, topic: string): Promise<void> {
    return unsubscribe(this.ctx, group, topic);
  }

  /**
   * Deletes a group: its subscriptions, leases and committed offsets.
   * @throws GroupNotFoundError; GroupNotEmptyError while a member's session is live.
   */
  delete(group: string): Promise<void> {
    return deleteGroup(this.ctx, group);
  }

  /**
   * One step of group expiry (the maintenance pass): deletes groups idle for 7 days among the next few of the
   * registry. @returns how many groups it deleted.
   */
  expireIdle(): Promise<number> {
    return expireIdleGroups(this.ctx);
  }

  /**
   * Joins (or rejoins, with a stable `memberId`) a group: a new session, then a first heartbeat iteration.
   * @throws NotSubscribedError when a topic is not subscribed; TopicNotFoundError when a named topic does not exist.
   */
  join(group: string, input: JoinInput): Promise<Membership> {
    return join(this.ctx, group, input);
  }

  /**
   * Renews the member's session and runs one iteration of the assignment rule.
   * @throws MemberNotFoundError when the member is unknown or its session expired (it joins again).
   */
  heartbeat(group: string, memberId: string): Promise<Membership> {
    return heartbeat(this.ctx, group, memberId);
  }

  /**
   * Leaves the group, freeing the member's leases at once.
   * @throws MemberNotFoundError when the member is unknown or its session had expired.
   */
  leave(group: string, memberId: string): Promise<void> {
    return leave(this.ctx, group, memberId);
  }

  /**
   * Reads the member's partitions of subscribed topics, within `limit` and `maxBytes` over the whole response.
   * @throws MemberNotFoundError, NotSubscribedError (a position on another topic), OffsetOutOfRangeError (an
   *   explicit position outside the readable range)
   */
  fetch(group: string, memberId: string, input: GroupFetchInput): Promise<GroupBatch[]> {
    return fetch(this.ctx, group, memberId, input);
  }

  /**
   * Commits offsets, each fenced by its lease token and the topic's incarnation.
   * @returns one result per offset, in request order.
   * @throws NotSubscribedError (nothing stored); FencedError or the first refusal when every offset was refused.
   */
  commit(group: string, memberId: string, offsets: readonly CommitInput[]): Promise<CommitResult[]> {
    return commit(this.ctx, group, memberId, offsets);
  }

  /**
   * Subscriptions, members, owners, committed offsets, end offsets and lag of the group's partitions.
   * @throws GroupNotFoundError when nothing of the group is stored.
   */
  describe(group: string): Promise<GroupDescription> {
    return describe(this.ctx, group);
  }

  /** Every registered group (subscribed, not deleted nor expired), with its live member count. */
  list(): Promise<{ group: string; members: number }[]> {
    return list(this.ctx);
  }

  /**
   * Emits the lag of every group behind on a topic, whether or not its consumers run (the scheduled
   * maintenance pass calls it once a minute; see group-lag.ts for what it reads).
   * @throws the first error of a group, after the others were swept.
   */
  reportLag(): Promise<LagSweep> {
    return sweepLag(this.ctx);
  }

  /**
   * Moves committed offsets of one partition or a whole topic, fencing the current owners.
   * @throws NotSubscribedError, TopicNotFoundError, PartitionNotFoundError, OffsetOutOfRangeError (an offset
   *   outside the range)
   */
  resetOffsets(group: string, input: ResetInput): Promise<TopicPartitionOffset[]> {
    return resetOffsets(this.ctx, group, input);
  }
}
