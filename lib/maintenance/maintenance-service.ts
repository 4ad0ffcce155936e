import { TopicNotFoundError } from '../errors.js';
import type { LogStore } from '../log/log-store.js';
import { offsetSk, partitionPk, type HotBatch } from '../storage/log-table.js';
import { partitionSegmentPrefix, topicSegmentPrefix, topicSpillPrefix } from '../storage/prefixes.js';
import type { Logger } from '../logger.js';
import type { DynamoSegmentIndex, SegmentInfo } from '../segments/dynamo-segment-index.js';
import type { S3SegmentStore } from '../segments/s3-segment-store.js';
import { encodeSegment, MAX_SEGMENT_BATCHES, MAX_SEGMENT_BYTES, type SegmentBatchInput } from '../segments/segment-format.js';
import { isHotRetention, type DeletedTopic, type Topic, type TopicStore } from '../topics/topic.js';
import type { PartitionMetaWriter } from './partition-meta-writer.js';

/** What one pass did (the body of `POST /v1/admin/maintenance`). */
export interface MaintenanceReport {
  tiered: { segments: number; records: number; bytes: number };
  expired: { records: number; segments: number };
}

export interface MaintenanceRequest {
  /** Only this topic (tiering and retention); deleted topics are reclaimed by unfiltered passes only. */
  readonly topic?: string;
  /** Tier hot batches appended at least this long ago (default: the configured `tierAfterMs`). */
  readonly tierOlderThanMs?: number;
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

export const MAINTENANCE_STEPS: readonly MaintenanceStep[] = [
  'tier.object-put',
  'tier.indexed',
  'tier.meta-advanced',
  'tier.ttl-set',
  'tier.released',
  'retention.start-advanced',
  'retention.objects-deleted',
  'retention.index-deleted',
  'reclaim.objects-deleted',
  'reclaim.index-deleted',
  'reclaim.items-deleted',
  'reclaim.forgotten',
];

/**
 * Hot copies outlive their tiering by at least this long before TTL may delete them: the append protocol
 * trusts an observed end offset for a few seconds (TAIL_CACHE_MS), and readers that found a hot item keep
 * reading it; an hour is orders of magnitude above both.
 */
export const HOT_COPY_GRACE_MS = 60 * 60 * 1000;
/** A deleted topic's storage is reclaimed this long after the delete, so that no cached topic still appends to it. */
export const RECLAIM_AFTER_MS = 60 * 1000;
/** A pass moves at most this many segments per partition (a Lambda-sized iteration; the next pass goes on). */
export const MAX_SEGMENTS_PER_PARTITION_PASS = 4;
/** Partitions maintained in parallel. */
export const PARTITION_CONCURRENCY = 8;
/**
 * A scheduled pass skips a topic until the moment its last pass computed as the next one with work to do,
 * but never longer than this: a topic that changed in a way the schedule did not foresee is still looked at.
 */
export const MAX_MAINTENANCE_SKIP_MS = 60 * 60 * 1000;
/**
 * The schedule is rewritten when it must move earlier, or later by more than this: a schedule a little early
 * only costs a pass that finds nothing, so it is not worth a write per pass.
 */
export const SCHEDULE_SLACK_MS = 60 * 1000;
/** Query pages a hot-retention pass reads per partition before leaving the rest to the next pass. */
export const MAX_HOT_EXPIRY_PAGES = 10;
/** Items a pass deletes per deleted-topic partition before leaving the rest to the next pass. */
export const RECLAIM_ITEMS_PER_PASS = 2_000;
const HOUR_MS = 60 * 60 * 1000;

export interface MaintenanceServiceOptions {
  readonly topics: TopicStore;
  readonly store: LogStore;
  readonly segments: S3SegmentStore;
  readonly index: DynamoSegmentIndex;
  readonly meta: PartitionMetaWriter;
  /** Default for `tierOlderThanMs`. */
  readonly tierAfterMs: number;
  /** Topics with at most this retention are not tiered by scheduled passes (see `isHotRetention`). */
  readonly hotRetentionLimitHours?: number;
  readonly now?: () => number;
  readonly log?: Logger;
  /** Runs after each step; a throw aborts the pass there (crash injection in tests). */
  readonly onStep?: (step: MaintenanceStep, detail: { topicId: string; partition?: number }) => void | Promise<void>;
  readonly maxSegmentBytes?: number;
  readonly maxSegmentBatches?: number;
}

/**
 * One maintenance pass (`runOnce`), the shape a scheduled Lambda needs: tiering, retention, and reclaiming
 * deleted topics, each partition on its own, each step a conditional write so that passes may overlap and may
 * crash anywhere.
 *
 * ## Tiering, per partition (a timeline of one segment)
 * ```
 * (a) read hot batches [T, X) appended before the cutoff, contiguous from T = meta.tieredOffset
 * (b) PUT segments/<topicId>/<p>/<T>-<random>.seg    unreferenced: a crash leaves a harmless orphan
 * (c) Put seg#… / T  if attribute_not_exists          readers may now use either tier (identical bytes)
 * (d) meta: tieredOffset = endOffset = X  if tieredOffset = T          end offset floor before any TTL
 * (e) expiresAt = now + HOT_COPY_GRACE_MS on each hot item in [T, X)  hot copies now age out
 * (f) meta: releasedOffset = X
 * ```
 * A pass that loses (c) to another writer deletes its own object and adopts the winner's entry; a pass that
 * loses (d) stops on that partition (someone else moved it). A crash after (c) leaves an entry ahead of
 * `tieredOffset`: the next pass's (c) fails on it and adopts it. A crash in (e) leaves
 * `releasedOffset < tieredOffset`, and the next pass sets the missing TTLs first.
 *
 * ## Retention, per partition
 * Whole segments whose newest batch was appended more than `retentionHours` ago expire: `startOffset` moves
 * to the end of the last one (conditional), then every object below the new start (the expired segments,
 * the spill objects they absorbed, and orphans of crashed passes) is deleted, then their index entries. Hot data older than the retention is tiered first (the tiering cutoff is never older than the
 * retention), so expiry always works on segments. Offsets are never reused: `endOffset` stays in the meta item.
 *
 * ## Deleted topics
 * After {@link RECLAIM_AFTER_MS}: objects under `segments/<topicId>/` and `spill/p/<topicId>/`, index entries,
 * batch and meta items, then the `deleted` record. Idempotency records expire by their own TTL.
 */
export class MaintenanceService {
  private readonly topics: TopicStore;
  private readonly store: LogStore;
  private readonly segments: S3SegmentStore;
  private readonly index: DynamoSegmentIndex;
  private readonly meta: PartitionMetaWriter;
  private readonly tierAfterMs: number;
  private readonly hotRetentionLimitHours: number;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly onStep: MaintenanceServiceOptions['onStep'];
  private readonly maxSegmentBytes: number;
  private readonly maxSegmentBatches: number;

