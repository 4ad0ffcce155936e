import { FUNCTIONS } from '../functions/routes.js';
import { REFERENCE_WORKLOAD, workLines, type Bill } from './cost-model.js';
import { workOf } from './bill.js';
import { BATCH, createTopic, expectOk, fetchPayload, produceBody, round, type BenchContext } from './harness.js';
import { summarize, type OperationStats, type Sample } from './measure.js';
import { US_EAST_1 } from './prices.js';
import { BatchingProducer } from './workload.js';

/*
 * Section 10: share groups (docs/api.md v1.1). What a record costs delivered and acknowledged, how many members
 * one share-partition takes before lost races dominate, and the reference workload's bill with one of its
 * consumer groups replaced by a share group.
 */

export interface ShareGroupResults {
  /** One member: fetch 100 records, accept them in one ack call. */
  readonly fetch: OperationStats;
  readonly ack: OperationStats;
  readonly recordsPerFetch: number;
  readonly perRecord: { readonly readUnits: number; readonly writeUnits: number; readonly roundTrips: number; readonly calls: number };
  /** Members fetching and acking one partition at once. */
  readonly contention: ReadonlyArray<{
    readonly members: number;
    readonly recordsAccepted: number;
    readonly fetches: number;
    readonly emptyFetches: number;
    readonly lostRaces: number;
    readonly lostRacesPerFetch: number;
    readonly writeUnitsPerRecord: number;
    /** With each lost conditional Put billed 1 WRU, as DynamoDB bills it (DynamoDB Local reports nothing for one). */
    readonly modeledWriteUnitsPerRecord: number;
    readonly readUnitsPerRecord: number;
  }>;
  /** The smallest member count whose fetches lose more conditional writes than they make, or null. */
  readonly membersBeforeConflictsDominate: number | null;
  /** The reference workload's monthly bill with one consumer group read by a share group instead. */
  readonly bill?: { readonly consumerGroupRead: number; readonly shareGroupRead: number; readonly total: number; readonly note: string };
}

const FETCH_RECORDS = 100;
const LOCK_MS = 600_000;

/** Records the contention probe gives each member per round, and rounds per member. */
const CONTENTION_RECORDS = 10;

export async function measureShareGroups(ctx: BenchContext, bill: Bill | undefined): Promise<ShareGroupResults> {
  const { plan, prober, http, log } = ctx;
  log(`share groups: fetch ${FETCH_RECORDS} + accept, ${plan.groupProbes} times; then members racing on one partition`);
  const topic = 'bench-share';
  await createTopic(ctx, topic, plan.partitions);
  await fill(ctx, topic, plan.partitions, plan.groupProbes * FETCH_RECORDS);
  expectOk(await http('PUT', `/v1/share-groups/bench-share/subscriptions/${topic}`, JSON.stringify({ from: 'earliest' })), 'subscribe');
  const fetches: Sample[] = [];
  const acks: Sample[] = [];
  let records = 0;
  for (let i = 0; i < plan.groupProbes; i++) {
    const fetched = await prober.call('POST', '/v1/share-groups/bench-share/fetch', { maxRecords: FETCH_RECORDS, lockMs: LOCK_MS }, fetchPayload);
    const got = (expectOk(fetched.answer, 'share fetch').body as { records: Array<{ topic: string; partition: number; offset: number; receipt: string }> }).records;
    if (got.length === 0) break;
    fetches.push(fetched.sample);
    records += got.length;
    const acked = await prober.call('POST', '/v1/share-groups/bench-share/acks', { acks: got.map(({ topic: t, partition, offset, receipt }) => ({ topic: t, partition, offset, receipt, type: 'accept' })) });
    expectOk(acked.answer, 'share ack');
    acks.push(acked.sample);
  }
  const fetch = summarize(fetches);
  const ack = summarize(acks);
  const recordsPerFetch = records / Math.max(1, fetches.length);
  const perRecord = {
    readUnits: round((fetch.readUnits + ack.readUnits) / recordsPerFetch, 3),
    writeUnits: round((fetch.writeUnits + ack.writeUnits) / recordsPerFetch, 3),
    roundTrips: round((fetch.roundTrips.mean + ack.roundTrips.mean) / recordsPerFetch, 3),
    calls: round(2 / recordsPerFetch, 3),
  };
  const contention = await measureContention(ctx);
  const dominated = contention.find((c) => c.lostRacesPerFetch > 1);
  return {
    fetch,
    ack,
    recordsPerFetch: round(recordsPerFetch, 1),
    perRecord,
    contention,
    membersBeforeConflictsDominate: dominated ? dominated.members : null,
    ...(bill ? { bill: shareGroupBill(bill, fetch, ack, recordsPerFetch) } : {}),
  };
}

