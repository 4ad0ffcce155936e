import { OffsetOutOfRangeError, PartitionNotFoundError, PayloadTooLargeError } from '../errors.js';
import { appendExpiry, type Topic, type TopicStore } from '../topics/topic.js';
import { decodeBatch, type LogRecord, type StoredRecord } from './batch-format.js';
import type { ColdTier, EncodedBatch } from './cold-tier.js';
import { MAX_TRANSACTION_ITEMS, type LogStore } from './log-store.js';
import { partitionPk, type HotBatch, type PartitionMeta } from '../storage/log-table.js';
import { partitionFor, stickyPartition } from './partitioner.js';
import { MAX_DIGITS, MAX_RECORD_WIRE_BYTES, MAX_RESPONSE_RECORD_BYTES, wireSize, wireSizeBound, type RecordEncoding } from './wire-size.js';
import { requestDigest } from './request-digest.js';

/** A record to produce, already decoded from the wire into bytes. */
export interface ProduceRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly valueIsJson: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp?: number;
  readonly partition?: number;
}

export interface ProduceInput {
  readonly records: readonly ProduceRecord[];
  readonly expectedOffsets?: ReadonlyMap<number, number>;
  readonly idempotencyKey?: string;
}

export interface ProducedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

export interface ProduceOutput {
  readonly records: ProducedRecord[];
}

export type StartPosition =
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'timestamp'; readonly timestamp: number };

export interface ReadOptions {
  readonly start: StartPosition;
  readonly limit: number;
  /**
   * Records stop before their total {@link wireSize} in `encoding` would pass this (never below one record).
   * Whatever is asked, a read stays within {@link MAX_RESPONSE_RECORD_BYTES}, so its response fits Lambda.
   */
  readonly maxBytes: number;
  /** The encoding the response will use: it decides each record's size. */
  readonly encoding: RecordEncoding;
  readonly waitMs: number;
  readonly direction: 'forward' | 'backward';
}

export interface ReadResult {
  readonly records: StoredRecord[];
  readonly nextOffset: number;
  readonly startOffset: number;
  readonly endOffset: number;
}

export interface PartitionBounds {
  readonly startOffset: number;
  readonly endOffset: number;
}

export interface LogServiceOptions {
  readonly topics: TopicStore;
  readonly store: LogStore;
  readonly cold?: ColdTier;
  /** Topics with retention up to this many hours get a TTL with each batch (see `isHotRetention`). */
  readonly hotRetentionLimitHours?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** At most this many items per Query page when reading; DynamoDB also stops a page at 1 MB. */
const READ_PAGE_ITEMS = 100;
/** Partitions whose batch sizes this process remembers (to size Query pages); oldest forgotten first. */
const BATCH_SIZE_MEMORY = 10_000;
/**
 * Records per batch assumed for a partition this process has not read yet. Guessing high costs at most an
 * extra page round trip when batches are small; guessing low reads (and pays for) items that are not needed.
 */
const ASSUMED_RECORDS_PER_BATCH = 100;
/** Spilled batches (S3 objects) a read fetches ahead, so that their GETs overlap instead of queueing. */
const PREFETCH_BATCHES = 16;
/** Long-poll probe interval: starts short for latency, backs off to bound the cost of an idle wait. */
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 500;

/**
 * The log: produce and read over the hot tier (DynamoDB) and, where offsets were tiered, the cold tier (S3).
 * Inputs are trusted (validated at the HTTP boundary) except for facts only storage knows: whether a
 * partition exists and whether an offset is in range.
 */
export class LogService {
  private readonly topics: TopicStore;
  private readonly store: LogStore;
  private readonly cold: ColdTier | undefined;
  private readonly hotRetentionLimitHours: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Recent records-per-batch of each partition: a Query page asks for just enough items (each read costs). */
  private readonly recordsPerBatch = new Map<string, number>();
  /**
   * The highest batch end offset this process has seen per partition (from its appends and reads). A batch end
   * is a boundary forever (batches are immutable), so a read that starts there and finds no batch after it is
   * at the end of the log without reading the newest batch to prove it: an empty poll is one small Query.
   */
  private readonly seenEnds = new Map<string, number>();

