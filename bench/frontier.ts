import type { ProducerOptions } from '../lib/client/producer.js';
import { simulateBatching, type BatchingResult } from './batching.js';
import { workOf } from './bill.js';
import { REFERENCE_WORKLOAD, type Deployment, type MeasuredWork, type Work } from './cost-model.js';
import {
  advantageApplies,
  crossings,
  kinesisTopicBills,
  sharedFleetBill,
  shardlogTopicBill,
  topicWorkload,
  type FrontierInputs,
  type FrontierPoint,
  type FrontierResults,
  type LingerRow,
  type LiveRow,
  type ProducerSetting,
  type IdleTopicWork,
  type ProducePoint,
  type ReadPoint,
  scaleWork,
  subtractWork,
} from './frontier-model.js';
import { measureLiveProducers } from './producer-live.js';
import type { JsonValue } from '../lib/client/types.js';
import { createTopic, expectOk, probe, produceBody, RECORD_BYTES, round, type BenchContext } from './harness.js';
import { sdkFetch, sdkProduce } from './sdk-calls.js';
import { summarize, type Sample } from './measure.js';
import { MIB, SECONDS_PER_MONTH, US_EAST_1 } from './prices.js';
import { prng, realisticEvent } from './workload.js';

/**
 * Section 10: the cost frontier (issue 14). Measures, over HTTP on the local stack, the work of an SDK produce
 * request (binary, idempotent: bench/sdk-calls.ts) at each batch size, to one partition and to every partition
 * of a topic; the work of reading batches of each size as the SDK consumer does; and what an idle topic costs
 * the scheduled maintenance pass. Then runs the real SDK producer in virtual time (bench/batching.ts) to find
 * the requests it sends at each rate, and prices one topic from 0.01 to 1,000 records/s and fleets of 1 to
 * 1,000 topics next to Kinesis (bench/frontier-model.ts).
 */

/** Producer processes per topic: a service runs several (their batches do not mix). */
export const PRODUCERS_PER_TOPIC = 4;
/** Modeled round trip of a produce request on AWS (API Gateway + warm Lambda + one transaction); an assumption. */
export const PRODUCE_ROUND_TRIP_MS = 30;
/** The reference rate: the brief's reference workload, in records/s of 1 KB. */
export const REFERENCE_RATE = 89;
/** Per-topic rate of the fleet axis: a small topic (about 260,000 records a month). */
export const FLEET_TOPIC_RATE = 0.1;

/** The producer settings the frontier compares. `key` names them in the results. */
export const PRODUCER_SETTINGS: ReadonlyArray<{ key: ProducerSetting; label: string; options: ProducerOptions }> = [
  { key: 'oldDefault', label: 'shardlog, lingerMs 5 (old default)', options: { lingerMs: 5 } },
  { key: 'defaults', label: 'shardlog, SDK defaults (lingerMs 100)', options: {} },
  { key: 'tuned', label: 'shardlog, lingerMs 1000', options: { lingerMs: 1000 } },
];
export const RATES = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 89, 100, 300, 1000] as const;
export const TOPIC_COUNTS = [1, 3, 10, 30, 100, 300, 1000] as const;
/** lingerMs values of the trade-off table at the reference rate. */
export const LINGERS = [0, 5, 25, 50, 100, 250, 500, 1000] as const;

/** Measures the inputs, then prices the frontier. `base`: the bill section's measured work (groups, commits). */
export async function measureFrontier(ctx: BenchContext, base: MeasuredWork, deployment: Deployment, quick: boolean): Promise<FrontierResults> {
  const sizes = quick ? [1, 10, 100, 1000] : [1, 3, 10, 30, 100, 300, 1000];
  const partitions = 4;
  ctx.log(`frontier: idempotent produce of ${sizes.join(', ')} records to 1 and ${partitions} partitions, reads of each batch size, idle topics`);
  const produce = await measureProduce(ctx, sizes, partitions, quick ? 2 : 4);
  const read = await measureRead(ctx, sizes, base, quick ? 100 : 300);
  const idle = await measureIdle(ctx, quick ? 5 : 20);
  const inputs: FrontierInputs = { produce, read, idle, base, deployment, prices: US_EAST_1, recordBytes: RECORD_BYTES };
  const seconds = quick ? 10 : 30;
  const live: LiveRow[] = [];
  for (const [i, setting] of PRODUCER_SETTINGS.slice(0, 2).entries()) {
    ctx.log(`frontier: ${PRODUCERS_PER_TOPIC} SDK producers (${setting.label}) at ${REFERENCE_RATE} records/s in all, ${seconds} s in real time over HTTP`);
    const result = await measureLiveProducers(ctx, setting.options, PRODUCERS_PER_TOPIC, REFERENCE_RATE, seconds, 1400 + i);
    const bill = shardlogTopicBill({ recordsPerSecond: REFERENCE_RATE, shapes: result.shapes, pollIntervalS: POLL_INTERVAL_S }, inputs);
    live.push({ label: setting.label, records: result.records, requests: result.requests, recordsPerRequest: result.recordsPerRequest, ackMs: result.ackMs, monthly: round(bill.total + sharedFleetBill(inputs), 2) });
  }
  ctx.log('frontier: the SDK producer in virtual time at each rate, then the bills');
  return { ...(await priceFrontier(inputs)), live };
}

