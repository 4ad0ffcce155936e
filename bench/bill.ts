import { FUNCTIONS } from '../functions/routes.js';
import type { ShardlogConfig } from '../lib/config.js';
import { HOT_COPY_GRACE_MS } from '../lib/maintenance/maintenance-steps.js';
import { HOT_TTL_MARGIN_MS } from '../lib/topics/topic.js';
import {
  kinesisOnDemandBill,
  kinesisProvisionedBill,
  REFERENCE_WORKLOAD,
  shardlogBill,
  type Deployment,
  type MeasuredWork,
  type Work,
  type Workload,
} from './cost-model.js';
import { BATCH, RECORD_BYTES, round, type Plan } from './harness.js';
import type { GroupStats } from './groups.js';
import type { OperationStats, Sample } from './measure.js';
import type { PerCallResults } from './per-call.js';
import { MIB, SECONDS_PER_MONTH, US_EAST_1 } from './prices.js';
import type { BenchResults, Scenario } from './report.js';
import type { TieringResults } from './tiering.js';

/** What AWS adds per sequential request, for the modeled Lambda duration (in-region p50s; an assumption). */
export const AWS_DYNAMODB_RTT_MS = 6;
export const AWS_S3_RTT_MS = 25;

const f2 = (n: number | undefined) => String(round(n ?? 0, 2));

/** What the bill is modeled from: the measurements of the sections before. */
export interface BillInputs {
  readonly plan: Plan;
  /** The local stack's configuration (hot-retention limit, tiering delay). */
  readonly config: ShardlogConfig;
  readonly perCall: PerCallResults;
  readonly groups: GroupStats | undefined;
  readonly tiering: TieringResults;
}

/**
 * Section 9: the monthly bill of the reference workload from the measured work per call, next to Kinesis Data
 * Streams, and the variants that would lower it. Without group measurements only Kinesis is priced.
 */
export function modelBill(inputs: BillInputs): BenchResults['costModel'] {
  const { plan, config, perCall, groups, tiering } = inputs;
  const tieredRecords = tiering.tiering.records;
  const tieredBytes = tiering.tiering.segmentBytes;
  const tierPayloadMiB = (tieredRecords * RECORD_BYTES) / MIB;
  const sum = (pick: (s: Sample) => number) => tiering.passes.reduce((acc, s) => acc + pick(s), 0);
  const tierWork: Work = {
    readUnits: sum((s) => s.work.readUnits),
    writeUnits: sum((s) => s.work.writeUnits),
    s3Puts: sum((s) => s.work.s3ByCommand.PutObjectCommand ?? 0),
    s3Gets: sum((s) => s.work.s3ByCommand.GetObjectCommand ?? 0),
    lambdaMs: sum((s) => Math.max(0, s.latencyMs - s.awsMs) + (s.roundTrips - s.s3RoundTrips) * AWS_DYNAMODB_RTT_MS + s.s3RoundTrips * AWS_S3_RTT_MS),
    httpBytes: 0,
  };
  const { produce: produceStats, fetch: hotFetchStats } = perCall;
  const { hot: archiveHotStats, cold: coldStats } = tiering.coldVsHot;
  // The idle pass visits each partition of the topic; the reference workload has REFERENCE_WORKLOAD.partitions.
  const idleScale = REFERENCE_WORKLOAD.partitions / plan.partitions;
  const idle = workOf(tiering.tiering.idlePass);
  const measured: MeasuredWork | undefined = groups && {
    produce: workOf(produceStats),
    produceBatch: { records: BATCH, recordBytes: RECORD_BYTES },
    groupFetch: {
      // An empty poll and a commit work per partition held: scaled from the bench topic to the workload's.
      perCall: scaleUnits(workOf(groups.fetchAtTail), idleScale),
      // The data part of a poll reads batches as a partition fetch does: the fetch's work per MiB (its own fixed
      // part included, so this errs high).
      perMiB: perMiB(workOf(hotFetchStats), hotFetchStats.payloadBytes / MIB),
    },
    commit: scaleUnits(workOf(groups.commit), idleScale),
    heartbeat: workOf(groups.heartbeat),
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
    hotRetentionLimitHours: config.hotRetentionLimitHours,
    hotTtlMarginHours: HOT_TTL_MARGIN_MS / 3_600_000,
    tierAfterHours: config.tierAfterMs / 3_600_000,
    hotCopyGraceHours: HOT_COPY_GRACE_MS / 3_600_000,
    // DynamoDB deletes expired items "within a few days" (its TTL documentation; ~2 days): the worst case is billed.
    ttlLagHours: 48,
    maintenancePassesPerMonth: SECONDS_PER_MONTH / 60,
  };
  const kinesis = [
    kinesisOnDemandBill(REFERENCE_WORKLOAD, US_EAST_1),
    kinesisProvisionedBill(REFERENCE_WORKLOAD, US_EAST_1),
    kinesisProvisionedBill({ ...REFERENCE_WORKLOAD, retentionDays: 1 }, US_EAST_1),
  ];
  const costModel = { workload: REFERENCE_WORKLOAD, measured, deployment, prices: US_EAST_1, shardlog: undefined, sdkDefaults: undefined, kinesis, scenarios: [] };
  if (!measured) return costModel;
  const bill = shardlogBill(REFERENCE_WORKLOAD, measured, deployment, US_EAST_1);
  const sdkDefaults = shardlogBill(REFERENCE_WORKLOAD, sdkWork(perCall, measured), deployment, US_EAST_1);
  return {
    ...costModel,
    shardlog: bill,
    sdkDefaults,
    scenarios: [
      { name: 'as measured', total: bill.total, note: AS_MEASURED },
      { name: "the SDK's defaults", total: sdkDefaults.total, note: SDK_DEFAULTS },
      ...variants(perCall, measured, deployment),
    ],
  };
}

