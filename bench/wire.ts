import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
// kinesalite has no type declarations: the bench uses its one export, a function that returns an http.Server.
// @ts-expect-error no types
import kinesalite from 'kinesalite';
import type { JsonValue } from '../lib/client/types.js';
import { encodeProduce, URL_LOADS_IN_FLIGHT } from '../lib/client/wire.js';
import { mapLimit } from '../lib/concurrency.js';
import { encodeBatch } from '../lib/log/batch-format.js';
import { BATCHES_MEDIA_TYPE, decodeEnvelope, encodeEnvelope } from '../lib/log/wire-batches.js';
import { AWS_DYNAMODB_RTT_MS, AWS_S3_RTT_MS } from './bill.js';
import { REFERENCE_WORKLOAD } from './cost-model.js';
import { base64Bytes, createTopic, round, type BenchContext } from './harness.js';
import type { Sample } from './measure.js';
import { GB, MIB, US_EAST_1 } from './prices.js';

/**
 * Section "wire": bytes as stored end to end (issue 12). On the workload of the issue — 1 KB JSON records, batches
 * of 500, 4 partitions, 8 produce requests in flight, one fetch chain per partition — it measures:
 * - the rate of produce and fetch for shardlog JSON, shardlog binary, and kinesalite (Kinesis's API, run in this
 *   process as a peer on the same machine and the same load), as records per second and as a ratio to kinesalite;
 * - per MiB produced and fetched, for JSON, binary and S3-direct: Lambda milliseconds (the handler's own time,
 *   one call alone, plus AWS's round trips as bench/bill.ts models them), bytes through Lambda (request and
 *   response as Lambda carries them: binary base64-encoded) and requests;
 * - the Lambda duration lines of the reference workload's bill for each format (the SDK's default is binary).
 * Bodies are encoded before the clock starts: the rates are the server's, not the client's encoding.
 */

export const WIRE_RECORDS_PER_REQUEST = 500;
const IN_FLIGHT = 8;
const PARTITIONS = 4;
/** S3-direct batches: about a MiB stored, near where the SDK starts to upload batches itself (lib/client/binary-produce.ts). */
const DIRECT_RECORDS_PER_BATCH = 2000;
/** Memory of the produce and groups functions (functions/routes.ts): what a Lambda millisecond costs. */
const FUNCTION_GB = 1;

export interface WireRate {
  readonly system: 'shardlog json' | 'shardlog binary' | 'shardlog sdk' | 'kinesalite';
  readonly produceRecordsPerSec: number;
  readonly fetchRecordsPerSec: number;
  readonly produceVsKinesalite: number;
  readonly fetchVsKinesalite: number;
}

export interface WirePerMiB {
  /** `binary`: bytes inline both ways; `sdk`: the SDK's default, binary inline produce and a fetch with URLs. */
  readonly format: 'json' | 'binary' | 'sdk' | 's3-direct';
  readonly produce: { readonly lambdaMs: number; readonly lambdaBytes: number; readonly requests: number };
  readonly fetch: { readonly lambdaMs: number; readonly lambdaBytes: number; readonly requests: number };
  /** The reference workload's Lambda duration lines ($/month): produce, and fetch by its consumer groups. */
  readonly billProduceUsd: number;
  readonly billFetchUsd: number;
}

export interface WireSection {
  readonly workload: string;
  readonly requests: number;
  readonly rates: WireRate[];
  readonly perMiB: WirePerMiB[];
}

/** A 1 KB JSON value: field names and words that repeat, and about 600 characters of hex (gzip takes it to ~45%). */
function recordValue(i: number): { [key: string]: JsonValue } {
  const hex = (n: number) => createHash('sha256').update(`${i}/${n}`).digest('hex');
  const value = { id: i, user: `user-${i % 997}`, kind: ['view', 'cart', 'order'][i % 3]!, at: 1_700_000_000_000 + i, trace: hex(0) + hex(1) + hex(2) + hex(3) + hex(4) + hex(5).slice(0, 20), note: '' };
  value.note = 'the quick brown fox jumps over the lazy dog; '.repeat(20).slice(0, 1024 - JSON.stringify(value).length);
  return value;
}