  constructor(options: LogServiceOptions) {
    this.topics = options.topics;
    this.store = options.store;
    this.cold = options.cold;
    this.hotRetentionLimitHours = options.hotRetentionLimitHours ?? 0;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  // --------------------------------------------------------------------------------------------- produce

  /**
   * Appends the records of one request, all or nothing; records of one partition are contiguous and in
   * request order.
   * @throws TopicNotFoundError, PartitionNotFoundError, OffsetMismatchError, PayloadTooLargeError (too many partitions)
   */
  async produce(topicName: string, input: ProduceInput): Promise<ProduceOutput> {
    input.records.forEach(checkReadable);
    const topic = await this.topics.get(topicName);
    for (const p of input.expectedOffsets?.keys() ?? []) this.checkPartition(topic, p);
    const now = this.now();
    // Keyless records without a partition stick to one partition for the whole request (KIP-480).
    let sticky: number | undefined;
    const placement: number[] = new Array(input.records.length);
    const byPartition = new Map<number, LogRecord[]>();
    const rank: number[] = new Array(input.records.length);
    input.records.forEach((record, i) => {
      let p: number;
      if (record.partition !== undefined) p = this.checkPartition(topic, record.partition);
      else if (record.key !== null) p = partitionFor(record.key, topic.partitions);
      else p = sticky ??= stickyPartition(topic.partitions, this.random);
      placement[i] = p;
      const list = byPartition.get(p) ?? [];
      rank[i] = list.length;
      list.push({
        key: record.key,
        value: record.value,
        valueIsJson: record.valueIsJson,
        headers: record.headers,
        timestamp: record.timestamp ?? now,
      });
      byPartition.set(p, list);
    });
    // One limit, one status: the partitions a request touches (written, or only named in expectedOffsets) and
    // its idempotency record are the items of one DynamoDB transaction, at most MAX_TRANSACTION_ITEMS (413).
    const touched = new Set([...byPartition.keys(), ...(input.expectedOffsets?.keys() ?? [])]);
    const maxPartitions = MAX_TRANSACTION_ITEMS - (input.idempotencyKey ? 1 : 0);
    if (touched.size > maxPartitions) {
      throw new PayloadTooLargeError(
        `one request may touch at most ${maxPartitions} partitions${input.idempotencyKey ? ' with an Idempotency-Key' : ''}, ` +
          `counting those named in expectedOffsets (this one touches ${touched.size}); split it`,
        { details: { limitPartitions: maxPartitions } },
      );
    }
    const respond = (bases: ReadonlyMap<number, number>): ProduceOutput => ({
      records: input.records.map((record, i) => ({
        partition: placement[i]!,
        offset: bases.get(placement[i]!)! + rank[i]!,
        timestamp: record.timestamp ?? now,
      })),
    });
    const expiresAtSec = appendExpiry(topic, this.hotRetentionLimitHours, now);
    const result = await this.store.append(
      topic.topicId,
      [...byPartition].map(([partition, records]) => ({ partition, records })),
      {
        ...(expiresAtSec !== undefined ? { expiresAtSec } : {}),
        ...(input.expectedOffsets ? { expectedOffsets: input.expectedOffsets } : {}),
        ...(input.idempotencyKey
          ? { idempotency: { key: input.idempotencyKey, response: respond, digest: requestDigest(input) } }
          : {}),
      },
    );
    if (result.kind === 'replayed') return result.response as ProduceOutput;
    for (const [partition, base] of result.baseOffsets) {
      this.noteEnd(partitionPk(topic.topicId, partition), base + byPartition.get(partition)!.length);
    }
    return respond(result.baseOffsets);
  }

  // ------------------------------------------------------------------------------------------------ read

  /**
   * Reads one partition.
   * @throws TopicNotFoundError, PartitionNotFoundError, OffsetOutOfRangeError (with both bounds)
   */
  async read(topicName: string, partition: number, options: ReadOptions): Promise<ReadResult> {
    const topic = await this.topics.get(topicName);
    return this.readPartition(topic, partition, options);
  }

  async readPartition(topic: Topic, partition: number, options: ReadOptions): Promise<ReadResult> {
    this.checkPartition(topic, partition);
    const pk = partitionPk(topic.topicId, partition);
    if (options.direction === 'backward') {
      const bounds = await this.bounds(topic, partition);
      // Backward from a timestamp: the records before the first one at or after it.
      const before =
        options.start.kind === 'timestamp'
          ? await this.offsetForTimestamp(topic, partition, options.start.timestamp)
          : this.resolveStart(options.start, bounds);
      return this.readBackward(topic, partition, pk, before, bounds, options);
    }
    // An explicit offset is checked against the bounds only when the hot tier does not hold it, so that the
    // common fetch (a consumer at its next offset) is a single Query.
    const start =
      options.start.kind === 'offset'
        ? options.start.offset
        : options.start.kind === 'timestamp'
          ? await this.offsetForTimestamp(topic, partition, options.start.timestamp)
          : this.resolveStart(options.start, await this.bounds(topic, partition));
    const deadline = this.now() + options.waitMs;
    let result = await this.readForward(topic, partition, pk, start, options);
    let delay = POLL_MIN_MS;
    while (result.records.length === 0 && result.nextOffset >= result.endOffset && this.now() < deadline) {
      await this.sleep(Math.min(delay, Math.max(0, deadline - this.now())));
      delay = Math.min(POLL_MAX_MS, delay * 1.5);
      // A probe at the end offset reads nothing (and costs the minimum) until a batch lands there.
      const probe = await this.store.queryBatches(pk, { forward: true, fromOffset: start, limit: 1 });
      if (probe.batches.length > 0) result = await this.readForward(topic, partition, pk, start, options);
    }
    return result;
  }

  /** The readable range of a partition: [startOffset, endOffset). */
  async bounds(topic: Topic, partition: number): Promise<PartitionBounds> {
    this.checkPartition(topic, partition);
    return (await this.boundsAndMeta(partitionPk(topic.topicId, partition))).bounds;
  }

  /** The bounds, and the meta item read for them (callers that also need the tiering marks reuse it). */
  private async boundsAndMeta(pk: string): Promise<{ bounds: PartitionBounds; meta: PartitionMeta }> {
    const [meta, tail] = await Promise.all([this.store.readMeta(pk), this.store.readTail(pk, true)]);
    this.noteEnd(pk, tail.endOffset);
    const endOffset = Math.max(tail.endOffset, meta.endFloor.endOffset);
    return { bounds: { startOffset: Math.min(meta.startOffset, endOffset), endOffset }, meta };
  }

  /**
   * Kafka's `offsetsForTimes`: the first offset whose record timestamp is ≥ `timestamp`, or the end offset when
   * there is none. Batches carry the running maximum timestamp, so a binary search over them is valid even
   * when producers supply timestamps out of order.
   */
  async offsetForTimestamp(topic: Topic, partition: number, timestamp: number): Promise<number> {
    this.checkPartition(topic, partition);
    const pk = partitionPk(topic.topicId, partition);
    const {
      bounds: { startOffset, endOffset },
      meta,
    } = await this.boundsAndMeta(pk);
    if (this.cold && meta.tieredOffset > startOffset) {
      const cold = await this.cold.offsetForTimestamp(topic.topicId, partition, timestamp);
      if (cold !== undefined && cold >= startOffset) return cold;
    }
    const first = (await this.store.queryBatches(pk, { forward: true, fromOffset: Math.max(startOffset, meta.tieredOffset), limit: 1 })).batches[0];
    if (!first) return endOffset;
    let lo = first.baseOffset;
    let hi = endOffset;
    let found: HotBatch | undefined;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const batch = (await this.store.queryBatches(pk, { forward: false, toOffset: mid, limit: 1 })).batches[0];
      if (!batch) {
        lo = mid + 1;
        continue;
      }
      if (batch.maxTimestamp >= timestamp) {
        found = batch;
        hi = batch.baseOffset;
      } else {
        lo = batch.baseOffset + batch.count;
      }
    }
    if (!found || found.baseOffset !== lo) {
      found = (await this.store.queryBatches(pk, { forward: true, fromOffset: lo, limit: 1 })).batches[0];
    }
    if (!found) return endOffset;
    const records = decodeBatch(await this.store.loadBatch(found), found.baseOffset);
    return records.find((r) => r.timestamp >= timestamp)?.offset ?? found.baseOffset + found.count;
  }

