import type { Clock } from '../lib/client/clock.js';
import { Producer, type ProducerCalls, type ProducerOptions } from '../lib/client/producer.js';
import type { ProduceRecord, ProduceResponse } from '../lib/client/types.js';
import { partitionFor } from '../lib/log/partitioner.js';
import { percentile } from './measure.js';
import { KEY_SPACE, prng } from './workload.js';

/**
 * The SDK producer's batching, in virtual time: the real {@link Producer} (lib/client/producer.ts) sends one
 * record per `send()` at Poisson arrivals to a transport that answers each request after a modeled round trip,
 * on a clock that jumps from one timer to the next. An hour of producing takes milliseconds, so the frontier
 * can ask what requests the SDK's defaults send at 0.01 records/s as well as at 100. Pure: no I/O.
 */

/** One producer process sending keyed records. */
export interface BatchingScenario {
  /** This producer's records per second (one record per `send()`, exponential gaps). */
  readonly recordsPerSecond: number;
  readonly partitions: number;
  readonly options: ProducerOptions;
  readonly recordBytes: number;
  /** Records to send; the statistics are over all of them. */
  readonly records: number;
  /** The round trip of a request (ms), from its records per partition. */
  readonly latencyMs: (items: readonly number[]) => number;
  readonly seed: number;
}

/** A request shape: records per partition in one request (largest first), and how many requests had it. */
export interface RequestShape {
  readonly items: readonly number[];
  readonly count: number;
}

/** The requests some producers sent, and how long their records took to be acknowledged. */
export interface RequestCounts {
  readonly records: number;
  readonly requests: number;
  readonly recordsPerRequest: number;
  readonly shapes: readonly RequestShape[];
  /** From `send()` until the acknowledgement. */
  readonly ackMs: { readonly p50: number; readonly p99: number };
}

export interface BatchingResult extends RequestCounts {
  readonly partitionsPerRequest: number;
  /** From `send()` until the record's request leaves: what batching adds. */
  readonly waitMs: { readonly p50: number; readonly p99: number };
}

/** Counts requests by shape: records per partition, largest first. */
export function shapeCounter() {
  const shapes = new Map<string, { items: number[]; count: number }>();
  return {
    add(partitionOfEach: readonly number[]): readonly number[] {
      const perPartition = new Map<number, number>();
      for (const p of partitionOfEach) perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
      const items = [...perPartition.values()].sort((a, b) => b - a);
      const shape = shapes.get(items.join(',')) ?? { items, count: 0 };
      shape.count++;
      shapes.set(items.join(','), shape);
      return items;
    },
    /** The shapes, most frequent first. */
    shapes: (): RequestShape[] => [...shapes.values()].sort((a, b) => b.count - a.count),
  };
}

/** A clock that moves only when {@link VirtualClock.run} takes the next timer. */
class VirtualClock implements Clock {
  private time = 0;
  private order = 0;
  private timers: Array<{ at: number; order: number; run: () => void }> = [];

  now(): number {
    return this.time;
  }

  schedule(run: () => void, ms: number): () => void {
    const timer = { at: this.time + Math.max(0, ms), order: this.order++, run };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Runs timers in time order, letting the promise chains each one starts settle before the next. */
  async run(): Promise<void> {
    while (this.timers.length > 0) {
      let next = this.timers[0]!;
      for (const t of this.timers) if (t.at < next.at || (t.at === next.at && t.order < next.order)) next = t;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.run();
      // Microtasks (and the producer's promise chains) all run before a setImmediate callback.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

const TOPIC = 'frontier';

/** Runs one producer through `scenario` and returns the requests it sent and the latency it added. */
export async function simulateBatching(scenario: BatchingScenario): Promise<BatchingResult> {
  const clock = new VirtualClock();
  const random = prng(scenario.seed);
  const sentAt = new Map<ProduceRecord, number>();
  const waits: number[] = [];
  const acks: number[] = [];
  const counter = shapeCounter();
  const partitionOf = (record: ProduceRecord) => partitionFor(Buffer.from(record.key ?? '', 'utf8'), scenario.partitions);
  const calls: ProducerCalls = {
    describeTopic: async () => ({ partitions: scenario.partitions }),
    produce: (_topic, records): Promise<ProduceResponse> => {
      for (const record of records) waits.push(clock.now() - (sentAt.get(record) ?? clock.now()));
      const items = counter.add(records.map(partitionOf));
      const response = { records: records.map((record, offset) => ({ partition: partitionOf(record), offset, timestamp: clock.now() })) };
      return new Promise((resolve) => clock.schedule(() => resolve(response), scenario.latencyMs(items)));
    },
  };
  const producer = new Producer(calls, scenario.options, clock);
  const padding = 'x'.repeat(Math.max(0, scenario.recordBytes - 40));
  const sends: Promise<unknown>[] = [];
  let sent = 0;
  const arrive = () => {
    const record: ProduceRecord = { key: `cus_${Math.floor(random() * KEY_SPACE).toString(36).padStart(4, '0')}`, value: padding };
    const at = clock.now();
    sentAt.set(record, at);
    sends.push(producer.send(TOPIC, [record]).then(() => acks.push(clock.now() - at)));
    if (++sent < scenario.records) clock.schedule(arrive, (-Math.log(1 - random()) * 1000) / scenario.recordsPerSecond);
  };
  clock.schedule(arrive, 0);
  await clock.run();
  await Promise.all(sends);
  await producer.close();
  const shapes = counter.shapes();
  const requests = shapes.reduce((sum, s) => sum + s.count, 0);
  const items = shapes.reduce((sum, s) => sum + s.count * s.items.length, 0);
  const ms = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99) });
  return {
    records: sent,
    requests,
    recordsPerRequest: sent / requests,
    partitionsPerRequest: items / requests,
    shapes,
    waitMs: ms(waits),
    ackMs: ms(acks),
  };
}