  constructor(options: MaintenanceServiceOptions) {
    this.topics = options.topics;
    this.store = options.store;
    this.segments = options.segments;
    this.index = options.index;
    this.meta = options.meta;
    this.tierAfterMs = options.tierAfterMs;
    this.hotRetentionLimitHours = options.hotRetentionLimitHours ?? 0;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.onStep = options.onStep;
    this.maxSegmentBytes = options.maxSegmentBytes ?? MAX_SEGMENT_BYTES;
    this.maxSegmentBatches = Math.min(options.maxSegmentBatches ?? MAX_SEGMENT_BATCHES, MAX_SEGMENT_BATCHES);
  }

  /**
   * Runs one pass. Partitions are independent: a failure on one does not stop the others, and is rethrown
   * (as the first error) once they are done, so the schedule sees it and the next pass retries.
   * @throws TopicNotFoundError when `request.topic` does not exist.
   */
  async runOnce(request: MaintenanceRequest = {}): Promise<MaintenanceReport> {
    const report: MaintenanceReport = { tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 0, segments: 0 } };
    const tierOlderThanMs = request.tierOlderThanMs;
    const scheduled = request.topic === undefined && tierOlderThanMs === undefined;
    const now = this.now();
    let topics = request.topic !== undefined ? [await this.topics.get(request.topic)] : await this.liveTopics();
    // An idle topic costs a scheduled pass one read (its topic item), not a few reads per partition.
    if (scheduled) topics = topics.filter((topic) => topic.maintainAfter === undefined || topic.maintainAfter <= now);
    const work = topics.flatMap((topic) => Array.from({ length: topic.partitions }, (_, partition) => ({ topic, partition })));
    const errors: unknown[] = [];
    const dueAt = new Map<Topic, number>();
    await forEachLimit(work, PARTITION_CONCURRENCY, async ({ topic, partition }) => {
      let due: number;
      try {
        due = await this.maintainPartition(topic, partition, tierOlderThanMs, report);
      } catch (error) {
        due = now;
        errors.push(error);
        this.log?.error('maintenance failed on a partition', { topic: topic.name, partition, error });
      }
      dueAt.set(topic, Math.min(dueAt.get(topic) ?? Infinity, due));
    });
    for (const [topic, due] of dueAt) {
      const next = Math.min(due, now + MAX_MAINTENANCE_SKIP_MS);
      const stored = topic.maintainAfter;
      if (next <= now) continue; // due at the next pass anyway
      if (stored === undefined || next < stored || next - stored > SCHEDULE_SLACK_MS) {
        await this.topics.scheduleMaintenance(topic, Math.ceil(next));
      }
    }
    if (request.topic === undefined) {
      for (const deleted of await this.topics.listDeleted()) {
        if (deleted.deletedAt + RECLAIM_AFTER_MS > this.now()) continue;
        try {
          await this.reclaim(deleted);
        } catch (error) {
          errors.push(error);
          this.log?.error('reclaiming a deleted topic failed', { topicId: deleted.topicId, error });
        }
      }
    }
    if (errors.length > 0) throw errors[0];
    return report;
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
   * A hot-retention topic (retention within `hotRetentionLimitHours`) is tiered only on request: its batches
   * expire by the TTL they were written with, which costs nothing, while tiering would rewrite every item to
   * set one. Any other topic is tiered after `tierAfterMs`, and always before its retention ends.
   */
  /** Maintains one partition; returns when it next has work (ms; `now` or earlier: at the next pass). */
  private async maintainPartition(topic: Topic, partition: number, tierOlderThanMs: number | undefined, report: MaintenanceReport): Promise<number> {
    const pk = partitionPk(topic.topicId, partition);
    const retentionMs = topic.retentionHours * HOUR_MS;
    const hot = isHotRetention(topic, this.hotRetentionLimitHours);
    let due = Infinity;
    if (!hot || tierOlderThanMs !== undefined) {
      // Data older than the retention is tiered now, whatever the threshold, so that retention can expire it.
      const olderThanMs = Math.min(tierOlderThanMs ?? this.tierAfterMs, retentionMs);
      due = Math.min(due, await this.tierPartition(topic.topicId, partition, olderThanMs, report));
    }
    if (hot) due = Math.min(due, await this.expireHot(topic.topicId, partition, retentionMs, report));
    due = Math.min(due, await this.expirePartition(topic.topicId, partition, retentionMs, report));
    this.store.forgetMeta(pk);
    return due;
  }

