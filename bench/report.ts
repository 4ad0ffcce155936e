import type { BundleStats } from './bundles.js';
import { renderContention, type ContentionResults } from './contention.js';
import { renderShareGroups, type ShareGroupResults } from './share-groups.js';
import type { Bill, Deployment, KinesisBill, MeasuredWork, Workload } from './cost-model.js';
import type { FrontierResults } from './frontier-model.js';
import type { OperationStats, Sample } from './measure.js';
import type { PriceTable } from './prices.js';
import { renderWire, type WireSection } from './wire.js';

/** A variant of the bill: what a design or usage change would cost. */
export interface Scenario {
  readonly name: string;
  readonly total: number;
  readonly note: string;
}

export interface ThroughputSide {
  readonly requests: number;
  readonly records: number;
  readonly mib: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly mibPerSecond: number;
  readonly latencyUnderLoadMs: { readonly p50: number; readonly p99: number };
  readonly writeUnitsPerMiB?: number;
  readonly readUnitsPerMiB: number;
  readonly dynamoRequestsPerCall: number;
  readonly dynamoByCommand: Readonly<Record<string, number>>;
  readonly producers?: number;
  readonly consumers?: number;
  readonly partitions?: number;
}

/** Everything a run measured: the results file. */
export interface BenchResults {
  name: string;
  date: string;
  mode: 'quick' | 'full';
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  durationSeconds: number;
  plan: Record<string, unknown>;
  assumptions: { awsDynamoDbRttMs: number; awsS3RttMs: number; deployment: Deployment; recordBytes: number; batch: number };
  throughput: { produce: ThroughputSide; fetch: ThroughputSide };
  operations: Record<string, OperationStats>;
  groups: Record<string, unknown>;
  heartbeatGrowth: Array<{ partitionsHeld: number; stats: OperationStats }>;
  tiering: {
    passes: number;
    segments: number;
    records: number;
    payloadMiB: number;
    segmentBytes: number;
    perMiB: { writeUnits: number; readUnits: number; dynamoRequests: number; s3Puts: number; unitsByCommand: Record<string, number> };
    dynamoByCommand: Record<string, number>;
    passLatencyMs: OperationStats['latencyMs'];
    idlePass: OperationStats;
  };
  coldVsHot: { hotCopiesDeleted: number; hotCopyGraceMs: number; hot: OperationStats; cold: OperationStats; firstColdRead: Sample | undefined };
  growth: Array<{ records: number; fillSeconds: number; produce: OperationStats; fetchTail: OperationStats; fetchHead: OperationStats; fetchMiddle: OperationStats }>;
  bundles: BundleStats[];
  /** Producers racing on the same partitions (bench/contention.ts); absent in results written before it. */
  contention?: ContentionResults;
  /** Share groups (bench/share-groups.ts); absent in results written before it. */
  shareGroups?: ShareGroupResults;
  /** JSON, binary and S3-direct beside kinesalite (bench/wire.ts); absent in results written before it. */
  wire?: WireSection;
  costModel: {
    workload: Workload;
    measured: MeasuredWork | undefined;
    deployment: Deployment;
    prices: PriceTable;
    shardlog: Bill | undefined;
    /** The same workload as the SDK sends and reads it (bench/bill.ts); absent in results written before it. */
    sdkDefaults?: Bill | undefined;
    kinesis: KinesisBill[];
    scenarios: Scenario[];
  };
  /** The cost frontier (bench/frontier.ts); absent in results written before it. */
  frontier?: FrontierResults;
}

const usd = (n: number) => `$${n < 1 ? n.toFixed(2) : n < 100 ? n.toFixed(2) : n.toFixed(0)}`;
const f = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }));
const kib = (bytes: number) => `${f(bytes / 1024, 0)} KiB`;
const commands = (byCommand: Readonly<Record<string, number>>) =>
  Object.entries(byCommand)
    .map(([k, v]) => `${f(v, 2)} ${k.replace(/Command$/, '')}`)
    .join(' + ') || '–';
const table = (head: string[], rows: Array<Array<string | number>>) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** Max/min of a series, as "×1.07": how flat a measurement stayed. */
const spread = (values: number[]) => {
  const positive = values.filter((v) => v > 0);
  return positive.length === 0 ? 1 : Math.max(...positive) / Math.min(...positive);
};