const SDK_DEFAULTS =
  'the same workload as the SDK sends and reads it: produces binary (compressed by the client) with an Idempotency-Key, fetches binary with every spilled batch by presigned URL (the client\'s GETs billed as S3 GETs, no function waits for them)';

/**
 * The measured work with the SDK's defaults (bench/per-call.ts, `produceSdk` and `fetchSdk`): its produce, and the
 * data part of a poll from its fetch per MiB plus the presigned GETs the client made. The empty poll, commits and
 * heartbeats are the JSON ones (their bodies are a few hundred bytes either way).
 */
function sdkWork(perCall: PerCallResults, measured: MeasuredWork): MeasuredWork {
  const fetchWork = workOf(perCall.fetchSdk);
  return {
    ...measured,
    produce: workOf(perCall.produceSdk),
    groupFetch: {
      ...measured.groupFetch,
      perMiB: perMiB({ ...fetchWork, s3Gets: fetchWork.s3Gets + perCall.fetchSdkUrlGets }, perCall.fetchSdk.payloadBytes / MIB),
    },
  };
}

const AS_MEASURED = `the design today: batches over the 8 KiB spill threshold in S3 behind a pointer item, a 7-day topic's items expire by the TTL written with each batch, ${REFERENCE_WORKLOAD.recordsPerProduce} records per produce, polls every ${REFERENCE_WORKLOAD.pollIntervalS} s`;

/** "What would lower the bill": the measured variants of the workload and the deployment. */
function variants(perCall: PerCallResults, measured: MeasuredWork, deployment: Deployment): Scenario[] {
  const { produce: produceStats, produce1000: bigStats, produceIdempotent: idempotentStats, produceRepetitive: repetitiveStats } = perCall;
  const scenarios: Scenario[] = [];
  const variant = (name: string, note: string, w: Workload, mw: MeasuredWork, d: Deployment) =>
    scenarios.push({ name, total: shardlogBill(w, mw, d, US_EAST_1).total, note });
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
  const { produceSpilled2000: spillStats, fetchSpilled: spillFetchStats } = perCall;
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
  return scenarios;
}

/** Modeled Lambda duration of a call: its own work here, plus AWS's latency for each sequential request. */
function lambdaMs(stats: OperationStats): number {
  const s3 = stats.s3RoundTripsMean;
  return stats.localMsP50 + (stats.roundTrips.mean - s3) * AWS_DYNAMODB_RTT_MS + s3 * AWS_S3_RTT_MS;
}

/** The work of one call from its measured statistics (Lambda time modeled from its round trips). */
export function workOf(stats: OperationStats): Work {
  return {
    readUnits: stats.readUnits,
    writeUnits: stats.writeUnits,
    s3Puts: stats.s3ByCommand.PutObjectCommand ?? 0,
    s3Gets: stats.s3ByCommand.GetObjectCommand ?? 0,
    lambdaMs: lambdaMs(stats),
    httpBytes: stats.requestBytes + stats.responseBytes,
  };
}

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

const scaleUnits = (w: Work, k: number): Work => ({ ...w, readUnits: w.readUnits * k, writeUnits: w.writeUnits * k });
