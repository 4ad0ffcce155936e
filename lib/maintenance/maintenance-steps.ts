import { mapLimit } from '../concurrency.js';
import type { LogStore } from '../log/log-store.js';
import type { SegmentIndex, SegmentStore } from '../segments/segment-store.js';
import type { PartitionMetaWriter } from './partition-meta-writer.js';

/** What one pass did (the body of `POST /v1/admin/maintenance`). */
export interface MaintenanceReport {
  tiered: { segments: number; records: number; bytes: number };
  expired: { records: number; segments: number };
}

/**
 * The steps of a pass, in order, after which a crash may happen. A hook (`onStep`) runs after each one; tests
 * make it throw to prove that every prefix of the sequence leaves the log readable and the next pass finishes.
 */
export type MaintenanceStep =
  | 'tier.object-put'
  | 'tier.indexed'
  | 'tier.meta-advanced'
  | 'tier.ttl-set'
  | 'tier.released'
  | 'retention.start-advanced'
  | 'retention.objects-deleted'
  | 'retention.index-deleted'
  | 'reclaim.objects-deleted'
  | 'reclaim.index-deleted'
  | 'reclaim.items-deleted'
  | 'reclaim.forgotten';

/** Runs after each step; a throw aborts the pass there (crash injection in tests). */
export type StepHook = (step: MaintenanceStep, detail: { topicId: string; partition?: number }) => void | Promise<void>;

/**
 * Hot copies outlive their tiering by at least this long before TTL may delete them: the append protocol
 * trusts an observed end offset for a few seconds (TAIL_CACHE_MS), and readers that found a hot item keep
 * reading it; an hour is orders of magnitude above both.
 */
export const HOT_COPY_GRACE_MS = 60 * 60 * 1000;

/** Hot items whose TTL a pass sets in parallel. */
const TTL_CONCURRENCY = 16;

/** What every part of a pass (tiering, retention, reclaim) works with. */
export class MaintenanceContext {
  readonly store: LogStore;
  readonly segments: SegmentStore;
  readonly index: SegmentIndex;
  readonly meta: PartitionMetaWriter;
  readonly now: () => number;
  private readonly onStep: StepHook | undefined;

  constructor(options: {
    store: LogStore;
    segments: SegmentStore;
    index: SegmentIndex;
    meta: PartitionMetaWriter;
    now: () => number;
    onStep?: StepHook;
  }) {
    this.store = options.store;
    this.segments = options.segments;
    this.index = options.index;
    this.meta = options.meta;
    this.now = options.now;
    this.onStep = options.onStep;
  }

  /** Marks a step done (the crash-injection point). */
  async step(step: MaintenanceStep, topicId: string, partition?: number): Promise<void> {
    if (this.onStep) await this.onStep(step, partition === undefined ? { topicId } : { topicId, partition });
  }

  /**
   * Gives hot batch items the TTL of a copy that is no longer needed: now + {@link HOT_COPY_GRACE_MS}.
   * `afterEach` runs after each item (tiering marks a step there).
   */
  async ageOut(pk: string, baseOffsets: readonly number[], afterEach?: () => Promise<void>): Promise<void> {
    const expiresAtSec = Math.ceil((this.now() + HOT_COPY_GRACE_MS) / 1000);
    await mapLimit(baseOffsets, TTL_CONCURRENCY, async (baseOffset) => {
      await this.meta.setExpiry(pk, baseOffset, expiresAtSec);
      await afterEach?.();
    });
  }
}

