import { mapLimit } from '../concurrency.js';
import { TopicNotFoundError } from '../errors.js';
import type { LogStore } from '../log/log-store.js';
import type { Logger } from '../logger.js';
import { NO_METRICS, type MetricsSink } from '../observability/metrics-sink.js';
import { MAX_SEGMENT_BATCHES, MAX_SEGMENT_BYTES } from '../segments/segment-format.js';
import type { SegmentIndex, SegmentStore } from '../segments/segment-store.js';
import { partitionPk } from '../storage/log-table.js';
import { isHotRetention, type Topic, type TopicStore } from '../topics/topic.js';
import { MaintenanceContext, type MaintenanceReport, type StepHook } from './maintenance-steps.js';
import type { PartitionMetaWriter } from './partition-meta-writer.js';
import { RECLAIM_AFTER_MS, reclaimDeleted } from './reclaim.js';
import { Retention } from './retention.js';
import { Tiering } from './tiering.js';

export interface MaintenanceRequest {
  /** Only this topic (tiering and retention); deleted topics are reclaimed by unfiltered passes only. */
  readonly topic?: string;
  /** Tier hot batches appended at least this long ago (default: the configured `tierAfterMs`). */
  readonly tierOlderThanMs?: number;
}

/** Partitions maintained in parallel. */
const PARTITION_CONCURRENCY = 8;
/**
 * A scheduled pass skips a topic until the moment its last pass computed as the next one with work to do,
 * but never longer than this: a topic that changed in a way the schedule did not foresee is still looked at.
 */
export const MAX_MAINTENANCE_SKIP_MS = 60 * 60 * 1000;
/**
 * The schedule is rewritten when it must move earlier, or later by more than this: a schedule a little early
 * only costs a pass that finds nothing, so it is not worth a write per pass.
 */
const SCHEDULE_SLACK_MS = 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

export interface MaintenanceServiceOptions {
  readonly topics: TopicStore;
  readonly store: LogStore;
  readonly segments: SegmentStore;
  readonly index: SegmentIndex;
  readonly meta: PartitionMetaWriter;
  /** Default for `tierOlderThanMs`. */
  readonly tierAfterMs: number;
  /** Topics with at most this retention are not tiered by scheduled passes (see `isHotRetention`). */
  readonly hotRetentionLimitHours?: number;
  readonly now?: () => number;
  readonly log?: Logger;
  /** Runs after each step; a throw aborts the pass there (crash injection in tests). */
  readonly onStep?: StepHook;
  /**
   * One step of consumer-group expiry (`GroupService.expireIdle`), run by unfiltered passes; returns how many
   * groups it deleted. Absent: no group expiry.
   */
  readonly expireGroups?: () => Promise<number>;
  readonly maxSegmentBytes?: number;
  readonly maxSegmentBatches?: number;
  /** Where each pass's metrics go ({@link MaintenanceService.runOnce}); default: nowhere. */
  readonly metrics?: MetricsSink;
}

/** What a pass tallies besides its report (the body of the maintenance route): for its metrics. */
interface PassTally {
  readonly report: MaintenanceReport;
  /** Append time of the oldest hot batch found due for tiering, before the pass tiered it. */
  oldestDueAppendedAt: number | undefined;
}

/**
 * One maintenance pass (`runOnce`), the shape a scheduled Lambda needs: tiering ({@link Tiering}), retention
 * ({@link Retention}), reclaiming deleted topics ({@link reclaimDeleted}) and expiring idle consumer groups
 * (`expireGroups`, a bounded step of lib/groups), each partition on its own, each step a conditional write so
 * that passes may overlap and may crash anywhere (docs/design.md, "Tiering and retention"). Each topic records
 * when it next has work, and scheduled passes skip it until then.
 */
export class MaintenanceService {
  private readonly topics: TopicStore;
  private readonly ctx: MaintenanceContext;
  private readonly tiering: Tiering;
  private readonly retention: Retention;
  private readonly tierAfterMs: number;
  private readonly hotRetentionLimitHours: number;
  private readonly log: Logger | undefined;
  private readonly metrics: MetricsSink;
  private readonly expireGroups: (() => Promise<number>) | undefined;

