import { ShardlogClient } from '../lib/client/client.js';
import { Producer, type ProducerCalls, type ProducerOptions } from '../lib/client/producer.js';
import type { ProduceRecord } from '../lib/client/types.js';
import { shapeCounter, type RequestCounts } from './batching.js';
import { percentile } from './measure.js';
import { createTopic, RECORD_BYTES, round, type BenchContext } from './harness.js';
import { KEY_SPACE, prng } from './workload.js';

/**
 * The SDK producer for real: several `Producer` instances (as several processes of a service, each with its
 * own batches and timers) send keyed 1 KB records at Poisson arrivals over HTTP to the local stack, in real
 * time, and the requests they send are counted by shape (records per partition). Checks on the machine what
 * bench/batching.ts computes in virtual time; the round trip is this machine's, not AWS's.
 */

/** What {@link measureLiveProducers} saw; `ackMs` is this machine's, against emulators. */
export interface LiveProducersResult extends RequestCounts {
  readonly options: ProducerOptions;
  readonly producers: number;
  readonly recordsPerSecond: number;
  readonly seconds: number;
}

/** `producers` producers with `options` sending `recordsPerSecond` in all to a fresh 4-partition topic for `seconds`. */
export async function measureLiveProducers(ctx: BenchContext, options: ProducerOptions, producers: number, recordsPerSecond: number, seconds: number, seed: number): Promise<LiveProducersResult> {
  const topic = `bench-live-${seed}`;
  await createTopic(ctx, topic, 4, 24);
  const client = new ShardlogClient({ url: ctx.stack.url });
  const counter = shapeCounter();
  const calls: ProducerCalls = {
    describeTopic: (name) => client.describeTopic(name),
    produce: async (name, records, opts) => {
      const response = await client.produce(name, records, opts);
      counter.add(response.records.map((r) => r.partition));
      return response;
    },
  };
  const padding = 'x'.repeat(RECORD_BYTES - 40);
  const acks: number[] = [];
  let records = 0;
  const perProducer = recordsPerSecond / producers;
  const run = async (p: number) => {
    const producer = new Producer(calls, options);
    const random = prng(seed * 100 + p);
    const sends: Promise<unknown>[] = [];
    const end = performance.now() + seconds * 1000;
    // Arrivals on a schedule of their own: a late timer (a busy machine) sends the records it owes at once.
    let next = performance.now();
    for (;;) {
      next += (-Math.log(1 - random()) * 1000) / perProducer;
      if (next >= end) break;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
      const record: ProduceRecord = { key: `cus_${Math.floor(random() * KEY_SPACE).toString(36).padStart(4, '0')}`, value: padding };
      const at = performance.now();
      records++;
      sends.push(producer.send(topic, [record]).then(() => acks.push(performance.now() - at)));
    }
    await Promise.all(sends);
    await producer.close();
  };
  await Promise.all(Array.from({ length: producers }, (_, p) => run(p)));
  const shapes = counter.shapes();
  const requests = shapes.reduce((sum, s) => sum + s.count, 0);
  return {
    options,
    producers,
    recordsPerSecond,
    seconds,
    records,
    requests,
    recordsPerRequest: round(records / Math.max(1, requests), 2),
    shapes,
    ackMs: { p50: round(percentile(acks, 50), 1), p99: round(percentile(acks, 99), 1) },
  };
}