  // ------------------------------------------------------------------------------------------------ tiering

  /** Returns when the partition next has a batch to tier. */
  private async tierPartition(topicId: string, partition: number, olderThanMs: number, report: MaintenanceReport): Promise<number> {
    const pk = partitionPk(topicId, partition);
    let meta = await this.meta.read(pk);
    if (meta.releasedOffset < meta.tieredOffset) {
      // A previous pass stopped between (d) and (f): finish its TTLs first.
      await this.releaseRange(topicId, partition, meta.releasedOffset, meta.tieredOffset);
      meta = { ...meta, releasedOffset: meta.tieredOffset };
    }
    const cutoff = this.now() - olderThanMs;
    for (let s = 0; s < MAX_SEGMENTS_PER_PARTITION_PASS; s++) {
      const from = meta.tieredOffset;
      const { batches, youngAppendedAt } = await this.collect(pk, from, cutoff);
      // Nothing to tier: the first young batch is due when it is old enough, a batch appended later even later.
      if (batches.length === 0) return (youngAppendedAt ?? this.now()) + olderThanMs;
      // (b) the object; unreferenced until indexed.
      const inputs: SegmentBatchInput[] = [];
      for (const b of batches) {
        inputs.push({ baseOffset: b.baseOffset, count: b.count, maxTimestamp: b.maxTimestamp, appendedAt: b.appendedAt, data: await this.store.loadBatch(b) });
      }
      const encoded = encodeSegment(inputs);
      const key = await this.segments.putSegment(topicId, partition, encoded);
      await this.step('tier.object-put', topicId, partition);
      // (c) the index entry: from here on, readers may read the segment.
      const mine: SegmentInfo = {
        topicId,
        partition,
        baseOffset: encoded.baseOffset,
        endOffset: encoded.endOffset,
        key,
        size: encoded.bytes.length,
        maxTimestamp: batches[batches.length - 1]!.maxTimestamp,
        lastAppendedAt: Math.max(...batches.map((b) => b.appendedAt)),
        spillKeys: batches.flatMap((b) => (b.spillKey ? [b.spillKey] : [])),
        entries: encoded.entries,
        index: encoded.index,
      };
      let segment = mine;
      if (!(await this.index.put(mine))) {
        // Another pass indexed this base offset first (an overlapping pass, or a crash after its (c)): adopt
        // its segment, drop ours (never referenced, so deleting it is safe).
        await this.segments.deleteObjects([key]);
        const theirs = await this.index.get(topicId, partition, from);
        if (!theirs) return this.now(); // gone again (retention); the next pass starts over
        segment = theirs;
      }
      await this.step('tier.indexed', topicId, partition);
      // (d) the end-offset floor, before any TTL.
      if (!(await this.meta.advanceTiered(pk, from, segment.endOffset, segment.maxTimestamp))) return this.now();
      await this.step('tier.meta-advanced', topicId, partition);
      if (segment === mine) {
        report.tiered.segments += 1;
        report.tiered.records += segment.endOffset - segment.baseOffset;
        report.tiered.bytes += segment.size;
      }
      // (e) TTL on the hot copies, (f) remember that it is done.
      if (segment === mine) await this.release(pk, topicId, partition, batches);
      else await this.releaseRange(topicId, partition, segment.baseOffset, segment.endOffset);
      meta = { ...meta, tieredOffset: segment.endOffset, releasedOffset: segment.endOffset };
    }
    return this.now(); // a pass's share done: the next pass goes on
  }

