import { OffsetOutOfRangeError } from '../errors.js';
import { partitionPk } from '../storage/log-table.js';
import type { HotBatch, PartitionMeta } from '../storage/log-items.js';
import { decodeBatch, type StoredRecord } from './batch-format.js';
import type { ColdTier } from './cold-tier.js';
import type { PartitionBounds, ReadOptions, ReadResult } from './log-types.js';
import type { BatchPage, LogStore } from './log-store.js';
import { READ_PAGE_ITEMS, type ReadHints } from './read-hints.js';
import {
  batchStep,
  checkInRange,
  planContaining,
  planEnd,
  planForward,
  takeBackward,
  type ForwardFacts,
} from './read-plan.js';
import { ResponseCut } from './response-cut.js';
import { BatchSink, RecordSink, type ReadSink, type SourceBatch } from './read-sinks.js';

/** Spilled batches (S3 objects) a read fetches ahead, so that their GETs overlap instead of queueing. */
const PREFETCH_BATCHES = 16;

/** A partition to read: its topic incarnation and number (already checked to exist). */
export interface PartitionRef {
  readonly topicId: string;
  readonly partition: number;
}

/** One forward read in progress: where it stands, and the sink that takes what it reads and says when it is full. */
interface ForwardRead {
  readonly ref: PartitionRef;
  readonly pk: string;
  readonly options: ReadOptions;
  readonly sink: ReadSink;
  /** Where the read started. */
  readonly from: number;
  next: number;
}

/**
 * Reads of one partition over the hot tier and, for offsets the hot tier no longer holds, the cold tier: the
 * executor of lib/log/read-plan.ts's decisions (docs/design.md, "Read").
 */
export class PartitionReader {
  private readonly store: LogStore;
  private readonly cold: ColdTier | undefined;
  private readonly hints: ReadHints;

  constructor(options: { readonly store: LogStore; readonly cold?: ColdTier; readonly hints: ReadHints }) {
    this.store = options.store;
    this.cold = options.cold;
    this.hints = options.hints;
  }

  /** The readable range, and the meta item read for it (callers that also need the tiering marks reuse it). */
  async bounds(ref: PartitionRef): Promise<{ bounds: PartitionBounds; meta: PartitionMeta }> {
    const pk = partitionPk(ref.topicId, ref.partition);
    const [meta, tail] = await Promise.all([this.store.readMeta(pk), this.store.readTail(pk, true)]);
    this.hints.noteEnd(pk, tail.endOffset);
    const endOffset = Math.max(tail.endOffset, meta.endFloor.endOffset);
    return { bounds: { startOffset: Math.min(meta.startOffset, endOffset), endOffset }, meta };
  }

  /**
   * Reads forward from `from`. The common fetch (a consumer at its next offset, the hot tier holding it) is one
   * round trip: the meta item and the first page in parallel. An offset is checked against the bounds only
   * when the hot tier does not decide it.
   * @throws OffsetOutOfRangeError
   */
  async forward(ref: PartitionRef, from: number, options: ReadOptions): Promise<ReadResult> {
    const pk = partitionPk(ref.topicId, ref.partition);
    const records = options.batches ? undefined : new RecordSink(options);
    const batches = options.batches ? new BatchSink(options, (key) => this.store.batchUrl(key)) : undefined;
    const read: ForwardRead = { ref, pk, options, sink: (records ?? batches)!, from, next: from };
    let [meta, page] = await Promise.all([
      this.store.readMeta(pk),
      this.store.queryBatches(pk, { forward: true, fromOffset: from, limit: this.hints.pageItems(pk, options.limit) }),
    ]);
    const facts: ForwardFacts = { from, meta, page, knownEnd: this.hints.knownEnd(pk), hasCold: this.cold !== undefined };
    const plan = planForward(facts);
    // More batches than this page, or a cold read: the read will not reach the end, and the response needs
    // `endOffset`. Read the newest item now, while the batches load, instead of after them. It is informational
    // (lag), so an eventually consistent read at half the price does; it can only lag, never below what is returned.
    const tail = page.more || plan.kind === 'cold' ? this.store.readTail(pk, false) : undefined;
    tail?.catch(() => undefined); // awaited below, or not needed after all
    if (from < meta.startOffset) {
      const { bounds } = await this.bounds(ref);
      checkInRange(from, bounds);
      meta = { ...meta, startOffset: bounds.startOffset };
    }
    // What was taken, in the shape the options asked for.
    const taken = () => (batches ? { records: [], batches: batches.out, firstOffset: from } : { records: records!.out });
    if (plan.kind === 'at-end') return { ...taken(), nextOffset: from, startOffset: meta.startOffset, endOffset: plan.endOffset };
    if (plan.kind === 'cold') await this.takeCold(read, plan.untilOffset);
    if (plan.kind === 'containing') {
      const end = await this.takeContaining(read, facts);
      if (end !== undefined) return { ...taken(), nextOffset: from, startOffset: meta.startOffset, endOffset: end };
    }
    page = await this.takePages(read, page);
    const end = planEnd(page, read.next, read.next - from);
    const result = (endOffset: number) => ({ ...taken(), nextOffset: read.next, startOffset: meta.startOffset, endOffset });
    if (end.kind === 'known') return result(end.endOffset);
    if (end.kind === 'tail') return result(Math.max((await (tail ?? this.store.readTail(pk, false))).endOffset, meta.endFloor.endOffset, read.next));
    const { bounds } = await this.bounds(ref);
    checkInRange(from, bounds);
    return { ...taken(), nextOffset: read.next, startOffset: bounds.startOffset, endOffset: Math.max(bounds.endOffset, read.next) };
  }

