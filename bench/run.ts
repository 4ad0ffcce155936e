/**
 * The benchmark: starts the embedded local stack in this process, drives the real Lambda handlers over HTTP
 * with a realistic workload, counts the AWS work of every call, and turns it into a monthly bill next to
 * Kinesis Data Streams.
 *
 *   npm run bench               # full run (about 12 minutes on a 2-core machine)
 *   npm run bench -- --quick    # the same sections with fewer calls and smaller fills (under 5 minutes)
 *   npm run bench -- --out DIR  # where results go (default bench/results)
 *
 * Writes `<out>/<date>[-quick].json` (every figure), `<out>/<date>[-quick].md` (the summary) and
 * `<out>/<date>[-quick]-chart.svg` (+ `.png` when `rsvg-convert` or ImageMagick's `convert` is installed).
 *
 * How calls are counted: the handlers run in this process (the local server imports them), so the bench
 * attaches the {@link CapacityMeter} and an {@link AwsTracer} to the very clients the handlers use
 * (`shardlog().clients`, built once per process by functions/runtime.ts). Latency, units and round trips of a
 * single operation are measured by probes that run one call at a time; throughput is measured with
 * concurrent producers and consumers. DynamoDB Local reports consumed capacity as on-demand DynamoDB does.
 * Latencies are those of this machine against emulators, not of AWS: compare them with each other, and read the
 * round trips for what AWS would add.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { FUNCTIONS } from '../functions/routes.js';
import { FAKE_CREDENTIALS, LOCAL_REGION, quietSdkNodeVersionWarning } from '../infra/local/local-env.js';
import { startLocalStack } from '../infra/local/stack.js';
import { offsetSk, partitionPk } from '../lib/log/keys.js';
import { HOT_TTL_MARGIN_MS } from '../lib/topics/topic.js';
import { HOT_COPY_GRACE_MS } from '../lib/maintenance/maintenance-service.js';
import { CapacityMeter } from '../lib/storage/capacity-meter.js';
import { measureBundles, type BundleStats } from './bundles.js';
import { measureContention } from './contention.js';
import {
  kinesisOnDemandBill,
  kinesisProvisionedBill,
  REFERENCE_WORKLOAD,
  shardlogBill,
  type Bill,
  type Deployment,
  type KinesisBill,
  type MeasuredWork,
  type Work,
  type Workload,
} from './cost-model.js';
import { AwsTracer, httpClient, percentile, Prober, summarize, type HttpAnswer, type OperationStats, type Sample } from './measure.js';
import { MIB, SECONDS_PER_MONTH, US_EAST_1 } from './prices.js';
import { renderChart, renderMarkdown, type BenchResults, type Scenario } from './report.js';
import { BatchingProducer, prng, realisticEvent, repetitiveEvent, type BenchRecord } from './workload.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join('bench', 'results') },
  },
});
const QUICK = args.quick === true;

/** Sizes of each section; quick keeps every section but makes it smaller. */
const PLAN = QUICK
  ? { partitions: 4, producers: 4, produceMiB: 16, archiveMiB: 8, probes: 50, groupProbes: 30, growth: [1e3, 1e4, 1e5, 1e6], growthProbes: 10, heartbeatPartitions: [1, 10, 100], heartbeatProbes: 15, bundleRuns: 3, sideProbes: 8 }
  : { partitions: 8, producers: 8, produceMiB: 128, archiveMiB: 32, probes: 300, groupProbes: 150, growth: [1e3, 1e4, 1e5, 1e6], growthProbes: 10, heartbeatPartitions: [1, 3, 10, 30, 100], heartbeatProbes: 60, bundleRuns: 7, sideProbes: 30 };
const RECORD_BYTES = 1024;
const BATCH = 100;
/** What AWS adds per sequential request, for the modeled Lambda duration (in-region p50s; an assumption). */
const AWS_DYNAMODB_RTT_MS = 6;
const AWS_S3_RTT_MS = 25;
/** Longer than the hot-retention limit (12 weeks), so this topic is tiered to S3. */
const ARCHIVE_RETENTION_HOURS = 2400;

const log = (message: string) => console.log(`[bench ${((performance.now() - STARTED) / 1000).toFixed(0).padStart(4)} s] ${message}`);
const STARTED = performance.now();
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const f2 = (n: number | undefined) => String(round(n ?? 0, 2));

// Handlers log one line per request at info; the bench prints its own progress.
process.env.LOG_LEVEL ??= 'warn';
quietSdkNodeVersionWarning();

const stack = await startLocalStack({ inMemory: true, port: 0, maintenanceIntervalMs: 24 * 3600 * 1000, log: console });
log(`local stack at ${stack.url} (DynamoDB Local ${stack.dynamoEndpoint}, s3rver ${stack.s3Endpoint})`);
const engine = stack.engine;
const meter = new CapacityMeter().attach(engine.clients.doc, engine.clients.s3);
const tracer = new AwsTracer().attach(engine.clients.doc, engine.clients.s3);
const http = httpClient(stack.url);
const prober = new Prober(meter, tracer, http);
// A client of the bench's own, not metered: for setup that is not part of what is measured.
const benchDynamo = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
const benchDoc = DynamoDBDocumentClient.from(benchDynamo);

const expectOk = (answer: HttpAnswer, what: string): HttpAnswer => {
  if (answer.status >= 400) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer;
};
const produceBody = (records: readonly BenchRecord[], partition?: number) =>
  JSON.stringify({ records: records.map((r) => ({ key: r.key, value: r.value, ...(partition === undefined ? {} : { partition }) })) });