/** The goals of the benchmark issue, checked against the results. */
export function goals(r: BenchResults): Array<{ goal: string; met: boolean | undefined; evidence: string }> {
  const ops = r.operations;
  const produce = ops.produce;
  const fetch = ops.fetch;
  const cold = ops.coldFetch;
  const bill = r.costModel.shardlog;
  const [onDemand, provisioned7d] = r.costModel.kinesis;
  const first = r.growth[0];
  const last = r.growth[r.growth.length - 1];
  const hb = r.heartbeatGrowth;
  const hbFirst = hb[0];
  const hbLast = hb[hb.length - 1];
  const growthUnits = r.growth.map((g) => g.produce.writeUnits + g.fetchTail.readUnits + g.fetchHead.readUnits + g.fetchMiddle.readUnits);
  return [
    {
      goal: 'modeled monthly bill below Kinesis on-demand',
      met: bill && onDemand ? bill.total < onDemand.total : undefined,
      evidence: bill && onDemand ? `${usd(bill.total)} vs ${usd(onDemand.total)}` : 'no bill',
    },
    {
      goal: 'moonshot: below Kinesis provisioned',
      met: bill && provisioned7d ? bill.total < provisioned7d.total : undefined,
      evidence: bill && provisioned7d ? `${usd(bill.total)} vs ${usd(provisioned7d.total)} (1 shard, 7 days)` : 'no bill',
    },
    {
      goal: `${r.contention?.scenarios[0]?.producers ?? 64} concurrent producers on the same partitions all succeed, offsets dense`,
      met: r.contention ? r.contention.scenarios.every((s) => s.failedRequests === 0 && s.readBack.problems.length === 0) : undefined,
      evidence: r.contention
        ? r.contention.scenarios.map((s) => `${s.name}: ${s.failedRequests} failed, attempts p99 ${s.attempts.p99}`).join('; ')
        : 'not measured',
    },
    ...wireGoals(r),
    {
      goal: 'produce p50 = one DynamoDB round trip',
      met: produce ? produce.dynamoRoundTripsP50 === 1 : undefined,
      evidence: produce
        ? `${produce.dynamoRoundTripsP50} DynamoDB round trip (p50); ${commands(produce.dynamoByCommand)}` +
          ((produce.s3ByCommand.PutObjectCommand ?? 0) > 0
            ? ` after ${commands(produce.s3ByCommand)} (the batch is over the 8 KiB spill threshold): ${produce.roundTrips.p50} sequential round trips in all`
            : '') + ' per call'
        : '–',
    },
    {
      goal: 'hot fetch = one Query',
      met: fetch ? fetch.roundTrips.p50 === 1 && (fetch.dynamoByCommand.QueryCommand ?? 0) <= 1.05 : undefined,
      evidence: fetch ? `${f(fetch.roundTrips.p50)} round trip (p50); ${commands(fetch.dynamoByCommand)} per call` : '–',
    },
    {
      goal: 'cold fetch = index lookup + one ranged GET',
      met: cold ? cold.roundTrips.p50 <= 2 && (cold.s3ByCommand.GetObjectCommand ?? 0) <= 1.05 : undefined,
      evidence: cold ? `${f(cold.roundTrips.p50)} round trips (p50, max ${cold.roundTrips.max}); ${commands(cold.dynamoByCommand)} + ${commands(cold.s3ByCommand)} per call` : '–',
    },
    {
      goal: 'flat cost and latency as a partition grows',
      met: first && last ? spread(growthUnits) < 1.2 && Math.max(...r.growth.map((g) => g.produce.roundTrips.p50)) === first.produce.roundTrips.p50 : undefined,
      evidence:
        first && last
          ? `${f(first.records, 0)} → ${f(last.records, 0)} records: units ×${f(spread(growthUnits), 2)}, produce p50 ${f(first.produce.latencyMs.p50)} → ${f(last.produce.latencyMs.p50)} ms, tail fetch p50 ${f(first.fetchTail.latencyMs.p50)} → ${f(last.fetchTail.latencyMs.p50)} ms`
          : '–',
    },
    {
      goal: 'heartbeat cost independent of partitions held',
      met: hbFirst && hbLast ? Math.abs(hbLast.stats.readUnits + hbLast.stats.writeUnits - hbFirst.stats.readUnits - hbFirst.stats.writeUnits) < 0.51 && hbLast.stats.dynamoRequests <= hbFirst.stats.dynamoRequests + 0.5 : undefined,
      evidence:
        hbFirst && hbLast
          ? `${hbFirst.partitionsHeld} → ${hbLast.partitionsHeld} partitions: ${f(hbFirst.stats.readUnits + hbFirst.stats.writeUnits, 2)} → ${f(hbLast.stats.readUnits + hbLast.stats.writeUnits, 2)} units, ${f(hbFirst.stats.dynamoRequests, 2)} → ${f(hbLast.stats.dynamoRequests, 2)} requests`
          : '–',
    },
  ];
}

