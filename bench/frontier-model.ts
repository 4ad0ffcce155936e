import type { RequestShape } from './batching.js';
import {
  kinesisOnDemandBill,
  kinesisProvisionedBill,
  NO_WORK,
  REFERENCE_WORKLOAD,
  shardlogBill,
  workLines,
  type BillLine,
  type Deployment,
  type MeasuredWork,
  type Work,
  type Workload,
} from './cost-model.js';
import { GB, KB, MIB, SECONDS_PER_MONTH, type PriceTable } from './prices.js';

/**
 * The cost frontier's arithmetic (bench/frontier.ts measures, this prices): the monthly bill of one topic at a
 * given rate from the work measured per produce request at each batch size, the requests the SDK producer sends
 * at that rate (bench/batching.ts), the work of reading batches of that size, and what an idle topic costs;
 * then fleets of topics, Kinesis Data Streams for the same traffic, and where the curves cross. Pure: every
 * input is an argument (test/unit/bench/frontier-model.test.ts checks it by hand).
 */

/** Produce work at one batch size: `records` to one partition, and `records` to each of `partitions` in one request. */
export interface ProducePoint {
  readonly records: number;
  readonly partitions: number;
  readonly onePartition: Work;
  readonly allPartitions: Work;
}

/** Reading batches of `recordsPerBatch` records: a fetch's work per MiB of payload, and the bytes they are stored in. */
export interface ReadPoint {
  readonly recordsPerBatch: number;
  readonly fetchPerMiB: Work;
  /** DynamoDB item bytes (with the 100 B DynamoDB adds per item) per payload byte. */
  readonly hotBytesPerPayloadByte: number;
  /** S3 bytes of spilled batches per payload byte. */
  readonly spilledBytesPerPayloadByte: number;
}

/** What a topic costs when nothing happens on it. */
export interface IdleTopicWork {
  /** A scheduled pass that skips the topic (reading its topic item), per pass. */
  readonly skipPerPass: Work;
  /** The pass that visits it (every partition), at least hourly. */
  readonly visitPerPass: Work;
  /** The invocation every pass makes whatever the topics: one a fleet. */
  readonly sharedPerPass: Work;
  /** Bytes of the topic's own items (topic, catalog entry, partition meta), with DynamoDB's 100 B each. */
  readonly storedBytes: number;
  readonly passesPerMonth: number;
  readonly visitsPerMonth: number;
}

export interface FrontierInputs {
  readonly produce: readonly ProducePoint[];
  readonly read: readonly ReadPoint[];
  readonly idle: IdleTopicWork;
  /** The rest of the measured work (group polls, commits, heartbeats), from the bill section. */
  readonly base: MeasuredWork;
  readonly deployment: Deployment;
  readonly prices: PriceTable;
  readonly recordBytes: number;
}

const FIELDS = ['readUnits', 'writeUnits', 's3Puts', 's3Gets', 'lambdaMs', 'httpBytes'] as const;
const combine = (f: (field: (typeof FIELDS)[number]) => number): Work => Object.fromEntries(FIELDS.map((k) => [k, f(k)])) as unknown as Work;
/** `w` × `k`, field by field. */
export const scaleWork = (w: Work, k: number): Work => combine((f) => w[f] * k);
/** `a` + `b`, field by field; `subtractWork` floors each field at 0. */
export const addWork = (a: Work, b: Work): Work => combine((f) => a[f] + b[f]);

export const subtractWork = (a: Work, b: Work): Work => combine((f) => Math.max(0, a[f] - b[f]));

/** Linear interpolation of `pick` over points sorted by `x`; beyond the last point, proportional to x. */
function interpolate<T>(points: readonly T[], x: number, xOf: (p: T) => number, pick: (p: T) => Work): Work {
  const sorted = [...points].sort((a, b) => xOf(a) - xOf(b));
  const first = sorted[0];
  if (!first) return NO_WORK;
  if (x <= xOf(first)) return pick(first);
  for (let i = 1; i < sorted.length; i++) {
    const lo = sorted[i - 1]!;
    const hi = sorted[i]!;
    if (x <= xOf(hi)) {
      const t = (x - xOf(lo)) / (xOf(hi) - xOf(lo));
      return combine((f) => pick(lo)[f] + t * (pick(hi)[f] - pick(lo)[f]));
    }
  }
  const last = sorted[sorted.length - 1]!;
  return scaleWork(pick(last), x / xOf(last));
}

/** One partition's batch of `records` in a request: what the all-partition request adds per extra partition. */
const itemWork = (p: ProducePoint): Work => combine((f) => Math.max(0, (p.allPartitions[f] - p.onePartition[f]) / Math.max(1, p.partitions - 1)));

/** What every request costs whatever its batches (API call, idempotency record, the handler's own time). */
export function requestBase(produce: readonly ProducePoint[]): Work {
  const bases = produce.map((p) => combine((f) => Math.max(0, p.onePartition[f] - itemWork(p)[f])));
  return scaleWork(bases.reduce(addWork, NO_WORK), 1 / Math.max(1, bases.length));
}