  /** Hot batches from `from`, contiguous, appended at or before `cutoff`, within the segment bounds. */
  private async collect(pk: string, from: number, cutoff: number): Promise<{ batches: HotBatch[]; youngAppendedAt?: number }> {
    const out: HotBatch[] = [];
    let bytes = 0;
    let next = from;
    // A probe of one item first: an idle partition costs one small read per pass.
    let page = await this.store.queryBatches(pk, { forward: true, fromOffset: from, limit: 1 });
    for (;;) {
      for (const b of page.batches) {
        if (b.appendedAt > cutoff) return { batches: out, youngAppendedAt: b.appendedAt };
        if (b.baseOffset !== next) return { batches: out };
        if (out.length >= this.maxSegmentBatches || (out.length > 0 && bytes + b.bytes > this.maxSegmentBytes)) return { batches: out };
        out.push(b);
        bytes += b.bytes;
        next = b.baseOffset + b.count;
      }
      if (!page.more) return { batches: out };
      page = await this.store.queryBatches(pk, { forward: true, fromOffset: next, limit: 100 });
    }
  }

  /** (e) + (f) for batches this pass tiered (their keys are known: no read needed). */
  private async release(pk: string, topicId: string, partition: number, batches: readonly HotBatch[]): Promise<void> {
    const expiresAtSec = Math.ceil((this.now() + HOT_COPY_GRACE_MS) / 1000);
    await forEachLimit(batches, 16, async (b) => {
      await this.meta.setExpiry(pk, b.baseOffset, expiresAtSec);
      await this.step('tier.ttl-set', topicId, partition);
    });
    const last = batches[batches.length - 1]!;
    await this.meta.advanceReleased(pk, last.baseOffset + last.count);
    await this.step('tier.released', topicId, partition);
  }

