import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_MAX_PAYLOAD_BYTES } from '../../../infra/local/server.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * The data path under edge load and hostile input (issue 9), through the local API Gateway and the real
 * handlers: responses at the documented maxima fit what Lambda can return, records that would poison a
 * reader are refused or returned safely, and timestamps and numbers come back exactly. The local server
 * counts every response over Lambda's payload limit; `stop()` fails this file if there was one.
 */
let server: TestLocalServer;

beforeAll(async () => {
  server = await startTestLocalServer();
});

afterAll(() => server?.stop());

const MAX_MAX_BYTES = 6 * 1024 * 1024;

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
}

/** The size Lambda would check: the structured result, serialised, with the body as a JSON string. */
const payloadBytes = (body: string) => Buffer.byteLength(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body }));

interface WireRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
  valueEncoding?: 'base64';
}

/** Records are dense from `first`, in `direction`. */
function expectDense(records: WireRecord[], first: number, direction: 'forward' | 'backward' = 'forward') {
  expect(records.length).toBeGreaterThan(0);
  records.forEach((r, i) => expect(r.offset).toBe(direction === 'forward' ? first + i : first - i));
}

async function createTopic(name: string, partitions = 1) {
  expect((await call('POST', '/v1/topics', { name, partitions })).status).toBe(201);
}

async function endOffset(topic: string, partition = 0): Promise<number> {
  return (await call('GET', `/v1/topics/${topic}`)).body.partitionStats[partition].endOffset;
}

describe('responses at the documented maxima fit in a Lambda response', () => {
  const TOTAL = 10_000;
  /** ~1 KB of JSON with many quotes and escapes: each costs a second byte once the body is a JSON string. */
  const value = (i: number) => ({
    id: i,
    customer: `c-${i % 97}`,
    note: 'she said "hi" \\ '.repeat(24),
    tags: Array.from({ length: 40 }, (_, j) => `t${j}`),
    text: 'x'.repeat(300),
  });

  beforeAll(async () => {
    await createTopic('big');
    // Four requests of 2,500: each stays under Lambda's 6 MB event, where the body is escaped again.
    for (let r = 0; r < 4; r++) {
      const records = Array.from({ length: TOTAL / 4 }, (_, j) => ({ key: `k${j % 10}`, value: value(r * (TOTAL / 4) + j), headers: { h: 'v' } }));
      const produced = await call('POST', '/v1/topics/big/records', { records });
      expect(produced.status).toBe(200);
    }
    expect(Buffer.byteLength(JSON.stringify(value(0)))).toBeGreaterThan(1000);
  });

  it.each(['json', 'base64'])(
    'answers a fetch of 10,000 ~1 KB records with maxBytes 6 MB (%s), forward, backward, by timestamp and long-polling',
    async (encoding) => {
      const query = `limit=10000&maxBytes=${MAX_MAX_BYTES}&encoding=${encoding}`;
      for (const [path, first, direction] of [
        [`offset=0&${query}`, 0, 'forward'],
        [`offset=0&waitMs=100&${query}`, 0, 'forward'],
        [`timestamp=0&${query}`, 0, 'forward'],
        [`from=latest&direction=backward&${query}`, TOTAL - 1, 'backward'],
      ] as const) {
        const response = await call('GET', `/v1/topics/big/partitions/0/records?${path}`);
        expect(response.status).toBe(200);
        expectDense(response.body.records, first, direction);
        // Cut by size, not by count: fewer than all, as many as fit.
        expect(response.body.records.length).toBeLessThan(TOTAL);
        expect(payloadBytes(response.text)).toBeLessThanOrEqual(LAMBDA_MAX_PAYLOAD_BYTES);
        expect(payloadBytes(response.text)).toBeGreaterThan(LAMBDA_MAX_PAYLOAD_BYTES * 0.9);
      }
      expect(server.payloadLimitViolations).toEqual([]);
    },
  );

  it.each(['json', 'base64'])('answers a group fetch of the same with maxBytes 6 MB (%s)', async (encoding) => {
    await call('PUT', `/v1/groups/big-${encoding}/subscriptions/big`);
    const joined = await call('POST', `/v1/groups/big-${encoding}/members`, { topics: ['big'] });
    expect(joined.status).toBe(200);
    const fetched = await call('POST', `/v1/groups/big-${encoding}/members/${joined.body.memberId}/fetch`, {
      limit: 10_000,
      maxBytes: MAX_MAX_BYTES,
      encoding,
    });
    expect(fetched.status).toBe(200);
    const [batch] = fetched.body.batches;
    expectDense(batch.records, 0);
    expect(batch.nextOffset).toBe(batch.records.length);
    expect(payloadBytes(fetched.text)).toBeLessThanOrEqual(LAMBDA_MAX_PAYLOAD_BYTES);
    expect(server.payloadLimitViolations).toEqual([]);
  });

  it('keeps maxBytes as the bound of what comes back, by the size of the records as sent', async () => {
    const response = await call('GET', '/v1/topics/big/partitions/0/records?offset=0&maxBytes=100000');
    expect(response.status).toBe(200);
    expect(Buffer.byteLength(response.text)).toBeLessThanOrEqual(100_000 + 200);
    expect(response.body.records.length).toBeGreaterThan(50);
  });
});