/** Runs `jobs` with at most `limit` in flight; returns the elapsed seconds. */
async function pool(jobs: ReadonlyArray<() => Promise<void>>, limit: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) await jobs[next++]!();
  }));
  return (performance.now() - t0) / 1000;
}

async function ok(response: Response, what: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${new TextDecoder().decode(bytes).slice(0, 200)}`);
  return bytes;
}

/** Kinesis's JSON 1.1 protocol, as kinesalite checks it (a well-formed SigV4 header; the signature is not verified). */
function kinesis(url: string) {
  return async (target: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `Kinesis_20131202.${target}`,
        'x-amz-date': '20260101T000000Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
      },
      body: JSON.stringify(body),
    });
    const text = new TextDecoder().decode(await ok(response, target));
    return (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>; // CreateStream answers nothing
  };
}

/**
 * Produce and fetch rates of shardlog (JSON, binary) and kinesalite, side by side, and the fetch as the SDK
 * makes it (`urls=1`, then the presigned GETs; its produce of these batches is the binary one). Long on
 * purpose: the systems' runs sit together so that each visibly gets the same records, pool and order.
 */
async function measureRates(ctx: BenchContext, requests: number): Promise<WireRate[]> {
  const base = ctx.stack.url;
  const now = Date.now();
  const batches = Array.from({ length: requests }, (_, r) =>
    Array.from({ length: WIRE_RECORDS_PER_REQUEST }, (_, i) => ({ value: recordValue(r * WIRE_RECORDS_PER_REQUEST + i), partition: r % PARTITIONS })),
  );
  const json = batches.map((records) => JSON.stringify({ records }));
  const binary = batches.map((records, r) => encodeProduce(records, { partitions: PARTITIONS, idempotencyKey: `w${r}`, timestampOf: () => now }).body);
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kin = kinesis(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    await kin('CreateStream', { StreamName: 'wire', ShardCount: PARTITIONS });
    while (((await kin('DescribeStream', { StreamName: 'wire' })).StreamDescription as { StreamStatus: string }).StreamStatus !== 'ACTIVE') {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const shardHash = (p: number) => ((BigInt(2) ** BigInt(128) / BigInt(PARTITIONS)) * BigInt(p) + BigInt(1)).toString();
    const puts = batches.map((records) =>
      JSON.stringify({
        StreamName: 'wire',
        Records: records.map((r) => ({ Data: Buffer.from(JSON.stringify(r.value)).toString('base64'), PartitionKey: 'k', ExplicitHashKey: shardHash(r.partition) })),
      }),
    );
    await createTopic(ctx, 'wire-json', PARTITIONS);
    await createTopic(ctx, 'wire-binary', PARTITIONS);
    const topics = { json: 'wire-json', binary: 'wire-binary' };
    const post = (topic: string, body: string | Uint8Array, type: string) => async () => {
      await ok(await fetch(`${base}/v1/topics/${topic}/records`, { method: 'POST', headers: { 'content-type': type }, body }), 'produce');
    };
    const total = requests * WIRE_RECORDS_PER_REQUEST;
    const produceSeconds = {
      json: await pool(json.map((b) => post(topics.json, b, 'application/json')), IN_FLIGHT),
      binary: await pool(binary.map((b) => post(topics.binary, b, BATCHES_MEDIA_TYPE)), IN_FLIGHT),
      kinesalite: await pool(puts.map((b) => async () => void (await kin('PutRecords', JSON.parse(b) as unknown))), IN_FLIGHT),
    };
    // Fetch: one chain per partition (a partition is read in order), each read taking what a request holds.
    const perPartition = total / PARTITIONS;
    const chain = (read: (p: number, offset: number) => Promise<number>) =>
      Array.from({ length: PARTITIONS }, (_, p) => async () => {
        for (let offset = 0; offset < perPartition; ) offset = await read(p, offset);
      });
    const shardlogRead = (topic: string, accept: string) => async (p: number, offset: number) => {
      const url = `${base}/v1/topics/${topic}/partitions/${p}/records?offset=${offset}&limit=${WIRE_RECORDS_PER_REQUEST}&maxBytes=6291456`;
      const bytes = await ok(await fetch(url, { headers: { accept } }), 'fetch');
      if (accept === 'application/json') return (JSON.parse(new TextDecoder().decode(bytes)) as { nextOffset: number }).nextOffset;
      const frame = JSON.parse(decodeEnvelope(bytes).frameText) as { nextOffset: number; recordBatches: Array<{ url?: string }> };
      // The SDK's way: the spilled batches' bytes straight from S3, as many at once as it loads (not decoded:
      // no other row decodes what it fetched).
      const urls = frame.recordBatches.flatMap((b) => (b.url !== undefined ? [b.url] : []));
      await mapLimit(urls, URL_LOADS_IN_FLIGHT, async (u) => ok(await fetch(u), 'presigned GET'));
      return frame.nextOffset;
    };
    const iterators = await Promise.all(
      Array.from({ length: PARTITIONS }, async (_, p) =>
        (await kin('GetShardIterator', { StreamName: 'wire', ShardId: `shardId-${String(p).padStart(12, '0')}`, ShardIteratorType: 'TRIM_HORIZON' })).ShardIterator as string,
      ),
    );
    const kinesisRead = async (p: number, offset: number) => {
      const answer = await kin('GetRecords', { ShardIterator: iterators[p], Limit: WIRE_RECORDS_PER_REQUEST });
      iterators[p] = answer.NextShardIterator as string;
      return offset + (answer.Records as unknown[]).length;
    };
    const fetchSeconds = {
      json: await pool(chain(shardlogRead(topics.json, 'application/json')), PARTITIONS),
      binary: await pool(chain(shardlogRead(topics.binary, BATCHES_MEDIA_TYPE)), PARTITIONS),
      sdk: await pool(chain(shardlogRead(topics.binary, `${BATCHES_MEDIA_TYPE};urls=1`)), PARTITIONS),
      kinesalite: await pool(chain(kinesisRead), PARTITIONS),
    };
    // The SDK produces these batches as the binary row does (it uploads only from 1 MiB).
    const produced = { ...produceSeconds, sdk: produceSeconds.binary };
    const rate = (system: WireRate['system'], key: keyof typeof fetchSeconds): WireRate => ({
      system,
      produceRecordsPerSec: round(total / produced[key], 0),
      fetchRecordsPerSec: round(total / fetchSeconds[key], 0),
      produceVsKinesalite: round(produced.kinesalite / produced[key]),
      fetchVsKinesalite: round(fetchSeconds.kinesalite / fetchSeconds[key]),
    });
    return [rate('shardlog json', 'json'), rate('shardlog binary', 'binary'), rate('shardlog sdk', 'sdk'), rate('kinesalite', 'kinesalite')];
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Modeled Lambda ms of one measured call (bench/bill.ts's model). */
const lambdaMs = (s: Sample) => Math.max(0, s.latencyMs - s.awsMs) + (s.roundTrips - s.s3RoundTrips) * AWS_DYNAMODB_RTT_MS + s.s3RoundTrips * AWS_S3_RTT_MS;
/** Bytes Lambda carries for a body: base64 for binary ones. */
const carried = (bytes: number, binary: boolean) => (binary ? base64Bytes(bytes) : bytes);

interface Totals {
  ms: number;
  bytes: number;
  requests: number;
  payload: number;
}

/**
 * Lambda ms, bytes and requests per MiB of payload, one call at a time, for each format. Long on purpose: the
 * four formats' produce and fetch paths differ in a few lines each, kept side by side.
 */
async function measurePerMiB(ctx: BenchContext, probes: number): Promise<WirePerMiB[]> {
  const base = ctx.stack.url;
  const out: WirePerMiB[] = [];
  for (const format of ['json', 'binary', 'sdk', 's3-direct'] as const) {
    const topic = `wire-mib-${format}`;
    await createTopic(ctx, topic, 1);
    const perBatch = format === 's3-direct' ? DIRECT_RECORDS_PER_BATCH : WIRE_RECORDS_PER_REQUEST;
    const produce: Totals = { ms: 0, bytes: 0, requests: 0, payload: 0 };
    for (let n = 0; n < probes; n++) {
      const records = Array.from({ length: perBatch }, (_, i) => ({ value: recordValue(n * perBatch + i), partition: 0 }));
      produce.payload += records.reduce((sum, r) => sum + JSON.stringify(r.value).length, 0);
      /** One call through Lambda, measured alone; returns the answer's bytes. */
      const call = async (path: string, body: string | Uint8Array, type: string): Promise<Uint8Array> => {
        let answer: Uint8Array = new Uint8Array();
        const sample = await ctx.prober.measure(async () => {
          const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
          answer = await ok(response, path);
          return { status: response.status, requestBytes: carried(body.length, typeof body !== 'string'), responseBytes: answer.length, payloadBytes: 0 };
        });
        produce.ms += lambdaMs(sample);
        produce.bytes += sample.requestBytes + sample.responseBytes;
        produce.requests += 1;
        return answer;
      };
      const records_ = `/v1/topics/${topic}/records`;
      if (format === 'json') {
        await call(records_, JSON.stringify({ records }), 'application/json');
        continue;
      }
      const batch = encodeBatch(0, records.map((r) => ({ key: null, value: Buffer.from(JSON.stringify(r.value)), valueIsJson: true, headers: {}, timestamp: Date.now() })));
      if (format === 'binary' || format === 'sdk') {
        await call(records_, encodeEnvelope({ recordBatches: [{ partition: 0, length: batch.length }] }, [batch]), BATCHES_MEDIA_TYPE);
        continue;
      }
      const ticket = JSON.parse(new TextDecoder().decode(await call(`/v1/topics/${topic}/uploads`, JSON.stringify({ length: batch.length }), 'application/json')));
      const { upload, url, headers } = ticket as { upload: string; url: string; headers: Record<string, string> };
      await ok(await fetch(url, { method: 'PUT', headers, body: batch }), 'upload PUT');
      produce.requests += 1; // the PUT to S3, not through Lambda
      await call(records_, encodeEnvelope({ recordBatches: [{ partition: 0, length: batch.length, upload }] }, []), BATCHES_MEDIA_TYPE);
    }
    const fetch_: Totals = { ms: 0, bytes: 0, requests: 0, payload: produce.payload };
    const accept = format === 'json' ? 'application/json' : format === 'binary' ? BATCHES_MEDIA_TYPE : `${BATCHES_MEDIA_TYPE};urls=1`; // as the SDK asks
    for (let offset = 0; offset < probes * perBatch; ) {
      let next = offset;
      let urls: string[] = [];
      const sample = await ctx.prober.measure(async () => {
        const response = await fetch(`${base}/v1/topics/${topic}/partitions/0/records?offset=${offset}&limit=${perBatch}&maxBytes=6291456`, { headers: { accept } });
        const bytes = await ok(response, 'fetch');
        if (format === 'json') next = (JSON.parse(new TextDecoder().decode(bytes)) as { nextOffset: number }).nextOffset;
        else {
          const frame = JSON.parse(decodeEnvelope(bytes).frameText) as { nextOffset: number; recordBatches: Array<{ url?: string }> };
          next = frame.nextOffset;
          urls = frame.recordBatches.flatMap((b) => (b.url ? [b.url] : []));
        }
        return { status: response.status, requestBytes: 0, responseBytes: carried(bytes.length, format !== 'json'), payloadBytes: 0 };
      });
      for (const url of urls) await ok(await fetch(url), 'presigned GET');
      fetch_.ms += lambdaMs(sample);
      fetch_.bytes += sample.responseBytes;
      fetch_.requests += 1 + urls.length;
      offset = next;
    }
    const per = (t: Totals) => ({ lambdaMs: round((t.ms * MIB) / t.payload), lambdaBytes: round((t.bytes * MIB) / t.payload, 0), requests: round((t.requests * MIB) / t.payload) });
    const cost = (msPerMiB: number, mibPerMonth: number) => round(((msPerMiB * mibPerMonth) / 1000) * FUNCTION_GB * US_EAST_1.lambda.perGbSecond);
    const producedMiB = REFERENCE_WORKLOAD.bytesPerMonth / MIB;
    const p = per(produce);
    const f = per(fetch_);
    out.push({ format, produce: p, fetch: f, billProduceUsd: cost(p.lambdaMs, producedMiB), billFetchUsd: cost(f.lambdaMs, producedMiB * REFERENCE_WORKLOAD.consumerGroups) });
  }
  return out;
}

/** The section: rates side by side with kinesalite, then the per-MiB figures. */
export async function measureWire(ctx: BenchContext): Promise<WireSection> {
  const requests = ctx.plan.wireRequests;
  ctx.log(`wire: ${requests} requests of ${WIRE_RECORDS_PER_REQUEST} × 1 KB records over ${PARTITIONS} partitions, ${IN_FLIGHT} in flight; shardlog json, binary, kinesalite`);
  const rates = await measureRates(ctx, requests);
  ctx.log(`wire: per MiB for json, binary and s3-direct, ${ctx.plan.sideProbes} calls each`);
  const perMiB = await measurePerMiB(ctx, ctx.plan.sideProbes);
  return {
    workload: `1 KB JSON records, ${WIRE_RECORDS_PER_REQUEST} per request, ${PARTITIONS} partitions, ${IN_FLIGHT} produces in flight, ${PARTITIONS} fetch chains; reference bill: ${(REFERENCE_WORKLOAD.bytesPerMonth / GB).toFixed(0)} GB/month, ${REFERENCE_WORKLOAD.consumerGroups} groups`,
    requests,
    rates,
    perMiB,
  };
}

/** The section in the report's markdown. */
export function renderWire(section: WireSection): string {
  const rate = section.rates.map((r) => `| ${r.system} | ${r.produceRecordsPerSec} | ${r.produceVsKinesalite}× | ${r.fetchRecordsPerSec} | ${r.fetchVsKinesalite}× |`);
  const mib = section.perMiB.map(
    (m) =>
      `| ${m.format} | ${m.produce.lambdaMs} ms · ${m.produce.lambdaBytes} B · ${m.produce.requests} req | ${m.fetch.lambdaMs} ms · ${m.fetch.lambdaBytes} B · ${m.fetch.requests} req | $${m.billProduceUsd} | $${m.billFetchUsd} |`,
  );
  return [
    '## Bytes as stored: JSON, binary and S3-direct, beside kinesalite',
    '',
    `Workload: ${section.workload}; ${section.requests} requests per system. Rates are records per second on this machine, kinesalite run in the same process under the same load. \`shardlog sdk\`: fetches as the SDK makes them, with \`urls=1\` and then the presigned GETs of the spilled batches (${URL_LOADS_IN_FLIGHT} at a time), through the S3 emulator; its produce is the binary one.`,
    '',
    '| system | produce records/s | vs kinesalite | fetch records/s | vs kinesalite |',
    '|---|---|---|---|---|',
    ...rate,
    '',
    `Per MiB of payload, one call at a time: modeled Lambda ms (the handler\'s own time plus AWS round trips, as in the bill), bytes through Lambda (binary bodies count base64) and requests (S3-direct: the ticket, the PUT to S3, the append; a fetch plus its presigned GETs). \`binary\`: batches inline both ways; \`sdk\`: what the SDK does by default with these batches, inline produce (it uploads from 1 MiB) and fetches with \`urls=1\` (every spilled batch by URL); \`s3-direct\`: batches of ${DIRECT_RECORDS_PER_BATCH} records uploaded with a ticket, fetched by URL. The last columns: the Lambda duration lines of produce and of the groups' fetches if the reference workload's ${(REFERENCE_WORKLOAD.bytesPerMonth / GB).toFixed(0)} GB a month moved in these batches (1 GB functions; the bill section prices the reference workload's own 100-record produces).`,
    '',
    '| format | produce per MiB | fetch per MiB | produce duration $/month | fetch duration $/month |',
    '|---|---|---|---|---|',
    ...mib,
    '',
  ].join('\n');
}
