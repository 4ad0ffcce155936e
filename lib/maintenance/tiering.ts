import { partitionPk } from '../storage/log-table.js';
import type { HotBatch, PartitionMeta } from '../storage/log-items.js';
import type { SegmentInfo } from '../segments/segment-store.js';
import { encodeSegment, type SegmentBatchInput } from '../segments/segment-format.js';
import type { MaintenanceContext, MaintenanceReport } from './maintenance-steps.js';

/** A pass moves at most this many segments per partition (a Lambda-sized iteration; the next pass goes on). */
const MAX_SEGMENTS_PER_PARTITION_PASS = 4;
/** Items per Query page when collecting batches to tier. */
const PAGE_ITEMS = 100;

/**
 * Tiering, per partition: old hot batches become S3 segments. A timeline of one segment:
 * ```
 * (a) read hot batches [T, X) appended before the cutoff, contiguous from T = meta.tieredOffset
 * (b) PUT segments/<topicId>/<p>/<T>-<random>.seg    unreferenced: a crash leaves a harmless orphan
 * (c) Put seg#… / T  if attribute_not_exists          readers may now use either tier (identical bytes)
 * (d) meta: tieredOffset = end floor = X  if tieredOffset = T     end offset floor before any TTL
 * (e) expiresAt = now + HOT_COPY_GRACE_MS on each hot item in [T, X)  hot copies now age out
 * (f) meta: releasedOffset = X
 * ```
 * A pass that loses (c) to another writer deletes its own object and adopts the winner's entry; a pass that
 * loses (d) stops on that partition (someone else moved it). A crash after (c) leaves an entry ahead of
 * `tieredOffset`: the next pass's (c) fails on it and adopts it. A crash in (e) leaves
 * `releasedOffset < tieredOffset`, and the next pass sets the missing TTLs first.
 */
export class Tiering {
  private readonly ctx: MaintenanceContext;
  private readonly maxSegmentBytes: number;
  private readonly maxSegmentBatches: number;

  constructor(ctx: MaintenanceContext, limits: { readonly maxSegmentBytes: number; readonly maxSegmentBatches: number }) {
    this.ctx = ctx;
    this.maxSegmentBytes = limits.maxSegmentBytes;
    this.maxSegmentBatches = limits.maxSegmentBatches;
  }

  /**
   * Tiers the partition's batches appended `olderThanMs` ago or earlier; returns when it next has a batch to tier.
   * `onDue` hears the append time of the oldest batch found due, before it is tiered (the `OldestUntieredBatchAge`
   * metric): found by the read the pass makes anyway.
   */
  async tierPartition(
    topicId: string,
    partition: number,
    olderThanMs: number,
    report: MaintenanceReport,
    onDue?: (appendedAt: number) => void,
  ): Promise<number> {
    const pk = partitionPk(topicId, partition);
    let meta = await this.ctx.meta.read(pk);
    if (meta.releasedOffset < meta.tieredOffset) {
      // A previous pass stopped between (d) and (f): finish its TTLs first.
      await this.releaseRange(topicId, partition, meta.releasedOffset, meta.tieredOffset);
      meta = { ...meta, releasedOffset: meta.tieredOffset };
    }
    const cutoff = this.ctx.now() - olderThanMs;
    for (let s = 0; s < MAX_SEGMENTS_PER_PARTITION_PASS; s++) {
      const { batches, youngAppendedAt } = await this.collect(pk, meta.tieredOffset, cutoff);
      if (s === 0 && batches.length > 0) onDue?.(batches[0]!.appendedAt);
      // Nothing to tier: the first young batch is due when it is old enough, a batch appended later even later.
      if (batches.length === 0) return (youngAppendedAt ?? this.ctx.now()) + olderThanMs;
      const tieredTo = await this.tierSegment(topicId, partition, meta, batches, report);
      if (tieredTo === undefined) return this.ctx.now(); // lost a race or the segment is gone: the next pass starts over
      meta = { ...meta, tieredOffset: tieredTo, releasedOffset: tieredTo };
    }
    return this.ctx.now(); // a pass's share done: the next pass goes on
  }

