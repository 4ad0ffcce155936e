import { TopicNotFoundError } from '../errors.js';
import type { Topic } from '../topics/topic.js';
import { step, type ShareContext } from './share-context.js';
import type { ShareConfig, ShareGroupRecords, SharePartitionRecord, Subscription } from './share-store.js';
import { asWritten } from './share-table.js';
import { DEFAULT_MAX_DELIVERIES, emptyWindow, pendingArchives, type ArchivePolicy, type ShareWindow } from './share-window.js';
import { completeDeadLetters } from './dead-letters.js';

/*
 * How fetch, acks and describe see a share-partition: which partitions a group reads, which stored window
 * belongs to the current subscription, and the one way a step's result is written (then its dead letters
 * appended). They cannot disagree on where a partition starts or which window counts.
 */

/** One partition of a subscribed topic. */
export interface Target {
  readonly topic: Topic;
  readonly partition: number;
  readonly subscription: Subscription;
}

export const DEFAULT_CONFIG: ShareConfig = { maxDeliveries: DEFAULT_MAX_DELIVERIES, deadLetterTopic: null };

export const configOf = (records: ShareGroupRecords): ShareConfig => records.config ?? DEFAULT_CONFIG;

/** Every partition of every subscribed topic that exists; a deleted topic's subscription reads nothing. */
export async function subscribedTargets(ctx: ShareContext, subscriptions: readonly Subscription[]): Promise<Target[]> {
  const targets: Target[] = [];
  for (const subscription of [...subscriptions].sort((a, b) => (a.topic < b.topic ? -1 : 1))) {
    let topic: Topic;
    try {
      topic = await ctx.topics.get(subscription.topic);
    } catch (error) {
      if (error instanceof TopicNotFoundError) continue;
      throw error;
    }
    for (let partition = 0; partition < topic.partitions; partition++) targets.push({ topic, partition, subscription });
  }
  return targets;
}

/**
 * Where a share-partition starts when first used: the partition's end when subscribed (docs/api.md: a new
 * subscription starts at `endOffset`), else 0, which the first read moves up to the log's start (`skipTo`):
 * with `from: earliest`, for partitions added after the subscription, and for a topic re-created since.
 */
export function startOffsetFor(target: Target): number {
  const { subscription, topic, partition } = target;
  if (subscription.from === 'earliest' || subscription.topicId !== topic.topicId) return 0;
  return subscription.startOffsets[partition] ?? 0;
}

/** A stored share-partition as a step starts from, and the version its write must find. */
export interface Base {
  readonly record: SharePartitionRecord;
  readonly expectedVersion: number | null;
}

/**
 * The share-partition of `target` as a step starts from: the stored one when it belongs to this subscription
 * and topic incarnation; otherwise a fresh window at {@link startOffsetFor}, replacing the stale one at its
 * version (its locks and counts belonged to a subscription or a topic that ended).
 */
export function baseOf(ctx: ShareContext, target: Target, stored: SharePartitionRecord | null): Base {
  if (stored && isCurrent(stored, target)) return { record: stored, expectedVersion: stored.version };
  return {
    record: {
      topic: target.topic.name,
      partition: target.partition,
      topicId: target.topic.topicId,
      subscriptionId: target.subscription.subscriptionId,
      incarnation: ctx.newId(),
      version: stored?.version ?? 0,
      window: emptyWindow(startOffsetFor(target)),
      deadLetters: {},
      writers: stored?.writers ?? [],
    },
    expectedVersion: stored?.version ?? null,
  };
}

/** True when `stored` is the share-partition of this subscription of this incarnation of the topic. */
export const isCurrent = (stored: SharePartitionRecord, target: Target): boolean =>
  stored.topicId === target.topic.topicId && stored.subscriptionId === target.subscription.subscriptionId;

/** How a step writing over `base` archives: the group's `maxDeliveries`, and its dead-letter batch (the new version). */
export function policyOf(config: ShareConfig, base: Base): ArchivePolicy {
  return { maxDeliveries: config.maxDeliveries, deadLetterBatch: config.deadLetterTopic === null ? null : (base.expectedVersion ?? 0) + 1 };
}

/**
 * Writes a step's new `window` over `base`, conditional on its version. When the step archived records into a
 * dead-letter batch, the batch's topic is recorded with it, and once written its copies are appended and the
 * batch completed (dead-letters.ts): the crash-safe order is in docs/design.md, "Share groups".
 * @returns `'lost'` when another write came first (nothing of this step happened).
 */
export async function writeStep(ctx: ShareContext, group: string, target: Target, base: Base, window: ShareWindow, config: ShareConfig): Promise<'ok' | 'lost'> {
  const batch = policyOf(config, base).deadLetterBatch;
  const archives = batch !== null && pendingArchives(window).has(batch);
  const next: SharePartitionRecord = {
    ...base.record,
    window,
    deadLetters: archives ? { ...base.record.deadLetters, [batch]: config.deadLetterTopic! } : base.record.deadLetters,
  };
  const writer = ctx.newId();
  if ((await ctx.store.writePartition(group, next, base.expectedVersion, writer)) === 'lost') return 'lost';
  // The window counts what it archived over its life: what this write added is what this step archived.
  const archived = window.archived - base.record.window.archived;
  if (archived > 0) ctx.metrics.add('ShareRecordsArchived', archived, { ShareGroup: group });
  if (archives) {
    const detail = { group, topic: target.topic.name, partition: target.partition };
    await step(ctx, 'archive.marked', detail);
    await completeDeadLetters(ctx, group, target, asWritten(next, (base.expectedVersion ?? 0) + 1, writer));
  }
  return 'ok';
}

/** Two windows say the same (a step that changed nothing need not write). */
export function sameWindow(a: ShareWindow, b: ShareWindow): boolean {
  return a.startOffset === b.startOffset && a.archived === b.archived && JSON.stringify(a.runs) === JSON.stringify(b.runs);
}