describe('records close to the limits', () => {
  it('returns a record of nearly 1 MB in both encodings, as binary and as quote-heavy JSON', async () => {
    await createTopic('large');
    const bytes = Buffer.alloc(1024 * 1024 - 1024, 7);
    const quotes = '"'.repeat(500_000); // stored as 1 MB of JSON text: \" each
    expect((await call('POST', '/v1/topics/large/records', { encoding: 'base64', records: [{ value: bytes.toString('base64') }] })).status).toBe(200);
    expect((await call('POST', '/v1/topics/large/records', { records: [{ value: quotes }] })).status).toBe(200);
    for (const encoding of ['json', 'base64']) {
      const response = await call('GET', `/v1/topics/large/partitions/0/records?offset=0&maxBytes=1&encoding=${encoding}`);
      expect(response.status).toBe(200);
      expect(response.body.records).toHaveLength(1); // never less than one record
      expect(Buffer.from(response.body.records[0].value, 'base64').equals(bytes)).toBe(true);
      const second = await call('GET', `/v1/topics/large/partitions/0/records?offset=1&maxBytes=1&encoding=${encoding}`);
      expect(second.status).toBe(200);
      const v = second.body.records[0].value;
      expect(encoding === 'json' ? v : JSON.parse(Buffer.from(v, 'base64').toString())).toBe(quotes);
    }
    expect(server.payloadLimitViolations).toEqual([]);
  });

  it('refuses with 413 a record whose key would escape beyond what any response can carry, and appends nothing', async () => {
    await createTopic('escapes');
    // A base64 key of control bytes is text in a JSON fetch: each byte becomes \u0001 there, 7 bytes in Lambda's payload.
    const key = Buffer.alloc(700_000, 1).toString('base64');
    const produced = await call('POST', '/v1/topics/escapes/records', { encoding: 'base64', records: [{ key, value: 'AA==' }] });
    expect(produced.status).toBe(413);
    expect(produced.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', retriable: false, index: 0 });
    expect(await endOffset('escapes')).toBe(0);
  });
});

describe('poison records', () => {
  const deep = '['.repeat(10_000) + ']'.repeat(10_000);

  it('returns raw bytes that are JSON nested 10,000 deep as base64 with valueEncoding, on every read path', async () => {
    await createTopic('poison');
    const produced = await call('POST', '/v1/topics/poison/records', { encoding: 'base64', records: [{ value: Buffer.from(deep).toString('base64') }] });
    expect(produced.status).toBe(200);
    await call('PUT', '/v1/groups/poison-readers/subscriptions/poison');
    const joined = await call('POST', '/v1/groups/poison-readers/members', { topics: ['poison'] });
    for (const path of ['offset=0', 'timestamp=0', 'from=latest&direction=backward', 'offset=0&encoding=base64']) {
      const response = await call('GET', `/v1/topics/poison/partitions/0/records?${path}`);
      expect(response.status).toBe(200);
      const [record] = response.body.records;
      expect(Buffer.from(record.value, 'base64').toString()).toBe(deep);
      if (!path.includes('base64')) expect(record.valueEncoding).toBe('base64');
    }
    const fetched = await call('POST', `/v1/groups/poison-readers/members/${joined.body.memberId}/fetch`, {});
    expect(fetched.status).toBe(200);
    expect(fetched.body.batches[0].records[0]).toMatchObject({ valueEncoding: 'base64', value: Buffer.from(deep).toString('base64') });
  });

  it('refuses a JSON value nested 5,000 deep with a 400 that names the limit, and appends nothing', async () => {
    await createTopic('deep');
    const response = await call('POST', '/v1/topics/deep/records', `{"records":[{"value":${'['.repeat(5000)}${']'.repeat(5000)}}]}`);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_REQUEST', limitDepth: 64 });
    expect(response.body.error.message).toMatch(/records\[0\]\.value nests .* more than 64 levels/);
    expect(await endOffset('deep')).toBe(0);
  });

  it('accepts 64 levels of nesting and returns them as produced; 65 is refused', async () => {
    await createTopic('depth-64');
    const at = (depth: number) => `{"records":[{"value":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
    expect((await call('POST', '/v1/topics/depth-64/records', at(65))).status).toBe(400);
    expect((await call('POST', '/v1/topics/depth-64/records', at(64))).status).toBe(200);
    const response = await call('GET', '/v1/topics/depth-64/partitions/0/records');
    expect(response.text).toContain(`"value":${'['.repeat(64)}${']'.repeat(64)},`);
  });

  it('returns numbers beyond 2^53 with their digits, and __proto__ keys, as produced', async () => {
    await createTopic('exact');
    const values = ['12345678901234567890', '{"__proto__":{"a":1},"b":[1e400,0.1234567890123456789]}'];
    const produced = await call('POST', '/v1/topics/exact/records', `{"records":[${values.map((v) => `{"value":${v}}`).join(',')}]}`);
    expect(produced.status).toBe(200);
    const json = await call('GET', '/v1/topics/exact/partitions/0/records');
    for (const v of values) expect(json.text).toContain(`"value":${v},`);
    const base64 = await call('GET', '/v1/topics/exact/partitions/0/records?encoding=base64');
    expect(base64.body.records.map((r: WireRecord) => Buffer.from(r.value as string, 'base64').toString())).toEqual(values);
  });
});

describe('timestamps', () => {
  it('acknowledges and returns every timestamp exactly, whatever their order in a request', async () => {
    await createTopic('times');
    const timestamps = [4.6e15, 0, 8_640_000_000_000_000, 1, 2 ** 53 - 1 - 2 ** 52];
    const produced = await call('POST', '/v1/topics/times/records', { records: timestamps.map((timestamp, i) => ({ value: i, timestamp })) });
    expect(produced.status).toBe(200);
    expect(produced.body.records.map((r: { timestamp: number }) => r.timestamp)).toEqual(timestamps);
    const fetched = await call('GET', '/v1/topics/times/partitions/0/records');
    expect(fetched.body.records.map((r: WireRecord) => r.timestamp)).toEqual(timestamps);
    // The first record at or after 2 is the first one: 4.6e15 (the batch index holds the running maximum).
    expect((await call('GET', '/v1/topics/times/partitions/0/records?timestamp=2')).body.records[0].offset).toBe(0);
  });
});

describe('limits with one status each', () => {
  it('refuses a request touching more partitions than one transaction holds with 413, written or only expected', async () => {
    await createTopic('wide', 120);
    const writes = await call('POST', '/v1/topics/wide/records', { records: Array.from({ length: 101 }, (_, p) => ({ value: p, partition: p })) });
    expect(writes.status).toBe(413);
    expect(writes.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', limitPartitions: 100 });
    const expected = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [String(60 + i), 0]));
    const checks = await call('POST', '/v1/topics/wide/records', {
      records: Array.from({ length: 60 }, (_, p) => ({ value: p, partition: p })),
      expectedOffsets: expected,
    });
    expect(checks.status).toBe(413);
    expect(checks.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await call('GET', '/v1/topics/wide')).body.partitionStats.every((p: { endOffset: number }) => p.endOffset === 0)).toBe(true);
  });
});
