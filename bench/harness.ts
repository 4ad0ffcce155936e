import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { performance } from 'node:perf_hooks';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../infra/local/local-env.js';
import type { LocalStack } from '../infra/local/stack.js';
import { CapacityMeter } from '../lib/storage/capacity-meter.js';
import type { Shardlog } from '../lib/shardlog.js';
import { AwsTracer, httpClient, Prober, type HttpAnswer, type Sample } from './measure.js';
import { BatchingProducer, type BenchRecord } from './workload.js';

/**
 * What every section of the bench works with (bench/run.ts builds it once): the local stack and its engine,
 * an HTTP client, the meter and tracer on the engine's own clients, a prober that runs one call at a time,
 * and the sizes of this run.
 */

/** Sizes of each section; quick keeps every section but makes it smaller. */
export interface Plan {
  readonly partitions: number;
  readonly producers: number;
  readonly produceMiB: number;
  readonly archiveMiB: number;
  readonly probes: number;
  readonly groupProbes: number;
  readonly growth: readonly number[];
  readonly growthProbes: number;
  readonly heartbeatPartitions: readonly number[];
  readonly heartbeatProbes: number;
  readonly bundleRuns: number;
  readonly sideProbes: number;
  /** Producers appending to the same partitions at once, and the requests each sends (bench/contention.ts). */
  readonly contentionProducers: number;
  readonly contentionRequests: number;
  /** Requests of 500 records each system sends in the wire section's rate test (bench/wire.ts). */
  readonly wireRequests: number;
}

export const PLANS: Readonly<Record<'quick' | 'full', Plan>> = {
  quick: { partitions: 4, producers: 4, produceMiB: 16, archiveMiB: 8, probes: 50, groupProbes: 30, growth: [1e3, 1e4, 1e5], growthProbes: 10, heartbeatPartitions: [1, 10, 100], heartbeatProbes: 15, bundleRuns: 3, sideProbes: 8, contentionProducers: 16, contentionRequests: 2, wireRequests: 16 },
  full: { partitions: 8, producers: 8, produceMiB: 128, archiveMiB: 32, probes: 300, groupProbes: 150, growth: [1e3, 1e4, 1e5, 1e6], growthProbes: 10, heartbeatPartitions: [1, 3, 10, 30, 100], heartbeatProbes: 60, bundleRuns: 7, sideProbes: 30, contentionProducers: 64, contentionRequests: 10, wireRequests: 80 },
};

export const RECORD_BYTES = 1024;
export const BATCH = 100;

export type HttpClient = ReturnType<typeof httpClient>;

export interface BenchContext {
  readonly plan: Plan;
  readonly stack: LocalStack;
  /** The engine behind the stack's handlers: its clients carry the meter and the tracer. */
  readonly engine: Shardlog;
  readonly http: HttpClient;
  readonly meter: CapacityMeter;
  readonly prober: Prober;
  /** A document client of the bench's own, not metered: for setup that is not part of what is measured. */
  readonly benchDoc: DynamoDBDocumentClient;
  readonly log: (message: string) => void;
  /** Closes what the context opened (not the stack). */
  close(): void;
}

/** Instruments the stack's engine and opens the bench's own clients. */
export function benchContext(stack: LocalStack, plan: Plan, log: (message: string) => void): BenchContext {
  const engine = stack.engine;
  const meter = new CapacityMeter().attach(engine.clients.doc, engine.clients.s3);
  const tracer = new AwsTracer().attach(engine.clients.doc, engine.clients.s3);
  const http = httpClient(stack.url);
  const benchDynamo = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
  return {
    plan,
    stack,
    engine,
    http,
    meter,
    prober: new Prober(meter, tracer, http),
    benchDoc: DynamoDBDocumentClient.from(benchDynamo),
    log,
    close: () => benchDynamo.destroy(),
  };
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** Bytes Lambda carries for a binary body: its base64 (API Gateway hands binary bodies to Lambda that way). */
export const base64Bytes = (bytes: number) => 4 * Math.ceil(bytes / 3);

export function expectOk(answer: HttpAnswer, what: string): HttpAnswer {
  if (answer.status >= 400) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
}

/** A produce request's body; `partition` pins every record to one partition. */
export const produceBody = (records: readonly BenchRecord[], partition?: number) =>
  JSON.stringify({ records: records.map((r) => ({ key: r.key, value: r.value, ...(partition === undefined ? {} : { partition }) })) });

export interface WireRecord {
  offset: number;
  value: unknown;
}
const recordsPayload = (records: readonly WireRecord[]) => records.reduce((sum, r) => sum + JSON.stringify(r.value).length, 0);
/** Payload bytes of a fetch answer (its records' values). */
export const fetchPayload = (a: HttpAnswer) => recordsPayload((a.body as { records?: WireRecord[] }).records ?? []);
/** Payload bytes of a group fetch answer. */
export const groupFetchPayload = (a: HttpAnswer) =>
  ((a.body as { batches?: Array<{ records: WireRecord[] }> }).batches ?? []).reduce((sum, b) => sum + recordsPayload(b.records), 0);

/** Creates a topic over HTTP; returns its id (for reading its items straight from the table). */
export async function createTopic(ctx: BenchContext, name: string, partitions: number, retentionHours = 168): Promise<string> {
  expectOk(await ctx.http('POST', '/v1/topics', JSON.stringify({ name, partitions, retentionHours })), `create topic ${name}`);
  return (await ctx.engine.topics.get(name)).topicId;
}

/** Runs `count` probes of one operation, one at a time. */
export async function probe(count: number, make: (i: number) => Promise<Sample>): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) samples.push(await make(i));
  return samples;
}

/**
 * `plan.producers` concurrent producers, each sending `batchesPerProducer` pre-built requests (built before the
 * clock starts: generating JSON is the bench's work, not the system's). Returns the batch boundaries per partition
 * (base offsets of produced batches: where consumers start reading) and the latencies.
 */
export async function produceConcurrently(ctx: BenchContext, topic: string, batchesPerProducer: number, seedBase: number) {
  const { plan } = ctx;
  const bodies = Array.from({ length: plan.producers }, (_, p) => {
    const producer = new BatchingProducer({ partitions: plan.partitions, batchSize: BATCH, recordBytes: RECORD_BYTES, seed: seedBase + p });
    return Array.from({ length: batchesPerProducer }, () => produceBody(producer.next().records));
  });
  const boundaries: number[][] = Array.from({ length: plan.partitions }, () => []);
  const latencies: number[] = [];
  // Building the bodies blocks the event loop for seconds; let the server's keep-alive timers close the sockets
  // that went idle meanwhile, or the first requests race them (ECONNRESET).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (list) => {
      for (const body of list) {
        const start = performance.now();
        const answer = expectOk(await ctx.http('POST', `/v1/topics/${topic}/records`, body), 'produce');
        latencies.push(performance.now() - start);
        const first = (answer.body as { records: Array<{ partition: number; offset: number }> }).records[0];
        if (first) boundaries[first.partition]?.push(first.offset);
      }
    }),
  );
  return { boundaries, latencies, seconds: (performance.now() - t0) / 1000 };
}
