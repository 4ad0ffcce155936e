import { GB, HOURS_PER_MONTH, KB, MIB, SECONDS_PER_MONTH, type PriceTable } from './prices.js';

/**
 * The cost model: turns counted AWS work (capacity units, requests, modeled Lambda time per call) into a
 * monthly bill for a workload, and computes Kinesis Data Streams' bill for the same workload from its
 * published prices. Pure: no I/O, no clock; every input is an argument, so the arithmetic is unit-tested by hand
 * (test/unit/bench/cost-model.test.ts).
 */

/** A steady workload, described as a month of traffic. */
export interface Workload {
  readonly name: string;
  /** Record payload bytes produced per month. */
  readonly bytesPerMonth: number;
  /** Bytes of one record's payload. */
  readonly recordBytes: number;
  /** Records per produce request (all to one partition: the producer batches per partition). */
  readonly recordsPerProduce: number;
  readonly partitions: number;
  /** Consumer groups that each read every record once. */
  readonly consumerGroups: number;
  readonly membersPerGroup: number;
  /** A member fetches at most this often (a long poll answers as soon as records arrive). */
  readonly pollIntervalS: number;
  /** A fetch returns at most this many bytes (the page size when a member is behind). */
  readonly maxBytesPerFetch: number;
  /** A member commits this often (Kafka's auto-commit default is 5 s). */
  readonly commitIntervalS: number;
  readonly heartbeatIntervalS: number;
  readonly retentionDays: number;
  /** Share of the consumed bytes read from S3 segments rather than the hot tier (0: consumers keep up). */
  readonly coldReadFraction: number;
}

/** The reference workload of the benchmark issue: 1 TB a month of 1 KB JSON records, two consumer groups, 7 days. */
export const REFERENCE_WORKLOAD: Workload = {
  name: '1 TB/month of 1 KB JSON records, 100 per produce, 2 consumer groups, 7-day retention',
  // "1 TB" as AWS bills it: 1,000 GB of 2^30 bytes.
  bytesPerMonth: 1000 * GB,
  recordBytes: KB,
  recordsPerProduce: 100,
  partitions: 4,
  consumerGroups: 2,
  membersPerGroup: 1,
  pollIntervalS: 1,
  maxBytesPerFetch: MIB,
  commitIntervalS: 5,
  heartbeatIntervalS: 10,
  retentionDays: 7,
  coldReadFraction: 0,
};

/** AWS work of one call (or of one MiB of payload), as the benchmark counted it. */
export interface Work {
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly s3Puts: number;
  readonly s3Gets: number;
  /** Modeled Lambda billed duration (ms). */
  readonly lambdaMs: number;
  /** Request + response body bytes through API Gateway (metered in 512 KB increments). */
  readonly httpBytes: number;
}

export const NO_WORK: Work = { readUnits: 0, writeUnits: 0, s3Puts: 0, s3Gets: 0, lambdaMs: 0, httpBytes: 0 };

/** Work of one call of `bytes` payload: `perCall + (bytes / MiB) × perMiB`. */
export interface LinearWork {
  readonly perCall: Work;
  readonly perMiB: Work;
}

/** What the benchmark measured, per operation. */
export interface MeasuredWork {
  /** One produce request of `recordsPerProduce` records of `recordBytes`. */
  readonly produce: Work;
  readonly produceBatch: { readonly records: number; readonly recordBytes: number };
  /** A member's fetch over its partitions: fixed part (an empty fetch at the tail) plus a part per MiB returned. */
  readonly groupFetch: LinearWork;
  readonly commit: Work;
  readonly heartbeat: Work;
  /** Tiering, per MiB of payload moved to S3 (reading hot batches, segment PUTs, index, TTL updates). */
  readonly tierPerMiB: Work;
  /** A scheduled maintenance pass with nothing to tier (it runs every minute). */
  readonly idleMaintenancePass: Work;
  /** Reading from S3 segments, per MiB of payload, beyond what a hot read costs. */
  readonly coldReadPerMiB: Work;
  /** DynamoDB item bytes per payload byte in the hot tier (compression and item overhead). */
  readonly hotBytesPerPayloadByte: number;
  /** S3 segment bytes per payload byte. */
  readonly s3BytesPerPayloadByte: number;
  /**
   * S3 bytes of spilled batches per payload byte (batches over the spill threshold live in S3 behind a pointer
   * item until retention deletes them); 0 when produce writes its batches inline.
   */
  readonly spilledBytesPerPayloadByte: number;
}

