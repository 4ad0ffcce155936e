import { InvalidRequestError, PartitionNotFoundError, PayloadTooLargeError } from '../errors.js';
import { NO_METRICS, recordBytes, type MetricsSink } from '../observability/metrics-sink.js';
import { partitionPk } from '../storage/log-table.js';
import { appendExpiry, type Topic } from '../topics/topic.js';
import type { LogRecord } from './batch-format.js';
import type { ColdTier } from './cold-tier.js';
import type { BatchesProduceInput, PartitionBounds, ProduceInput, ProduceOutput, ProduceRecord, ReadOptions, ReadResult, StartPosition } from './log-types.js';
import { loadUploads } from './batch-produce.js';
import { appendCount, MAX_TRANSACTION_ITEMS, type LogStore, type PartitionAppend } from './log-store.js';
import { PartitionReader, type PartitionRef } from './partition-reader.js';
import { partitionFor, stickyPartition } from './partitioner.js';
import { ReadHints } from './read-hints.js';
import { checkInRange, inRange } from './read-plan.js';
import { batchesDigest, requestDigest } from './request-digest.js';
import type { UploadStore, UploadTicket } from './upload-store.js';

export interface LogServiceOptions {
  readonly store: LogStore;
  readonly cold?: ColdTier;
  /** Batches clients uploaded to S3 (docs/api.md, "Binary record batches"); without it such appends are refused. */
  readonly uploads?: UploadStore;
  /** Topics with retention up to this many hours get a TTL with each batch (see `isHotRetention`). */
  readonly hotRetentionLimitHours?: number;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Counts what produce appended (`RecordsProduced`, `BytesProduced`); default: nowhere. */
  readonly metrics?: MetricsSink;
}

/** Long-poll probe interval: starts short for latency, backs off to bound the cost of an idle wait. */
const POLL_MIN_MS = 50;
const POLL_MAX_MS = 500;

/** What {@link LogService.produce} and `produceBatches` hand their common append. */
interface AppendRequest {
  /** The request's digest, for its idempotency record (computed only when it has a key). */
  readonly digest: () => string;
  /** The response, from the base offsets the append assigned. */
  readonly respond: (bases: ReadonlyMap<number, number>) => ProduceOutput;
  /** Records and their bytes (`recordBytes`), for `RecordsProduced` and `BytesProduced`. */
  readonly produced: () => { readonly records: number; readonly bytes: number };
}

/**
 * The log: produce and read over the hot tier ({@link LogStore}) and, where offsets were tiered, the cold tier
 * (S3). It works on topics the caller resolved (`TopicStore.get`); inputs are trusted (validated at the HTTP
 * boundary) except for facts only storage knows: whether a partition exists and whether an offset is in range.
 */
export class LogService {
  private readonly store: LogStore;
  private readonly uploads: UploadStore | undefined;
  private readonly reader: PartitionReader;
  private readonly hints = new ReadHints();
  private readonly hotRetentionLimitHours: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly metrics: MetricsSink;

  constructor(options: LogServiceOptions) {
    this.store = options.store;
    this.uploads = options.uploads;
    this.reader = new PartitionReader({ store: options.store, hints: this.hints, ...(options.cold ? { cold: options.cold } : {}) });
    this.hotRetentionLimitHours = options.hotRetentionLimitHours ?? 0;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.metrics = options.metrics ?? NO_METRICS;
  }

  /**
   * Appends the records of one request, all or nothing; records of one partition are contiguous and in
   * request order.
   * @throws PartitionNotFoundError, OffsetMismatchError, PayloadTooLargeError (too many partitions), and what
   *   {@link LogStore.append} throws.
   */
  async produce(topic: Topic, input: ProduceInput): Promise<ProduceOutput> {
    const now = this.now();
    const { byPartition, placement, rank } = placeRecords(topic, input.records, now, this.random);
    const respond = (bases: ReadonlyMap<number, number>): ProduceOutput => ({
      records: input.records.map((record, i) => ({
        partition: placement[i]!,
        offset: bases.get(placement[i]!)! + rank[i]!,
        timestamp: record.timestamp ?? now,
      })),
    });
    const appends = [...byPartition].map(([partition, records]) => ({ partition, records }));
    const produced = () => ({ records: input.records.length, bytes: input.records.reduce((sum, r) => sum + recordBytes(r), 0) });
    return this.appendAll(topic, appends, input, { digest: () => requestDigest(input), respond, produced }, now);
  }

