/**
 * Contention: many producers appending to the same partitions at once (issue 9, defect 4).
 *
 *   npm run bench                          # as one section of the full report
 *   npx tsx bench/contention.ts [--quick]  # this section alone, printed as Markdown and JSON
 *
 * Four scenarios, each on a fresh topic, with 64 producers (16 in a quick run) each sending its requests (10;
 * 2 in a quick run) one after another:
 * - `local stack, 8 partitions`: producers over HTTP, requests of 40 keyed records (so each spans the 8
 *   partitions and is one TransactWriteItems), every request with an Idempotency-Key as the SDK producer sends;
 * - `local stack, 1 partition`: producers over HTTP, 40 records per request to partition 0 (one PutItem);
 * - the same two with `separate engines`: each producer calls its own engine (its own tail cache, contention
 *   windows and turns), as that many Lambda containers would. The local stack runs every request in one process,
 *   whose appends take turns per partition; these show what processes racing each other cost.
 *
 * For every scenario: failed requests (the goal is none), a read-back of every partition (offsets dense from
 * 0, as many records as acknowledged, each acknowledged offset holding the record acknowledged for it), the
 * conditional writes each append needed (attempts p50/p99), latency, records/s, and per request the DynamoDB
 * requests by command, the failed conditional writes, and write units two ways. DynamoDB Local's own figures
 * are no bill: it reports nothing for a failed write, and 2 units for a 9-item transaction of 100-byte items
 * (2 times its largest item, it seems). So `modeledWriteUnits` prices every conditional write sent, won or
 * lost, by DynamoDB's rules from the items in the request: a PutItem 1 unit per started KB of its item, a
 * TransactWriteItems 2 per started KB of each item. A failed conditional put is billed (by the size of the
 * item it met, about the size of ours here); whether a cancelled transaction is, is not documented: counting
 * it makes the figure an upper bound.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createShardlog, type Shardlog } from '../lib/shardlog.js';
import { itemBytes, transactWriteUnits, type TransactWriteItemLike } from '../lib/storage/capacity-meter.js';
import { percentile, type httpClient } from './measure.js';

export interface ContentionContext {
  readonly http: ReturnType<typeof httpClient>;
  /** The engine the local stack's handlers use (`LocalStack.engine`). */
  readonly engine: Shardlog;
  /** Producers appending at once (bench/harness.ts's plans: 64, quick 16). */
  readonly producers: number;
  /** Requests each producer sends, one after another (bench/harness.ts's plans: 10, quick 2). */
  readonly requests: number;
  readonly log: (message: string) => void;
}

export interface ContentionScenario {
  readonly name: string;
  readonly producers: number;
  readonly partitions: number;
  readonly requests: number;
  readonly recordsPerRequest: number;
  readonly idempotent: boolean;
  /** `http`: through the local stack; `engines`: one engine per producer, called directly. */
  readonly via: 'http' | 'engines';
  readonly failedRequests: number;
  readonly failures: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly recordsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Conditional writes (PutItem or TransactWriteItems) per append, won or lost. */
  readonly attempts: { readonly p50: number; readonly p99: number; readonly max: number; readonly mean: number };
  /** Means per request. */
  readonly perRequest: {
    readonly dynamoRequests: number;
    readonly dynamoByCommand: Readonly<Record<string, number>>;
    readonly failedConditionalWrites: number;
    /** As DynamoDB Local reported them. */
    readonly readUnits: number;
    readonly writeUnits: number;
    /** Every conditional write sent, priced by DynamoDB's rules. */
    readonly modeledWriteUnits: number;
  };
  readonly readBack: { readonly partitionsRead: number; readonly records: number; readonly problems: readonly string[] };
}

export interface ContentionResults {
  readonly scenarios: readonly ContentionScenario[];
}

const RECORDS_PER_REQUEST = 40;
const PARTITIONS = 8;
/** Makes each value ~100 bytes of JSON (the issue's records were small; contention is about requests). */
const PAD = 'x'.repeat(60);

/** The DynamoDB work of one append, attributed through AsyncLocalStorage. */
interface AppendWork {
  attempts: number;
  failedWrites: number;
  requests: number;
  byCommand: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  /** Every conditional write sent, priced by DynamoDB's rules (see the file comment). */
  modeledWriteUnits: number;
}