/** Deployment assumptions that are not counted by the benchmark. */
export interface Deployment {
  /** Memory of the functions (MB); Lambda bills GB-s = memory × duration. */
  readonly produceMemoryMb: number;
  readonly groupsMemoryMb: number;
  readonly maintenanceMemoryMb: number;
  /**
   * Topics whose retention is at most this long stay in DynamoDB and expire by a TTL written with each batch
   * (no tiering); longer ones are tiered to S3 (`SHARDLOG_HOT_RETENTION_LIMIT_HOURS`, 0 tiers every topic).
   */
  readonly hotRetentionLimitHours: number;
  /** A hot-retention batch's TTL lies this far past the retention (HOT_TTL_MARGIN_MS). */
  readonly hotTtlMarginHours: number;
  /** A tiered topic's hot batches move to S3 after this long (`SHARDLOG_TIER_AFTER_MS`)... */
  readonly tierAfterHours: number;
  /** ...and their hot copies get a TTL this far in the future (HOT_COPY_GRACE_MS). */
  readonly hotCopyGraceHours: number;
  /** How long DynamoDB takes to delete an expired item (free, but billed as storage until then). */
  readonly ttlLagHours: number;
  /** Scheduled maintenance passes per month (one a minute). */
  readonly maintenancePassesPerMonth: number;
}

export interface BillLine {
  readonly service: 'API Gateway' | 'Lambda' | 'DynamoDB' | 'S3';
  /** What it pays for, e.g. "write units: produce". */
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly dollars: number;
}

export interface Bill {
  readonly lines: readonly BillLine[];
  readonly total: number;
  /** Totals per service. */
  readonly byService: Readonly<Record<string, number>>;
  /** Call counts per month, for the report. */
  readonly calls: Readonly<Record<string, number>>;
  /** Whether the workload's topic is tiered to S3 or stays in DynamoDB (hot retention). */
  readonly storage: 'hot retention' | 'tiered';
  /** Hours a batch is billed as DynamoDB storage. */
  readonly hotResidenceHours: number;
}

/** Where a topic of `retentionDays` lives, and for how long its batches are billed in DynamoDB. */
export function storagePlan(retentionDays: number, deployment: Deployment): { storage: Bill['storage']; hotResidenceHours: number } {
  const retentionHours = retentionDays * 24;
  return retentionHours <= deployment.hotRetentionLimitHours
    ? { storage: 'hot retention', hotResidenceHours: retentionHours + deployment.hotTtlMarginHours + deployment.ttlLagHours }
    : { storage: 'tiered', hotResidenceHours: deployment.tierAfterHours + deployment.hotCopyGraceHours + deployment.ttlLagHours };
}

/** Calls per month of each operation of `workload`. */
export function monthlyCalls(workload: Workload): {
  produce: number;
  groupFetch: number;
  commit: number;
  heartbeat: number;
  bytesPerGroupFetch: number;
} {
  const records = workload.bytesPerMonth / workload.recordBytes;
  const produce = records / workload.recordsPerProduce;
  const members = workload.consumerGroups * workload.membersPerGroup;
  // A member polls every pollIntervalS, unless it must fetch more often to move its share in pages of maxBytesPerFetch.
  const fetchesPerMemberByPolling = SECONDS_PER_MONTH / workload.pollIntervalS;
  const fetchesPerMemberByBytes = workload.bytesPerMonth / workload.membersPerGroup / workload.maxBytesPerFetch;
  const groupFetch = members * Math.max(fetchesPerMemberByPolling, fetchesPerMemberByBytes);
  const bytesPerGroupFetch = (workload.bytesPerMonth * workload.consumerGroups) / groupFetch;
  // A member commits what it read, so at most once per record it received: a quiet topic costs few commits.
  const commitsPerMember = Math.min(SECONDS_PER_MONTH / workload.commitIntervalS, records / workload.membersPerGroup);
  return {
    produce,
    groupFetch,
    commit: members * commitsPerMember,
    heartbeat: (members * SECONDS_PER_MONTH) / workload.heartbeatIntervalS,
    bytesPerGroupFetch,
  };
}