  /**
   * Appends record batches sent as stored (docs/api.md, "Binary record batches"), all or nothing, one batch per
   * partition: uploads are read and checked first (lib/log/batch-validation.ts), then every batch is stored as
   * it came, only its base offset patched. The response lists the records batch by batch, in order.
   * @throws InvalidRequestError (a missing, wrong-sized or invalid upload; a partition named twice), and what
   *   {@link produce} throws.
   */
  async produceBatches(topic: Topic, input: BatchesProduceInput): Promise<ProduceOutput> {
    if (input.partitionCount !== undefined && input.partitionCount !== topic.partitions) {
      throw new InvalidRequestError(
        `the batches were placed for ${input.partitionCount} partitions, but topic '${topic.name}' has ${topic.partitions}; place them again`,
        { details: { field: 'partitionCount', partitions: topic.partitions } },
      );
    }
    const now = this.now();
    const batches = await loadUploads(topic, input.batches, this.uploads);
    const appends = batches.map(({ partition, batch }) => ({ partition: checkPartition(topic, partition), batch }));
    const respond = (bases: ReadonlyMap<number, number>): ProduceOutput => ({
      records: batches.flatMap(({ partition, batch }) => batch.timestamps.map((timestamp, i) => ({ partition, offset: bases.get(partition)! + i, timestamp }))),
    });
    // The digest covers the batches' bytes, however they came (inline or uploaded): a retry that uploads them
    // again under a new id is the same request.
    const digestOf = () => batchesDigest({ batches, ...(input.expectedOffsets ? { expectedOffsets: input.expectedOffsets } : {}) });
    const produced = () => ({
      records: batches.reduce((sum, { batch }) => sum + batch.count, 0),
      bytes: batches.reduce((sum, { batch }) => sum + batch.recordBytes, 0),
    });
    return this.appendAll(topic, appends, input, { digest: digestOf, respond, produced }, now);
  }

  /**
   * A presigned PUT for one new upload of `length` bytes to `topic` (docs/api.md, "Binary record batches"): the
   * client uploads a batch there, then appends it by its `upload` id.
   * @throws InvalidRequestError when uploads are not configured.
   */
  async presignUpload(topic: Topic, length: number): Promise<UploadTicket> {
    if (!this.uploads) throw new InvalidRequestError('uploads to S3 are not configured here; send batches in the request');
    return this.uploads.presignPut(topic.topicId, length);
  }

