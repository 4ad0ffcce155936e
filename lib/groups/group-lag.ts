import { mapLimit } from '../concurrency.js';
import { OffsetOutOfRangeError } from '../errors.js';
import { decodeBatchHeader } from '../log/batch-format.js';
import type { PartitionBounds, StartPosition } from '../log/log-types.js';
import { NO_METRICS, type MetricsSink } from '../observability/metrics-sink.js';
import type { Topic } from '../topics/topic.js';
import { CONCURRENCY, type GroupContext } from './context.js';
import type { GroupBatch } from './group-batch.js';
import { currentLeases, resolveTopics } from './group-records.js';

/*
 * Consumer lag as metrics (`RecordsBehind`, `OldestUnreadRecordAge`, README "Operating shardlog"), per group and
 * topic: the worst partition, read with the Maximum statistic. Two sources:
 *
 * - a group fetch ({@link fetchLag}), for free: each partition it read comes with its end offset, and the first
 *   record returned is the oldest unread one of that partition;
 * - the scheduled maintenance pass ({@link sweepLag}), once a minute, for every group with a committed offset
 *   behind the end: a group whose consumers have all stopped fetches nothing, and without this its lag alarms
 *   would stay OK while it falls behind.
 *
 * A commit emits nothing: it follows the fetch that already emitted the lag, with a fresher end offset than the
 * commit knows, and the oldest unread record's timestamp would cost it a read.
 */

/** Groups one sweep looks at, in name order: bounds the pass's time and reads (README "Operating shardlog"). */
export const MAX_SWEEP_GROUPS = 500;
/** Groups swept at once (each then reads its partitions CONCURRENCY at a time). */
const SWEEP_GROUP_CONCURRENCY = 4;

/** The lag of a group on one topic: its worst partition. */
export interface TopicLag {
  readonly topic: string;
  readonly recordsBehind: number;
  /** Milliseconds since the oldest unread record's timestamp; undefined when not known. */
  readonly oldestUnreadAgeMs: number | undefined;
}

/** What a sweep did. */
export interface LagSweep {
  /** Groups looked at. */
  readonly groups: number;
  /** (group, topic) pairs found behind, whose lag was emitted. */
  readonly behind: number;
  /** Registered groups left out (beyond {@link MAX_SWEEP_GROUPS}). */
  readonly skipped: number;
}

/**
 * The lag a group fetch saw, per topic: records from the first one returned (or the next offset, when none was)
 * to the end offset, and the first record's age; a partition read to its end is 0 behind and 0 old.
 */
export function fetchLag(batches: readonly GroupBatch[], now: number): TopicLag[] {
  return worstByTopic(
    batches.map((b) => {
      const first = b.records[0];
      const recordsBehind = Math.max(0, b.endOffset - (first?.offset ?? b.firstOffset ?? b.nextOffset));
      const oldest = first?.timestamp ?? storedBatchTimestamp(b);
      const oldestUnreadAgeMs = oldest !== undefined ? Math.max(0, now - oldest) : recordsBehind === 0 ? 0 : undefined;
      return { topic: b.topic, recordsBehind, oldestUnreadAgeMs };
    }),
  );
}

/**
 * A binary fetch's oldest unread timestamp, without decoding records: the first stored batch's header holds its
 * smallest timestamp (format v2; lib/log/batch-format.ts). The batch may begin before the first unread record,
 * so the age is at most a batch's span too old. Undefined for a batch handed back as a URL.
 */
function storedBatchTimestamp(b: GroupBatch): number | undefined {
  const data = b.batches?.[0]?.data;
  return data === undefined ? undefined : decodeBatchHeader(data).baseTimestamp;
}

/** Emits each topic's lag of `group`. */
export function emitLag(metrics: MetricsSink, group: string, lags: readonly TopicLag[]): void {
  for (const lag of lags) {
    const dimensions = { ConsumerGroup: group, Topic: lag.topic };
    metrics.add('RecordsBehind', lag.recordsBehind, dimensions);
    if (lag.oldestUnreadAgeMs !== undefined) metrics.add('OldestUnreadRecordAge', lag.oldestUnreadAgeMs, dimensions);
  }
}