/** API Gateway requests that one call is metered as (512 KB increments of its bodies; at least one). */
export function meteredRequests(httpBytes: number, prices: PriceTable): number {
  return Math.max(1, Math.ceil(httpBytes / prices.apiGateway.meteringIncrementBytes));
}

function addWork(a: Work, b: Work, bScale = 1): Work {
  return {
    readUnits: a.readUnits + b.readUnits * bScale,
    writeUnits: a.writeUnits + b.writeUnits * bScale,
    s3Puts: a.s3Puts + b.s3Puts * bScale,
    s3Gets: a.s3Gets + b.s3Gets * bScale,
    lambdaMs: a.lambdaMs + b.lambdaMs * bScale,
    httpBytes: a.httpBytes + b.httpBytes * bScale,
  };
}

/** Adds a line of `quantity × price` to `lines` (none for a zero quantity). */
const lineAdder = (lines: BillLine[]) => (service: BillLine['service'], item: string, quantity: number, unit: string, price: number) => {
  if (quantity > 0) lines.push({ service, item, quantity, unit, dollars: quantity * price });
};

/** One operation of a bill: `calls` a month, each doing `work` in a function of `memoryMb`. */
export interface PricedOperation {
  readonly name: string;
  readonly calls: number;
  readonly work: Work;
  readonly memoryMb: number;
  /** Through API Gateway (metered by its bodies). */
  readonly viaHttp: boolean;
  /** Each call is a Lambda invocation (false for work that rides in another invocation). */
  readonly lambdaRequests: boolean;
}

/** The bill lines of one operation: API Gateway, Lambda requests and duration, DynamoDB units, S3 requests. */
export function workLines(op: PricedOperation, prices: PriceTable): BillLine[] {
  const { name, calls: n, work: w, memoryMb } = op;
  const lines: BillLine[] = [];
  const line = lineAdder(lines);
  if (op.viaHttp) line('API Gateway', `requests: ${name}`, n * meteredRequests(w.httpBytes, prices), 'requests', prices.apiGateway.perRequest);
  line('Lambda', `requests: ${name}`, op.lambdaRequests ? n : 0, 'requests', prices.lambda.perRequest);
  line('Lambda', `duration: ${name}`, (n * w.lambdaMs * memoryMb) / 1000 / 1024, 'GB-s', prices.lambda.perGbSecond);
  line('DynamoDB', `write units: ${name}`, n * w.writeUnits, 'WRU', prices.dynamodb.perWriteUnit);
  line('DynamoDB', `read units: ${name}`, n * w.readUnits, 'RRU', prices.dynamodb.perReadUnit);
  line('S3', `PUTs: ${name}`, n * w.s3Puts, 'requests', prices.s3.perPut);
  line('S3', `GETs: ${name}`, n * w.s3Gets, 'requests', prices.s3.perGet);
  return lines;
}

/**
 * shardlog's monthly bill for `workload`, from the measured work per operation.
 * @throws Error when the workload's produce batch differs from the measured one (the per-call work would not apply).
 */