/** The work of one produce request carrying `items[i]` records for each of its partitions. */
export function requestWork(items: readonly number[], produce: readonly ProducePoint[]): Work {
  return items.reduce((w, n) => addWork(w, interpolate(produce, n, (p) => p.records, itemWork)), requestBase(produce));
}

/** Mean work per request, records per request and records per partition batch over request shapes. */
export function meanRequest(shapes: readonly RequestShape[], produce: readonly ProducePoint[]) {
  const requests = shapes.reduce((sum, s) => sum + s.count, 0);
  const records = shapes.reduce((sum, s) => sum + s.count * s.items.reduce((a, b) => a + b, 0), 0);
  const batches = shapes.reduce((sum, s) => sum + s.count * s.items.length, 0);
  const total = shapes.reduce((w, s) => addWork(w, scaleWork(requestWork(s.items, produce), s.count)), NO_WORK);
  return { work: scaleWork(total, 1 / requests), recordsPerRequest: records / requests, recordsPerBatch: records / batches };
}

/** How the topic's producers and consumers behave. */
export interface TopicUsage {
  readonly recordsPerSecond: number;
  /** The requests one of its producers sends (all its producers send alike). */
  readonly shapes: readonly RequestShape[];
  readonly pollIntervalS: number;
}

/** The workload of one topic: the reference workload's shape (partitions, groups, retention) at another rate. */
export function topicWorkload(recordsPerSecond: number, recordsPerProduce: number, pollIntervalS: number, recordBytes: number): Workload {
  return {
    ...REFERENCE_WORKLOAD,
    name: `${recordsPerSecond} records/s of ${recordBytes} B`,
    bytesPerMonth: recordsPerSecond * recordBytes * SECONDS_PER_MONTH,
    recordBytes,
    recordsPerProduce,
    pollIntervalS,
  };
}

/** One topic's monthly bill on shardlog, without the maintenance invocation it shares with the fleet. */
export function shardlogTopicBill(usage: TopicUsage, inputs: FrontierInputs): { total: number; lines: BillLine[]; recordsPerRequest: number } {
  const { prices, deployment, idle } = inputs;
  const request = meanRequest(usage.shapes, inputs.produce);
  const read = interpolateRead(inputs.read, request.recordsPerBatch);
  const workload = topicWorkload(usage.recordsPerSecond, request.recordsPerRequest, usage.pollIntervalS, inputs.recordBytes);
  const measured: MeasuredWork = {
    ...inputs.base,
    produce: request.work,
    produceBatch: { records: request.recordsPerRequest, recordBytes: inputs.recordBytes },
    groupFetch: { perCall: inputs.base.groupFetch.perCall, perMiB: read.fetchPerMiB },
    hotBytesPerPayloadByte: read.hotBytesPerPayloadByte,
    spilledBytesPerPayloadByte: read.spilledBytesPerPayloadByte,
  };
  // The scheduled pass is priced below: per topic, what skipping and visiting it adds; the invocation is the fleet's.
  const bill = shardlogBill(workload, measured, { ...deployment, maintenancePassesPerMonth: 0 }, prices);
  const maintenance = (name: string, calls: number, work: Work) =>
    workLines({ name, calls, work, memoryMb: deployment.maintenanceMemoryMb, viaHttp: false, lambdaRequests: false }, prices);
  const lines = [
    ...bill.lines,
    ...maintenance('maintenance: pass skips the topic', idle.passesPerMonth - idle.visitsPerMonth, idle.skipPerPass),
    ...maintenance('maintenance: pass visits the topic', idle.visitsPerMonth, idle.visitPerPass),
    { service: 'DynamoDB' as const, item: 'storage: topic items', quantity: idle.storedBytes / GB, unit: 'GB-month', dollars: (idle.storedBytes / GB) * prices.dynamodb.storagePerGbMonth },
  ];
  return { total: lines.reduce((sum, l) => sum + l.dollars, 0), lines, recordsPerRequest: request.recordsPerRequest };
}

function interpolateRead(points: readonly ReadPoint[], recordsPerBatch: number): ReadPoint {
  const sorted = [...points].sort((a, b) => a.recordsPerBatch - b.recordsPerBatch);
  const lo = [...sorted].reverse().find((p) => p.recordsPerBatch <= recordsPerBatch) ?? sorted[0]!;
  const hi = sorted.find((p) => p.recordsPerBatch >= recordsPerBatch) ?? sorted[sorted.length - 1]!;
  const t = hi.recordsPerBatch === lo.recordsPerBatch ? 0 : (recordsPerBatch - lo.recordsPerBatch) / (hi.recordsPerBatch - lo.recordsPerBatch);
  const mix = (a: number, b: number) => a + t * (b - a);
  return {
    recordsPerBatch,
    fetchPerMiB: combine((f) => mix(lo.fetchPerMiB[f], hi.fetchPerMiB[f])),
    hotBytesPerPayloadByte: mix(lo.hotBytesPerPayloadByte, hi.hotBytesPerPayloadByte),
    spilledBytesPerPayloadByte: mix(lo.spilledBytesPerPayloadByte, hi.spilledBytesPerPayloadByte),
  };
}