/** `count` records of the bench's 1 KB events, 100 per produce, spread by key over `partitions`. */
async function fill(ctx: BenchContext, topic: string, partitions: number, count: number): Promise<void> {
  const producer = new BatchingProducer({ partitions, batchSize: BATCH, recordBytes: 1024, seed: 915 });
  for (let produced = 0; produced < count; produced += BATCH) {
    expectOk(await ctx.http('POST', `/v1/topics/${topic}/records`, produceBody(producer.next().records, partitions === 1 ? 0 : undefined)), 'produce');
  }
}

/**
 * Members racing on ONE partition (the worst case: a fetch spreads members over a group's partitions): each
 * fetches 10 records and accepts them, for a few rounds, through the engine (its fetch reports the conditional
 * writes it lost). Work is metered over the whole run.
 */
async function measureContention(ctx: BenchContext): Promise<ShareGroupResults['contention']> {
  const { engine, meter, log } = ctx;
  const counts = ctx.plan.contentionRequests > 2 ? [1, 2, 4, 8, 16, 32] : [1, 2, 4, 8, 16];
  const rounds = ctx.plan.contentionRequests > 2 ? 10 : 4;
  const topic = 'bench-share-one';
  await createTopic(ctx, topic, 1);
  await fill(ctx, topic, 1, Math.max(...counts) * rounds * CONTENTION_RECORDS * 2);
  const out: Array<ShareGroupResults['contention'][number]> = [];
  for (const members of counts) {
    const group = `bench-share-race-${members}`;
    await engine.shareGroups.subscribe(group, topic, 'earliest');
    let fetches = 0;
    let empty = 0;
    let lost = 0;
    let accepted = 0;
    meter.reset();
    await Promise.all(
      Array.from({ length: members }, async () => {
        for (let r = 0; r < rounds; r++) {
          const result = await engine.shareGroups.fetch(group, { maxRecords: CONTENTION_RECORDS, lockMs: LOCK_MS, waitMs: 0, encoding: 'json' });
          fetches++;
          lost += result.lostRaces;
          if (result.records.length === 0) {
            empty++;
            continue;
          }
          const results = await engine.shareGroups.acknowledge(
            group,
            result.records.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.record.offset, receipt: s.receipt, type: 'accept' as const })),
          );
          accepted += results.filter((x) => x.ok).length;
        }
      }),
    );
    const work = meter.totals();
    out.push({
      members,
      recordsAccepted: accepted,
      fetches,
      emptyFetches: empty,
      lostRaces: lost,
      lostRacesPerFetch: round(lost / Math.max(1, fetches), 2),
      writeUnitsPerRecord: round(work.writeUnits / Math.max(1, accepted), 3),
      modeledWriteUnitsPerRecord: round((work.writeUnits + lost) / Math.max(1, accepted), 3),
      readUnitsPerRecord: round(work.readUnits / Math.max(1, accepted), 3),
    });
    log(`share groups: ${members} member(s) on one partition: ${lost} lost races in ${fetches} fetches, ${round(work.writeUnits / Math.max(1, accepted), 2)} WRU/record`);
  }
  return out;
}

/**
 * The reference workload (README, "Performance and cost") with one of its consumer groups replaced by a share
 * group that fetches 100 records and accepts them in one call: the consumer group's fetch, commit and heartbeat
 * lines (half of them: the workload has two groups) out, the share group's fetch and ack calls in.
 */
