import { mapLimit } from '../concurrency.js';
import { OffsetOutOfRangeError, PartitionNotFoundError } from '../errors.js';
import type { Topic } from '../topics/topic.js';
import type { TopicPartitionOffset } from './commits.js';
import { CONCURRENCY, type GroupContext, type GroupLog } from './context.js';
import { partitionsOf } from './group-records.js';
import { requireSubscribed, subscribedTopics } from './subscriptions.js';

/** Where a reset moves committed offsets (docs/api.md, "Consumer groups": `to`). */
export type ResetTarget = 'earliest' | 'latest' | { readonly offset: number } | { readonly timestamp: number };

export interface ResetInput {
  readonly topic: string;
  /** One partition; absent: every partition of the topic. */
  readonly partition?: number;
  readonly to: ResetTarget;
}

/**
 * Seek/reset: moves the committed offsets of one partition or of every partition of a topic, and gives the
 * leases new tokens, so no member commits over the reset (the owners learn the new token and offset at
 * their next heartbeat). The group must be subscribed to the topic (so it exists: a subscription created it).
 * @throws NotSubscribedError, TopicNotFoundError, PartitionNotFoundError, OffsetOutOfRangeError (an offset
 *   outside the range)
 */
export async function resetOffsets(ctx: GroupContext, group: string, input: ResetInput): Promise<TopicPartitionOffset[]> {
  requireSubscribed(group, subscribedTopics(await ctx.store.loadSubscriptions(group)), [input.topic]);
  const topic = await ctx.topics.get(input.topic);
  if (input.partition !== undefined && input.partition >= topic.partitions) {
    throw new PartitionNotFoundError(topic.name, input.partition, topic.partitions);
  }
  const partitions = input.partition !== undefined ? [input.partition] : partitionsOf(topic);
  // Resolve every target before writing any, so a bad offset changes nothing (invariant 6 in docs/design.md).
  const targets = await mapLimit(partitions, CONCURRENCY, async (partition) => ({
    topic: topic.name,
    partition,
    offset: await resetOffset(ctx.log, topic, partition, input.to),
  }));
  const now = ctx.now();
  await mapLimit(targets, CONCURRENCY, (t) =>
    ctx.store.resetOffset(group, {
      partition: { topic: t.topic, partition: t.partition },
      topicId: topic.topicId,
      offset: t.offset,
      newToken: ctx.newToken(),
      now,
    }),
  );
  return targets;
}

/**
 * The offset `to` names in one partition: its start or end, an explicit offset within [start, end], or the
 * first offset at or after a timestamp (Kafka's `offsetsForTimes`; the end when there is none).
 * @throws OffsetOutOfRangeError for an explicit offset outside the readable range.
 */
export async function resetOffset(log: GroupLog, topic: Topic, partition: number, to: ResetTarget): Promise<number> {
  if (typeof to === 'object' && 'timestamp' in to) return log.offsetForTimestamp(topic, partition, to.timestamp);
  const bounds = await log.bounds(topic, partition);
  if (to === 'earliest') return bounds.startOffset;
  if (to === 'latest') return bounds.endOffset;
  if (to.offset < bounds.startOffset || to.offset > bounds.endOffset) {
    throw new OffsetOutOfRangeError(to.offset, bounds.startOffset, bounds.endOffset, { details: { topic: topic.name, partition } });
  }
  return to.offset;
}