  /**
   * Reads backward: the records before `before`, newest first, down to the start offset.
   */
  async backward(ref: PartitionRef, before: number, bounds: PartitionBounds, options: ReadOptions): Promise<ReadResult> {
    const pk = partitionPk(ref.topicId, ref.partition);
    const cut = new ResponseCut(options);
    const out: StoredRecord[] = [];
    let lowest = before;
    const take = (records: StoredRecord[]) => {
      lowest = takeBackward(records, lowest, bounds.startOffset, cut, out);
    };
    while (!cut.full && lowest > bounds.startOffset) {
      const above = lowest;
      const page = await this.store.queryBatches(pk, { forward: false, toOffset: lowest - 1, limit: READ_PAGE_ITEMS });
      const first = page.batches[0];
      if (first && first.baseOffset + first.count >= lowest) {
        for (const batch of page.batches) {
          if (cut.full || batch.baseOffset + batch.count < lowest) break; // a hot gap: the rest is cold
          take(decodeBatch(await this.store.loadBatch(batch), batch.baseOffset));
        }
      } else if (this.cold) {
        for (const batch of await this.cold.readBackward(ref.topicId, ref.partition, lowest, options.maxBytes)) {
          if (cut.full) break;
          take(decodeBatch(batch.data, batch.baseOffset));
        }
      }
      if (lowest === above) break; // nothing more is readable below
    }
    return { records: out, nextOffset: lowest, startOffset: bounds.startOffset, endOffset: bounds.endOffset };
  }

