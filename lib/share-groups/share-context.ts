import type { LogService } from '../log/log-service.js';
import type { Logger } from '../logger.js';
import type { MetricsSink } from '../observability/metrics-sink.js';
import type { TopicStore } from '../topics/topic.js';
import type { ShareStore } from './share-store.js';

/** DynamoDB calls one share-group request keeps in flight (acks over many partitions, describe). */
export const CONCURRENCY = 16;

/** The log calls share groups make: reading partitions, their bounds, long polls, dead-letter appends. */
export type ShareLog = Pick<LogService, 'read' | 'bounds' | 'waitForAny' | 'produce'>;

/**
 * The steps after which a crash may happen in the dead-letter protocol (lib/share-groups/dead-letters.ts): a
 * hook runs after each, and tests make it throw to prove that the next fetch or ack completes the archive
 * without losing or duplicating the dead-letter copy (test/integration/share-groups/dead-letter-crash.test.ts).
 */
export type ShareStep = 'archive.marked' | 'archive.appended';

export type ShareStepHook = (step: ShareStep, detail: { group: string; topic: string; partition: number }) => void | Promise<void>;

/**
 * What every share-group step works with, built once by `ShareGroupService`. A test builds one with its own
 * clock, randomness and crash hook.
 */
export interface ShareContext {
  readonly store: ShareStore;
  readonly topics: Pick<TopicStore, 'get'>;
  readonly log: ShareLog;
  readonly now: () => number;
  /** In [0, 1): where a fetch starts among the group's partitions. */
  readonly random: () => number;
  /** A new random id of `[A-Za-z0-9_-]`: receipts, write ids, incarnations, subscription ids. */
  readonly newId: () => string;
  readonly logger: Logger;
  /** Where the share metrics go (accepted, redelivered, archived: README "Operating shardlog"). */
  readonly metrics: MetricsSink;
  readonly onStep?: ShareStepHook;
}

/** Marks a step done (the crash-injection point). */
export async function step(ctx: ShareContext, name: ShareStep, detail: { group: string; topic: string; partition: number }): Promise<void> {
  if (ctx.onStep) await ctx.onStep(name, detail);
}