/** What a fleet of topics shares: the scheduled maintenance invocation, once a minute whatever the topic count. */
export function sharedFleetBill(inputs: FrontierInputs): number {
  return workLines(
    { name: 'maintenance schedule', calls: inputs.idle.passesPerMonth, work: inputs.idle.sharedPerPass, memoryMb: inputs.deployment.maintenanceMemoryMb, viaHttp: false, lambdaRequests: true },
    inputs.prices,
  ).reduce((sum, l) => sum + l.dollars, 0);
}

/** Kinesis Data Streams for one topic's traffic (one stream per topic), as the bill section prices it. */
export function kinesisTopicBills(workload: Workload, prices: PriceTable) {
  return {
    onDemand: kinesisOnDemandBill(workload, prices).total,
    provisioned: kinesisProvisionedBill(workload, prices),
    advantage: kinesisOnDemandBill(workload, prices, true).total,
  };
}

/**
 * Whether `topics` streams of `workload` meet On-demand Advantage's commitment on their own: the fleet writes at
 * least the committed MiB/s and its consumers read at least as much (records rounded up to 1 KB, as billed).
 */
export function advantageApplies(topics: number, workload: Workload, prices: PriceTable): boolean {
  const recordsPerS = workload.bytesPerMonth / workload.recordBytes / SECONDS_PER_MONTH;
  const inMiBps = (topics * recordsPerS * Math.ceil(workload.recordBytes / KB) * KB) / MIB;
  const commitment = prices.kinesis.onDemandAdvantage.commitmentMiBPerSecond;
  return inMiBps >= commitment && inMiBps * workload.consumerGroups >= commitment;
}

/** The xs where `a` and `b` cross (log-log interpolation between neighbouring points); nulls break a curve. */
export function crossings(xs: readonly number[], a: readonly (number | null)[], b: readonly (number | null)[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < xs.length; i++) {
    const [a0, a1, b0, b1] = [a[i - 1], a[i], b[i - 1], b[i]];
    if (a0 == null || a1 == null || b0 == null || b1 == null) continue;
    const d0 = Math.log(a0) - Math.log(b0);
    const d1 = Math.log(a1) - Math.log(b1);
    if (d0 === 0 && i === 1) out.push(xs[0]!);
    if (d1 === 0 || d0 * d1 < 0) {
      const t = d0 / (d0 - d1);
      out.push(Math.exp(Math.log(xs[i - 1]!) + t * (Math.log(xs[i]!) - Math.log(xs[i - 1]!))));
    }
  }
  return out;
}

/** The producer settings the frontier compares (bench/frontier.ts names them). */
export type ProducerSetting = 'oldDefault' | 'defaults' | 'tuned';


export interface FrontierPoint {
  readonly x: number;
  readonly shardlog: Readonly<Record<ProducerSetting, { readonly total: number; readonly recordsPerRequest: number }>>;
  readonly kinesisOnDemand: number;
  readonly kinesisProvisioned: number;
  readonly shards: number;
  readonly advantage: number;
  /** Whether these topics alone meet On-demand Advantage's 25 MiB/s commitment. */
  readonly advantageApplies: boolean;
}

export interface LingerRow {
  readonly lingerMs: number;
  readonly recordsPerRequest: number;
  readonly addedLatencyMs: { readonly p50: number; readonly p99: number };
  readonly monthly: number;
}

export interface FrontierResults {
  /** One topic at the lowest rate: its bill, and the part its consumer groups' polls, commits and heartbeats make. */
  readonly floor: {
    readonly recordsPerSecond: number;
    readonly total: number;
    readonly consumers: number;
    /** Lambda duration of a member that long-polls all month (the SDK consumer's waitMs): arithmetic, not measured. */
    readonly longPollPerMember: number;
  };
  readonly assumptions: { producersPerTopic: number; produceRoundTripMs: number; referenceRate: number; fleetTopicRate: number; partitions: number; consumerGroups: number; pollIntervalS: number; retentionDays: number };
  readonly produce: readonly ProducePoint[];
  readonly read: readonly ReadPoint[];
  readonly idle: IdleTopicWork;
  readonly sharedFleetMonthly: number;
  readonly byRate: readonly FrontierPoint[];
  readonly byTopics: readonly FrontierPoint[];
  readonly lingers: readonly LingerRow[];
  /** Real producers over HTTP at the reference rate (bench/producer-live.ts), priced like the frontier. */
  readonly live: readonly LiveRow[];
  readonly crossovers: readonly string[];
}

export interface LiveRow {
  readonly label: string;
  readonly records: number;
  readonly requests: number;
  readonly recordsPerRequest: number;
  /** send() to acknowledgement on this machine against emulators. */
  readonly ackMs: { readonly p50: number; readonly p99: number };
  readonly monthly: number;
}