/**
 * The goals of the bytes-as-stored work (bench/wire.ts, the bill with the SDK's defaults): at least kinesalite's
 * rate both ways with the SDK's formats, and the Lambda duration lines of produce and of the groups' fetches
 * each down by more than half with the SDK's defaults.
 */
function wireGoals(r: BenchResults): Array<{ goal: string; met: boolean | undefined; evidence: string }> {
  const sdk = r.wire?.rates.find((x) => x.system === 'shardlog sdk');
  const json = r.costModel.shardlog;
  const defaults = r.costModel.sdkDefaults;
  const line = (bill: Bill, item: string) => bill.lines.filter((l) => l.service === 'Lambda' && l.item === `duration: ${item}`).reduce((sum, l) => sum + l.dollars, 0);
  const cut = (item: string) => (json && defaults ? 1 - line(defaults, item) / line(json, item) : undefined);
  const produceCut = cut('produce');
  const fetchCut = cut('group fetch');
  return [
    {
      goal: "at least kinesalite's rate both ways, as the SDK produces and fetches",
      met: sdk ? sdk.produceVsKinesalite >= 1 && sdk.fetchVsKinesalite >= 1 : undefined,
      evidence: sdk ? `produce ${sdk.produceVsKinesalite}×, fetch ${sdk.fetchVsKinesalite}× kinesalite's rate` : 'not measured',
    },
    {
      goal: "Lambda duration lines of the reference bill (produce, group fetch) each down by more than half with the SDK's defaults",
      met: produceCut !== undefined && fetchCut !== undefined ? produceCut > 0.5 && fetchCut > 0.5 : undefined,
      evidence:
        json && defaults && produceCut !== undefined && fetchCut !== undefined
          ? `produce ${usd(line(json, 'produce'))} → ${usd(line(defaults, 'produce'))} (−${f(produceCut * 100, 0)}%: its S3 PUT and DynamoDB write are most of it); group fetch ${usd(line(json, 'group fetch'))} → ${usd(line(defaults, 'group fetch'))} (−${f(fetchCut * 100, 0)}%)`
          : 'not measured',
    },
  ];
}