export function shardlogBill(workload: Workload, measured: MeasuredWork, deployment: Deployment, prices: PriceTable): Bill {
  if (measured.produceBatch.records !== workload.recordsPerProduce || measured.produceBatch.recordBytes !== workload.recordBytes) {
    throw new Error(
      `produce was measured with ${measured.produceBatch.records} records of ${measured.produceBatch.recordBytes} B, ` +
        `the workload produces ${workload.recordsPerProduce} of ${workload.recordBytes} B`,
    );
  }
  const calls = monthlyCalls(workload);
  const plan = storagePlan(workload.retentionDays, deployment);
  const tiered = plan.storage === 'tiered';
  const payloadMiB = workload.bytesPerMonth / MIB;
  const fetchMiB = calls.bytesPerGroupFetch / MIB;
  const fetchWork = addWork(measured.groupFetch.perCall, measured.groupFetch.perMiB, fetchMiB);
  const consumedMiB = payloadMiB * workload.consumerGroups;

  // [operation, calls per month, work per call, memory of the function that serves it]
  const ops: Array<[string, number, Work, number, boolean]> = [
    ['produce', calls.produce, measured.produce, deployment.produceMemoryMb, true],
    ['group fetch', calls.groupFetch, fetchWork, deployment.groupsMemoryMb, true],
    ['commit', calls.commit, measured.commit, deployment.groupsMemoryMb, true],
    ['heartbeat', calls.heartbeat, measured.heartbeat, deployment.groupsMemoryMb, true],
    // Per MiB tiered, "calls" are MiB; the Lambda requests of tiering are the scheduled passes below.
    ['tiering', tiered ? payloadMiB : 0, measured.tierPerMiB, deployment.maintenanceMemoryMb, false],
    ['maintenance schedule', deployment.maintenancePassesPerMonth, measured.idleMaintenancePass, deployment.maintenanceMemoryMb, false],
    ['cold reads', tiered ? consumedMiB * workload.coldReadFraction : 0, measured.coldReadPerMiB, deployment.groupsMemoryMb, false],
  ];

  const lines: BillLine[] = [];
  const line = lineAdder(lines);
  for (const [name, n, w, memoryMb, viaHttp] of ops) {
    lines.push(...workLines({ name, calls: n, work: w, memoryMb, viaHttp, lambdaRequests: viaHttp || name === 'maintenance schedule' }, prices));
  }
  // Steady state: DynamoDB holds `hotResidenceHours` of traffic; S3 holds `retentionDays` of it when tiered.
  const bytesPerHour = workload.bytesPerMonth / HOURS_PER_MONTH;
  line('DynamoDB', 'storage: batches', (bytesPerHour * plan.hotResidenceHours * measured.hotBytesPerPayloadByte) / GB, 'GB-month', prices.dynamodb.storagePerGbMonth);
  if (tiered) {
    line('S3', 'storage: segments', (bytesPerHour * 24 * workload.retentionDays * measured.s3BytesPerPayloadByte) / GB, 'GB-month', prices.s3.storagePerGbMonth);
  }
  // Spilled batches stay in S3 for the retention (tiered or not: the pass deletes them with their batches).
  line('S3', 'storage: spilled batches', (bytesPerHour * 24 * workload.retentionDays * measured.spilledBytesPerPayloadByte) / GB, 'GB-month', prices.s3.storagePerGbMonth);

  const byService: Record<string, number> = {};
  for (const l of lines) byService[l.service] = (byService[l.service] ?? 0) + l.dollars;
  return {
    lines,
    total: lines.reduce((sum, l) => sum + l.dollars, 0),
    byService,
    calls: { produce: calls.produce, groupFetch: calls.groupFetch, commit: calls.commit, heartbeat: calls.heartbeat },
    ...plan,
  };
}

export interface KinesisLine {
  readonly item: string;
  /** The arithmetic, for a reader to check, e.g. "730 h × $0.04". */
  readonly arithmetic: string;
  readonly dollars: number;
}

export interface KinesisBill {
  readonly mode: 'on-demand' | 'on-demand advantage' | 'provisioned';
  readonly lines: readonly KinesisLine[];
  readonly total: number;
  readonly shards?: number;
}

const money = (n: number) => `$${n.toFixed(n < 0.01 ? 6 : 4).replace(/0+$/, '').replace(/\.$/, '')}`;
const num = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 3 }));

/** GB a month that Kinesis bills for the workload: each record rounded up to 1 KB. */
function kinesisGb(workload: Workload): number {
  const records = workload.bytesPerMonth / workload.recordBytes;
  return (records * Math.ceil(workload.recordBytes / KB) * KB) / GB;
}

