import { randomUUID } from 'node:crypto';
import { MAX_RECORD_BYTES, MAX_RECORDS_PER_REQUEST } from '../contract/limits.js';
import { InvalidRequestError, isRetriable, PayloadTooLargeError } from '../errors.js';
import { partitionFor } from '../log/partitioner.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { backoffDelayMs } from './retry.js';
import type { ProduceRecord, ProduceResponse, RecordMetadata } from './types.js';

export interface ProducerOptions {
  /**
   * How long a batch waits for more records before it is sent (Kafka's `linger.ms`, KPL's `RecordMaxBufferedTime`;
   * default 100, or 0 with `latencyCritical`). Each request is billed, so a longer linger lowers a steady topic's
   * bill: README, "Producer batching: latency against dollars".
   */
  lingerMs?: number;
  /** No linger (`lingerMs` 0 unless given), for records a user waits on; a busy partition still batches. */
  latencyCritical?: boolean;
  /** A partition's batch is sent once it holds this many bytes (default 1 MiB). */
  maxBatchBytes?: number;
  /** …or this many records (default 10,000, the API's per-request limit). */
  maxBatchRecords?: number;
  /** Ready batches of several partitions share one request up to this size (default 5 MiB; the API takes 6 MB). */
  maxRequestBytes?: number;
  /** Bytes accepted but not yet acknowledged; `send()` waits beyond this (Kafka's `buffer.memory`; default 32 MiB). */
  maxBufferedBytes?: number;
  /** How long a retriable failure is retried, same `Idempotency-Key`, before the batch fails (default 120,000). */
  deliveryTimeoutMs?: number;
  /** How long a topic's partition count is trusted before it is read again (default 60,000). */
  metadataMaxAgeMs?: number;
}

/**
 * The two calls a {@link Producer} makes: what it needs of the API, not the whole client. `ShardlogClient`
 * has them; unit tests give an in-memory fake.
 */
export interface ProducerCalls {
  /** `GET /v1/topics/{topic}`: only `partitions` is read, to batch keyed records by partition. */
  describeTopic(topic: string): Promise<{ partitions: number }>;
  /** `POST /v1/topics/{topic}/records` with an `Idempotency-Key` that every retry of the request reuses. */
  produce(topic: string, records: ProduceRecord[], options: { idempotencyKey: string }): Promise<ProduceResponse>;
}

/** Chosen from the cost frontier of `npm run bench`, as KPL's (README, "Producer batching"). */
const DEFAULT_LINGER_MS = 100;
const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;
/** Under the 6 MB request body of docs/api.md, leaving room for the JSON around the records. */
const DEFAULT_MAX_REQUEST_BYTES = 5 * 1024 * 1024;
const DEFAULT_MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
const DEFAULT_DELIVERY_TIMEOUT_MS = 120_000;
const DEFAULT_METADATA_MAX_AGE_MS = 60_000;

/** The batch queue of one partition of one topic (or of the topic's keyless records). */
interface Lane {
  readonly key: string;
  readonly topic: string;
  readonly batches: Batch[];
  /** At most one request per lane at a time: what keeps a partition's records in order across retries. */
  inFlight: boolean;
}

interface Batch {
  readonly entries: Pending[];
  bytes: number;
  /** Its linger is over (or a flush or a full buffer asked): it leaves as soon as its lane is idle. */
  ready: boolean;
  /**
   * It takes no more records: it reached `maxBatchBytes` or `maxBatchRecords`, or the next record did not fit.
   * A ready batch that is not full keeps taking records while its lane has a request in flight (as in Kafka).
   */
  full: boolean;
  /** Cancels the linger timer. */
  cancelLinger?: () => void;
}

interface Pending {
  readonly record: ProduceRecord;
  readonly bytes: number;
  resolve(metadata: RecordMetadata): void;
  reject(error: unknown): void;
}

/**
 * A batching producer, after Kafka's: records are grouped per partition, a batch leaves when it is full or
 * has lingered `lingerMs`, and ready batches of several partitions of a topic share one all-or-nothing
 * request. A batch whose partition still has a request in flight keeps taking records until that request
 * returns (or the batch is full), so under load the round trip batches as the linger does.
 *
 * - **Placement.** A record with `partition` goes there. A keyed record goes where the server will put it,
 *   `partitionFor(utf8(key), partitions)` (murmur2, Kafka's DefaultPartitioner), computed here only to batch
 *   by partition; the partition is left to the server. Keyless records share one lane and the server picks
 *   their partition (one per request).
 * - **Order.** Each lane has at most one request in flight, so records of a partition are appended in
 *   `send()` order, retries included; concurrent `send()` calls enqueue in call order.
 * - **No duplicates.** Every request carries a fresh `Idempotency-Key` that all its retries reuse.
 * - **Backpressure.** `send()` waits while `maxBufferedBytes` are unacknowledged instead of buffering more.
 *
 * A failed batch rejects the `send()` calls of its records; records of the same call in other batches may
 * have been appended (as in Kafka). If a topic gains partitions, keys move, as in Kafka.
 *
 * @example
 * const producer = client.producer(); // batches for up to 100 ms
 * const interactive = client.producer({ latencyCritical: true }); // sends at once
 * const acks = await producer.send('orders', [{ key: 'customer-1', value: { total: 42 } }]);
 * await producer.close();
 */