  /**
   * Kafka's `offsetsForTimes`: the first offset whose record timestamp is ≥ `timestamp`, or the end offset when
   * there is none. Batches carry the running maximum timestamp, so a binary search over them is valid even
   * when producers supply timestamps out of order.
   */
  async offsetForTimestamp(ref: PartitionRef, timestamp: number): Promise<number> {
    const pk = partitionPk(ref.topicId, ref.partition);
    const { bounds, meta } = await this.bounds(ref);
    if (this.cold && meta.tieredOffset > bounds.startOffset) {
      const cold = await this.cold.offsetForTimestamp(ref.topicId, ref.partition, timestamp);
      if (cold !== undefined && cold >= bounds.startOffset) return cold;
    }
    const first = await this.oneBatch(pk, true, Math.max(bounds.startOffset, meta.tieredOffset));
    if (!first) return bounds.endOffset;
    let lo = first.baseOffset;
    let hi = bounds.endOffset;
    let found: HotBatch | undefined;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const batch = await this.oneBatch(pk, false, mid);
      if (!batch) {
        lo = mid + 1;
      } else if (batch.maxTimestamp >= timestamp) {
        found = batch;
        hi = batch.baseOffset;
      } else {
        lo = batch.baseOffset + batch.count;
      }
    }
    if (!found || found.baseOffset !== lo) found = await this.oneBatch(pk, true, lo);
    if (!found) return bounds.endOffset;
    const records = decodeBatch(await this.store.loadBatch(found), found.baseOffset);
    return records.find((r) => r.timestamp >= timestamp)?.offset ?? found.baseOffset + found.count;
  }

  /** The first batch at or after `offset` (`forward`), or the last at or before it. */
  private async oneBatch(pk: string, forward: boolean, offset: number): Promise<HotBatch | undefined> {
    const range = forward ? { fromOffset: offset } : { toOffset: offset };
    return (await this.store.queryBatches(pk, { forward, ...range, limit: 1 })).batches[0];
  }

  /** Reads the batch that holds `from` (a `containing` plan); returns the end offset when that ends the read. */
  private async takeContaining(read: ForwardRead, facts: ForwardFacts): Promise<number | undefined> {
    const containing = await this.oneBatch(read.pk, false, read.next);
    if (containing) this.hints.noteEnd(read.pk, containing.baseOffset + containing.count);
    const plan = planContaining(facts, containing);
    switch (plan.kind) {
      case 'at-end':
        return plan.endOffset;
      case 'out-of-range': {
        const { bounds } = await this.bounds(read.ref);
        throw new OffsetOutOfRangeError(facts.from, bounds.startOffset, bounds.endOffset);
      }
      case 'take':
        read.next = await read.sink.take(this.source(containing!), read.next);
        return undefined;
      case 'cold':
        await this.takeCold(read, plan.untilOffset);
        return undefined;
      case 'hot':
        return undefined;
    }
  }

  /** Straight to the segment (index lookup + one ranged GET), up to `untilOffset`. */
  private async takeCold(read: ForwardRead, untilOffset: number): Promise<void> {
    const { ref, options } = read;
    for (const batch of await this.cold!.readForward(ref.topicId, ref.partition, read.next, untilOffset, options.maxBytes)) {
      if (read.sink.full) break;
      const { baseOffset, count, data } = batch;
      read.next = await read.sink.take({ baseOffset, count, bytes: data.length, load: async () => data }, read.next);
    }
  }

  /** Takes hot batches page by page from `page` on, until the cut, a gap, or the end; returns the last page read. */
  private async takePages(read: ForwardRead, page: BatchPage): Promise<BatchPage> {
    const { pk, sink } = read;
    for (;;) {
      const pageStart = read.next;
      let gap = false;
      const load = this.prefetcher(page.batches.filter((b) => sink.needsBytes(b)));
      for (const batch of page.batches) {
        this.hints.noteBatchSize(pk, batch.count);
        this.hints.noteEnd(pk, batch.baseOffset + batch.count);
        if (sink.full) break;
        const step = batchStep(batch, read.next);
        if (step === 'skip') continue;
        if (step === 'gap') {
          gap = true;
          break;
        }
        read.next = await sink.take({ ...this.source(batch), load: () => load(batch) }, read.next);
      }
      // A page that moved nothing held only expired (tiered) copies: querying from the same offset again
      // would return the same page forever, and those offsets are cold, so this read ends here too.
      if (gap || sink.full || !page.more || read.next === pageStart) return page;
      const limit = this.hints.pageItems(pk, read.options.limit - (read.next - read.from));
      page = await this.store.queryBatches(pk, { forward: true, fromOffset: read.next, limit });
    }
  }

  /**
   * Loads the page's batches in order, starting the loads of the next few at each step: inline batches cost
   * nothing to load, spilled ones are S3 GETs that then overlap.
   */
  private prefetcher(batches: readonly HotBatch[]): (batch: HotBatch) => Promise<Uint8Array> {
    const started = new Map<number, Promise<Uint8Array>>();
    return (batch) => {
      const i = batches.indexOf(batch);
      if (i < 0) return this.store.loadBatch(batch); // not among those worth prefetching: load it now
      for (let j = i; j < Math.min(batches.length, i + PREFETCH_BATCHES); j++) {
        if (started.has(j)) continue;
        const loading = this.store.loadBatch(batches[j]!);
        loading.catch(() => undefined); // a prefetch that is never used may fail without an unhandled rejection
        started.set(j, loading);
      }
      return started.get(i)!;
    };
  }

  /** A hot batch as a sink sees it, loaded on demand. */
  private source(batch: HotBatch): SourceBatch {
    return {
      baseOffset: batch.baseOffset,
      count: batch.count,
      bytes: batch.bytes,
      ...(batch.spillKey !== undefined ? { spillKey: batch.spillKey } : {}),
      load: () => this.store.loadBatch(batch),
    };
  }
}