  constructor(options: MaintenanceServiceOptions) {
    this.topics = options.topics;
    this.ctx = new MaintenanceContext({
      store: options.store,
      segments: options.segments,
      index: options.index,
      meta: options.meta,
      now: options.now ?? Date.now,
      ...(options.onStep ? { onStep: options.onStep } : {}),
    });
    this.tiering = new Tiering(this.ctx, {
      maxSegmentBytes: options.maxSegmentBytes ?? MAX_SEGMENT_BYTES,
      maxSegmentBatches: Math.min(options.maxSegmentBatches ?? MAX_SEGMENT_BATCHES, MAX_SEGMENT_BATCHES),
    });
    this.retention = new Retention(this.ctx);
    this.tierAfterMs = options.tierAfterMs;
    this.hotRetentionLimitHours = options.hotRetentionLimitHours ?? 0;
    this.log = options.log;
    this.metrics = options.metrics ?? NO_METRICS;
    this.expireGroups = options.expireGroups;
  }

  /**
   * Runs one pass. Partitions are independent: a failure on one does not stop the others, and is rethrown
   * (as the first error) once they are done, so the schedule sees it and the next pass retries.
   * @throws TopicNotFoundError when `request.topic` does not exist.
   */
  async runOnce(request: MaintenanceRequest = {}): Promise<MaintenanceReport> {
    const startedAt = this.ctx.now();
    const requested = request.topic !== undefined ? [await this.topics.get(request.topic)] : undefined;
    const tally: PassTally = { report: { tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 0, segments: 0 } }, oldestDueAppendedAt: undefined };
    let failed = true;
    try {
      await this.pass(requested, request.tierOlderThanMs, tally);
      failed = false;
      return tally.report;
    } finally {
      this.emitPass(tally, startedAt, failed);
    }
  }

  /** One pass over `requested` topics, or every live one (skipping those with nothing due when scheduled). */
  private async pass(requested: Topic[] | undefined, tierOlderThanMs: number | undefined, tally: PassTally): Promise<void> {
    const scheduled = requested === undefined && tierOlderThanMs === undefined;
    const now = this.ctx.now();
    let topics = requested ?? (await this.liveTopics());
    // An idle topic costs a scheduled pass one read (its topic item), not a few reads per partition.
    if (scheduled) topics = topics.filter((topic) => topic.maintainAfter === undefined || topic.maintainAfter <= now);
    const errors: unknown[] = [];
    const dueAt = await this.maintainTopics(topics, tierOlderThanMs, tally, errors);
    await this.schedule(dueAt, now);
    if (requested === undefined) {
      await this.reclaimAll(errors);
      await this.expireIdleGroups(errors);
    }
    if (errors.length > 0) throw errors[0];
  }

  /**
   * The pass's metrics: its duration always (the schedule's heartbeat), a failure, and what it moved and
   * removed and how old the oldest batch due for tiering was, when not zero (an idle deployment pays for one
   * metric, not six).
   */
  private emitPass({ report, oldestDueAppendedAt }: PassTally, startedAt: number, failed: boolean): void {
    const now = this.ctx.now();
    this.metrics.add('MaintenancePassDuration', Math.max(0, now - startedAt), {});
    if (failed) this.metrics.add('MaintenanceFailures', 1, {});
    if (report.tiered.bytes > 0) this.metrics.add('BytesTiered', report.tiered.bytes, {});
    if (report.tiered.segments > 0) this.metrics.add('SegmentsWritten', report.tiered.segments, {});
    if (report.expired.records > 0) this.metrics.add('RecordsExpired', report.expired.records, {});
    if (oldestDueAppendedAt !== undefined) this.metrics.add('OldestUntieredBatchAge', Math.max(0, startedAt - oldestDueAppendedAt), {});
  }

  /** Maintains every partition of `topics`; returns, per topic, when it next has work. Failures go to `errors`. */
  private async maintainTopics(topics: readonly Topic[], tierOlderThanMs: number | undefined, tally: PassTally, errors: unknown[]) {
    const now = this.ctx.now();
    const work = topics.flatMap((topic) => Array.from({ length: topic.partitions }, (_, partition) => ({ topic, partition })));
    const dueAt = new Map<Topic, number>();
    await mapLimit(work, PARTITION_CONCURRENCY, async ({ topic, partition }) => {
      let due: number;
      try {
        due = await this.maintainPartition(topic, partition, tierOlderThanMs, tally);
      } catch (error) {
        due = now;
        errors.push(error);
        this.log?.error('maintenance failed on a partition', { topic: topic.name, partition, error });
      }
      dueAt.set(topic, Math.min(dueAt.get(topic) ?? Infinity, due));
    });
    return dueAt;
  }

  /** Records when each topic next has work (within {@link MAX_MAINTENANCE_SKIP_MS}), unless the stored schedule is close enough. */
  private async schedule(dueAt: ReadonlyMap<Topic, number>, now: number): Promise<void> {
    for (const [topic, due] of dueAt) {
      const next = Math.min(due, now + MAX_MAINTENANCE_SKIP_MS);
      const stored = topic.maintainAfter;
      if (next <= now) continue; // due at the next pass anyway
      if (stored === undefined || next < stored || next - stored > SCHEDULE_SLACK_MS) {
        await this.topics.scheduleMaintenance(topic, Math.ceil(next));
      }
    }
  }

  private async reclaimAll(errors: unknown[]): Promise<void> {
    for (const deleted of await this.topics.listDeleted()) {
      if (deleted.deletedAt + RECLAIM_AFTER_MS > this.ctx.now()) continue;
      try {
        await reclaimDeleted(this.ctx, this.topics, deleted, this.log);
      } catch (error) {
        errors.push(error);
        this.log?.error('reclaiming a deleted topic failed', { topicId: deleted.topicId, error });
      }
    }
  }

  private async expireIdleGroups(errors: unknown[]): Promise<void> {
    if (!this.expireGroups) return;
    try {
      // Not in the report: its shape is the contract's (docs/api.md, "Maintenance"). The count goes to the log.
      const groups = await this.expireGroups();
      if (groups > 0) this.log?.info('expired idle consumer groups', { groups });
    } catch (error) {
      errors.push(error);
      this.log?.error('expiring idle consumer groups failed', { error });
    }
  }

  private async liveTopics(): Promise<Topic[]> {
    const out: Topic[] = [];
    for (const summary of await this.topics.list()) {
      try {
        out.push(await this.topics.get(summary.name));
      } catch (error) {
        if (!(error instanceof TopicNotFoundError)) throw error; // deleted meanwhile
      }
    }
    return out;
  }

  /**
   * Maintains one partition; returns when it next has work (ms; `now` or earlier: at the next pass). A
   * hot-retention topic (retention within `hotRetentionLimitHours`) is tiered only on request: its batches
   * expire by the TTL they were written with, which costs nothing, while tiering would rewrite every item to
   * set one. Any other topic is tiered after `tierAfterMs`, and always before its retention ends.
   */
  private async maintainPartition(topic: Topic, partition: number, tierOlderThanMs: number | undefined, tally: PassTally): Promise<number> {
    const { report } = tally;
    const retentionMs = topic.retentionHours * HOUR_MS;
    const hot = isHotRetention(topic, this.hotRetentionLimitHours);
    let due = Infinity;
    if (!hot || tierOlderThanMs !== undefined) {
      // Data older than the retention is tiered now, whatever the threshold, so that retention can expire it.
      const olderThanMs = Math.min(tierOlderThanMs ?? this.tierAfterMs, retentionMs);
      const waiting = (appendedAt: number) => {
        tally.oldestDueAppendedAt = Math.min(tally.oldestDueAppendedAt ?? Infinity, appendedAt);
      };
      due = Math.min(due, await this.tiering.tierPartition(topic.topicId, partition, olderThanMs, report, waiting));
    }
    if (hot) due = Math.min(due, await this.retention.expireHot(topic.topicId, partition, retentionMs, report));
    due = Math.min(due, await this.retention.expireSegments(topic.topicId, partition, retentionMs, report));
    this.ctx.store.forgetMeta(partitionPk(topic.topicId, partition));
    return due;
  }
}