type Simulate = (rate: number, options: ProducerOptions) => Promise<BatchingResult>;

/** The SDK producer at `rate` records/s per topic (spread over its producers), in virtual time; memoized. */
function simulator(inputs: FrontierInputs): Simulate {
  const simulations = new Map<string, BatchingResult>();
  return async (rate, options) => {
    const key = `${rate}/${JSON.stringify(options)}`;
    const cached = simulations.get(key);
    if (cached) return cached;
    const perProducer = rate / PRODUCERS_PER_TOPIC;
    const result = await simulateBatching({
      recordsPerSecond: perProducer,
      partitions: 4,
      options,
      recordBytes: inputs.recordBytes,
      // Ten minutes of producing, at least 300 and at most 3,000 records.
      records: Math.round(Math.min(3000, Math.max(300, perProducer * 600))),
      latencyMs: () => PRODUCE_ROUND_TRIP_MS,
      seed: 14,
    });
    simulations.set(key, result);
    return result;
  };
}

const POLL_INTERVAL_S = REFERENCE_WORKLOAD.pollIntervalS;

/** The frontier from measured inputs: pure but for the producer simulations (virtual time, no I/O). */
export async function priceFrontier(inputs: FrontierInputs): Promise<Omit<FrontierResults, 'live'>> {
  const simulate = simulator(inputs);
  const point = async (rate: number, topics: number, x: number): Promise<FrontierPoint> => {
    const shardlog = {} as Record<ProducerSetting, { total: number; recordsPerRequest: number }>;
    for (const setting of PRODUCER_SETTINGS) {
      const sim = await simulate(rate, setting.options);
      const bill = shardlogTopicBill({ recordsPerSecond: rate, shapes: sim.shapes, pollIntervalS: POLL_INTERVAL_S }, inputs);
      shardlog[setting.key] = { total: topics * bill.total + sharedFleetBill(inputs), recordsPerRequest: bill.recordsPerRequest };
    }
    const workload = topicWorkload(rate, 1, POLL_INTERVAL_S, inputs.recordBytes);
    const kinesis = kinesisTopicBills(workload, inputs.prices);
    return {
      x,
      shardlog,
      kinesisOnDemand: topics * kinesis.onDemand,
      kinesisProvisioned: topics * kinesis.provisioned.total,
      shards: topics * (kinesis.provisioned.shards ?? 1),
      advantage: topics * kinesis.advantage,
      advantageApplies: advantageApplies(topics, workload, inputs.prices),
    };
  };
  const byRate: FrontierPoint[] = [];
  for (const rate of RATES) byRate.push(await point(rate, 1, rate));
  const byTopics: FrontierPoint[] = [];
  for (const topics of TOPIC_COUNTS) byTopics.push(await point(FLEET_TOPIC_RATE, topics, topics));
  const shape = topicWorkload(1, 1, POLL_INTERVAL_S, inputs.recordBytes);
  return {
    floor: await quietFloor(inputs, simulate),
    assumptions: {
      producersPerTopic: PRODUCERS_PER_TOPIC,
      produceRoundTripMs: PRODUCE_ROUND_TRIP_MS,
      referenceRate: REFERENCE_RATE,
      fleetTopicRate: FLEET_TOPIC_RATE,
      partitions: 4,
      consumerGroups: shape.consumerGroups,
      pollIntervalS: POLL_INTERVAL_S,
      retentionDays: shape.retentionDays,
    },
    produce: inputs.produce,
    read: inputs.read,
    idle: inputs.idle,
    sharedFleetMonthly: round(sharedFleetBill(inputs), 4),
    byRate,
    byTopics,
    lingers: await lingerTable(inputs, simulate),
    crossovers: describeCrossovers(byRate, byTopics),
  };
}