/** The report; `frontierSection`: the frontier's markdown (bench/frontier-report.ts), placed before the limits. */
export function renderMarkdown(r: BenchResults, chartFile: string, frontierSection?: string): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines, '');
  const t = r.throughput;
  const m = r.costModel.measured;
  const bill = r.costModel.shardlog;
  push(
    `# shardlog benchmark, ${r.date} (${r.mode})`,
    `Local stack (DynamoDB Local + s3rver) in one process with the real handlers over HTTP; ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ` +
      `run took ${f(r.durationSeconds / 60, 1)} min. Records: ${r.assumptions.recordBytes} B of JSON (e-commerce events, keyed by customer), ${r.assumptions.batch} per produce request, ` +
      `batched per partition by the producer. Every figure is in [\`${r.name}.json\`](${r.name}.json).`,
    `![monthly bill and throughput](${chartFile})`,
  );

  push('## Goals', table(['goal', 'met', 'evidence'], goals(r).map((g) => [g.goal, g.met === undefined ? 'not measured' : g.met ? 'yes' : '**no**', g.evidence])));

  push(
    '## Throughput (concurrent, this machine against emulators)',
    table(
      ['', 'clients', 'requests', 'records/s', 'MiB/s', 'latency p50 / p99 under load', 'units per MiB', 'DynamoDB requests per call'],
      [
        ['produce', `${t.produce.producers} producers, ${t.produce.partitions} partitions`, t.produce.requests, f(t.produce.recordsPerSecond, 0), f(t.produce.mibPerSecond, 2), `${f(t.produce.latencyUnderLoadMs.p50)} / ${f(t.produce.latencyUnderLoadMs.p99)} ms`, `${f(t.produce.writeUnitsPerMiB)} WRU + ${f(t.produce.readUnitsPerMiB, 2)} RRU`, `${f(t.produce.dynamoRequestsPerCall, 2)} (${commands(Object.fromEntries(Object.entries(t.produce.dynamoByCommand).map(([k, v]) => [k, v / t.produce.requests])))})`],
        ['fetch', `${t.fetch.consumers} consumers`, t.fetch.requests, f(t.fetch.recordsPerSecond, 0), f(t.fetch.mibPerSecond, 2), `${f(t.fetch.latencyUnderLoadMs.p50)} / ${f(t.fetch.latencyUnderLoadMs.p99)} ms`, `${f(t.fetch.readUnitsPerMiB)} RRU`, `${f(t.fetch.dynamoRequestsPerCall, 2)} (${commands(Object.fromEntries(Object.entries(t.fetch.dynamoByCommand).map(([k, v]) => [k, v / t.fetch.requests])))})`],
      ],
    ),
    'Throughput is bounded by this 2-core machine, which runs the clients, the handlers and the Java emulator at once: it shows that nothing serializes, not what AWS would sustain (there, a partition takes about 1,000 WRU/s, i.e. ~19 MiB/s of this data, before DynamoDB throttles its key).',
  );

  if (r.contention) push(renderContention(r.contention));
  if (r.shareGroups) push(renderShareGroups(r.shareGroups));
  if (r.wire) push(renderWire(r.wire));

  const opRows = (Object.entries(r.operations) as Array<[string, OperationStats]>).map(([name, s]) => [
    name,
    s.calls,
    `${f(s.latencyMs.p50)} / ${f(s.latencyMs.p99)}`,
    `${f(s.roundTrips.p50)} (max ${s.roundTrips.max})`,
    commands(s.dynamoByCommand),
    commands(s.s3ByCommand),
    f(s.readUnits, 2),
    f(s.writeUnits, 2),
    s.payloadBytes > 0 ? `${f(s.readUnitsPerMiB)} R / ${f(s.writeUnitsPerMiB)} W` : '–',
  ]);
  push(
    '## Per call, one call at a time',
    table(['operation', 'calls', 'latency p50 / p99 (ms)', 'sequential round trips p50', 'DynamoDB requests per call', 'S3 requests per call', 'RRU per call', 'WRU per call', 'units per MiB'], opRows),
    '`produce`: 100 records of 1 KiB, one partition (~24 KiB gzipped: over the 8 KiB spill threshold, so the batch is PUT to S3 and DynamoDB gets a pointer item). `fetch`: from a batch boundary, `limit=1000` (1 MB `maxBytes`). `groupFetch`: a member holding every partition of the topic, `limit` 1000, followed by a `commit` of what it read. `groupFetchAtTail`: an empty group fetch (`waitMs` 0), the fixed part of each poll. `produceIdempotent`: the same with an `Idempotency-Key`, as the SDK producer sends every request (a transaction with the idempotency record). `produce1000`: 1,000 records per request. `produceRepetitive`: highly compressible JSON (stays under the spill threshold: inline in DynamoDB). `produceSpilled2000`: 2,000 records (~480 KiB gzipped) and `fetchSpilled` reading them back. `coldFetch`: the `fetch` offsets again after tiering, with the hot copies gone. `produceSdk` and `fetchSdk`: `produceIdempotent` and `fetch` as the SDK sends them by default, in the binary format (the fetch with `urls=1`: its spilled batches come as presigned URLs the client GETs itself; those GETs are not in its S3 column).',
    'Round trips are counted from timestamps of the requests the handler sent (middleware on its clients): the longest chain of requests that ran one after another. Requests that overlapped (`Promise.all`) count once.',
  );

  const tr = r.tiering;
  push(
    '## Tiering (the hidden cost)',
    `Measured on a topic with a 100-day retention (a topic with retention up to \`hotRetentionLimitHours\`, 12 weeks by default, is never tiered: its batches carry a TTL from the start). ` +
    `${tr.passes} maintenance passes moved ${f(tr.records, 0)} records (${f(tr.payloadMiB)} MiB of payload) into ${tr.segments} segments of ${kib(tr.segmentBytes)} in total ` +
      `(gzip ratio ${f((tr.payloadMiB * 1024 * 1024) / tr.segmentBytes, 2)}×). Per MiB of payload: **${f(tr.perMiB.writeUnits)} WRU**, ${f(tr.perMiB.readUnits)} RRU, ${f(tr.perMiB.dynamoRequests)} DynamoDB requests, ${f(tr.perMiB.s3Puts, 3)} S3 PUTs. ` +
      `Units by command per MiB: ${commands(tr.perMiB.unitsByCommand)}. The UpdateItem that sets each hot item's TTL is billed by the item's size, so tiering writes the payload a second time, and reading the batches to build segments costs a strongly consistent read of each. ` +
      `A scheduled pass over the reference topic (nothing to tier): ${f(tr.idlePass.readUnits, 2)} RRU, ${f(tr.idlePass.writeUnits, 2)} WRU, ${commands(tr.idlePass.dynamoByCommand)}.`,
  );

  const ch = r.coldVsHot;
  push(
    '## Cold read against hot read',
    table(
      ['', 'latency p50 / p99 (ms)', 'round trips p50 (max)', 'DynamoDB', 'S3', 'RRU per call', 'payload per call'],
      [
        ['hot (DynamoDB)', `${f(ch.hot.latencyMs.p50)} / ${f(ch.hot.latencyMs.p99)}`, `${f(ch.hot.roundTrips.p50)} (${ch.hot.roundTrips.max})`, commands(ch.hot.dynamoByCommand), commands(ch.hot.s3ByCommand), f(ch.hot.readUnits, 2), kib(ch.hot.payloadBytes)],
        ['cold (S3 segment)', `${f(ch.cold.latencyMs.p50)} / ${f(ch.cold.latencyMs.p99)}`, `${f(ch.cold.roundTrips.p50)} (${ch.cold.roundTrips.max})`, commands(ch.cold.dynamoByCommand), commands(ch.cold.s3ByCommand), f(ch.cold.readUnits, 2), kib(ch.cold.payloadBytes)],
      ],
    ),
    `The hot copies of partition 0 (${ch.hotCopiesDeleted} items) were deleted by the bench after tiering, as TTL does after the ${ch.hotCopyGraceMs / 60000}-minute grace (DynamoDB Local runs no TTL). s3rver answers from local disk: in AWS a ranged GET adds ~20–30 ms (p50) per sequential S3 round trip.`,
  );

  push(
    `## Growth: one partition from 10^${Math.round(Math.log10(r.growth[0]?.records ?? 1))} to 10^${Math.round(Math.log10(r.growth.at(-1)?.records ?? 1))} records`,
    table(
      ['records', 'produce p50 ms', 'produce RT', 'produce WRU', 'tail fetch p50 ms', 'tail RT', 'tail RRU', 'head fetch p50 ms', 'head RRU', 'middle fetch p50 ms', 'middle RRU'],
      r.growth.map((g) => [
        f(g.records, 0),
        f(g.produce.latencyMs.p50),
        f(g.produce.roundTrips.p50),
        f(g.produce.writeUnits, 2),
        f(g.fetchTail.latencyMs.p50),
        f(g.fetchTail.roundTrips.p50),
        f(g.fetchTail.readUnits, 2),
        f(g.fetchHead.latencyMs.p50),
        f(g.fetchHead.readUnits, 2),
        f(g.fetchMiddle.latencyMs.p50),
        f(g.fetchMiddle.readUnits, 2),
      ]),
    ),
    'The partition is filled through the engine with small records in batches of 100 (one item per 100 records, as the reference workload writes); each checkpoint then probes produce of 100 × 1 KiB over HTTP and fetches (limit 1000) at the tail, the head and the middle. Tail fetches read the 100 probe records just produced; head and middle fetches read 1,000 small filler records.',
  );

  push(
    '## Heartbeat against partitions held',
    table(
      ['partitions held', 'latency p50 / p99 (ms)', 'round trips p50', 'DynamoDB requests', 'RRU', 'WRU'],
      r.heartbeatGrowth.map((h) => [h.partitionsHeld, `${f(h.stats.latencyMs.p50)} / ${f(h.stats.latencyMs.p99)}`, f(h.stats.roundTrips.p50), commands(h.stats.dynamoByCommand), f(h.stats.readUnits, 2), f(h.stats.writeUnits, 2)]),
    ),
  );

  push(
    '## Lambda bundles and module initialisation',
    table(
      ['function', 'bundle', 'gzip', 'import() p50 (max) in a fresh node', 'its CPU time p50'],
      r.bundles.map((b) => [b.function, kib(b.bytes), kib(b.gzipBytes), `${f(b.initMsP50)} ms (${f(b.initMsMax)})`, `${f(b.initCpuMsP50)} ms`]),
    ),
    `Bundled with the options of infra/api-stack.ts (ESM, minified, AWS SDK inside, target node24) and imported ${r.bundles[0]?.runs ?? 0} times each in a fresh Node ${r.machine.node} process with the handler environment: the module-initialisation part of a cold start. Lambda adds its runtime start and the zip download, which cannot be measured here.`,
  );

  if (bill && m) {
    const w = r.costModel.workload;
    push(
      `## Monthly bill: ${w.name}`,
      `Prices: us-east-1 list prices as of ${r.costModel.prices.asOf} (bench/prices.ts). Workload: ${f(w.bytesPerMonth / 2 ** 30, 0)} GB/month of ${w.recordBytes} B records in ${w.partitions} partitions, ${w.recordsPerProduce} per produce, ` +
        `${w.consumerGroups} consumer groups of ${w.membersPerGroup} member polling every ${w.pollIntervalS} s (commit every ${w.commitIntervalS} s, heartbeat every ${w.heartbeatIntervalS} s), ${w.retentionDays}-day retention, consumers keep up (hot reads). ` +
        `Lambda time per call is modeled as the handler's own time measured here plus ${r.assumptions.awsDynamoDbRttMs} ms per sequential DynamoDB request and ${r.assumptions.awsS3RttMs} ms per S3 request; ` +
        `the topic is **${bill.storage}**: its batches are billed as DynamoDB storage for ${f(bill.hotResidenceHours)} h ` +
        (bill.storage === 'hot retention'
          ? `(retention + ${f(r.costModel.deployment.hotTtlMarginHours)} h TTL margin + ${f(r.costModel.deployment.ttlLagHours)} h worst-case TTL lag) and never tiered.`
          : `(tier after ${f(r.costModel.deployment.tierAfterHours, 2)} h + ${f(r.costModel.deployment.hotCopyGraceHours)} h grace + ${f(r.costModel.deployment.ttlLagHours)} h worst-case TTL lag), then S3.`),
      table(
        ['', 'monthly'],
        [
          ['**shardlog (as measured)**', `**${usd(bill.total)}**`],
          ...Object.entries(bill.byService).map(([service, d]) => [`  ${service}`, usd(d)]),
          ...r.costModel.kinesis.map((k, i) => [
            `Kinesis ${k.mode}${k.mode === 'provisioned' ? (i === 1 ? ` (${k.shards} shard, 7-day retention)` : ` (${k.shards} shard, 24 h retention)`) : ' (7-day retention)'}`,
            usd(k.total),
          ]),
        ],
      ),
    );
    const lines = [...bill.lines].sort((a, b) => b.dollars - a.dollars).filter((l) => l.dollars >= 0.005);
    push(
      '### shardlog, line by line',
      table(['service', 'for', 'quantity', 'monthly'], lines.map((l) => [l.service, l.item, `${f(l.quantity, l.quantity < 10 ? 2 : 0)} ${l.unit}`, usd(l.dollars)])),
    );
    if (r.costModel.sdkDefaults) push(renderSdkDefaults(bill, r.costModel.sdkDefaults));
    push(
      '### Kinesis Data Streams, from its published prices',
      ...r.costModel.kinesis.map(
        (k, i) =>
          `**${k.mode}${k.mode === 'provisioned' ? (i === 1 ? ', 7-day retention' : ', 24 h retention') : ''}: ${usd(k.total)}** = ` + k.lines.map((l) => `${l.item}: ${l.arithmetic} = ${usd(l.dollars)}`).join('; ') + '.',
      ),
    );
    push(
      '### What would lower the bill',
      table(['variant', 'monthly', 'how'], r.costModel.scenarios.map((s) => [s.name, usd(s.total), s.note])),
    );
  }

  if (frontierSection) push(frontierSection);

  push(
    '## Method and limits',
    '- Counted, not timed, for cost: capacity units come from `ReturnConsumedCapacity` (DynamoDB Local reports them as on-demand DynamoDB does), requests from middleware on the handlers\' own clients (`CapacityMeter`). Latencies are this machine against emulators: DynamoDB Local (Java, SQLite) and s3rver are slower or faster than AWS in ways unrelated to the design; the round-trip counts tell what AWS latency to expect (~5–10 ms per DynamoDB round trip, ~20–30 ms per S3 one, plus API Gateway and Lambda overhead).',
    '- Not measured: API Gateway and Lambda overhead and real cold starts (no AWS account here; module initialisation is the proxy), DynamoDB partition throttling and adaptive capacity, S3 latency, TTL deletion lag (assumed), data transfer (same region: free, for Kinesis as well).',
    '- The bill assumes steady traffic; Kinesis provisioned is priced at the average rate with 1 shard (no headroom for peaks: at 3× peaks it needs 2 shards).',
  );
  return out.join('\n');
}