const CONDITIONAL_WRITES = new Set(['PutItemCommand', 'TransactWriteItemsCommand']);
const WRITES = new Set([...CONDITIONAL_WRITES, 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);

/** The write units DynamoDB bills for a PutItem or TransactWriteItems with this (document client) input. */
function modeledWriteUnits(command: string, input: Record<string, unknown>): number {
  if (command === 'PutItemCommand') return Math.max(1, Math.ceil(itemBytes(input.Item as Record<string, unknown>) / 1024));
  return transactWriteUnits(input.TransactItems as TransactWriteItemLike[] | undefined);
}

function unitsOf(consumed: unknown): number {
  const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as Array<{ CapacityUnits?: number }>;
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

/**
 * Counts every DynamoDB request made inside an append (the engine's `store.append`, wrapped) against that append,
 * whichever engine made it: the engines share one client, the way a Lambda container's engine owns its own.
 */
class AppendTracer {
  private readonly current = new AsyncLocalStorage<AppendWork>();
  readonly finished: AppendWork[] = [];

  attach(dynamo: Pick<DynamoDBClient, 'middlewareStack'>): this {
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const work = this.current.getStore();
        if (!work) return next(args);
        const command = String(context.commandName ?? 'unknown');
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity ??= 'TOTAL';
        work.requests++;
        work.byCommand[command] = (work.byCommand[command] ?? 0) + 1;
        if (CONDITIONAL_WRITES.has(command)) {
          work.attempts++;
          work.modeledWriteUnits += modeledWriteUnits(command, input);
        }
        const count = (units: number) => {
          if (WRITES.has(command)) work.writeUnits += units;
          else work.readUnits += units;
        };
        try {
          const result = await next(args);
          count(unitsOf((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity));
          return result;
        } catch (error) {
          if (CONDITIONAL_WRITES.has(command)) work.failedWrites++;
          count(unitsOf((error as { ConsumedCapacity?: unknown }).ConsumedCapacity));
          throw error;
        }
      },
      { step: 'initialize', name: 'shardlogBenchAppendTracer', priority: 'high' },
    );
    return this;
  }

  /** Wraps `engine.store.append` so that every call is traced. */
  wrap(engine: Shardlog): void {
    const store = engine.store as { append: Shardlog['store']['append'] };
    const append = store.append.bind(engine.store);
    store.append = (...args) => {
      const work: AppendWork = { attempts: 0, failedWrites: 0, requests: 0, byCommand: {}, readUnits: 0, writeUnits: 0, modeledWriteUnits: 0 };
      return this.current.run(work, async () => {
        try {
          return await append(...args);
        } finally {
          this.finished.push(work);
        }
      });
    };
  }
}

interface Value {
  readonly p: number;
  readonly r: number;
  readonly i: number;
  readonly pad: string;
}

const utf8 = new TextEncoder();
const round = (n: number, digits = 2) => Number(n.toFixed(digits));
const mean = (values: readonly number[]) => (values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length);

/** Runs the four scenarios. The engine's DynamoDB client gets a tracer (harmless to other sections). */
export async function measureContention(ctx: ContentionContext): Promise<ContentionResults> {
  const tracer = new AppendTracer().attach(ctx.engine.clients.doc);
  tracer.wrap(ctx.engine);
  const { producers, requests } = ctx;
  const plans: Array<Pick<ContentionScenario, 'name' | 'partitions' | 'idempotent' | 'via'>> = [
    { name: 'local stack, 8 partitions', partitions: PARTITIONS, idempotent: true, via: 'http' },
    { name: 'local stack, 1 partition', partitions: 1, idempotent: false, via: 'http' },
    { name: 'separate engines, 8 partitions', partitions: PARTITIONS, idempotent: true, via: 'engines' },
    { name: 'separate engines, 1 partition', partitions: 1, idempotent: false, via: 'engines' },
  ];
  const scenarios: ContentionScenario[] = [];
  for (const [n, plan] of plans.entries()) {
    ctx.log(`contention: ${plan.name}: ${producers} producers × ${requests} requests of ${RECORDS_PER_REQUEST} records${plan.idempotent ? ', each with an Idempotency-Key' : ''}`);
    scenarios.push(await runScenario(ctx, tracer, { ...plan, producers, requests, recordsPerRequest: RECORDS_PER_REQUEST }, `bench-contention-${n}-${Date.now()}`));
    const s = scenarios.at(-1)!;
    ctx.log(`contention: ${plan.name}: ${s.failedRequests} failed, ${s.recordsPerSecond} records/s, attempts p50 ${s.attempts.p50} p99 ${s.attempts.p99}, read-back ${s.readBack.problems.length === 0 ? 'dense' : s.readBack.problems.join('; ')}`);
  }
  return { scenarios };
}

type Plan = Pick<ContentionScenario, 'name' | 'producers' | 'partitions' | 'requests' | 'recordsPerRequest' | 'idempotent' | 'via'>;

async function runScenario(ctx: ContentionContext, tracer: AppendTracer, plan: Plan, topic: string): Promise<ContentionScenario> {
  const created = await ctx.http('POST', '/v1/topics', JSON.stringify({ name: topic, partitions: plan.partitions }));
  if (created.status !== 201) throw new Error(`create topic ${topic}: HTTP ${created.status}`);
  const engines = plan.via === 'engines' ? Array.from({ length: plan.producers }, () => createShardlog(ctx.engine.clients, ctx.engine.config)) : [];
  for (const engine of engines) tracer.wrap(engine);
  const acked: Array<{ partition: number; offset: number; value: Value }> = [];
  const failures: Record<string, number> = {};
  const latencies: number[] = [];
  tracer.finished.length = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: plan.producers }, async (_, p) => {
      for (let r = 0; r < plan.requests; r++) {
        const values: Value[] = Array.from({ length: plan.recordsPerRequest }, (_, i) => ({ p, r, i, pad: PAD }));
        const keyOf = (i: number) => `customer-${p}-${r}-${i}`;
        const idempotencyKey = plan.idempotent ? `${topic}-${p}-${r}` : undefined;
        const start = performance.now();
        let acks: Array<{ partition: number; offset: number }> | undefined;
        let failure: string | undefined;
        const engine = engines[p];
        if (engine) {
          try {
            const out = await engine.log.produce(await engine.topics.get(topic), {
              records: values.map((value, i) => ({
                key: utf8.encode(keyOf(i)),
                value: utf8.encode(JSON.stringify(value)),
                valueIsJson: true,
                headers: {},
                ...(plan.partitions === 1 ? { partition: 0 } : {}),
              })),
              ...(idempotencyKey ? { idempotencyKey } : {}),
            });
            acks = out.records;
          } catch (error) {
            failure = (error as { code?: string }).code ?? (error as Error).name;
          }
        } else {
          const body = JSON.stringify({ records: values.map((value, i) => ({ key: keyOf(i), value, ...(plan.partitions === 1 ? { partition: 0 } : {}) })) });
          const answer = await ctx.http('POST', `/v1/topics/${topic}/records`, body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
          if (answer.status === 200) acks = (answer.body as { records: Array<{ partition: number; offset: number }> }).records;
          else failure = `${answer.status} ${(answer.body as { error?: { code?: string } } | undefined)?.error?.code ?? ''}`.trim();
        }
        latencies.push(performance.now() - start);
        if (acks) acks.forEach((ack, i) => acked.push({ partition: ack.partition, offset: ack.offset, value: values[i]! }));
        else failures[failure!] = (failures[failure!] ?? 0) + 1;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const work = [...tracer.finished];
  const readBack = await readBackAll(ctx, topic, plan.partitions, acked);
  const byCommand: Record<string, number> = {};
  for (const w of work) for (const [k, v] of Object.entries(w.byCommand)) byCommand[k] = (byCommand[k] ?? 0) + v;
  const total = plan.producers * plan.requests;
  const attempts = work.map((w) => w.attempts);
  return {
    ...plan,
    failedRequests: Object.values(failures).reduce((s, v) => s + v, 0),
    failures,
    seconds: round(seconds),
    recordsPerSecond: round(acked.length / seconds, 0),
    latencyMs: { p50: round(percentile(latencies, 50), 0), p99: round(percentile(latencies, 99), 0), max: round(Math.max(...latencies), 0) },
    attempts: { p50: percentile(attempts, 50), p99: percentile(attempts, 99), max: Math.max(...attempts), mean: round(mean(attempts)) },
    perRequest: {
      dynamoRequests: round(mean(work.map((w) => w.requests))),
      dynamoByCommand: Object.fromEntries(Object.entries(byCommand).map(([k, v]) => [k, round(v / total)])),
      failedConditionalWrites: round(mean(work.map((w) => w.failedWrites))),
      readUnits: round(mean(work.map((w) => w.readUnits))),
      writeUnits: round(mean(work.map((w) => w.writeUnits))),
      modeledWriteUnits: round(mean(work.map((w) => w.modeledWriteUnits))),
    },
    readBack,
  };
}

/** Reads every partition from offset 0 and checks it against what was acknowledged. */
async function readBackAll(
  ctx: ContentionContext,
  topic: string,
  partitions: number,
  acked: ReadonlyArray<{ partition: number; offset: number; value: Value }>,
): Promise<ContentionScenario['readBack']> {
  const problems: string[] = [];
  let records = 0;
  for (let partition = 0; partition < partitions; partition++) {
    const stored: Array<{ offset: number; value: Value }> = [];
    for (let offset = 0; ; ) {
      const page = await ctx.http('GET', `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=10000`);
      if (page.status !== 200) {
        problems.push(`partition ${partition}: HTTP ${page.status} at offset ${offset}`);
        break;
      }
      const body = page.body as { records: Array<{ offset: number; value: Value }>; nextOffset: number; endOffset: number };
      stored.push(...body.records);
      offset = body.nextOffset;
      if (offset >= body.endOffset) break;
    }
    records += stored.length;
    const gaps = stored.filter((r, i) => r.offset !== i).length;
    if (gaps > 0) problems.push(`partition ${partition}: ${gaps} records off their dense offset`);
    const mine = acked.filter((a) => a.partition === partition);
    if (stored.length !== mine.length) problems.push(`partition ${partition}: ${stored.length} records stored, ${mine.length} acknowledged`);
    const wrong = mine.filter((a) => JSON.stringify(stored[a.offset]?.value) !== JSON.stringify(a.value)).length;
    if (wrong > 0) problems.push(`partition ${partition}: ${wrong} acknowledged offsets hold another record`);
  }
  return { partitionsRead: partitions, records, problems };
}

/** The section of the Markdown report. */
export function renderContention(results: ContentionResults): string {
  const rows = results.scenarios.map((s) => [
    s.name,
    `${s.producers} × ${s.requests} × ${s.recordsPerRequest}${s.idempotent ? ', idempotent' : ''}`,
    `${s.failedRequests}${s.failedRequests > 0 ? ` (${Object.entries(s.failures).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}`,
    s.readBack.problems.length === 0 ? `dense (${s.readBack.records} records in ${s.readBack.partitionsRead})` : `**${s.readBack.problems.join('; ')}**`,
    `${s.attempts.p50} / ${s.attempts.p99} (max ${s.attempts.max})`,
    String(s.recordsPerSecond),
    `${s.latencyMs.p50} / ${s.latencyMs.p99} ms`,
    `${s.perRequest.dynamoRequests} (${Object.entries(s.perRequest.dynamoByCommand).map(([k, v]) => `${v} ${k.replace(/Command$/, '')}`).join(', ')})`,
    `${s.perRequest.modeledWriteUnits} (Local: ${s.perRequest.writeUnits}); ${s.perRequest.readUnits} RRU`,
  ]);
  const header = ['scenario', 'producers × requests × records', 'failed', 'read back', 'attempts p50 / p99', 'records/s', 'latency p50 / p99', 'DynamoDB requests per request', 'write units per request, modeled (Local)'];
  return [
    `## Contention: ${results.scenarios[0]?.producers ?? 0} producers on the same partitions`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    'Each producer sends its requests one after another. "Local stack": over HTTP, every request in one process, whose appends take turns per partition (lib/log/partition-turns.ts). "Separate engines": each producer has its own engine (tail cache, contention windows, turns), as Lambda containers do, so they race each other and the backoff of lib/log/append-retry.ts decides; DynamoDB Local queues a transaction behind another on the same items where DynamoDB would cancel it at once, so its lost races cost more time than AWS\'s. Attempts are conditional writes per append, won or lost. Write units are modeled with DynamoDB\'s rules for every conditional write sent (1 per started KB of a put item, 2 per started KB of each transaction item; cancelled transactions counted, so an upper bound); DynamoDB Local\'s own figure is beside it (it reports nothing for failed writes and undercounts transactions).',
    '',
  ].join('\n');
}

// ── standalone: npx tsx bench/contention.ts [--quick] ────────────────────────────────────────────────────────
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  process.env.LOG_LEVEL ??= 'warn';
  const { quietSdkNodeVersionWarning } = await import('../infra/local/local-env.js');
  quietSdkNodeVersionWarning();
  const { startLocalStack } = await import('../infra/local/stack.js');
  const { PLANS } = await import('./harness.js');
  const { httpClient } = await import('./measure.js');
  const stack = await startLocalStack({ inMemory: true, port: 0, maintenanceIntervalMs: 24 * 3600 * 1000, log: console });
  const started = performance.now();
  try {
    const results = await measureContention({
      http: httpClient(stack.url),
      engine: stack.engine,
      producers: PLANS[values.quick === true ? 'quick' : 'full'].contentionProducers,
      requests: PLANS[values.quick === true ? 'quick' : 'full'].contentionRequests,
      log: (message) => console.log(`[contention ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`),
    });
    console.log(renderContention(results));
    console.log(JSON.stringify(results, null, 2));
  } finally {
    await stack.stop();
  }
}