interface WireRecord { offset: number; value: unknown }
const recordsPayload = (records: readonly WireRecord[]) => records.reduce((sum, r) => sum + JSON.stringify(r.value).length, 0);
const fetchPayload = (a: HttpAnswer) => recordsPayload((a.body as { records?: WireRecord[] }).records ?? []);
const groupFetchPayload = (a: HttpAnswer) =>
  ((a.body as { batches?: Array<{ records: WireRecord[] }> }).batches ?? []).reduce((sum, b) => sum + recordsPayload(b.records), 0);

async function createTopic(name: string, partitions: number, retentionHours = 168): Promise<string> {
  expectOk(await http('POST', '/v1/topics', JSON.stringify({ name, partitions, retentionHours })), `create topic ${name}`);
  return (await engine.topics.get(name)).topicId;
}

/**
 * `PLAN.producers` concurrent producers, each sending `batchesPerProducer` pre-built requests (built before the
 * clock starts: generating JSON is the bench's work, not the system's). Returns the batch boundaries per partition
 * (base offsets of produced batches: where consumers start reading) and the latencies.
 */
async function produceConcurrently(topic: string, batchesPerProducer: number, seedBase: number) {
  const bodies = Array.from({ length: PLAN.producers }, (_, p) => {
    const producer = new BatchingProducer({ partitions: PLAN.partitions, batchSize: BATCH, recordBytes: RECORD_BYTES, seed: seedBase + p });
    return Array.from({ length: batchesPerProducer }, () => produceBody(producer.next().records));
  });
  const boundaries: number[][] = Array.from({ length: PLAN.partitions }, () => []);
  const latencies: number[] = [];
  // Building the bodies blocks the event loop for seconds; let the server's keep-alive timers close the sockets
  // that went idle meanwhile, or the first requests race them (ECONNRESET).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (list) => {
      for (const body of list) {
        const start = performance.now();
        const answer = expectOk(await http('POST', `/v1/topics/${topic}/records`, body), 'produce');
        latencies.push(performance.now() - start);
        const first = (answer.body as { records: Array<{ partition: number; offset: number }> }).records[0];
        if (first) boundaries[first.partition]?.push(first.offset);
      }
    }),
  );
  return { boundaries, latencies, seconds: (performance.now() - t0) / 1000 };
}

/** Runs `count` probes of one operation, one at a time. */
async function probe(count: number, make: (i: number) => Promise<Sample>): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) samples.push(await make(i));
  return samples;
}

/** Modeled Lambda duration of a call: its own work here, plus AWS's latency for each sequential request. */
function lambdaMs(stats: OperationStats): number {
  const s3 = stats.s3RoundTripsMean;
  return stats.localMsP50 + (stats.roundTrips.mean - s3) * AWS_DYNAMODB_RTT_MS + s3 * AWS_S3_RTT_MS;
}
function workOf(stats: OperationStats): Work {
  return {
    readUnits: stats.readUnits,
    writeUnits: stats.writeUnits,
    s3Puts: stats.s3ByCommand.PutObjectCommand ?? 0,
    s3Gets: stats.s3ByCommand.GetObjectCommand ?? 0,
    lambdaMs: lambdaMs(stats),
    httpBytes: stats.requestBytes + stats.responseBytes,
  };
}