/**
 * Emits the lag of every registered group (up to {@link MAX_SWEEP_GROUPS}) on every topic where one of its
 * committed offsets is behind the end. A group caught up emits nothing here (its fetches say 0, and nothing is
 * what an idle group should cost); a partition with no committed offset is left out, since where the group
 * would start there depends on its consumers' reset policy.
 *
 * Reads: the group registry (one Query), each group (one Query), the bounds of each committed partition (the
 * partition's tail, one Query, shared by the groups of the sweep) and, per partition behind, the record at
 * the committed offset (one small read; an S3 GET when that record was spilled or tiered).
 * @throws the first error of a group, after every other group was swept.
 */
export async function sweepLag(ctx: GroupContext): Promise<LagSweep> {
  const metrics = ctx.metrics ?? NO_METRICS;
  const names = (await ctx.store.listGroups()).sort();
  const swept = names.slice(0, MAX_SWEEP_GROUPS);
  const bounds = new Map<string, Promise<PartitionBounds>>();
  const boundsOf = (topic: Topic, partition: number): Promise<PartitionBounds> => {
    const key = `${topic.topicId}#${partition}`;
    let found = bounds.get(key);
    if (!found) bounds.set(key, (found = ctx.log.bounds(topic, partition)));
    return found;
  };
  let behind = 0;
  const errors: unknown[] = [];
  await mapLimit(swept, SWEEP_GROUP_CONCURRENCY, async (group) => {
    try {
      const lags = await groupLag(ctx, group, boundsOf);
      emitLag(metrics, group, lags);
      behind += lags.length;
    } catch (error) {
      errors.push(error);
    }
  });
  if (errors.length > 0) throw errors[0];
  return { groups: swept.length, behind, skipped: names.length - swept.length };
}

/** The topics on which `group`'s committed offsets are behind, with the worst partition of each. */
async function groupLag(
  ctx: GroupContext,
  group: string,
  boundsOf: (topic: Topic, partition: number) => Promise<PartitionBounds>,
): Promise<TopicLag[]> {
  const records = await ctx.store.loadGroup(group);
  const topics = await resolveTopics(ctx.topics, new Set(records.leases.map((l) => l.topic)), records.leases);
  const committed = [...currentLeases(records.leases, topics).values()].filter((l) => l.committedOffset !== null);
  const lags = await mapLimit(committed, CONCURRENCY, async (lease): Promise<TopicLag | undefined> => {
    const topic = topics.get(lease.topic)!;
    const { startOffset, endOffset } = await boundsOf(topic, lease.partition);
    // Records below the start offset are gone: they are no longer anyone's to read.
    const position = Math.max(lease.committedOffset!, startOffset);
    if (position >= endOffset) return undefined;
    const timestamp = await oldestUnreadTimestamp(ctx, topic, lease.partition, position);
    return { topic: lease.topic, recordsBehind: endOffset - position, oldestUnreadAgeMs: timestamp === undefined ? undefined : Math.max(0, ctx.now() - timestamp) };
  });
  return worstByTopic(lags.filter((lag): lag is TopicLag => lag !== undefined));
}

/** The timestamp of the record at `offset` (or of the first readable one, if retention passed it meanwhile). */
async function oldestUnreadTimestamp(ctx: GroupContext, topic: Topic, partition: number, offset: number): Promise<number | undefined> {
  const read = (start: StartPosition) =>
    ctx.log.read(topic, partition, { start, limit: 1, maxBytes: 1, encoding: 'base64', waitMs: 0, direction: 'forward' });
  try {
    return (await read({ kind: 'offset', offset })).records[0]?.timestamp;
  } catch (error) {
    if (!(error instanceof OffsetOutOfRangeError)) throw error;
    return (await read({ kind: 'earliest' })).records[0]?.timestamp;
  }
}

/** One lag per topic: the largest records behind and the largest known age among its partitions. */
function worstByTopic(lags: readonly TopicLag[]): TopicLag[] {
  const worst = new Map<string, TopicLag>();
  for (const lag of lags) {
    const seen = worst.get(lag.topic);
    if (!seen) {
      worst.set(lag.topic, lag);
      continue;
    }
    const ages = [seen.oldestUnreadAgeMs, lag.oldestUnreadAgeMs].filter((a): a is number => a !== undefined);
    worst.set(lag.topic, {
      topic: lag.topic,
      recordsBehind: Math.max(seen.recordsBehind, lag.recordsBehind),
      oldestUnreadAgeMs: ages.length > 0 ? Math.max(...ages) : undefined,
    });
  }
  return [...worst.values()];
}