function shareGroupBill(bill: Bill, fetch: OperationStats, ack: OperationStats, recordsPerFetch: number): NonNullable<ShareGroupResults['bill']> {
  const groups = REFERENCE_WORKLOAD.consumerGroups;
  const consumerGroupRead =
    bill.lines.filter((l) => /: (group fetch|commit|heartbeat)$/.test(l.item)).reduce((sum, l) => sum + l.dollars, 0) / groups;
  const records = REFERENCE_WORKLOAD.bytesPerMonth / REFERENCE_WORKLOAD.recordBytes;
  const calls = records / recordsPerFetch;
  const serving = { calls, memoryMb: FUNCTIONS.shareGroups.memoryMb, viaHttp: true, lambdaRequests: true };
  const shareGroupRead = [
    ...workLines({ name: 'share fetch', work: workOf(fetch), ...serving }, US_EAST_1),
    ...workLines({ name: 'share ack', work: workOf(ack), ...serving }, US_EAST_1),
  ].reduce(
    (sum, l) => sum + l.dollars,
    0,
  );
  return {
    consumerGroupRead: round(consumerGroupRead, 2),
    shareGroupRead: round(shareGroupRead, 2),
    total: round(bill.total - consumerGroupRead + shareGroupRead, 2),
    note: `${REFERENCE_WORKLOAD.name}, one of its ${groups} groups a share group: ${round(calls / 1e6, 1)} M fetch and ack calls a month of ${round(recordsPerFetch, 0)} records each`,
  };
}

/** The report's section. */
export function renderShareGroups(r: ShareGroupResults): string {
  const f = (n: number) => String(round(n, 2));
  const lines = [
    '## Share groups',
    '',
    `One member fetches ${FETCH_RECORDS} records and accepts them in one ack call (${round(r.recordsPerFetch, 1)} records per fetch on average):`,
    '',
    '| call | RRU | WRU | round trips (mean) | DynamoDB requests |',
    '|---|---|---|---|---|',
    `| share fetch | ${f(r.fetch.readUnits)} | ${f(r.fetch.writeUnits)} | ${f(r.fetch.roundTrips.mean)} | ${Object.entries(r.fetch.dynamoByCommand).map(([k, v]) => `${v} ${k.replace(/Command$/, '')}`).join(', ')} |`,
    `| share ack | ${f(r.ack.readUnits)} | ${f(r.ack.writeUnits)} | ${f(r.ack.roundTrips.mean)} | ${Object.entries(r.ack.dynamoByCommand).map(([k, v]) => `${v} ${k.replace(/Command$/, '')}`).join(', ')} |`,
    `| **per record delivered and accepted** | ${r.perRecord.readUnits} | ${r.perRecord.writeUnits} | ${r.perRecord.roundTrips} | ${r.perRecord.calls} HTTP calls |`,
    '',
    'Members racing on one partition (fetch 10, accept them; a fetch spreads members over the partitions of a group, so this is the worst case):',
    '',
    '| members | accepted | fetches (empty) | lost races per fetch | WRU per record (Local / modeled) | RRU per record |',
    '|---|---|---|---|---|---|',
    ...r.contention.map((c) => `| ${c.members} | ${c.recordsAccepted} | ${c.fetches} (${c.emptyFetches}) | ${c.lostRacesPerFetch} | ${c.writeUnitsPerRecord} / ${c.modeledWriteUnitsPerRecord} | ${c.readUnitsPerRecord} |`),
    '',
    r.membersBeforeConflictsDominate === null
      ? 'Lost races stayed below one per fetch at every member count measured.'
      : `From ${r.membersBeforeConflictsDominate} members on one partition, a fetch loses more conditional writes than it makes.`,
  ];
  if (r.bill) {
    lines.push(
      '',
      `Monthly bill: ${r.bill.note}: consumer-group read $${r.bill.consumerGroupRead} → share-group read $${r.bill.shareGroupRead}; the whole bill $${r.bill.total}.`,
    );
  }
  return lines.join('\n') + '\n';
}
