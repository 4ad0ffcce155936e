import { OffsetOutOfRangeError, PartitionNotFoundError, TopicExistsError, TopicNotFoundError } from '../../../../lib/errors.js';
import { sleep } from '../../../../lib/client/clock.js';
import type { ProducerCalls } from '../../../../lib/client/producer.js';
import { partitionFor } from '../../../../lib/log/partitioner.js';
import type { ConsumedRecord, FetchOptions, FetchResponse, ProduceRecord, ProduceResponse, TopicDescription } from '../../../../lib/client/types.js';
import { FakeClock } from './fake-clock.js';

export interface ProduceCall {
  topic: string;
  records: ProduceRecord[];
  idempotencyKey: string | undefined;
}

/**
 * The topics and records of shardlog in memory, behind the calls the {@link Producer} makes
 * ({@link ProducerCalls}) and a partition fetch: keys placed by murmur2 as the server places them, one
 * idempotency record per key, long polls on the injected clock. Errors are the server's own classes.
 */
export class InMemoryLog implements ProducerCalls {
  readonly topics = new Map<string, { partitions: ConsumedRecord[][]; retentionHours: number; createdAt: number }>();
  /** Every produce call, as it was made. */
  readonly produced: ProduceCall[] = [];
  /** Every partition fetch, as it was asked. */
  readonly fetched: Array<{ topic: string; partition: number; options: FetchOptions }> = [];
  /** Runs before a produce is applied: may hold it (a gate) or throw (it fails before appending). */
  beforeProduce: ((call: ProduceCall) => Promise<void> | void) | undefined;
  /** Runs after a produce was applied: may throw (the append happened, but its response is lost). */
  afterProduce: ((call: ProduceCall) => void) | undefined;
  private readonly idempotency = new Map<string, ProduceResponse>();

  constructor(readonly clock: FakeClock = new FakeClock()) {}

  createTopic(name: string, partitions = 1, retentionHours = 168): void {
    if (this.topics.has(name)) throw new TopicExistsError(name);
    this.topics.set(name, { partitions: Array.from({ length: partitions }, () => []), retentionHours, createdAt: this.clock.now() });
  }

  /** The records of a partition, as stored. */
  partition(topic: string, partition: number): ConsumedRecord[] {
    const log = this.topic(topic).partitions[partition];
    if (!log) throw new PartitionNotFoundError(topic, partition, this.topic(topic).partitions.length);
    return log;
  }

  /** Appends values to a partition directly, as another producer would. */
  append(topic: string, partition: number, ...values: unknown[]): void {
    const log = this.partition(topic, partition);
    for (const value of values) log.push({ offset: log.length, timestamp: this.clock.now(), key: null, value: value as never, headers: {} });
  }

  async describeTopic(topic: string): Promise<TopicDescription> {
    const t = this.topic(topic);
    return {
      name: topic,
      partitions: t.partitions.length,
      retentionHours: t.retentionHours,
      createdAt: t.createdAt,
      partitionStats: t.partitions.map((log, partition) => ({ partition, startOffset: 0, endOffset: log.length })),
    };
  }

  async produce(topic: string, records: ProduceRecord[], options: { idempotencyKey?: string } = {}): Promise<ProduceResponse> {
    const call = { topic, records, idempotencyKey: options.idempotencyKey };
    this.produced.push(call);
    await this.beforeProduce?.(call);
    const cacheKey = `${topic}\u0000${options.idempotencyKey}`;
    let response = options.idempotencyKey !== undefined ? this.idempotency.get(cacheKey) : undefined;
    if (!response) {
      response = this.appendRecords(topic, records);
      if (options.idempotencyKey !== undefined) this.idempotency.set(cacheKey, response);
    }
    this.afterProduce?.(call);
    return response;
  }

  async fetch(topic: string, partition: number, options: FetchOptions = {}, signal?: AbortSignal): Promise<FetchResponse> {
    this.fetched.push({ topic, partition, options });
    const log = this.partition(topic, partition);
    const offset = options.offset ?? (options.from === 'latest' ? log.length : 0);
    if (offset < 0 || offset > log.length) throw new OffsetOutOfRangeError(offset, 0, log.length);
    if (offset === log.length && (options.waitMs ?? 0) > 0) await sleep(options.waitMs!, signal, this.clock);
    const records = log.slice(offset, offset + (options.limit ?? 1000));
    return { records, nextOffset: offset + records.length, startOffset: 0, endOffset: log.length };
  }

  topic(name: string) {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicNotFoundError(name);
    return topic;
  }

  /** All or nothing, as the server appends a request. */
  private appendRecords(topic: string, records: ProduceRecord[]): ProduceResponse {
    const { partitions } = this.topic(topic);
    // Keyless records of one request share a partition, as the server's sticky partitioner does.
    const keyless = this.produced.length % partitions.length;
    const placed = records.map((record) => {
      const partition = record.partition ?? (record.key != null ? partitionFor(Buffer.from(record.key, 'utf8'), partitions.length) : keyless);
      return { record, log: this.partition(topic, partition), partition };
    });
    return {
      records: placed.map(({ record, log, partition }) => {
        const timestamp = record.timestamp ?? this.clock.now();
        log.push({ offset: log.length, timestamp, key: record.key ?? null, value: record.value, headers: record.headers ?? {} });
        return { partition, offset: log.length - 1, timestamp };
      }),
    };
  }
}
