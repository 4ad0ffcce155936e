/**
 * The benchmark: starts the embedded local stack in this process, drives the real Lambda handlers over HTTP
 * with a realistic workload, counts the AWS work of every call, and turns it into a monthly bill next to
 * Kinesis Data Streams.
 *
 *   npm run bench               # full run: 7 minutes, 2 of them contention (2 cores, load average 8)
 *   npm run bench -- --quick    # every section, fewer calls, smaller fills: 1 minute (load 4), 2 (load 9)
 *   npm run bench -- --out DIR  # where results go (default bench/results)
 *
 * Writes `<out>/<date>[-quick].json` (every figure), `<out>/<date>[-quick].md` (the summary) and
 * `<out>/<date>[-quick]-chart.svg` and `-frontier.svg` (+ `.png`, rendered by headless Chromium through
 * playwright-core, else `rsvg-convert` or ImageMagick's `convert`: bench/png.ts).
 *
 * One module per section, each a function of the {@link BenchContext} (and of what earlier sections produced)
 * that returns its results; this file runs them in order and writes the report:
 *   1. throughput.ts   concurrent producers, then consumers, on the reference topic
 *   2. per-call.ts     latency and work per call, one call at a time (the report's per-call table)
 *   3. groups.ts       group fetch, commit, heartbeat; 4. heartbeat cost against partitions held
 *   5. tiering.ts      the maintenance pass tiering a long-retention topic; 6. cold reads against hot reads
 *   7. growth.ts       one partition from 10^3 records up
 *   8. bundles.ts      Lambda bundles and module initialisation; contention.ts: producers racing on partitions;
 *                     wire.ts: JSON, binary and S3-direct per MiB, and rates beside kinesalite run in-process
 *   9. bill.ts         the monthly bill from the measured work
 *  10. share-groups.ts units and round trips per record delivered and acked, members racing on one partition,
 *                     the bill with a share group reading instead of a consumer group
 *  11. frontier.ts     the cost frontier against Kinesis over rate and number of topics, and lingerMs's trade-off
 *
 * How calls are counted: the handlers run in this process over the local stack's engine, so the bench attaches
 * the CapacityMeter and an AwsTracer to that engine's clients (harness.ts). Latency, units and round trips of a
 * single operation are measured by probes that run one call at a time; throughput is measured with concurrent
 * producers and consumers. DynamoDB Local reports consumed capacity as on-demand DynamoDB does. Latencies are
 * those of this machine against emulators, not of AWS: compare them with each other, and read the round trips
 * for what AWS would add.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { quietSdkNodeVersionWarning } from '../infra/local/local-env.js';
import { startLocalStack } from '../infra/local/stack.js';
import { AWS_DYNAMODB_RTT_MS, AWS_S3_RTT_MS, modelBill } from './bill.js';
import { measureBundles } from './bundles.js';
import { measureContention } from './contention.js';
import { measureGroups, measureHeartbeatGrowth } from './groups.js';
import { measureFrontier } from './frontier.js';
import { renderFrontierChart, renderFrontierMarkdown } from './frontier-report.js';
import { measureGrowth } from './growth.js';
import { BATCH, benchContext, PLANS, RECORD_BYTES, round } from './harness.js';
import { measurePerCall } from './per-call.js';
import { svgToPng } from './png.js';
import { measureShareGroups } from './share-groups.js';
import { renderChart, renderMarkdown, type BenchResults } from './report.js';
import { measureThroughput } from './throughput.js';
import { measureTiering } from './tiering.js';
import { measureWire } from './wire.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join('bench', 'results') },
  },
});
const QUICK = args.quick === true;
const PLAN = PLANS[QUICK ? 'quick' : 'full'];

const STARTED = performance.now();
const log = (message: string) => console.log(`[bench ${((performance.now() - STARTED) / 1000).toFixed(0).padStart(4)} s] ${message}`);

// Handlers log one line per request at info; the bench prints its own progress.
process.env.LOG_LEVEL ??= 'warn';
quietSdkNodeVersionWarning();

const stack = await startLocalStack({ inMemory: true, port: 0, maintenanceIntervalMs: 24 * 3600 * 1000, log: console });
log(`local stack at ${stack.url} (DynamoDB Local ${stack.dynamoEndpoint}, s3rver ${stack.s3Endpoint})`);
const ctx = benchContext(stack, PLAN, log);
try {
  const throughput = await measureThroughput(ctx);
  const perCall = await measurePerCall(ctx, throughput.topic, throughput.boundaries);
  const groups = await measureGroups(ctx, throughput.topic);
  const heartbeatGrowth = await measureHeartbeatGrowth(ctx);
  const tiering = await measureTiering(ctx, throughput.topic);
  const growth = await measureGrowth(ctx);
  log(`bundles: esbuild as cdk synth, import() in a fresh node × ${PLAN.bundleRuns}`);
  const bundles = await measureBundles(PLAN.bundleRuns);
  const contention = await measureContention({
    http: ctx.http,
    engine: ctx.engine,
    producers: PLAN.contentionProducers,
    requests: PLAN.contentionRequests,
    log,
  });
  const wire = await measureWire(ctx);
  const costModel = modelBill({ plan: PLAN, config: stack.config, perCall, groups: groups.stats, tiering });
  const shareGroups = await measureShareGroups(ctx, costModel.shardlog);
  const frontier = costModel.measured ? await measureFrontier(ctx, costModel.measured, costModel.deployment, QUICK) : undefined;

  const date = new Date().toISOString().slice(0, 10);
  const name = QUICK ? `${date}-quick` : date;
  const final: BenchResults = {
    name,
    date,
    mode: QUICK ? 'quick' : 'full',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: round(totalmem() / 1024 ** 3, 1), node: process.version },
    durationSeconds: 0,
    plan: { ...PLAN },
    assumptions: { awsDynamoDbRttMs: AWS_DYNAMODB_RTT_MS, awsS3RttMs: AWS_S3_RTT_MS, deployment: costModel.deployment, recordBytes: RECORD_BYTES, batch: BATCH },
    throughput: throughput.section,
    operations: {
      produce: perCall.produce,
      fetch: perCall.fetch,
      ...(groups.stats
        ? { groupFetch: groups.stats.fetch, groupFetchAtTail: groups.stats.fetchAtTail, commit: groups.stats.commit, heartbeat: groups.stats.heartbeat }
        : {}),
      produce1000: perCall.produce1000,
      produceIdempotent: perCall.produceIdempotent,
      produceRepetitive: perCall.produceRepetitive,
      produceSpilled2000: perCall.produceSpilled2000,
      fetchSpilled: perCall.fetchSpilled,
      produceSdk: perCall.produceSdk,
      fetchSdk: perCall.fetchSdk,
      coldFetch: tiering.coldVsHot.cold,
    },
    groups: groups.groups,
    heartbeatGrowth,
    tiering: tiering.tiering,
    coldVsHot: tiering.coldVsHot,
    growth,
    bundles,
    contention,
    shareGroups,
    wire,
    costModel,
    ...(frontier ? { frontier } : {}),
  };
  final.durationSeconds = round((performance.now() - STARTED) / 1000, 0);
  await writeReport(final, args.out as string);
  if (frontier) console.log(`\n${renderFrontierMarkdown(frontier)}`);
  const { shardlog: bill, kinesis } = costModel;
  if (bill) log(`modeled monthly bill: shardlog $${bill.total.toFixed(2)} · Kinesis on-demand $${kinesis[0]?.total.toFixed(2)} · provisioned $${kinesis[2]?.total.toFixed(2)}–${kinesis[1]?.total.toFixed(2)}`);
} finally {
  ctx.close();
  await stack.stop();
}

/** `<out>/<name>.json`, `.md`, the chart and the frontier's chart (svg, and png when a renderer is installed). */
async function writeReport(results: BenchResults, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  const base = join(out, results.name);
  await writeFile(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(`${base}-chart.svg`, renderChart(results));
  const png = await svgToPng(`${base}-chart.svg`, `${base}-chart.png`);
  let frontierChart: string | undefined;
  if (results.frontier) {
    const subtitle = `us-east-1 list prices as of ${results.costModel.prices.asOf}; shardlog from units counted per request (${results.mode} run, ${results.date}); dashed: old default and Advantage`;
    await writeFile(`${base}-frontier.svg`, renderFrontierChart(results.frontier, subtitle));
    frontierChart = (await svgToPng(`${base}-frontier.svg`, `${base}-frontier.png`)) ? `${results.name}-frontier.png` : `${results.name}-frontier.svg`;
  }
  await writeFile(`${base}.md`, renderMarkdown(results, png ? `${results.name}-chart.png` : `${results.name}-chart.svg`, results.frontier && renderFrontierMarkdown(results.frontier, frontierChart)));
  log(`wrote ${base}.json, ${base}.md and the charts (${png ? `png (${png}) + svg` : 'svg'}) in ${results.durationSeconds} s`);
}