/** lingerMs against records per request, added latency and the bill, at the reference rate. */
async function lingerTable(inputs: FrontierInputs, simulate: Simulate): Promise<LingerRow[]> {
  const rows: LingerRow[] = [];
  for (const lingerMs of LINGERS) {
    const sim = await simulate(REFERENCE_RATE, { lingerMs });
    const bill = shardlogTopicBill({ recordsPerSecond: REFERENCE_RATE, shapes: sim.shapes, pollIntervalS: POLL_INTERVAL_S }, inputs);
    rows.push({
      lingerMs,
      recordsPerRequest: round(sim.recordsPerRequest, 2),
      addedLatencyMs: { p50: round(sim.waitMs.p50, 1), p99: round(sim.waitMs.p99, 1) },
      monthly: round(bill.total + sharedFleetBill(inputs), 2),
    });
  }
  return rows;
}

/** What a nearly idle topic costs, and how much of it its consumers' polls, commits and heartbeats are. */
async function quietFloor(inputs: FrontierInputs, simulate: Simulate): Promise<FrontierResults['floor']> {
  const rate = RATES[0];
  const quiet = shardlogTopicBill({ recordsPerSecond: rate, shapes: (await simulate(rate, {})).shapes, pollIntervalS: POLL_INTERVAL_S }, inputs);
  const consumerLines = quiet.lines.filter((l) => /group fetch|commit|heartbeat/.test(l.item));
  // A consumer that long-polls (given a `waitMs`): at an idle topic its groups function is busy the whole month.
  const longPollPerMember = SECONDS_PER_MONTH * (inputs.deployment.groupsMemoryMb / 1024) * inputs.prices.lambda.perGbSecond;
  return {
    recordsPerSecond: rate,
    total: round(quiet.total, 2),
    consumers: round(consumerLines.reduce((sum, l) => sum + l.dollars, 0), 2),
    longPollPerMember: round(longPollPerMember, 2),
  };
}

const fmt = (x: number) => (x >= 10 ? Math.round(x).toLocaleString('en-US') : x >= 1 ? x.toFixed(1) : x.toPrecision(2));

/** The crossover points in words: where each shardlog curve meets each Kinesis mode. */
export function describeCrossovers(byRate: readonly FrontierPoint[], byTopics: readonly FrontierPoint[]): string[] {
  const out: string[] = [];
  const modes = [
    ['Kinesis on-demand', (p: FrontierPoint) => p.kinesisOnDemand],
    ['Kinesis provisioned', (p: FrontierPoint) => p.kinesisProvisioned],
    ['On-demand Advantage (commitment met elsewhere)', (p: FrontierPoint) => p.advantage],
  ] as const;
  for (const setting of PRODUCER_SETTINGS) {
    for (const [name, pick] of modes) {
      const xs = byRate.map((p) => p.x);
      const ours = byRate.map((p) => p.shardlog[setting.key].total);
      const theirs = byRate.map(pick);
      out.push(`one topic, ${setting.label}, against ${name}: ${regions(xs, ours, theirs, 'records/s')}`);
    }
  }
  const fleet = byTopics.map((p) => p.x);
  for (const [name, pick] of modes.slice(0, 2)) {
    out.push(`topics of ${fmt(FLEET_TOPIC_RATE)} record/s, SDK defaults, against ${name}: ${regions(fleet, byTopics.map((p) => p.shardlog.defaults.total), byTopics.map(pick), 'topics')}`);
  }
  return out;
}

/** "cheaper up to 1.5 records/s, dearer above": where `ours` is below `theirs` along `xs`, from their crossings. */
export function regions(xs: readonly number[], ours: readonly number[], theirs: readonly number[], unit: string): string {
  const at = crossings(xs, ours, theirs);
  const word = (cheaper: boolean) => (cheaper ? 'cheaper' : 'dearer');
  let cheaper = ours[0]! < theirs[0]!;
  if (at.length === 0) return `${word(cheaper)} from ${fmt(xs[0]!)} to ${fmt(xs.at(-1)!)} ${unit}`;
  const parts = [`${word(cheaper)} up to ${fmt(at[0]!)} ${unit}`];
  for (let i = 1; i <= at.length; i++) {
    cheaper = !cheaper;
    parts.push(i < at.length ? `${word(cheaper)} from there to ${fmt(at[i]!)}` : `${word(cheaper)} above`);
  }
  return parts.join(', ');
}

