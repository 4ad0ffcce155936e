import type { LogService } from '../log/log-service.js';
import type { MetricsSink } from '../observability/metrics-sink.js';
import type { PartitionBounds } from '../log/log-types.js';
import type { TopicStore } from '../topics/topic.js';
import type { LeaseStore } from './lease-store.js';

/** DynamoDB calls a single request keeps in flight (takes at a join, reads of a group fetch, commits). */
export const CONCURRENCY = 16;

/** Where a partition with nothing committed starts (Kafka's `auto.offset.reset`). */
export type ResetPolicy = 'earliest' | 'latest';

/** The calls of the log the coordinator makes: reads of held partitions, bounds, offset checks. */
export type GroupLog = Pick<LogService, 'read' | 'waitForAny' | 'bounds' | 'checkOffset' | 'offsetForTimestamp'>;

/**
 * What every step of the coordinator works with (membership, fetch, commit, describe, reset), built once by
 * {@link GroupService}. A test builds one from in-memory fakes and a clock of its own.
 */
export interface GroupContext {
  readonly store: LeaseStore;
  readonly topics: Pick<TopicStore, 'get'>;
  readonly log: GroupLog;
  readonly now: () => number;
  /** A new lease token or member session: unique per call. */
  readonly newToken: () => string;
  readonly resetPolicy: ResetPolicy;
  /** Where consumer lag goes (lib/groups/group-lag.ts); default: nowhere. */
  readonly metrics?: MetricsSink;
}

/** The offset the reset policy starts a partition with nothing committed at. */
export function policyOffset(policy: ResetPolicy, bounds: PartitionBounds): number {
  return policy === 'earliest' ? bounds.startOffset : bounds.endOffset;
}