/** One chart, two panels: the monthly bill of the reference workload, and measured throughput. */
/**
 * The reference bill as the SDK sends and reads the workload, beside the bill as measured with JSON: every
 * Lambda duration line, then each service, with the change.
 */
function renderSdkDefaults(json: Bill, sdk: Bill): string {
  const change = (before: number, after: number) => (before === 0 ? '–' : `${after >= before ? '+' : '−'}${f((Math.abs(after - before) / before) * 100, 0)}%`);
  const dollars = (bill: Bill, pick: (l: Bill['lines'][number]) => boolean) => bill.lines.filter(pick).reduce((sum, l) => sum + l.dollars, 0);
  const duration = (l: Bill['lines'][number]) => l.service === 'Lambda' && l.item.startsWith('duration');
  const items = [...new Set(json.lines.filter(duration).map((l) => l.item))].filter((item) => dollars(json, (l) => l.item === item) >= 0.005);
  const row = (name: string, pick: (l: Bill['lines'][number]) => boolean) => {
    const before = dollars(json, pick);
    const after = dollars(sdk, pick);
    return [name, usd(before), usd(after), change(before, after)];
  };
  return [
    "### With the SDK's defaults",
    `The same workload as the SDK producer and consumer send and read it (bench/per-call.ts, \`produceSdk\` and \`fetchSdk\`): produces of the same 100 records in the binary format, compressed by the client, with an Idempotency-Key (a TransactWriteItems, as every SDK produce); fetches in the binary format with every spilled batch handed out as a presigned URL, the client's GETs billed as S3 GETs. **${usd(sdk.total)}** a month against ${usd(json.total)} as measured with JSON.`,
    '',
    table(
      ['', 'JSON (as measured)', "SDK's defaults", 'change'],
      [
        ...items.map((item) => row(`Lambda ${item}`, (l) => duration(l) && l.item === item)),
        row('**Lambda duration, all lines**', duration),
        ...Object.keys(json.byService).map((service) => row(service, (l) => l.service === service)),
        row('**total**', () => true),
      ],
    ),
  ].join('\n');
}