  /**
   * The append of a produce, whatever its format: the partition limit of one transaction, then one
   * {@link LogStore.append} (idempotent when the request has a key), and the ends this process now knows.
   */
  private async appendAll(
    topic: Topic,
    appends: readonly PartitionAppend[],
    input: Pick<ProduceInput, 'expectedOffsets' | 'idempotencyKey'>,
    request: AppendRequest,
    now: number,
  ): Promise<ProduceOutput> {
    const { digest, respond, produced } = request;
    for (const p of input.expectedOffsets?.keys() ?? []) checkPartition(topic, p);
    // One limit, one status: the partitions a request touches (written, or only named in expectedOffsets) and
    // its idempotency record are the items of one DynamoDB transaction, at most MAX_TRANSACTION_ITEMS (413).
    const touched = new Set([...appends.map((a) => a.partition), ...(input.expectedOffsets?.keys() ?? [])]);
    const maxPartitions = MAX_TRANSACTION_ITEMS - (input.idempotencyKey ? 1 : 0);
    if (touched.size > maxPartitions) {
      throw new PayloadTooLargeError(
        `one request may touch at most ${maxPartitions} partitions${input.idempotencyKey ? ' with an Idempotency-Key' : ''}, ` +
          `counting those named in expectedOffsets (this one touches ${touched.size}); split it`,
        { details: { limitPartitions: maxPartitions } },
      );
    }
    const expiresAtSec = appendExpiry(topic, this.hotRetentionLimitHours, now);
    const result = await this.store.append(topic.topicId, appends, {
      ...(expiresAtSec !== undefined ? { expiresAtSec } : {}),
      ...(input.expectedOffsets ? { expectedOffsets: input.expectedOffsets } : {}),
      ...(input.idempotencyKey ? { idempotency: { key: input.idempotencyKey, response: respond, digest: digest() } } : {}),
    });
    if (result.kind === 'replayed') return result.response as ProduceOutput;
    for (const append of appends) {
      this.hints.noteEnd(partitionPk(topic.topicId, append.partition), result.baseOffsets.get(append.partition)! + appendCount(append));
    }
    // Counted once appended: a replay above appended nothing, a failure threw.
    const tally = produced();
    this.metrics.add('RecordsProduced', tally.records, { Topic: topic.name });
    this.metrics.add('BytesProduced', tally.bytes, { Topic: topic.name });
    return respond(result.baseOffsets);
  }

  /**
   * Reads one partition, forward (long-polling up to `waitMs` at the end) or backward; as records, or as the
   * stored batches that hold them (`options.batches`, forward only).
   * @throws PartitionNotFoundError, OffsetOutOfRangeError (with both bounds), InvalidRequestError (batches backward)
   */
  async read(topic: Topic, partition: number, options: ReadOptions): Promise<ReadResult> {
    const ref = partitionRef(topic, partition);
    if (options.direction === 'backward') {
      if (options.batches) throw new InvalidRequestError('stored batches are read forward only; read backward as JSON');
      const { bounds } = await this.reader.bounds(ref);
      // Backward from a timestamp: the records before the first one at or after it.
      const before =
        options.start.kind === 'timestamp' ? await this.reader.offsetForTimestamp(ref, options.start.timestamp) : resolveStart(options.start, bounds);
      return this.reader.backward(ref, before, bounds, options);
    }
    // An explicit offset is checked against the bounds only when the hot tier does not hold it, so that the
    // common fetch (a consumer at its next offset) is a single Query.
    const start =
      options.start.kind === 'offset'
        ? options.start.offset
        : options.start.kind === 'timestamp'
          ? await this.reader.offsetForTimestamp(ref, options.start.timestamp)
          : resolveStart(options.start, (await this.reader.bounds(ref)).bounds);
    const deadline = this.now() + options.waitMs;
    let result = await this.reader.forward(ref, start, options);
    // Something was read (the next offset moved), or there is more to read: no reason to wait.
    const done = () => result.nextOffset > start || result.nextOffset < result.endOffset;
    if (done()) return result;
    const pk = partitionPk(topic.topicId, partition);
    options.onWait?.();
    await this.poll(deadline, async () => {
      // A probe at the end offset reads nothing (and costs the minimum) until a batch lands there.
      const probe = await this.store.queryBatches(pk, { forward: true, fromOffset: start, limit: 1 });
      if (probe.batches.length === 0) return false;
      result = await this.reader.forward(ref, start, options);
      return done();
    });
    return result;
  }

  /** The readable range of a partition: [startOffset, endOffset). */
  async bounds(topic: Topic, partition: number): Promise<PartitionBounds> {
    return (await this.reader.bounds(partitionRef(topic, partition))).bounds;
  }

  /** Kafka's `offsetsForTimes`: the first offset whose record timestamp is ≥ `timestamp`, or the end offset when there is none. */
  async offsetForTimestamp(topic: Topic, partition: number, timestamp: number): Promise<number> {
    return this.reader.offsetForTimestamp(partitionRef(topic, partition), timestamp);
  }