const results: Partial<BenchResults> & { sections: Record<string, unknown> } = { sections: {} };
try {
  // ── 1. Throughput: concurrent producers, then concurrent consumers ────────────────────────────────────────────
  const topic = 'bench-orders';
  await createTopic(topic, PLAN.partitions);
  const batchesPerProducer = Math.ceil((PLAN.produceMiB * MIB) / (BATCH * RECORD_BYTES) / PLAN.producers);
  log(`throughput: ${PLAN.producers} producers × ${batchesPerProducer} requests of ${BATCH} × ${RECORD_BYTES} B to ${PLAN.partitions} partitions`);
  meter.reset();
  const produced = await produceConcurrently(topic, batchesPerProducer, 1);
  const { boundaries, latencies: produceLatencies } = produced;
  let t0 = 0;
  const produceSeconds = produced.seconds;
  const produceTotals = meter.totals();
  const producedRecords = PLAN.producers * batchesPerProducer * BATCH;
  const producedMiB = (producedRecords * RECORD_BYTES) / MIB;

  log('throughput: consumers, one per partition, reading from offset 0 (limit 1000, maxBytes 1 MB)');
  const fetchLatencies: number[] = [];
  meter.reset();
  t0 = performance.now();
  let fetchedRecords = 0;
  let fetchCalls = 0;
  await Promise.all(
    Array.from({ length: PLAN.partitions }, async (_, partition) => {
      let offset = 0;
      for (;;) {
        const start = performance.now();
        const answer = expectOk(await http('GET', `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=1000`), 'fetch');
        fetchLatencies.push(performance.now() - start);
        fetchCalls++;
        const body = answer.body as { records: WireRecord[]; nextOffset: number; endOffset: number };
        fetchedRecords += body.records.length;
        offset = body.nextOffset;
        if (offset >= body.endOffset) break;
      }
    }),
  );
  const fetchSeconds = (performance.now() - t0) / 1000;
  const fetchTotals = meter.totals();
  const fetchedMiB = (fetchedRecords * RECORD_BYTES) / MIB;
  results.sections.throughput = {
    produce: {
      producers: PLAN.producers,
      partitions: PLAN.partitions,
      requests: PLAN.producers * batchesPerProducer,
      records: producedRecords,
      mib: round(producedMiB),
      seconds: round(produceSeconds),
      recordsPerSecond: round(producedRecords / produceSeconds, 0),
      mibPerSecond: round(producedMiB / produceSeconds),
      latencyUnderLoadMs: { p50: round(percentile(produceLatencies, 50)), p99: round(percentile(produceLatencies, 99)) },
      writeUnitsPerMiB: round(produceTotals.writeUnits / producedMiB),
      readUnitsPerMiB: round(produceTotals.readUnits / producedMiB),
      dynamoRequestsPerCall: round(produceTotals.dynamoRequests / (PLAN.producers * batchesPerProducer), 3),
      dynamoByCommand: produceTotals.dynamoByCommand,
    },
    fetch: {
      consumers: PLAN.partitions,
      requests: fetchCalls,
      records: fetchedRecords,
      mib: round(fetchedMiB),
      seconds: round(fetchSeconds),
      recordsPerSecond: round(fetchedRecords / fetchSeconds, 0),
      mibPerSecond: round(fetchedMiB / fetchSeconds),
      latencyUnderLoadMs: { p50: round(percentile(fetchLatencies, 50)), p99: round(percentile(fetchLatencies, 99)) },
      readUnitsPerMiB: round(fetchTotals.readUnits / fetchedMiB),
      dynamoRequestsPerCall: round(fetchTotals.dynamoRequests / fetchCalls, 3),
      dynamoByCommand: fetchTotals.dynamoByCommand,
    },
  };
  log(`throughput: produce ${round(producedRecords / produceSeconds, 0)} records/s (${round(producedMiB / produceSeconds)} MiB/s), fetch ${round(fetchedRecords / fetchSeconds, 0)} records/s`);

  // ── 2. Latency and work per call, one call at a time ─────────────────────────────────────────────────────────
  log(`probes: produce, fetch (${PLAN.probes} each)`);
  const probeProducer = new BatchingProducer({ partitions: PLAN.partitions, batchSize: BATCH, recordBytes: RECORD_BYTES, seed: 1000 });
  const produceSamples = await probe(PLAN.probes, async () => {
    const batch = probeProducer.next();
    const { sample, answer } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(batch.records), () => batch.payloadBytes);
    expectOk(answer, 'produce probe');
    return sample;
  });
  const hotOffsets = boundaries[0] ?? [];
  const pickOffset = prng(7);
  const hotProbeOffsets = Array.from({ length: PLAN.probes }, () => hotOffsets[Math.floor(pickOffset() * hotOffsets.length)] ?? 0);
  const hotFetchSamples = await probe(PLAN.probes, async (i) => {
    const { sample, answer } = await prober.call('GET', `/v1/topics/${topic}/partitions/0/records?offset=${hotProbeOffsets[i]}&limit=1000`, undefined, fetchPayload);
    expectOk(answer, 'fetch probe');
    return sample;
  });
  // Side measurements for the "what would lower the bill" scenarios: bigger batches, more compressible data.
  const bigBatch = Array.from({ length: 1000 }, (_, i) => realisticEvent(prng(99 + i), i, RECORD_BYTES));
  const bigSamples = await probe(PLAN.sideProbes, async () => {
    const { sample } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(bigBatch, 1), () => 1000 * RECORD_BYTES);
    return sample;
  });
  // What the SDK producer sends: every request carries an Idempotency-Key (so that a retry never duplicates),
  // which makes it a TransactWriteItems with the idempotency record: twice the units of its items.
  const idempotentSamples = await probe(PLAN.sideProbes, async (n) => {
    const batch = probeProducer.next();
    const { sample, answer } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(batch.records), () => batch.payloadBytes, {
      'idempotency-key': `bench-${n}-${batch.records.length}-${Date.now()}`,
    });
    expectOk(answer, 'idempotent produce probe');
    return sample;
  });
  const repetitiveSamples = await probe(PLAN.sideProbes, async (n) => {
    const records = Array.from({ length: BATCH }, (_, i) => repetitiveEvent(n * BATCH + i, RECORD_BYTES));
    const { sample } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(records, 2), () => BATCH * RECORD_BYTES);
    return sample;
  });

  // A batch over MAX_INLINE_BATCH_BYTES compressed is written to S3 first and the item only points at it: 2,000
  // records (~2 MiB, ~480 KiB gzipped) take that path. Produce them, then fetch them back from their boundaries.
  const spillTopic = 'bench-spill';
  await createTopic(spillTopic, 1);
  const spillRandom = prng(4242);
  const spillBoundaries: number[] = [];
  const spillSamples = await probe(PLAN.sideProbes, async (n) => {
    const records = Array.from({ length: 2000 }, (_, i) => realisticEvent(spillRandom, 5_000_000 + n * 2000 + i, RECORD_BYTES));
    const { sample, answer } = await prober.call('POST', `/v1/topics/${spillTopic}/records`, produceBody(records, 0), () => 2000 * RECORD_BYTES);
    expectOk(answer, 'spilled produce');
    spillBoundaries.push((answer.body as { records: Array<{ offset: number }> }).records[0]?.offset ?? 0);
    return sample;
  });
  const spillFetchSamples = await probe(PLAN.sideProbes, async (i) => {
    const { sample } = await prober.call('GET', `/v1/topics/${spillTopic}/partitions/0/records?offset=${spillBoundaries[i] ?? 0}&limit=2000&maxBytes=6000000`, undefined, fetchPayload);
    return sample;
  });

  // ── 3. Consumer groups: group fetch, commit, heartbeat ──────────────────────────────────────────────────────
  log(`probes: consumer group fetch, commit, heartbeat (${PLAN.groupProbes} each)`);
  let groups: Record<string, unknown> = { status: 'not measured' };
  let groupStats: { fetch: OperationStats; fetchAtTail: OperationStats; commit: OperationStats; heartbeat: OperationStats } | undefined;
  const joined = await http('POST', '/v1/groups/bench-group/members', JSON.stringify({ topics: [topic] }));
  if (joined.status === 200) {
    const member = joined.body as { memberId: string; assignments: Array<{ topic: string; partition: number; leaseToken: string }> };
    const base = `/v1/groups/bench-group/members/${member.memberId}`;
    const tokens = new Map(member.assignments.map((a) => [a.partition, a.leaseToken]));
    const fetchSamples: Sample[] = [];
    const commitSamples: Sample[] = [];
    for (let i = 0; i < PLAN.groupProbes; i++) {
      const fetched = await prober.call('POST', `${base}/fetch`, { limit: 1000 }, groupFetchPayload);
      expectOk(fetched.answer, 'group fetch');
      fetchSamples.push(fetched.sample);
      const batches = (fetched.answer.body as { batches: Array<{ topic: string; partition: number; leaseToken: string; nextOffset: number; records: unknown[] }> }).batches;
      const offsets = batches
        .filter((b) => b.records.length > 0)
        .map((b) => ({ topic: b.topic, partition: b.partition, offset: b.nextOffset, leaseToken: b.leaseToken }));
      if (offsets.length === 0) continue;
      const committed = await prober.call('POST', `${base}/commit`, { offsets });
      expectOk(committed.answer, 'commit');
      commitSamples.push(committed.sample);
    }
    const ends = await Promise.all(
      member.assignments.map(async (a) => ({ topic, partition: a.partition, offset: (await engine.log.bounds(await engine.topics.get(topic), a.partition)).endOffset })),
    );
    const tailSamples = await probe(PLAN.groupProbes, async () => (await prober.call('POST', `${base}/fetch`, { positions: ends, waitMs: 0 }, groupFetchPayload)).sample);
    const heartbeatSamples = await probe(PLAN.groupProbes, async () => {
      const { sample, answer } = await prober.call('POST', `${base}/heartbeat`, {});
      expectOk(answer, 'heartbeat');
      return sample;
    });
    groupStats = { fetch: summarize(fetchSamples), fetchAtTail: summarize(tailSamples), commit: summarize(commitSamples), heartbeat: summarize(heartbeatSamples) };
    groups = { status: 'measured', partitionsHeld: tokens.size, ...groupStats };
  } else {
    groups = { status: `not measured: join answered HTTP ${joined.status}` };
  }

  // ── 4. Heartbeat cost as a member holds 1 → 100 partitions ──────────────────────────────────────────────────
  log(`heartbeat vs partitions held: ${PLAN.heartbeatPartitions.join(', ')}`);
  const heartbeatGrowth: Array<{ partitionsHeld: number; stats: OperationStats }> = [];
  for (const n of PLAN.heartbeatPartitions) {
    await createTopic(`bench-hb-${n}`, n);
    const join = await http('POST', `/v1/groups/bench-hb-${n}/members`, JSON.stringify({ topics: [`bench-hb-${n}`] }));
    if (join.status !== 200) break;
    const member = join.body as { memberId: string; assignments: unknown[] };
    const samples = await probe(PLAN.heartbeatProbes, async () => (await prober.call('POST', `/v1/groups/bench-hb-${n}/members/${member.memberId}/heartbeat`, {})).sample);
    heartbeatGrowth.push({ partitionsHeld: member.assignments.length, stats: summarize(samples) });
  }

  // ── 5. Tiering: the maintenance pass moves a long-retention topic to S3 (the hidden cost) ──────────────────
  // A topic whose retention is within hotRetentionLimitHours (the reference workload's 7 days) is never tiered:
  // its batches carry a TTL from the start. Tiering applies to longer retentions, measured on a 100-day topic.
  const archive = 'bench-archive';
  const archiveId = await createTopic(archive, PLAN.partitions, ARCHIVE_RETENTION_HOURS);
  const archiveBatches = Math.ceil((PLAN.archiveMiB * MIB) / (BATCH * RECORD_BYTES) / PLAN.producers);
  log(`tiering: ${PLAN.archiveMiB} MiB into '${archive}' (retention ${ARCHIVE_RETENTION_HOURS} h), hot fetch probes, then POST /v1/admin/maintenance {"tierOlderThanMs":0} until nothing is left`);
  const archived = await produceConcurrently(archive, archiveBatches, 500);
  const archiveOffsets = archived.boundaries[0] ?? [];
  const pickArchive = prng(11);
  const archiveProbeOffsets = Array.from({ length: PLAN.probes }, () => archiveOffsets[Math.floor(pickArchive() * archiveOffsets.length)] ?? 0);
  const archiveHotSamples = await probe(PLAN.probes, async (i) => {
    const { sample, answer } = await prober.call('GET', `/v1/topics/${archive}/partitions/0/records?offset=${archiveProbeOffsets[i]}&limit=1000`, undefined, fetchPayload);
    expectOk(answer, 'archive fetch probe');
    return sample;
  });
  const tierSamples: Sample[] = [];
  let tieredRecords = 0;
  let tieredBytes = 0;
  let tieredSegments = 0;
  for (let pass = 0; pass < 200; pass++) {
    const { sample, answer } = await prober.call('POST', '/v1/admin/maintenance', { topic: archive, tierOlderThanMs: 0 });
    expectOk(answer, 'maintenance');
    tierSamples.push(sample);
    const report = answer.body as { tiered: { segments: number; records: number; bytes: number } };
    tieredRecords += report.tiered.records;
    tieredBytes += report.tiered.bytes;
    tieredSegments += report.tiered.segments;
    if (report.tiered.records === 0) break;
  }
  // The scheduled pass over the reference topic (7-day retention: nothing to tier, retention bookkeeping only).
  const idleSamples = await probe(5, async () => (await prober.call('POST', '/v1/admin/maintenance', { topic })).sample);
  const tierStats = summarize(tierSamples);
  const tierPayloadMiB = (tieredRecords * RECORD_BYTES) / MIB;
  const sum = (pick: (s: Sample) => number) => tierSamples.reduce((acc, s) => acc + pick(s), 0);
  const tierUnitsByCommand: Record<string, number> = {};
  for (const s of tierSamples) for (const [k, v] of Object.entries(s.unitsByCommand)) tierUnitsByCommand[k] = (tierUnitsByCommand[k] ?? 0) + v;
  const tiering = {
    passes: tierSamples.length,
    segments: tieredSegments,
    records: tieredRecords,
    payloadMiB: round(tierPayloadMiB),
    segmentBytes: tieredBytes,
    perMiB: {
      writeUnits: round(sum((s) => s.work.writeUnits) / tierPayloadMiB, 3),
      readUnits: round(sum((s) => s.work.readUnits) / tierPayloadMiB, 3),
      dynamoRequests: round(sum((s) => s.work.dynamoRequests) / tierPayloadMiB, 3),
      s3Puts: round(sum((s) => s.work.s3ByCommand.PutObjectCommand ?? 0) / tierPayloadMiB, 4),
      // The TTL update of each hot item (UpdateItem) is billed by the item's size: a second write of the payload.
      unitsByCommand: Object.fromEntries(Object.entries(tierUnitsByCommand).map(([k, v]) => [k, round(v / tierPayloadMiB, 3)])),
    },
    dynamoByCommand: Object.fromEntries(
      Object.entries(tierSamples.reduce<Record<string, number>>((acc, s) => {
        for (const [k, v] of Object.entries(s.work.dynamoByCommand)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {})),
    ),
    passLatencyMs: tierStats.latencyMs,
    idlePass: summarize(idleSamples),
  };

  // ── 6. Cold read against hot read ───────────────────────────────────────────────────────────────────────────
  // After tiering, the hot copies live for HOT_COPY_GRACE_MS (then TTL deletes them, and DynamoDB Local does not
  // run TTL). The bench deletes partition 0's hot copies itself, as TTL would, so reads must go to S3.
  log(`cold reads: deleting '${archive}' partition 0 hot copies (as TTL would after the grace period), then fetching`);
  let deleted = 0;
  let lastKey: Record<string, unknown> | undefined;
  do {
    const page = await benchDoc.send(
      new QueryCommand({
        TableName: stack.config.logTable,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': partitionPk(archiveId, 0), ':lo': offsetSk(0), ':hi': offsetSk(Number.MAX_SAFE_INTEGER) },
        ProjectionExpression: 'pk, sk',
        ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
      }),
    );
    const keys = page.Items ?? [];
    for (let i = 0; i < keys.length; i += 25) {
      await benchDoc.send(new BatchWriteCommand({ RequestItems: { [stack.config.logTable]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }));
    }
    deleted += keys.length;
    lastKey = page.LastEvaluatedKey;
  } while (lastKey);
  const coldSamples = await probe(PLAN.probes, async (i) => {
    const { sample, answer } = await prober.call('GET', `/v1/topics/${archive}/partitions/0/records?offset=${archiveProbeOffsets[i]}&limit=1000`, undefined, fetchPayload);
    expectOk(answer, 'cold fetch');
    return sample;
  });
  const coldStats = summarize(coldSamples);
  const hotFetchStats = summarize(hotFetchSamples);
  const archiveHotStats = summarize(archiveHotSamples);
  results.sections.coldVsHot = {
    hotCopiesDeleted: deleted,
    hotCopyGraceMs: HOT_COPY_GRACE_MS,
    hot: archiveHotStats,
    cold: coldStats,
    firstColdRead: coldSamples[0],
  };

  // ── 7. Growth: a partition from 10^3 to 10^6 records ────────────────────────────────────────────────────────
  log(`growth: one partition filled to ${PLAN.growth.map((n) => n.toExponential(0)).join(', ')} records`);
  const growTopic = 'bench-grow';
  await createTopic(growTopic, 1);
  const growth: Array<{ records: number; fillSeconds: number; produce: OperationStats; fetchTail: OperationStats; fetchHead: OperationStats; fetchMiddle: OperationStats }> = [];
  const utf8 = new TextEncoder();
  const filler = Array.from({ length: BATCH }, (_, i) => ({
    key: utf8.encode(`k${i}`),
    value: utf8.encode(JSON.stringify({ i, filler: 'x'.repeat(40) })),
    valueIsJson: true,
    headers: {},
    partition: 0,
  }));
  const growProducer = new BatchingProducer({ partitions: 1, batchSize: BATCH, recordBytes: RECORD_BYTES, seed: 2000 });
  let size = 0;
  for (const target of PLAN.growth) {
    // Filled through the engine (not HTTP) with small records in batches of 100: the item count grows as it would
    // with the reference workload (one item per 100 records), without writing gigabytes to the emulator.
    const fillStart = performance.now();
    const fillTarget = target - PLAN.growthProbes * BATCH;
    const inFlight = 1; // appends to one partition are sequential: the next append needs the previous end offset
    while (size < fillTarget) {
      await Promise.all(Array.from({ length: inFlight }, () => engine.log.produce(growTopic, { records: filler })));
      size += BATCH * inFlight;
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const tails: number[] = [];
    const produce = await probe(PLAN.growthProbes, async () => {
      const batch = growProducer.next();
      const { sample, answer } = await prober.call('POST', `/v1/topics/${growTopic}/records`, produceBody(batch.records), () => batch.payloadBytes);
      expectOk(answer, 'growth produce');
      tails.push((answer.body as { records: Array<{ offset: number }> }).records[0]?.offset ?? 0);
      size += BATCH;
      return sample;
    });
    const fetchAt = async (offsets: (i: number) => number) =>
      probe(PLAN.growthProbes, async (i) => (await prober.call('GET', `/v1/topics/${growTopic}/partitions/0/records?offset=${offsets(i)}&limit=1000`, undefined, fetchPayload)).sample);
    const fetchTail = await fetchAt((i) => tails[i] ?? 0);
    const fetchHead = await fetchAt((i) => i * BATCH);
    const middle = Math.floor(size / 2 / BATCH) * BATCH;
    const fetchMiddle = await fetchAt((i) => middle + i * BATCH);
    growth.push({ records: size, fillSeconds: round(fillSeconds), produce: summarize(produce), fetchTail: summarize(fetchTail), fetchHead: summarize(fetchHead), fetchMiddle: summarize(fetchMiddle) });
    log(`growth: ${size} records (fill ${round(fillSeconds, 1)} s)`);
  }

  // ── 8. Bundles and module initialisation ────────────────────────────────────────────────────────────────────
  log(`bundles: esbuild as cdk synth, import() in a fresh node × ${PLAN.bundleRuns}`);
  const bundles: BundleStats[] = await measureBundles(PLAN.bundleRuns);

  // ── 8b. Contention: 64 producers on the same partitions (bench/contention.ts) ─────────────────────────────────
  const contention = await measureContention({ http, engine, quick: QUICK, log });

  // ── 9. The cost model ───────────────────────────────────────────────────────────────────────────────────────
  const produceStats = summarize(produceSamples);
  const bigStats = summarize(bigSamples);
  const idempotentStats = summarize(idempotentSamples);
  const repetitiveStats = summarize(repetitiveSamples);
  const perMiB = (w: Work, mib: number): Work => ({
    readUnits: w.readUnits / mib,
    writeUnits: w.writeUnits / mib,
    s3Puts: w.s3Puts / mib,
    s3Gets: w.s3Gets / mib,
    lambdaMs: w.lambdaMs / mib,
    httpBytes: w.httpBytes / mib,
  });
  const subtract = (a: Work, b: Work): Work => ({
    readUnits: Math.max(0, a.readUnits - b.readUnits),
    writeUnits: Math.max(0, a.writeUnits - b.writeUnits),
    s3Puts: Math.max(0, a.s3Puts - b.s3Puts),
    s3Gets: Math.max(0, a.s3Gets - b.s3Gets),
    lambdaMs: Math.max(0, a.lambdaMs - b.lambdaMs),
    httpBytes: Math.max(0, a.httpBytes - b.httpBytes),
  });
  const tierWork: Work = {
    readUnits: sum((s) => s.work.readUnits),
    writeUnits: sum((s) => s.work.writeUnits),
    s3Puts: sum((s) => s.work.s3ByCommand.PutObjectCommand ?? 0),
    s3Gets: sum((s) => s.work.s3ByCommand.GetObjectCommand ?? 0),
    lambdaMs: tierSamples.reduce((acc, s) => acc + Math.max(0, s.latencyMs - s.awsMs) + (s.roundTrips - s.s3RoundTrips) * AWS_DYNAMODB_RTT_MS + s.s3RoundTrips * AWS_S3_RTT_MS, 0),
    httpBytes: 0,
  };
  const idleStats = summarize(idleSamples);
  // The idle pass visits each partition of the topic; the reference workload has REFERENCE_WORKLOAD.partitions.
  const idleScale = REFERENCE_WORKLOAD.partitions / PLAN.partitions;
  const idle = workOf(idleStats);
  const scaleUnits = (w: Work, k: number): Work => ({ ...w, readUnits: w.readUnits * k, writeUnits: w.writeUnits * k });
  const producePerCall = workOf(produceStats);
  const measured: MeasuredWork | undefined = groupStats && {
    produce: producePerCall,
    produceBatch: { records: BATCH, recordBytes: RECORD_BYTES },
    groupFetch: {
      // An empty poll and a commit work per partition held: scaled from the bench topic to the workload's.
      perCall: scaleUnits(workOf(groupStats.fetchAtTail), idleScale),
      // The data part of a poll reads batches as a partition fetch does: the fetch's work per MiB (its own fixed
      // part included, so this errs high).
      perMiB: perMiB(workOf(hotFetchStats), hotFetchStats.payloadBytes / MIB),
    },
    commit: scaleUnits(workOf(groupStats.commit), idleScale),
    heartbeat: workOf(groupStats.heartbeat),
    tierPerMiB: perMiB(tierWork, tierPayloadMiB),
    idleMaintenancePass: { ...idle, readUnits: idle.readUnits * idleScale, writeUnits: idle.writeUnits * idleScale },
    coldReadPerMiB: perMiB(subtract(workOf(coldStats), workOf(archiveHotStats)), coldStats.payloadBytes / MIB),
    // Write units are billed per started KB of item: units × 1 KB bounds the item size from above (by < 1 KB/item).
    hotBytesPerPayloadByte: (produceStats.writeUnits * 1024) / (BATCH * RECORD_BYTES),
    s3BytesPerPayloadByte: tieredBytes / (tieredRecords * RECORD_BYTES),
    // A spilled batch is stored exactly as a segment stores it: the same bytes per payload byte.
    spilledBytesPerPayloadByte: (produceStats.s3ByCommand.PutObjectCommand ?? 0) > 0 ? tieredBytes / (tieredRecords * RECORD_BYTES) : 0,
  };
  const deployment: Deployment = {
    produceMemoryMb: FUNCTIONS.produce.memoryMb,
    groupsMemoryMb: FUNCTIONS.groups.memoryMb,
    maintenanceMemoryMb: FUNCTIONS.maintenance.memoryMb,
    hotRetentionLimitHours: stack.config.hotRetentionLimitHours,
    hotTtlMarginHours: HOT_TTL_MARGIN_MS / 3_600_000,
    tierAfterHours: stack.config.tierAfterMs / 3_600_000,
    hotCopyGraceHours: HOT_COPY_GRACE_MS / 3_600_000,
    // DynamoDB deletes expired items "within a few days" (its TTL documentation; ~2 days): the worst case is billed.
    ttlLagHours: 48,
    maintenancePassesPerMonth: SECONDS_PER_MONTH / 60,
  };
  const kinesis: KinesisBill[] = [
    kinesisOnDemandBill(REFERENCE_WORKLOAD, US_EAST_1),
    kinesisProvisionedBill(REFERENCE_WORKLOAD, US_EAST_1),
    kinesisProvisionedBill({ ...REFERENCE_WORKLOAD, retentionDays: 1 }, US_EAST_1),
  ];
  const scenarios: Scenario[] = [];
  let bill: Bill | undefined;
  if (measured && groupStats) {
    bill = shardlogBill(REFERENCE_WORKLOAD, measured, deployment, US_EAST_1);
    const variant = (name: string, note: string, w: Workload, mw: MeasuredWork, d: Deployment, estimated = false) =>
      scenarios.push({ name, total: shardlogBill(w, mw, d, US_EAST_1).total, note: estimated ? `${note} (estimate: not measured)` : note });
    const tieredEverything: Deployment = { ...deployment, hotRetentionLimitHours: 0 };
    const big: MeasuredWork = { ...measured, produce: workOf(bigStats), produceBatch: { records: 1000, recordBytes: RECORD_BYTES } };
    const bigWorkload: Workload = { ...REFERENCE_WORKLOAD, recordsPerProduce: 1000 };
    const slowPolls: Workload = { ...REFERENCE_WORKLOAD, pollIntervalS: 5 };
    const lean: Deployment = { ...deployment, produceMemoryMb: 256, groupsMemoryMb: 256, maintenanceMemoryMb: 512 };
    const ratio = (repetitiveStats.writeUnits || 1) / (produceStats.writeUnits || 1);
    const compressible: MeasuredWork = {
      ...measured,
      produce: workOf(repetitiveStats),
      groupFetch: { ...measured.groupFetch, perMiB: { ...measured.groupFetch.perMiB, readUnits: measured.groupFetch.perMiB.readUnits * ratio } },
      hotBytesPerPayloadByte: measured.hotBytesPerPayloadByte * ratio,
      s3BytesPerPayloadByte: measured.s3BytesPerPayloadByte * ratio,
      // Highly compressible batches of 100 records stay under the spill threshold: inline, no S3 objects.
      spilledBytesPerPayloadByte: (repetitiveStats.s3ByCommand.PutObjectCommand ?? 0) > 0 ? measured.spilledBytesPerPayloadByte * ratio : 0,
    };
    scenarios.push({
      name: 'as measured',
      total: bill.total,
      note: `the design today: batches over the 8 KiB spill threshold in S3 behind a pointer item, a 7-day topic's items expire by the TTL written with each batch, ${REFERENCE_WORKLOAD.recordsPerProduce} records per produce, polls every ${REFERENCE_WORKLOAD.pollIntervalS} s`,
    });
    variant('tier every topic to S3 after 15 min', `SHARDLOG_HOT_RETENTION_LIMIT_HOURS=0: tiering reads each batch and rewrites it to set its TTL (${round(measured.tierPerMiB.writeUnits, 1)} WRU + ${round(measured.tierPerMiB.readUnits, 1)} RRU per MiB, measured)`, REFERENCE_WORKLOAD, measured, tieredEverything);
    variant(
      'every produce idempotent (the SDK producer)',
      `measured: an Idempotency-Key makes a produce a TransactWriteItems with its idempotency record: ${f2(idempotentStats.writeUnits)} WRU per request instead of ${f2(produceStats.writeUnits)}`,
      REFERENCE_WORKLOAD,
      { ...measured, produce: workOf(idempotentStats) },
      deployment,
    );
    variant('1,000 records per produce', `measured: ${round(bigStats.writeUnitsPerMiB ?? 0, 1)} WRU/MiB and one API/Lambda request per 1,000 records`, bigWorkload, big, deployment);
    variant('consumers poll every 5 s', 'a fifth of the polls, each fuller', slowPolls, measured, deployment);
    variant('functions at 256 MB', 'produce and groups at 256 MB, maintenance at 512 MB (their measured CPU time is a few ms)', REFERENCE_WORKLOAD, measured, lean);
    variant('1,000 records per produce + 5 s polls + 256 MB', 'the measured variants above together', { ...bigWorkload, pollIntervalS: 5 }, big, lean);
    const spillStats = summarize(spillSamples);
    const spillFetchStats = summarize(spillFetchSamples);
    const huge: MeasuredWork = {
      ...measured,
      produce: workOf(spillStats),
      produceBatch: { records: 2000, recordBytes: RECORD_BYTES },
      groupFetch: { ...measured.groupFetch, perMiB: perMiB(workOf(spillFetchStats), spillFetchStats.payloadBytes / MIB) },
      hotBytesPerPayloadByte: (spillStats.writeUnits * 1024) / (2000 * RECORD_BYTES),
    };
    variant(
      '2,000 records per produce + 5 s polls + 256 MB',
      `measured: ${f2(spillStats.s3ByCommand.PutObjectCommand)} PUT + ${f2(spillStats.writeUnits)} WRU per produce, ${f2(spillFetchStats.s3ByCommand.GetObjectCommand)} GET per 2,000-record fetch`,
      { ...REFERENCE_WORKLOAD, recordsPerProduce: 2000, pollIntervalS: 5 },
      huge,
      lean,
    );
    variant(
      'highly compressible JSON',
      `sensitivity: JSON that gzips ~19× (the first generator) stays under the 8 KiB spill threshold, inline: ${round(repetitiveStats.writeUnitsPerMiB ?? 0, 1)} WRU/MiB and no PUT, instead of ${round(produceStats.writeUnitsPerMiB ?? 0, 1)} WRU/MiB + 1 PUT per produce`,
      REFERENCE_WORKLOAD,
      compressible,
      deployment,
    );
  }

  const date = new Date().toISOString().slice(0, 10);
  const name = QUICK ? `${date}-quick` : date;
  const final: BenchResults = {
    name,
    date,
    mode: QUICK ? 'quick' : 'full',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: round(totalmem() / 1024 ** 3, 1), node: process.version },
    durationSeconds: 0,
    plan: PLAN,
    assumptions: { awsDynamoDbRttMs: AWS_DYNAMODB_RTT_MS, awsS3RttMs: AWS_S3_RTT_MS, deployment, recordBytes: RECORD_BYTES, batch: BATCH },
    throughput: results.sections.throughput as BenchResults['throughput'],
    operations: {
      produce: produceStats,
      fetch: hotFetchStats,
      ...(groupStats ? { groupFetch: groupStats.fetch, groupFetchAtTail: groupStats.fetchAtTail, commit: groupStats.commit, heartbeat: groupStats.heartbeat } : {}),
      produce1000: bigStats,
      produceIdempotent: idempotentStats,
      produceRepetitive: repetitiveStats,
      produceSpilled2000: summarize(spillSamples),
      fetchSpilled: summarize(spillFetchSamples),
      coldFetch: coldStats,
    },
    groups,
    heartbeatGrowth,
    tiering,
    coldVsHot: results.sections.coldVsHot as BenchResults['coldVsHot'],
    growth,
    bundles,
    contention,
    costModel: { workload: REFERENCE_WORKLOAD, measured, deployment, prices: US_EAST_1, shardlog: bill, kinesis, scenarios },
  };
  final.durationSeconds = round((performance.now() - STARTED) / 1000, 0);
  await mkdir(args.out as string, { recursive: true });
  const base = join(args.out as string, name);
  await writeFile(`${base}.json`, `${JSON.stringify(final, null, 2)}\n`);
  await writeFile(`${base}-chart.svg`, renderChart(final));
  const png = await toPng(`${base}-chart.svg`, `${base}-chart.png`);
  await writeFile(`${base}.md`, renderMarkdown(final, png ? `${name}-chart.png` : `${name}-chart.svg`));
  log(`wrote ${base}.json, ${base}.md and the chart (${png ? 'png + svg' : 'svg'}) in ${final.durationSeconds} s`);
  if (bill) log(`modeled monthly bill: shardlog $${bill.total.toFixed(2)} · Kinesis on-demand $${kinesis[0]?.total.toFixed(2)} · provisioned $${kinesis[2]?.total.toFixed(2)}–${kinesis[1]?.total.toFixed(2)}`);
} finally {
  benchDynamo.destroy();
  await stack.stop();
}

/** Converts the SVG with whatever converter is installed (no npm dependency); false when there is none. */
async function toPng(svg: string, png: string): Promise<boolean> {
  const run = promisify(execFile);
  for (const [cmd, argv] of [
    ['rsvg-convert', ['-w', '1600', '-o', png, svg]],
    ['convert', ['-density', '150', svg, png]],
  ] as const) {
    try {
      await run(cmd, [...argv]);
      return true;
    } catch {
      // not installed, or it cannot read SVG: try the next one
    }
  }
  return false;
}