  /** (e) + (f) for a range tiered by an interrupted or overlapping pass: find its hot items first. */
  private async releaseRange(topicId: string, partition: number, from: number, to: number): Promise<void> {
    const pk = partitionPk(topicId, partition);
    const pending: HotBatch[] = [];
    let lastSk: string | undefined;
    do {
      const page = await this.store.queryBatches(pk, {
        forward: true,
        fromOffset: from,
        toOffset: to - 1,
        limit: 100,
        ...(lastSk ? { exclusiveStartSk: lastSk } : {}),
      });
      pending.push(...page.batches.filter((b) => b.expiresAt === undefined));
      lastSk = page.lastSk;
    } while (lastSk);
    const expiresAtSec = Math.ceil((this.now() + HOT_COPY_GRACE_MS) / 1000);
    await forEachLimit(pending, 16, async (b) => {
      await this.meta.setExpiry(pk, b.baseOffset, expiresAtSec);
      await this.step('tier.ttl-set', topicId, partition);
    });
    await this.meta.advanceReleased(pk, to);
    await this.step('tier.released', topicId, partition);
  }

  // ---------------------------------------------------------------------------------------------- retention

  /**
   * Retention of a hot-retention partition. Its batches carry their own TTL (retention + a day), so expiring
   * them is moving `startOffset` past the batches appended before the cutoff: readers get 416 below it, and
   * DynamoDB deletes the items later, for free.
   * ```
   * (1) floorOffset = the tail's end offset     offsets continue once TTL has removed every item
   * (2) startOffset = first batch appended after the cutoff (conditional on the marks read)
   * (3) TTL on batches below it that have none  (written while the topic had a longer retention)
   * (4) delete the S3 objects of spilled batches below it (their items go by TTL, the objects would not)
   * ```
   * A crash after (1) changes nothing readers see; after (2) it leaves (3) undone for those batches, which then
   * stay until removed by hand (only batches from a retention change; noted in the README).
   */
  /** Returns when the oldest live batch passes its retention (the floor is recorded long before it can expire). */
  private async expireHot(topicId: string, partition: number, retentionMs: number, report: MaintenanceReport): Promise<number> {
    const pk = partitionPk(topicId, partition);
    const tail = await this.store.readTail(pk, true);
    let meta = await this.meta.read(pk);
    if (tail.endOffset > meta.hotFloorOffset) {
      await this.meta.advanceFloor(pk, tail.endOffset, tail.maxTimestamp);
      meta = await this.meta.read(pk);
    }
    const cutoff = this.now() - retentionMs;
    let newStart = meta.startOffset;
    let young: HotBatch | undefined;
    const untimed: HotBatch[] = [];
    const spilled: string[] = [];
    // A probe of one item first: a partition with nothing past its retention costs one small read per pass.
    let page = await this.store.queryBatches(pk, { forward: true, fromOffset: meta.startOffset, limit: 1 });
    for (let pages = 1; ; pages++) {
      for (const b of page.batches) {
        if (b.appendedAt >= cutoff) {
          young = b;
          break;
        }
        newStart = b.baseOffset + b.count;
        if (b.expiresAt === undefined) untimed.push(b);
        if (b.spillKey) spilled.push(b.spillKey);
      }
      if (young || !page.more || pages >= MAX_HOT_EXPIRY_PAGES) break;
      page = await this.store.queryBatches(pk, { forward: true, fromOffset: newStart, limit: 100 });
    }
    // Every batch up to the tail is past its retention (batches hidden as expired are, too).
    if (!young && !page.more) newStart = Math.max(newStart, tail.endOffset);
    newStart = Math.min(newStart, meta.hotFloorOffset);
    // Due when the oldest live batch passes its retention; with none, a batch appended from now on is due later.
    const due = young ? young.appendedAt + retentionMs : page.more ? this.now() : this.now() + retentionMs;
    if (newStart <= meta.startOffset) return due;
    if (!(await this.meta.advanceHotStart(pk, meta, newStart))) return this.now(); // another pass moved it
    report.expired.records += newStart - meta.startOffset;
    this.store.forgetMeta(pk);
    await this.step('retention.start-advanced', topicId, partition);
    const expiresAtSec = Math.ceil((this.now() + HOT_COPY_GRACE_MS) / 1000);
    await forEachLimit(untimed, 16, async (b) => {
      await this.meta.setExpiry(pk, b.baseOffset, expiresAtSec);
    });
    // The S3 objects of spilled batches below the start: TTL removes their items, not them (DELETE is free).
    await this.segments.deleteObjects(spilled);
    return due;
  }