/** Idempotent produce (as the SDK sends) of `n` records to partition 0, and of `n` to each of `partitions`. */
async function measureProduce(ctx: BenchContext, sizes: readonly number[], partitions: number, probes: number): Promise<ProducePoint[]> {
  const topic = 'bench-frontier-produce';
  await createTopic(ctx, topic, partitions, 168);
  const random = prng(1414);
  let sequence = 9_000_000;
  const points: ProducePoint[] = [];
  // As the SDK producer sends a request: binary, with an Idempotency-Key (bench/sdk-calls.ts).
  const produceOnce = async (n: number, spread: number) => {
    const records = Array.from({ length: n * spread }, (_, i) => {
      const event = realisticEvent(random, sequence++, RECORD_BYTES);
      return { key: event.key, value: event.value as JsonValue, partition: i % spread };
    });
    return sdkProduce(ctx, topic, records, { partitions, idempotencyKey: `frontier-${sequence}`, payloadBytes: records.length * RECORD_BYTES });
  };
  for (const n of sizes) {
    const one = summarize(await probe(probes, () => produceOnce(n, 1)));
    const all = summarize(await probe(probes, () => produceOnce(n, partitions)));
    points.push({ records: n, partitions, onePartition: workOf(one), allPartitions: workOf(all) });
  }
  return points;
}

/** Batches of each size in a partition of their own, then read back: the work per MiB, and the bytes they take. */
async function measureRead(ctx: BenchContext, sizes: readonly number[], base: MeasuredWork, recordsPerSize: number): Promise<ReadPoint[]> {
  const topic = 'bench-frontier-read';
  await createTopic(ctx, topic, sizes.length, 168);
  const random = prng(1415);
  const points: ReadPoint[] = [];
  for (const [partition, n] of sizes.entries()) {
    const batches = Math.max(1, Math.ceil(recordsPerSize / n));
    const produced: Sample[] = [];
    for (let b = 0; b < batches; b++) {
      const records = Array.from({ length: n }, (_, i) => realisticEvent(random, b * n + i, RECORD_BYTES));
      const { sample, answer } = await ctx.prober.call('POST', `/v1/topics/${topic}/records`, produceBody(records, partition), () => n * RECORD_BYTES);
      expectOk(answer, 'frontier fill');
      produced.push(sample);
    }
    const total = batches * n;
    // As the SDK consumer reads: binary, spilled batches by URL, the client's GETs billed as S3 GETs.
    let urlGets = 0;
    const fetched = summarize(
      await probe(2, async () => {
        const read = await sdkFetch(ctx, `/v1/topics/${topic}/partitions/${partition}/records?offset=0&limit=${total}&maxBytes=6000000`);
        urlGets += read.urlGets;
        return read.sample;
      }),
    );
    const write = summarize(produced);
    const fetchWork = { ...workOf(fetched), s3Gets: workOf(fetched).s3Gets + urlGets / fetched.calls };
    const mib = fetched.payloadBytes / MIB || (total * RECORD_BYTES) / MIB;
    points.push({
      recordsPerBatch: n,
      fetchPerMiB: scaleWork(fetchWork, 1 / mib),
      // Write units are billed per started KB of item: units × 1 KB bounds the item size from above.
      hotBytesPerPayloadByte: (write.writeUnits * 1024) / (n * RECORD_BYTES),
      spilledBytesPerPayloadByte: (write.s3ByCommand.PutObjectCommand ?? 0) > 0 ? base.s3BytesPerPayloadByte : 0,
    });
  }
  return points;
}

/**
 * What an idle topic adds to the scheduled pass: a pass over the stack as it is (every topic skipped, after a
 * pass that visited them), then `count` new topics: the pass that visits them and the one that skips them.
 */
async function measureIdle(ctx: BenchContext, count: number): Promise<IdleTopicWork> {
  const pass = async () => {
    const { sample, answer } = await ctx.prober.call('POST', '/v1/admin/maintenance', {});
    expectOk(answer, 'scheduled maintenance pass');
    return workOf(summarize([sample]));
  };
  await pass();
  const before = await pass();
  const liveTopics = (await ctx.engine.topics.list()).length;
  for (let i = 0; i < count; i++) await createTopic(ctx, `bench-idle-${i}`, 4, 168);
  const visit = await pass();
  const skip = await pass();
  const per = (w: Work) => scaleWork(subtractWork(w, before), 1 / count);
  const skipPerPass = per(skip);
  const passesPerMonth = SECONDS_PER_MONTH / 60;
  return {
    skipPerPass,
    visitPerPass: per(visit),
    sharedPerPass: subtractWork(before, scaleWork(skipPerPass, liveTopics)),
    // The topic item, its catalog entry and 4 partition meta items: a few hundred bytes each with DynamoDB's 100 B (estimate).
    storedBytes: 6 * 400,
    passesPerMonth,
    // A scheduled pass looks at a topic with nothing due at least hourly (MAX_MAINTENANCE_SKIP_MS).
    visitsPerMonth: SECONDS_PER_MONTH / 3600,
  };
}