  /**
   * Waits until at least one of `positions` has a record at or after its offset, or `waitMs` passes. Used by
   * group fetch to long-poll several partitions at once.
   */
  async waitForAny(positions: ReadonlyArray<{ topic: Topic; partition: number; offset: number }>, waitMs: number): Promise<boolean> {
    const deadline = this.now() + waitMs;
    let delay = POLL_MIN_MS;
    while (this.now() < deadline) {
      await this.sleep(Math.min(delay, Math.max(0, deadline - this.now())));
      delay = Math.min(POLL_MAX_MS, delay * 1.5);
      const probes = await Promise.all(
        positions.map((p) =>
          this.store.queryBatches(partitionPk(p.topic.topicId, p.partition), { forward: true, fromOffset: p.offset, limit: 1 }),
        ),
      );
      if (probes.some((probe) => probe.batches.length > 0)) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------- helpers

  /** Items to ask a Query for, to cover `records` records given this partition's recent batch sizes (+1 spare). */
  private pageItems(pk: string, records: number): number {
    const perBatch = this.recordsPerBatch.get(pk) ?? ASSUMED_RECORDS_PER_BATCH;
    return Math.max(1, Math.min(READ_PAGE_ITEMS, Math.ceil(records / perBatch) + 1));
  }

  /**
   * Checks that `offset` lies within the partition's readable range, reading storage only when what this
   * process knows cannot decide (a commit of an offset the consumer just fetched here costs nothing).
   * @throws OffsetOutOfRangeError with both bounds.
   */
  async checkOffset(topic: Topic, partition: number, offset: number): Promise<void> {
    this.checkPartition(topic, partition);
    const pk = partitionPk(topic.topicId, partition);
    const meta = await this.store.readMeta(pk);
    if (offset >= meta.startOffset && offset <= Math.max(meta.endFloor.endOffset, this.seenEnds.get(pk) ?? 0)) return;
    const bounds = await this.bounds(topic, partition);
    if (offset < bounds.startOffset || offset > bounds.endOffset) {
      throw new OffsetOutOfRangeError(offset, bounds.startOffset, bounds.endOffset);
    }
  }

  /**
   * Loads the page's batches in order, starting the loads of the next few at each step: inline batches cost
   * nothing to load, spilled ones are S3 GETs that then overlap.
   */
  private prefetcher(batches: readonly HotBatch[]): (i: number) => Promise<Uint8Array> {
    const started = new Map<number, Promise<Uint8Array>>();
    return (i) => {
      for (let j = i; j < Math.min(batches.length, i + PREFETCH_BATCHES); j++) {
        if (started.has(j)) continue;
        const loading = this.store.loadBatch(batches[j]!);
        loading.catch(() => undefined); // a prefetch that is never used may fail without an unhandled rejection
        started.set(j, loading);
      }
      return started.get(i)!;
    };
  }

  private noteEnd(pk: string, end: number): void {
    if (end <= (this.seenEnds.get(pk) ?? -1)) return;
    this.seenEnds.delete(pk);
    if (this.seenEnds.size >= BATCH_SIZE_MEMORY) this.seenEnds.delete(this.seenEnds.keys().next().value!);
    this.seenEnds.set(pk, end);
  }

  private rememberBatchSize(pk: string, count: number): void {
    this.recordsPerBatch.delete(pk);
    if (this.recordsPerBatch.size >= BATCH_SIZE_MEMORY) {
      this.recordsPerBatch.delete(this.recordsPerBatch.keys().next().value!);
    }
    this.recordsPerBatch.set(pk, Math.max(1, count));
  }

  private checkPartition(topic: Topic, partition: number): number {
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      throw new PartitionNotFoundError(topic.name, partition, topic.partitions);
    }
    return partition;
  }

  /**
   * Resolves a start position to an offset, checking it against the partition's bounds. Timestamps are not
   * among them: they go through `offsetForTimestamp`.
   */
  private resolveStart(start: Exclude<StartPosition, { kind: 'timestamp' }>, bounds: PartitionBounds): number {
    switch (start.kind) {
      case 'earliest':
        return bounds.startOffset;
      case 'latest':
        return bounds.endOffset;
      case 'offset':
        if (start.offset < bounds.startOffset || start.offset > bounds.endOffset) {
          throw new OffsetOutOfRangeError(start.offset, bounds.startOffset, bounds.endOffset);
        }
        return start.offset;
    }
  }

  private async readForward(topic: Topic, partition: number, pk: string, from: number, options: ReadOptions): Promise<ReadResult> {
    const out: StoredRecord[] = [];
    let bytes = 0;
    let next = from;
    const maxBytes = responseBudget(options.maxBytes);
    // Once a record did not fit, the read is over: a later batch must not be taken past the one cut short.
    let stopped = false;
    const full = () => stopped || out.length >= options.limit || (out.length > 0 && bytes >= maxBytes);
    const take = (records: StoredRecord[]): void => {
      for (const r of records) {
        if (r.offset < next) continue;
        if (r.offset !== next) throw new Error(`log gap: expected offset ${next}, found ${r.offset}`);
        const size = wireSize(r, options.encoding);
        if (out.length >= options.limit || (out.length > 0 && bytes + size > maxBytes)) {
          stopped = true;
          return;
        }
        out.push(r);
        bytes += size;
        next = r.offset + 1;
      }
    };

    let [meta, page] = await Promise.all([
      this.store.readMeta(pk),
      this.store.queryBatches(pk, { forward: true, fromOffset: next, limit: this.pageItems(pk, options.limit) }),
    ]);
    // Offsets below `tieredOffset` are in S3 segments, which readers prefer once the hot copy at `next` is gone.
    const cold = this.cold !== undefined && next < meta.tieredOffset && page.batches[0]?.baseOffset !== next;
    // More batches than this page, or a cold read: the read will not reach the end, and the response needs
    // `endOffset`. Read the newest item now, while the batches load, instead of after them. It is informational
    // (lag), so an eventually consistent read at half the price does; it can only lag, never below what is returned.
    const tail = page.more || cold ? this.store.readTail(pk, false) : undefined;
    tail?.catch(() => undefined); // awaited below, or not needed after all
    if (from < meta.startOffset) {
      const bounds = await this.bounds(topic, partition);
      if (from < bounds.startOffset) throw new OffsetOutOfRangeError(from, bounds.startOffset, bounds.endOffset);
      meta = { ...meta, startOffset: bounds.startOffset };
    }
    const atEnd = page.batches.length === 0 && !page.more;
    if (atEnd && next === this.seenEnds.get(pk) && next >= meta.endFloor.endOffset) {
      // A known batch end with no batch after it, and nothing tiered beyond it: the end of the log.
      return { records: [], nextOffset: next, startOffset: meta.startOffset, endOffset: next };
    }
    if (cold) {
      // Straight to the segment (index lookup + one ranged GET): a hot copy of a batch that began before `next`
      // would only hold the same bytes.
      const until = page.batches[0]?.baseOffset ?? Number.MAX_SAFE_INTEGER;
      for (const batch of await this.cold!.readForward(topic.topicId, partition, next, until, options.maxBytes)) {
        if (full()) break;
        take(decodeBatch(batch.data, batch.baseOffset));
      }
    } else if (page.batches[0]?.baseOffset !== next) {
      // `next` is inside a batch (a read that stopped mid-batch), at the end, or older than the hot tier.
      const containing = (await this.store.queryBatches(pk, { forward: false, toOffset: next, limit: 1 })).batches[0];
      if (containing) this.noteEnd(pk, containing.baseOffset + containing.count);
      if (atEnd && containing && containing.baseOffset + containing.count <= next && meta.endFloor.endOffset <= containing.baseOffset + containing.count) {
        // No batch at or after `next`, so the batch before it is the newest: it tells the end offset.
        const end = containing.baseOffset + containing.count;
        if (next === end) return { records: [], nextOffset: next, startOffset: meta.startOffset, endOffset: end };
        const bounds = await this.bounds(topic, partition);
        throw new OffsetOutOfRangeError(from, bounds.startOffset, bounds.endOffset);
      }
      if (containing && containing.baseOffset + containing.count > next) {
        take(decodeBatch(await this.store.loadBatch(containing), containing.baseOffset));
      } else if (this.cold) {
        const until = page.batches[0]?.baseOffset ?? Number.MAX_SAFE_INTEGER;
        const cold = await this.cold.readForward(topic.topicId, partition, next, until, options.maxBytes);
        for (const batch of cold) {
          if (full()) break;
          take(decodeBatch(batch.data, batch.baseOffset));
        }
      }
    }
    for (;;) {
      const pageStart = next;
      let gap = false;
      const load = this.prefetcher(page.batches);
      for (const [i, batch] of page.batches.entries()) {
        this.rememberBatchSize(pk, batch.count);
        this.noteEnd(pk, batch.baseOffset + batch.count);
        if (full()) break;
        if (batch.baseOffset + batch.count <= next) continue;
        if (batch.baseOffset > next) {
          gap = true; // a hot gap: the offsets in between are only in the cold tier; the next read starts there
          break;
        }
        take(decodeBatch(await load(i), batch.baseOffset));
      }
      // A page that moved nothing held only expired (tiered) copies: querying from the same offset again
      // would return the same page forever, and those offsets are cold, so this read ends here too.
      if (gap || full() || !page.more || next === pageStart) break;
      page = await this.store.queryBatches(pk, { forward: true, fromOffset: next, limit: this.pageItems(pk, options.limit - out.length) });
    }
    const last = page.batches[page.batches.length - 1];
    // When the Query ran to the end of the partition, its last item tells the end offset for free.
    if (!page.more && last !== undefined && next <= last.baseOffset + last.count && out.length > 0) {
      return { records: out, nextOffset: next, startOffset: meta.startOffset, endOffset: last.baseOffset + last.count };
    }
    if (out.length > 0) {
      const newest = await (tail ?? this.store.readTail(pk, false));
      return { records: out, nextOffset: next, startOffset: meta.startOffset, endOffset: Math.max(newest.endOffset, meta.endFloor.endOffset, next) };
    }
    const bounds = await this.bounds(topic, partition);
    if (from < bounds.startOffset || from > bounds.endOffset) {
      throw new OffsetOutOfRangeError(from, bounds.startOffset, bounds.endOffset);
    }
    return { records: out, nextOffset: next, startOffset: bounds.startOffset, endOffset: Math.max(bounds.endOffset, next) };
  }

  private async readBackward(
    topic: Topic,
    partition: number,
    pk: string,
    before: number,
    bounds: PartitionBounds,
    options: ReadOptions,
  ): Promise<ReadResult> {
    const out: StoredRecord[] = [];
    let bytes = 0;
    let lowest = before;
    const maxBytes = responseBudget(options.maxBytes);
    // Once a record did not fit, the read is over: an older batch must not be taken past the one cut short.
    let stopped = false;
    const full = () => stopped || out.length >= options.limit || (out.length > 0 && bytes >= maxBytes);
    const take = (records: StoredRecord[]): void => {
      for (let i = records.length - 1; i >= 0; i--) {
        const r = records[i]!;
        if (r.offset >= lowest) continue;
        if (r.offset < bounds.startOffset) return;
        const size = wireSize(r, options.encoding);
        if (out.length >= options.limit || (out.length > 0 && bytes + size > maxBytes)) {
          stopped = true;
          return;
        }
        out.push(r);
        bytes += size;
        lowest = r.offset;
      }
    };
    while (!full() && lowest > bounds.startOffset) {
      const before = lowest;
      const page = await this.store.queryBatches(pk, { forward: false, toOffset: lowest - 1, limit: READ_PAGE_ITEMS });
      const first = page.batches[0];
      if (first && first.baseOffset + first.count >= lowest) {
        for (const batch of page.batches) {
          if (full() || batch.baseOffset + batch.count < lowest) break; // a hot gap: the rest is cold
          take(decodeBatch(await this.store.loadBatch(batch), batch.baseOffset));
        }
      } else if (this.cold) {
        const cold: EncodedBatch[] = await this.cold.readBackward(topic.topicId, partition, lowest, options.maxBytes);
        for (const batch of cold) {
          if (full()) break;
          take(decodeBatch(batch.data, batch.baseOffset));
        }
      }
      if (lowest === before) break; // nothing more is readable below
    }
    return { records: out, nextOffset: lowest, startOffset: bounds.startOffset, endOffset: bounds.endOffset };
  }
}

/** The bytes of records a read may return: what was asked, within what a Lambda response can carry. */
const responseBudget = (maxBytes: number): number => Math.min(maxBytes, MAX_RESPONSE_RECORD_BYTES);

/**
 * Refuses a record that no fetch response could carry (its key or headers escape to more than
 * {@link MAX_RECORD_WIRE_BYTES}), so that every accepted record stays readable in both encodings.
 * @throws PayloadTooLargeError
 */
function checkReadable(record: ProduceRecord, index: number): void {
  if (wireSizeBound(record) <= MAX_RECORD_WIRE_BYTES) return; // lengths alone decide: the common case
  const stored = { ...record, offset: 10 ** (MAX_DIGITS - 1), timestamp: record.timestamp ?? 10 ** (MAX_DIGITS - 1) };
  const size = Math.max(wireSize(stored, 'json'), wireSize(stored, 'base64'));
  if (size > MAX_RECORD_WIRE_BYTES) {
    throw new PayloadTooLargeError(
      `records[${index}] would take ${size} bytes in a fetch response (its key and headers are escaped there, ` +
        `a control character as 7 bytes); one record may take at most ${MAX_RECORD_WIRE_BYTES}`,
      { details: { limitBytes: MAX_RECORD_WIRE_BYTES, index } },
    );
  }
}