  /** Steps (b) to (f) for one segment of `batches`, from `meta.tieredOffset`; returns the new tiered offset, or undefined to stop. */
  private async tierSegment(
    topicId: string,
    partition: number,
    meta: PartitionMeta,
    batches: readonly HotBatch[],
    report: MaintenanceReport,
  ): Promise<number | undefined> {
    const { ctx } = this;
    const pk = partitionPk(topicId, partition);
    const from = meta.tieredOffset;
    // (b) the object; unreferenced until indexed.
    const inputs: SegmentBatchInput[] = [];
    for (const b of batches) {
      const { baseOffset, count, maxTimestamp, appendedAt } = b;
      inputs.push({ baseOffset, count, maxTimestamp, appendedAt, data: await ctx.store.loadBatch(b) });
    }
    const encoded = encodeSegment(inputs);
    const key = await ctx.segments.putSegment(topicId, partition, encoded);
    await ctx.step('tier.object-put', topicId, partition);
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
    if (!(await ctx.index.put(mine))) {
      // Another pass indexed this base offset first (an overlapping pass, or a crash after its (c)): adopt
      // its segment, drop ours (never referenced, so deleting it is safe).
      await ctx.segments.deleteObjects([key]);
      const theirs = await ctx.index.get(topicId, partition, from);
      if (!theirs) return undefined; // gone again (retention)
      segment = theirs;
    }
    await ctx.step('tier.indexed', topicId, partition);
    // (d) the end-offset floor, before any TTL.
    if (!(await ctx.meta.advanceTiered(pk, from, segment.endOffset, segment.maxTimestamp))) return undefined;
    await ctx.step('tier.meta-advanced', topicId, partition);
    if (segment === mine) {
      report.tiered.segments += 1;
      report.tiered.records += segment.endOffset - segment.baseOffset;
      report.tiered.bytes += segment.size;
      // (e) + (f) for batches this pass tiered: their keys are known, no read needed.
      await this.release(topicId, partition, batches, segment.endOffset);
    } else {
      await this.releaseRange(topicId, partition, segment.baseOffset, segment.endOffset);
    }
    return segment.endOffset;
  }

  /** Hot batches from `from`, contiguous, appended at or before `cutoff`, within the segment bounds. */
  private async collect(pk: string, from: number, cutoff: number): Promise<{ batches: HotBatch[]; youngAppendedAt?: number }> {
    const out: HotBatch[] = [];
    let bytes = 0;
    let next = from;
    // A probe of one item first: an idle partition costs one small read per pass.
    let page = await this.ctx.store.queryBatches(pk, { forward: true, fromOffset: from, limit: 1 });
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
      page = await this.ctx.store.queryBatches(pk, { forward: true, fromOffset: next, limit: PAGE_ITEMS });
    }
  }

  /** (e) + (f) for a range tiered by an interrupted or overlapping pass: find its hot items first. */
  private async releaseRange(topicId: string, partition: number, from: number, to: number): Promise<void> {
    const pk = partitionPk(topicId, partition);
    const pending: HotBatch[] = [];
    let lastSk: string | undefined;
    do {
      const page = await this.ctx.store.queryBatches(pk, {
        forward: true,
        fromOffset: from,
        toOffset: to - 1,
        limit: PAGE_ITEMS,
        ...(lastSk ? { exclusiveStartSk: lastSk } : {}),
      });
      pending.push(...page.batches.filter((b) => b.expiresAt === undefined));
      lastSk = page.lastSk;
    } while (lastSk);
    await this.release(topicId, partition, pending, to);
  }

  /** (e) TTL on the hot copies of `batches`, (f) remember that every copy below `to` has one. */
  private async release(topicId: string, partition: number, batches: readonly HotBatch[], to: number): Promise<void> {
    const pk = partitionPk(topicId, partition);
    await this.ctx.ageOut(
      pk,
      batches.map((b) => b.baseOffset),
      () => this.ctx.step('tier.ttl-set', topicId, partition),
    );
    await this.ctx.meta.advanceReleased(pk, to);
    await this.ctx.step('tier.released', topicId, partition);
  }
}