  /** Returns when the oldest live segment passes its retention (never, without segments). */
  private async expirePartition(topicId: string, partition: number, retentionMs: number, report: MaintenanceReport): Promise<number> {
    const pk = partitionPk(topicId, partition);
    const meta = await this.meta.read(pk);
    const cutoff = this.now() - retentionMs;
    const expired: SegmentInfo[] = [];
    let due = Infinity;
    let fromOffset = 0;
    for (let done = false; !done; ) {
      // The oldest segment first, alone: an unexpired partition costs one item read.
      const page = await this.index.list(topicId, partition, { fromOffset, limit: expired.length === 0 ? 1 : 25 });
      for (const segment of page.segments) {
        const dead = segment.endOffset <= meta.tieredOffset && (segment.endOffset <= meta.startOffset || segment.lastAppendedAt < cutoff);
        if (!dead) {
          due = segment.lastAppendedAt + retentionMs;
          done = true;
          break;
        }
        expired.push(segment);
        fromOffset = segment.endOffset;
      }
      if (!page.more) done = true;
    }
    if (expired.length === 0) return due;
    const newStart = expired[expired.length - 1]!.endOffset;
    if (newStart > meta.startOffset) {
      // The start moves first: from here on the offsets are out of range (416) and no reader needs the data.
      if (!(await this.meta.advanceStart(pk, newStart))) return this.now(); // another pass is at it
      report.expired.records += newStart - meta.startOffset;
      this.store.forgetMeta(pk);
      await this.step('retention.start-advanced', topicId, partition);
    }
    // Objects before entries: a crash in between leaves entries below the start, which the next pass finds
    // again. One listing of the keys below the start (keys sort by base offset) finds the expired segments'
    // objects and any orphan of a pass that crashed between its PUT and its index entry.
    const prefix = partitionSegmentPrefix(topicId, partition);
    const below = await this.segments.listKeys(prefix, { before: `${prefix}${offsetSk(Math.max(newStart, meta.startOffset))}` });
    await this.segments.deleteObjects([...below, ...expired.flatMap((segment) => segment.spillKeys)]);
    await this.step('retention.objects-deleted', topicId, partition);
    for (const segment of expired) {
      await this.index.delete(segment);
      report.expired.segments += 1;
      await this.step('retention.index-deleted', topicId, partition);
    }
    return due;
  }

  // ------------------------------------------------------------------------------------------ deleted topics

  private async reclaim(deleted: DeletedTopic): Promise<void> {
    const { topicId } = deleted;
    for (const prefix of [topicSegmentPrefix(topicId), topicSpillPrefix(topicId)]) {
      for (;;) {
        const keys = await this.segments.listKeys(prefix, { limit: 1000 });
        if (keys.length === 0) break;
        await this.segments.deleteObjects(keys);
      }
    }
    await this.step('reclaim.objects-deleted', topicId);
    let complete = true;
    for (let partition = 0; partition < deleted.partitions; partition++) {
      if ((await this.index.deleteSome(topicId, partition, RECLAIM_ITEMS_PER_PASS)) >= RECLAIM_ITEMS_PER_PASS) complete = false;
    }
    await this.step('reclaim.index-deleted', topicId);
    for (let partition = 0; partition < deleted.partitions; partition++) {
      const pk = partitionPk(topicId, partition);
      if ((await this.meta.deleteSome(pk, RECLAIM_ITEMS_PER_PASS)) >= RECLAIM_ITEMS_PER_PASS) complete = false;
      this.store.forgetMeta(pk);
    }
    await this.step('reclaim.items-deleted', topicId);
    if (!complete) return; // more than a pass's share: the next pass goes on
    await this.topics.forgetDeleted(topicId);
    await this.step('reclaim.forgotten', topicId);
    this.log?.info('reclaimed a deleted topic', { topicId, name: deleted.name });
  }

  private async step(step: MaintenanceStep, topicId: string, partition?: number): Promise<void> {
    if (this.onStep) await this.onStep(step, partition === undefined ? { topicId } : { topicId, partition });
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all settled. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