export class Producer {
  private readonly lingerMs: number;
  private readonly maxBatchBytes: number;
  private readonly maxBatchRecords: number;
  private readonly maxRequestBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly deliveryTimeoutMs: number;
  private readonly metadataMaxAgeMs: number;

  private readonly lanes = new Map<string, Lane>();
  private readonly metadata = new Map<string, { partitions: Promise<number>; fetchedAt: number }>();
  private bufferedBytes = 0;
  private outstanding = 0;
  private capacityWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private enqueueChain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly calls: ProducerCalls,
    options: ProducerOptions = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.lingerMs = options.lingerMs ?? (options.latencyCritical ? 0 : DEFAULT_LINGER_MS);
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.maxBatchRecords = Math.min(options.maxBatchRecords ?? MAX_RECORDS_PER_REQUEST, MAX_RECORDS_PER_REQUEST);
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.maxBufferedBytes = Math.max(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES, MAX_RECORD_BYTES);
    this.deliveryTimeoutMs = options.deliveryTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS;
  }

  /** Bytes accepted and not yet acknowledged. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * Queues `records` for `topic` and resolves with where each landed, in order, once all are acknowledged.
   * Waits (backpressure) while the buffer is full.
   * @throws PayloadTooLargeError for a record over 1 MB (nothing of the call is queued); TopicNotFoundError;
   *   the error of a batch that failed for good.
   */
  async send(topic: string, records: ProduceRecord[]): Promise<RecordMetadata[]> {
    if (this.closed) throw new InvalidRequestError('the producer is closed');
    const sized = records.map((record, index) => {
      if (record === null || typeof record !== 'object' || record.value === undefined) {
        throw new InvalidRequestError(`record ${index} has no value`);
      }
      const bytes = Buffer.byteLength(JSON.stringify(record));
      if (bytes > MAX_RECORD_BYTES) {
        throw new PayloadTooLargeError(`record ${index} is ${bytes} bytes; one record may be up to ${MAX_RECORD_BYTES}`);
      }
      return { record, bytes };
    });
    const acks: Promise<RecordMetadata>[] = [];
    // One enqueuer at a time, so that two concurrent send() calls enter the lanes in call order.
    const turn = this.enqueueChain.then(() => this.enqueue(topic, sized, acks));
    this.enqueueChain = turn.catch(() => undefined);
    await turn;
    return Promise.all(acks);
  }

  /** Sends every queued record now and resolves when all are acknowledged or failed. */
  async flush(): Promise<void> {
    await this.enqueueChain;
    for (const lane of this.lanes.values()) for (const batch of lane.batches) this.markReady(batch);
    this.pump();
    if (this.outstanding > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Flushes, then refuses further `send()` calls. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async enqueue(topic: string, sized: Array<{ record: ProduceRecord; bytes: number }>, acks: Promise<RecordMetadata>[]) {
    const needsCount = sized.some(({ record }) => record.partition === undefined && record.key != null);
    const partitions = needsCount ? await this.partitionCount(topic) : 0;
    for (const { record, bytes } of sized) {
      while (this.bufferedBytes > 0 && this.bufferedBytes + bytes > this.maxBufferedBytes) {
        // Full: nothing is gained by lingering any more.
        for (const lane of this.lanes.values()) for (const batch of lane.batches) this.markReady(batch);
        this.pump();
        await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
      }
      const ack = new Promise<RecordMetadata>((resolve, reject) => {
        this.append(topic, laneOf(record, partitions), { record, bytes, resolve, reject });
      });
      // The caller sees the rejection through Promise.all; this keeps an early failure from going unhandled.
      ack.catch(() => undefined);
      acks.push(ack);
    }
  }

  private append(topic: string, laneKey: string, pending: Pending): void {
    const key = `${topic}\u0000${laneKey}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key, topic, batches: [], inFlight: false };
      this.lanes.set(key, lane);
    }
    this.bufferedBytes += pending.bytes;
    this.outstanding += 1;
    let batch = lane.batches.at(-1);
    // A batch that fills up here leaves now (as in Kafka), not when the next batch's linger ends.
    let filled = false;
    if (!batch || batch.full || batch.bytes + pending.bytes > this.maxBatchBytes) {
      if (batch && !batch.full) {
        this.seal(batch);
        filled = true;
      }
      const fresh: Batch = { entries: [], bytes: 0, ready: false, full: false };
      fresh.cancelLinger = this.clock.schedule(() => {
        this.markReady(fresh);
        this.pump();
      }, this.lingerMs);
      lane.batches.push(fresh);
      batch = fresh;
    }
    batch.entries.push(pending);
    batch.bytes += pending.bytes;
    if (batch.bytes >= this.maxBatchBytes || batch.entries.length >= this.maxBatchRecords) {
      this.seal(batch);
      filled = true;
    }
    if (filled) this.pump();
  }

  private markReady(batch: Batch): void {
    if (batch.ready) return;
    batch.ready = true;
    batch.cancelLinger?.();
  }

  private seal(batch: Batch): void {
    batch.full = true;
    this.markReady(batch);
  }

  /**
   * Starts requests for every topic that has a ready head batch on an idle lane. Like Kafka's
   * `RecordAccumulator.drain`, such a request also takes the not-yet-full head batches of the topic's other idle
   * lanes: they ride along for free instead of costing a request of their own a moment later.
   */
  private pump(): void {
    const idle = new Map<string, Lane[]>();
    const ready = new Set<string>();
    for (const lane of this.lanes.values()) {
      const head = lane.batches[0];
      if (lane.inFlight || !head || head.entries.length === 0) continue;
      const lanes = idle.get(lane.topic) ?? [];
      lanes.push(lane);
      idle.set(lane.topic, lanes);
      if (head.ready) ready.add(lane.topic);
    }
    for (const topic of ready) {
      let request: Array<{ lane: Lane; batch: Batch }> = [];
      let records = 0;
      let bytes = 0;
      for (const lane of idle.get(topic)!) {
        const batch = lane.batches[0]!;
        this.markReady(batch);
        if (request.length > 0 && (records + batch.entries.length > MAX_RECORDS_PER_REQUEST || bytes + batch.bytes > this.maxRequestBytes)) {
          this.dispatch(topic, request);
          request = [];
          records = 0;
          bytes = 0;
        }
        request.push({ lane, batch });
        records += batch.entries.length;
        bytes += batch.bytes;
      }
      if (request.length > 0) this.dispatch(topic, request);
    }
  }

  private dispatch(topic: string, parts: Array<{ lane: Lane; batch: Batch }>): void {
    for (const { lane } of parts) {
      lane.inFlight = true;
      lane.batches.shift();
    }
    const entries = parts.flatMap(({ batch }) => batch.entries);
    void this.deliver(topic, entries).then(
      (metadata) => entries.forEach((entry, i) => entry.resolve(metadata[i]!)),
      (error: unknown) => entries.forEach((entry) => entry.reject(error)),
    ).finally(() => {
      for (const { lane } of parts) {
        lane.inFlight = false;
        if (lane.batches.length === 0 && this.lanes.get(lane.key) === lane) this.lanes.delete(lane.key);
      }
      this.release(entries);
      this.pump();
    });
  }

  /** One request, retried with the same Idempotency-Key until it succeeds, fails for good, or times out. */
  private async deliver(topic: string, entries: Pending[]): Promise<RecordMetadata[]> {
    const idempotencyKey = randomUUID();
    const records = entries.map((entry) => entry.record);
    const deadline = this.clock.now() + this.deliveryTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.calls.produce(topic, records, { idempotencyKey });
        if (response.records.length !== records.length) {
          throw new InvalidRequestError(`the server acknowledged ${response.records.length} of ${records.length} records`);
        }
        return response.records;
      } catch (error) {
        if (!isRetriable(error) || this.clock.now() >= deadline) throw error;
        await sleep(Math.min(backoffDelayMs(attempt), Math.max(0, deadline - this.clock.now())), undefined, this.clock);
      }
    }
  }

  private release(entries: Pending[]): void {
    for (const entry of entries) this.bufferedBytes -= entry.bytes;
    this.outstanding -= entries.length;
    const waiters = this.capacityWaiters;
    this.capacityWaiters = [];
    for (const wake of waiters) wake();
    if (this.outstanding === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of idle) wake();
    }
  }

  private partitionCount(topic: string): Promise<number> {
    const cached = this.metadata.get(topic);
    if (cached && this.clock.now() - cached.fetchedAt < this.metadataMaxAgeMs) return cached.partitions;
    const partitions = this.calls.describeTopic(topic).then((d) => d.partitions);
    this.metadata.set(topic, { partitions, fetchedAt: this.clock.now() });
    // A failed lookup (e.g. the topic does not exist yet) must not be cached.
    partitions.catch(() => this.metadata.delete(topic));
    return partitions;
  }
}

/** The lane of a record: its explicit partition, its key's partition, or the shared keyless lane. */
function laneOf(record: ProduceRecord, partitions: number): string {
  if (record.partition !== undefined) return `p${record.partition}`;
  if (record.key != null) return `p${partitionFor(Buffer.from(record.key, 'utf8'), partitions)}`;
  return 'keyless';
}