  /**
   * Waits until at least one of `positions` has a record at or after its offset, or `waitMs` passes. Used by
   * group fetch to long-poll several partitions at once.
   */
  async waitForAny(positions: ReadonlyArray<{ topic: Topic; partition: number; offset: number }>, waitMs: number): Promise<boolean> {
    return this.poll(this.now() + waitMs, async () => {
      const probes = await Promise.all(
        positions.map((p) => this.store.queryBatches(partitionPk(p.topic.topicId, p.partition), { forward: true, fromOffset: p.offset, limit: 1 })),
      );
      return probes.some((probe) => probe.batches.length > 0);
    });
  }

  /**
   * Checks that `offset` lies within the partition's readable range, reading storage only when what this
   * process knows cannot decide (a commit of an offset the consumer just fetched here costs nothing).
   * @throws PartitionNotFoundError, OffsetOutOfRangeError with both bounds.
   */
  async checkOffset(topic: Topic, partition: number, offset: number): Promise<void> {
    const ref = partitionRef(topic, partition);
    const pk = partitionPk(ref.topicId, partition);
    const meta = await this.store.readMeta(pk);
    const known = { startOffset: meta.startOffset, endOffset: Math.max(meta.endFloor.endOffset, this.hints.knownEnd(pk) ?? 0) };
    if (inRange(offset, known)) return;
    checkInRange(offset, (await this.reader.bounds(ref)).bounds);
  }

  /** Runs `probe` after growing sleeps until it says done or `deadline` passes; true when it said done. */
  private async poll(deadline: number, probe: () => Promise<boolean>): Promise<boolean> {
    let delay = POLL_MIN_MS;
    while (this.now() < deadline) {
      await this.sleep(Math.min(delay, Math.max(0, deadline - this.now())));
      delay = Math.min(POLL_MAX_MS, delay * 1.5);
      if (await probe()) return true;
    }
    return false;
  }
}

/** @throws PartitionNotFoundError when the topic has no such partition. */
function checkPartition(topic: Topic, partition: number): number {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new PartitionNotFoundError(topic.name, partition, topic.partitions);
  }
  return partition;
}

function partitionRef(topic: Topic, partition: number): PartitionRef {
  return { topicId: topic.topicId, partition: checkPartition(topic, partition) };
}

/**
 * Resolves a start position to an offset, checking it against the partition's bounds. Timestamps are not
 * among them: they go through `offsetForTimestamp`.
 */
function resolveStart(start: Exclude<StartPosition, { kind: 'timestamp' }>, bounds: PartitionBounds): number {
  switch (start.kind) {
    case 'earliest':
      return bounds.startOffset;
    case 'latest':
      return bounds.endOffset;
    case 'offset':
      checkInRange(start.offset, bounds);
      return start.offset;
  }
}

/**
 * Where each record of a request goes: an explicit partition, its key's partition (murmur2), or, for keyless
 * records, one partition for the whole request (KIP-480's sticky partitioner). Returns the records by
 * partition (in request order, timestamps filled in) and, per record, its partition and rank there.
 * @throws PartitionNotFoundError
 */
function placeRecords(topic: Topic, records: readonly ProduceRecord[], now: number, random: () => number) {
  let sticky: number | undefined;
  const placement: number[] = new Array(records.length);
  const rank: number[] = new Array(records.length);
  const byPartition = new Map<number, LogRecord[]>();
  records.forEach((record, i) => {
    let p: number;
    if (record.partition !== undefined) p = checkPartition(topic, record.partition);
    else if (record.key !== null) p = partitionFor(record.key, topic.partitions);
    else p = sticky ??= stickyPartition(topic.partitions, random);
    placement[i] = p;
    const list = byPartition.get(p) ?? [];
    rank[i] = list.length;
    const { key, value, valueIsJson, headers } = record;
    list.push({ key, value, valueIsJson, headers, timestamp: record.timestamp ?? now });
    byPartition.set(p, list);
  });
  return { byPartition, placement, rank };
}