/**
 * Kinesis Data Streams on-demand: stream-hours, GB in, GB out per consumer, extended retention per GB-month.
 * `advantage`: On-demand Advantage's prices, no stream-hours; whether the account meets its commitment is the
 * caller's question (bench/frontier-model.ts prices it only where the fleet does).
 */
export function kinesisOnDemandBill(workload: Workload, prices: PriceTable, advantage = false): KinesisBill {
  const p = advantage ? { ...prices.kinesis.onDemandAdvantage, perStreamHour: 0 } : prices.kinesis.onDemand;
  const gb = kinesisGb(workload);
  const lines: KinesisLine[] = [
    ...(advantage ? [] : [{ item: 'stream-hours', arithmetic: `${HOURS_PER_MONTH} h × ${money(p.perStreamHour)}`, dollars: HOURS_PER_MONTH * p.perStreamHour }]),
    { item: 'data in', arithmetic: `${num(gb)} GB × ${money(p.perGbIn)}`, dollars: gb * p.perGbIn },
    {
      item: 'data out',
      arithmetic: `${workload.consumerGroups} consumers × ${num(gb)} GB × ${money(p.perGbOut)}`,
      dollars: workload.consumerGroups * gb * p.perGbOut,
    },
  ];
  if (workload.retentionDays > 1) {
    // Steady state: the stream holds (retentionDays − 1) days of data beyond the free first 24 hours.
    const daysPerMonth = HOURS_PER_MONTH / 24;
    const storedGb = (gb * (Math.min(workload.retentionDays, 7) - 1)) / daysPerMonth;
    lines.push({
      item: 'extended retention (24 h → 7 d)',
      arithmetic: `${num(gb)} GB × ${Math.min(workload.retentionDays, 7) - 1} d / ${num(daysPerMonth)} d = ${num(storedGb)} GB-month × ${money(p.extendedRetentionPerGbMonth)}`,
      dollars: storedGb * p.extendedRetentionPerGbMonth,
    });
  }
  return { mode: advantage ? 'on-demand advantage' : 'on-demand', lines, total: lines.reduce((s, l) => s + l.dollars, 0) };
}

/**
 * Kinesis Data Streams provisioned, with the fewest shards that carry the workload's average rate
 * (1 MB/s and 1,000 records/s in, 2 MB/s out per shard; `peakToAverage` adds headroom).
 */
export function kinesisProvisionedBill(workload: Workload, prices: PriceTable, peakToAverage = 1): KinesisBill {
  const p = prices.kinesis.provisioned;
  const records = workload.bytesPerMonth / workload.recordBytes;
  const inBytesPerS = (kinesisGb(workload) * GB * peakToAverage) / SECONDS_PER_MONTH;
  const recordsPerS = (records * peakToAverage) / SECONDS_PER_MONTH;
  const shards = Math.max(
    1,
    Math.ceil(inBytesPerS / MIB),
    Math.ceil(recordsPerS / 1000),
    Math.ceil((inBytesPerS * workload.consumerGroups) / (2 * MIB)),
  );
  const units = records * Math.ceil(workload.recordBytes / (25 * KB));
  const lines: KinesisLine[] = [
    {
      item: 'shard-hours',
      arithmetic: `${shards} shard × ${HOURS_PER_MONTH} h × ${money(p.perShardHour)} (average ${num(inBytesPerS / 1024)} KB/s, ${num(recordsPerS)} records/s in)`,
      dollars: shards * HOURS_PER_MONTH * p.perShardHour,
    },
    {
      item: 'PUT payload units (25 KB)',
      arithmetic: `${num(units / 1e6)} M units × ${money(p.perPutPayloadUnit * 1e6)}/M`,
      dollars: units * p.perPutPayloadUnit,
    },
  ];
  if (workload.retentionDays > 1) {
    lines.push({
      item: 'extended retention (24 h → 7 d)',
      arithmetic: `${shards} shard × ${HOURS_PER_MONTH} h × ${money(p.extendedRetentionPerShardHour)}`,
      dollars: shards * HOURS_PER_MONTH * p.extendedRetentionPerShardHour,
    });
  }
  return { mode: 'provisioned', lines, total: lines.reduce((s, l) => s + l.dollars, 0), shards };
}