export function renderChart(r: BenchResults): string {
  const W = 1200;
  const H = 520;
  const parts: string[] = [];
  const text = (x: number, y: number, s: string, opts: { size?: number; anchor?: string; weight?: string; fill?: string } = {}) =>
    `<text x="${x}" y="${y}" font-family="Helvetica, Arial, sans-serif" font-size="${opts.size ?? 13}" text-anchor="${opts.anchor ?? 'start'}" font-weight="${opts.weight ?? 'normal'}" fill="${opts.fill ?? '#222'}">${s.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`;
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);

  // Left: monthly bill bars.
  const bill = r.costModel.shardlog;
  const colors: Record<string, string> = { 'API Gateway': '#e07b39', Lambda: '#f2b134', DynamoDB: '#3a6ea5', S3: '#5aa469' };
  const rows: Array<{ label: string; segments: Array<[string, number]>; total: number }> = [];
  if (bill) rows.push({ label: 'shardlog (as measured)', segments: Object.entries(bill.byService), total: bill.total });
  const best = [...r.costModel.scenarios].sort((a, b) => a.total - b.total).find((s) => !s.name.startsWith('highly'));
  if (best && bill && best.total < bill.total) {
    rows.push({ label: `shardlog, best variant${best.note.includes('estimate') ? ' (estimate)' : ''}`, segments: [['shardlog', best.total]], total: best.total });
  }
  const [onDemand, prov7, prov1] = r.costModel.kinesis;
  if (prov1) rows.push({ label: 'Kinesis provisioned, 24 h', segments: [['Kinesis', prov1.total]], total: prov1.total });
  if (prov7) rows.push({ label: 'Kinesis provisioned, 7 d', segments: [['Kinesis', prov7.total]], total: prov7.total });
  if (onDemand) rows.push({ label: 'Kinesis on-demand, 7 d', segments: [['Kinesis', onDemand.total]], total: onDemand.total });
  const maxTotal = Math.max(1, ...rows.map((row) => row.total));
  const left = { x: 280, y: 70, w: 400, barH: 34, gap: 26 };
  parts.push(text(30, 36, 'Monthly bill: 1 TB/month of 1 KB JSON, 2 consumer groups, 7 days', { size: 15, weight: 'bold' }));
  parts.push(text(30, 54, `us-east-1 list prices as of ${r.costModel.prices.asOf}; shardlog from counted units (${r.mode} run, ${r.date})`, { size: 11, fill: '#555' }));
  rows.forEach((row, i) => {
    const y = left.y + i * (left.barH + left.gap);
    parts.push(text(left.x - 10, y + left.barH / 2 + 5, row.label, { anchor: 'end' }));
    let x = left.x;
    for (const [name, dollars] of row.segments) {
      const w = (dollars / maxTotal) * left.w;
      const fill = colors[name] ?? (name === 'Kinesis' ? '#8c8c8c' : '#7fa7d1');
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0.5, w).toFixed(1)}" height="${left.barH}" fill="${fill}"/>`);
      x += w;
    }
    parts.push(text(x + 6, y + left.barH / 2 + 5, `$${row.total.toFixed(0)}`, { weight: 'bold' }));
  });
  const legendY = left.y + rows.length * (left.barH + left.gap) + 4;
  Object.entries(colors).forEach(([name, color], i) => {
    parts.push(`<rect x="${left.x + i * 105}" y="${legendY}" width="12" height="12" fill="${color}"/>`);
    parts.push(text(left.x + i * 105 + 17, legendY + 11, name, { size: 12 }));
  });

  // Right: throughput bars (records/s), labelled with MiB/s.
  const t = r.throughput;
  const right = { x: 840, y: 90, w: 300, barH: 40, gap: 40 };
  parts.push(text(780, 36, 'Throughput, local stack', { size: 15, weight: 'bold' }));
  parts.push(text(780, 54, `${r.machine.cpus} cores, emulators and clients in one box; 1 KiB records`, { size: 11, fill: '#555' }));
  const tp = [
    { label: 'produce', rps: t.produce.recordsPerSecond, mib: t.produce.mibPerSecond, color: '#3a6ea5' },
    { label: 'fetch', rps: t.fetch.recordsPerSecond, mib: t.fetch.mibPerSecond, color: '#5aa469' },
  ];
  const maxRps = Math.max(1, ...tp.map((b) => b.rps));
  tp.forEach((b, i) => {
    const y = right.y + i * (right.barH + right.gap);
    const w = (b.rps / maxRps) * right.w;
    parts.push(text(right.x - 10, y + right.barH / 2 + 5, b.label, { anchor: 'end' }));
    parts.push(`<rect x="${right.x}" y="${y}" width="${w.toFixed(1)}" height="${right.barH}" fill="${b.color}"/>`);
    parts.push(text(right.x + 6, y + right.barH + 16, `${Math.round(b.rps).toLocaleString('en-US')} records/s · ${b.mib.toFixed(1)} MiB/s`, { size: 12 }));
  });
  const ops = r.operations;
  const latY = right.y + 2 * (right.barH + right.gap) + 30;
  parts.push(text(780, latY, 'Latency p50 / p99 (ms), one call at a time; round trips', { size: 13, weight: 'bold' }));
  const latRows = ['produce', 'fetch', 'coldFetch', 'groupFetch', 'commit', 'heartbeat']
    .filter((k) => ops[k])
    .map((k) => `${k}: ${ops[k]!.latencyMs.p50.toFixed(1)} / ${ops[k]!.latencyMs.p99.toFixed(1)} · ${ops[k]!.roundTrips.p50} RT`);
  latRows.forEach((line, i) => parts.push(text(790, latY + 22 + i * 20, line, { size: 12 })));

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n${parts.join('\n')}\n</svg>\n`;
}
