import { offsetSk, partitionPk } from '../storage/log-table.js';
import type { HotBatch, PartitionMeta } from '../storage/log-items.js';
import { partitionSegmentPrefix } from '../storage/prefixes.js';
import type { SegmentInfo } from '../segments/segment-store.js';
import type { MaintenanceContext, MaintenanceReport } from './maintenance-steps.js';

/** Query pages a hot-retention pass reads per partition before leaving the rest to the next pass. */
const MAX_HOT_EXPIRY_PAGES = 10;
/** Items per Query page when looking for expired hot batches. */
const PAGE_ITEMS = 100;
/** Segment index entries per page when looking for expired segments (after a first probe of one). */
const SEGMENT_PAGE = 25;

/** What a scan of a hot-retention partition from its start offset found. */
interface HotScan {
  /** The end of the last batch appended before the cutoff (the start offset when there is none). */
  readonly newStart: number;
  /** The first batch appended at or after the cutoff, if the scan reached one. */
  readonly young?: HotBatch;
  /** Whether batches are left beyond what the scan read. */
  readonly more: boolean;
  /** Batches below `newStart` without a TTL (written while the topic had a longer retention). */
  readonly untimed: readonly HotBatch[];
  /** Spill objects of batches below `newStart`. */
  readonly spilled: readonly string[];
}

/**
 * Retention, per partition. Offsets are never reused: the end offset stays in the meta item (a floor) when
 * every record has expired.
 *
 * - **Tiered topics**: whole segments whose newest batch was appended more than `retentionHours` ago expire:
 *   `startOffset` moves to the end of the last one (conditional), then every object below the new start (the
 *   expired segments, the spill objects they absorbed, and orphans of crashed passes) is deleted, then their
 *   index entries. Hot data older than the retention is tiered first (the tiering cutoff is never older than
 *   the retention), so expiry always works on segments.
 * - **Hot-retention topics**: batches carry their own TTL (retention + a day), so expiring them is moving
 *   `startOffset` past the batches appended before the cutoff: readers get 416 below it, and DynamoDB deletes
 *   the items later, for free (see {@link Retention.expireHot}).
 */
export class Retention {
  private readonly ctx: MaintenanceContext;

  constructor(ctx: MaintenanceContext) {
    this.ctx = ctx;
  }

  /**
   * Retention of a hot-retention partition; returns when the oldest live batch passes its retention (the floor
   * is recorded long before it can expire).
   * ```
   * (1) hot floor = the tail's end offset     offsets continue once TTL has removed every item
   * (2) startOffset = first batch appended after the cutoff (conditional on the marks read)
   * (3) TTL on batches below it that have none  (written while the topic had a longer retention)
   * (4) delete the S3 objects of spilled batches below it (their items go by TTL, the objects would not)
   * ```
   * A crash after (1) changes nothing readers see. A crash after (2) leaves (3) undone for those batches: the
   * next pass scans from the new start, so they stay (unreadable, below the start) until removed by hand;
   * only batches written before a retention change lack a TTL.
   */
  async expireHot(topicId: string, partition: number, retentionMs: number, report: MaintenanceReport): Promise<number> {
    const { ctx } = this;
    const pk = partitionPk(topicId, partition);
    const tail = await ctx.store.readTail(pk, true);
    let meta = await ctx.meta.read(pk);
    if (tail.endOffset > meta.hotFloorOffset) {
      await ctx.meta.advanceHotFloor(pk, tail.endOffset, tail.maxTimestamp);
      meta = await ctx.meta.read(pk);
    }
    const scan = await this.scanHot(pk, meta.startOffset, ctx.now() - retentionMs);
    // Every batch up to the tail is past its retention (batches hidden as expired are, too).
    let newStart = !scan.young && !scan.more ? Math.max(scan.newStart, tail.endOffset) : scan.newStart;
    newStart = Math.min(newStart, meta.hotFloorOffset);
    // Due when the oldest live batch passes its retention; with none, a batch appended from now on is due later.
    const due = scan.young ? scan.young.appendedAt + retentionMs : scan.more ? ctx.now() : ctx.now() + retentionMs;
    if (newStart <= meta.startOffset) return due;
    if (!(await ctx.meta.advanceHotStart(pk, meta, newStart))) return ctx.now(); // another pass moved it
    report.expired.records += newStart - meta.startOffset;
    ctx.store.forgetMeta(pk);
    await ctx.step('retention.start-advanced', topicId, partition);
    await ctx.ageOut(
      pk,
      scan.untimed.map((b) => b.baseOffset),
    );
    // The S3 objects of spilled batches below the start: TTL removes their items, not them (DELETE is free).
    await ctx.segments.deleteObjects(scan.spilled);
    return due;
  }

