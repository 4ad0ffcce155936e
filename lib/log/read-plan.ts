import { OffsetOutOfRangeError } from '../errors.js';
import type { HotBatch, PartitionMeta } from '../storage/log-items.js';
import type { StoredRecord } from './batch-format.js';
import type { PartitionBounds } from './log-types.js';
import type { ResponseCut } from './response-cut.js';

/**
 * The decisions of a read, without I/O (docs/design.md, "Read"): where a forward read starts (hot, cold, the
 * batch that contains its offset, or already at the end), which batches it takes, how it learns the end
 * offset, and the one offset-range check. lib/log/partition-reader.ts executes them.
 */

/** What a forward read knows after its first round trip (the meta item and the first page, in parallel). */
export interface ForwardFacts {
  /** The offset the read starts at. */
  readonly from: number;
  readonly meta: PartitionMeta;
  /** The first page of hot batches with base offset ≥ `from`. */
  readonly page: { readonly batches: readonly Pick<HotBatch, 'baseOffset'>[]; readonly more: boolean };
  /** The highest batch end this process has seen in the partition (a batch boundary forever). */
  readonly knownEnd: number | undefined;
  /** Whether offsets tiered to S3 segments can be read. */
  readonly hasCold: boolean;
}

/** How a forward read starts. */
export type ForwardPlan =
  /** Nothing to read and nothing to wait for a batch to prove it: `from` is the end. */
  | { readonly kind: 'at-end'; readonly endOffset: number }
  /** The first page starts at `from`. */
  | { readonly kind: 'hot' }
  /** Segments first, from `from` up to the first hot batch: the hot copy at `from` is gone. */
  | { readonly kind: 'cold'; readonly untilOffset: number }
  /** `from` is inside a batch (a read that stopped mid-batch), at the end, or older than the hot tier: find the batch at or before it. */
  | { readonly kind: 'containing' };

/** Where a read starts, decided from the meta item and the first page. */
export function planForward(facts: ForwardFacts): ForwardPlan {
  const { from, meta, page } = facts;
  const first = page.batches[0]?.baseOffset;
  // A known batch end with no batch after it, and nothing tiered beyond it: the end of the log, without reading
  // the newest batch to prove it (an empty poll is one small Query).
  if (first === undefined && !page.more && from === facts.knownEnd && from >= meta.endFloor.endOffset) {
    return { kind: 'at-end', endOffset: from };
  }
  // Offsets below `tieredOffset` are in S3 segments, which readers prefer once the hot copy at `from` is gone;
  // a hot copy of a batch that began before `from` would only hold the same bytes.
  if (facts.hasCold && from < meta.tieredOffset && first !== from) return { kind: 'cold', untilOffset: first ?? Number.MAX_SAFE_INTEGER };
  return first === from ? { kind: 'hot' } : { kind: 'containing' };
}

/** What the batch at or before `from` (the newest with base offset ≤ `from`) tells a read planned as `containing`. */
export type ContainingPlan =
  | { readonly kind: 'at-end'; readonly endOffset: number }
  /** `from` is past the end of the log. */
  | { readonly kind: 'out-of-range' }
  /** Take the records from `from` of the containing batch, then go on with the first page. */
  | { readonly kind: 'take' }
  | { readonly kind: 'cold'; readonly untilOffset: number }
  /** Nothing before the first page is readable here: go on with it. */
  | { readonly kind: 'hot' };

export function planContaining(facts: ForwardFacts, containing: Pick<HotBatch, 'baseOffset' | 'count'> | undefined): ContainingPlan {
  const { from, page } = facts;
  const end = containing ? containing.baseOffset + containing.count : undefined;
  if (end !== undefined && page.batches.length === 0 && !page.more && end <= from && facts.meta.endFloor.endOffset <= end) {
    // No batch at or after `from`, so the batch before it is the newest: it tells the end offset.
    return from === end ? { kind: 'at-end', endOffset: end } : { kind: 'out-of-range' };
  }
  if (end !== undefined && end > from) return { kind: 'take' };
  if (facts.hasCold) return { kind: 'cold', untilOffset: page.batches[0]?.baseOffset ?? Number.MAX_SAFE_INTEGER };
  return { kind: 'hot' };
}

/** What a forward read does with the next batch of a page, at `next`. */
export function batchStep(batch: Pick<HotBatch, 'baseOffset' | 'count'>, next: number): 'skip' | 'take' | 'gap' {
  if (batch.baseOffset + batch.count <= next) return 'skip'; // already read (the containing batch, or cold)
  // A hot gap: the offsets in between are only in the cold tier; the next read starts there.
  return batch.baseOffset > next ? 'gap' : 'take';
}

/** How a forward read learns the end offset for its response. */
export type EndPlan =
  /** The last page ran to the end of the partition: its last batch ends the log. */
  | { readonly kind: 'known'; readonly endOffset: number }
  /** Records were read and more exist: the newest item tells the end (informational, so eventually consistent). */
  | { readonly kind: 'tail' }
  /** Nothing was read: the bounds decide between an empty read at the end and 416. */
  | { readonly kind: 'bounds' };

export function planEnd(
  lastPage: { readonly batches: readonly Pick<HotBatch, 'baseOffset' | 'count'>[]; readonly more: boolean },
  next: number,
  taken: number,
): EndPlan {
  const last = lastPage.batches[lastPage.batches.length - 1];
  if (!lastPage.more && last !== undefined && next <= last.baseOffset + last.count && taken > 0) {
    return { kind: 'known', endOffset: last.baseOffset + last.count };
  }
  return taken > 0 ? { kind: 'tail' } : { kind: 'bounds' };
}

/**
 * Takes records of a batch, in offset order, from `next` on, while `cut` allows; returns the new `next`.
 * @throws Error when the batch skips an offset (the log's offsets are dense: a bug, never user input).
 */
export function takeForward(records: readonly StoredRecord[], next: number, cut: ResponseCut, out: StoredRecord[]): number {
  for (const r of records) {
    if (r.offset < next) continue;
    if (r.offset !== next) throw new Error(`log gap: expected offset ${next}, found ${r.offset}`);
    if (!cut.take(r)) return next;
    out.push(r);
    next = r.offset + 1;
  }
  return next;
}

/** Takes records of a batch, newest first, below `lowest` and not below `startOffset`, while `cut` allows; returns the new `lowest`. */
export function takeBackward(records: readonly StoredRecord[], lowest: number, startOffset: number, cut: ResponseCut, out: StoredRecord[]): number {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.offset >= lowest) continue;
    if (r.offset < startOffset || !cut.take(r)) return lowest;
    out.push(r);
    lowest = r.offset;
  }
  return lowest;
}

/** Whether a read may start at `offset`: within [startOffset, endOffset] (at the end it reads nothing, or waits). */
export function inRange(offset: number, bounds: PartitionBounds): boolean {
  return offset >= bounds.startOffset && offset <= bounds.endOffset;
}

/**
 * THE offset-range check of the log.
 * @throws OffsetOutOfRangeError with both bounds when `offset` is not {@link inRange}.
 */
export function checkInRange(offset: number, bounds: PartitionBounds): void {
  if (!inRange(offset, bounds)) throw new OffsetOutOfRangeError(offset, bounds.startOffset, bounds.endOffset);
}