  /** Reads batches from `from` while they were appended before `cutoff`, up to {@link MAX_HOT_EXPIRY_PAGES} pages. */
  private async scanHot(pk: string, from: number, cutoff: number): Promise<HotScan> {
    let newStart = from;
    const untimed: HotBatch[] = [];
    const spilled: string[] = [];
    // A probe of one item first: a partition with nothing past its retention costs one small read per pass.
    let page = await this.ctx.store.queryBatches(pk, { forward: true, fromOffset: from, limit: 1 });
    for (let pages = 1; ; pages++) {
      for (const b of page.batches) {
        if (b.appendedAt >= cutoff) return { newStart, young: b, more: page.more, untimed, spilled };
        newStart = b.baseOffset + b.count;
        if (b.expiresAt === undefined) untimed.push(b);
        if (b.spillKey) spilled.push(b.spillKey);
      }
      if (!page.more || pages >= MAX_HOT_EXPIRY_PAGES) return { newStart, more: page.more, untimed, spilled };
      page = await this.ctx.store.queryBatches(pk, { forward: true, fromOffset: newStart, limit: PAGE_ITEMS });
    }
  }

  /** Retention of a tiered partition's segments; returns when the oldest live segment passes its retention (never, without segments). */
  async expireSegments(topicId: string, partition: number, retentionMs: number, report: MaintenanceReport): Promise<number> {
    const { ctx } = this;
    const pk = partitionPk(topicId, partition);
    const meta = await ctx.meta.read(pk);
    const { expired, due } = await this.findExpired(topicId, partition, meta, ctx.now() - retentionMs, retentionMs);
    if (expired.length === 0) return due;
    const newStart = expired[expired.length - 1]!.endOffset;
    if (newStart > meta.startOffset) {
      // The start moves first: from here on the offsets are out of range (416) and no reader needs the data.
      if (!(await ctx.meta.advanceStart(pk, newStart))) return ctx.now(); // another pass is at it
      report.expired.records += newStart - meta.startOffset;
      ctx.store.forgetMeta(pk);
      await ctx.step('retention.start-advanced', topicId, partition);
    }
    // Objects before entries: a crash in between leaves entries below the start, which the next pass finds
    // again. One listing of the keys below the start (keys sort by base offset) finds the expired segments'
    // objects and any orphan of a pass that crashed between its PUT and its index entry.
    const prefix = partitionSegmentPrefix(topicId, partition);
    const below = await ctx.segments.listKeys(prefix, { before: `${prefix}${offsetSk(Math.max(newStart, meta.startOffset))}` });
    await ctx.segments.deleteObjects([...below, ...expired.flatMap((segment) => segment.spillKeys)]);
    await ctx.step('retention.objects-deleted', topicId, partition);
    for (const segment of expired) {
      await ctx.index.delete(segment);
      report.expired.segments += 1;
      await ctx.step('retention.index-deleted', topicId, partition);
    }
    return due;
  }

  /** The oldest segments that are below the start or past their retention, and when the first live one expires. */
  private async findExpired(
    topicId: string,
    partition: number,
    meta: PartitionMeta,
    cutoff: number,
    retentionMs: number,
  ): Promise<{ expired: SegmentInfo[]; due: number }> {
    const expired: SegmentInfo[] = [];
    let fromOffset = 0;
    for (;;) {
      // The oldest segment first, alone: an unexpired partition costs one item read.
      const page = await this.ctx.index.list(topicId, partition, { fromOffset, limit: expired.length === 0 ? 1 : SEGMENT_PAGE });
      for (const segment of page.segments) {
        const dead = segment.endOffset <= meta.tieredOffset && (segment.endOffset <= meta.startOffset || segment.lastAppendedAt < cutoff);
        if (!dead) return { expired, due: segment.lastAppendedAt + retentionMs };
        expired.push(segment);
        fromOffset = segment.endOffset;
      }
      if (!page.more) return { expired, due: Infinity };
    }
  }
}
