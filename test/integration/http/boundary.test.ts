import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call as callAt, rawRequest, type HttpAnswer } from '../../support/http.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * Regression tests for the HTTP boundary (issue 9 "inputs that are accepted but wrong", issue 16 "strict
 * parameters" and "errors that are not JSON", issue 11 "canonical paths"), through the local API Gateway and
 * the real handlers. Each test is named after the behaviour that failed before.
 */
let server: TestLocalServer;
const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callAt(server.url, method, path, body, headers);

beforeAll(async () => {
  server = await startTestLocalServer();
  expect((await call('POST', '/v1/topics', { name: 'edge', partitions: 2 })).status).toBe(201);
  const seed = await call('POST', '/v1/topics/edge/records', { records: [{ value: 'p0', partition: 0 }, { value: 'p1', partition: 1 }] });
  expect(seed.status).toBe(200);
});

afterAll(() => server?.stop());

/** Everything a refused request must leave as it was: topics, every partition's bounds, groups. */
async function state() {
  const topics = (await call('GET', '/v1/topics')).body.topics as Array<{ name: string }>;
  const described = await Promise.all(topics.map(async (t) => (await call('GET', `/v1/topics/${t.name}`)).body));
  const groups = (await call('GET', '/v1/groups')).body.groups as Array<{ group: string }>;
  const groupStates = await Promise.all(groups.map(async (g) => (await call('GET', `/v1/groups/${g.group}`)).body));
  return { described, groupStates };
}

function expectJsonError(answer: Pick<HttpAnswer, 'status' | 'body'>, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String), retriable: false }) });
}

/** Subscribes a group to a topic where the API has subscriptions (v1.1); without that route, joining names it. */
async function subscribe(group: string, topic: string) {
  const answer = await call('PUT', `/v1/groups/${group}/subscriptions/${topic}`);
  expect([200, 404]).toContain(answer.status);
}

describe('inputs that were accepted but wrong (issue 9)', () => {
  it('refuses a partition written with leading zeros in the path instead of serving partition 0 or 1', async () => {
    const before = await state();
    for (const partition of ['00', '01', '001']) {
      expectJsonError(await call('GET', `/v1/topics/edge/partitions/${partition}/records`), 400, 'INVALID_REQUEST');
    }
    expect(await state()).toEqual(before);
  });

  it('refuses expectedOffsets keyed "01" instead of checking partition 1, and appends nothing', async () => {
    const before = await state();
    const answer = await call('POST', '/v1/topics/edge/records', { records: [{ value: 1, partition: 1 }], expectedOffsets: { '01': 1 } });
    expectJsonError(answer, 400, 'INVALID_REQUEST');
    expect(await state()).toEqual(before);
  });

  it('refuses 3 MB of UTF-8 in headers, which counted as 1 MB of UTF-16 units, with 413', async () => {
    const before = await state();
    const answer = await call('POST', '/v1/topics/edge/records', { records: [{ value: null, headers: { big: '€'.repeat(1_000_000) } }] });
    expectJsonError(answer, 413, 'PAYLOAD_TOO_LARGE');
    expect(await state()).toEqual(before);
  });

  it('refuses more headers per record than the documented limit with 413', async () => {
    const headers = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v']));
    expectJsonError(await call('POST', '/v1/topics/edge/records', { records: [{ value: 1, headers }] }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('keeps a header named __proto__ through every read path and both encodings', async () => {
    const body = '{"records":[{"value":{"v":1},"partition":0,"timestamp":5000,"headers":{"__proto__":"kept","b":"2"}}]}';
    const produced = await call('POST', '/v1/topics/edge/records', body);
    expect(produced.status).toBe(200);
    const { offset } = produced.body.records[0];
    const expected = JSON.parse('{"__proto__":"kept","b":"2"}');
    const reads = [
      `/v1/topics/edge/partitions/0/records?offset=${offset}&limit=1`,
      `/v1/topics/edge/partitions/0/records?offset=${offset}&limit=1&encoding=base64`,
      `/v1/topics/edge/partitions/0/records?offset=${offset + 1}&direction=backward&limit=1`,
      `/v1/topics/edge/partitions/0/records?timestamp=5000&limit=1000`,
    ];
    for (const path of reads) {
      const answer = await call('GET', path);
      const record = answer.body.records.find((r: { offset: number }) => r.offset === offset);
      expect(record.headers, path).toEqual(expected);
      expect(Object.keys(record.headers), path).toEqual(['__proto__', 'b']);
    }
    await subscribe('proto-readers', 'edge');
    const joined = await call('POST', '/v1/groups/proto-readers/members', { topics: ['edge'], sessionTimeoutMs: 300_000 });
    expect(joined.status).toBe(200);
    for (const encoding of ['json', 'base64']) {
      const fetched = await call('POST', `/v1/groups/proto-readers/members/${joined.body.memberId}/fetch`, {
        encoding,
        positions: [{ topic: 'edge', partition: 0, offset }],
        limit: 1,
      });
      const batch = fetched.body.batches.find((b: { partition: number }) => b.partition === 0);
      expect(Object.keys(batch.records[0].headers), encoding).toEqual(['__proto__', 'b']);
      expect(batch.records[0].headers, encoding).toEqual(expected);
    }
    expect((await call('DELETE', `/v1/groups/proto-readers/members/${joined.body.memberId}`)).status).toBe(204);
  });

  it('quotes at most a bounded part of a 100 KB unknown field name in the error', async () => {
    const answer = await call('POST', '/v1/topics/edge/records', `{"records":[{"value":1,"${'f'.repeat(100_000)}":1}]}`);
    expectJsonError(answer, 400, 'INVALID_REQUEST');
    expect(answer.text.length).toBeLessThan(1000);
  });

  it('refuses a body that is not valid UTF-8 instead of storing replacement characters', async () => {
    const before = await state();
    const bytes = Buffer.concat([Buffer.from('{"records":[{"value":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","partition":0}]}')]);
    expectJsonError(await call('POST', '/v1/topics/edge/records', new Uint8Array(bytes)), 400, 'INVALID_REQUEST');
    expect(await state()).toEqual(before);
  });

  it('answers a reused Idempotency-Key with another body with 409 IDEMPOTENCY_KEY_REUSED instead of the first response', async () => {
    const key = { 'idempotency-key': 'order-17' };
    const first = await call('POST', '/v1/topics/edge/records', { records: [{ value: 'A', partition: 0 }] }, key);
    expect(first.status).toBe(200);
    const before = await state();
    const other = await call('POST', '/v1/topics/edge/records', { records: [{ value: 'B', partition: 0 }] }, key);
    expectJsonError(other, 409, 'IDEMPOTENCY_KEY_REUSED');
    const otherEncoding = await call('POST', '/v1/topics/edge/records', { encoding: 'base64', records: [{ value: 'IkEi', partition: 0 }] }, key);
    expectJsonError(otherEncoding, 409, 'IDEMPOTENCY_KEY_REUSED');
    // The same request, spelt differently (whitespace, field order), is a retry and replays.
    const retry = await call('POST', '/v1/topics/edge/records', '{ "records" : [ { "partition": 0, "value": "A" } ] }', key);
    expect(retry).toMatchObject({ status: 200, body: first.body });
    expect(await state()).toEqual(before);
  });
});

describe('strict query parameters on every route (issue 16)', () => {
  it.each([
    ['a fetch', '/v1/topics/edge/partitions/0/records?__proto__=1'],
    ['a fetch', '/v1/topics/edge/partitions/0/records?offset=0&constructor=1'],
    ['list topics', '/v1/topics?x=1'],
    ['describe topic', '/v1/topics/edge?x=1'],
    ['list groups', '/v1/groups?x=1'],
    ['describe group', '/v1/groups/anyone?offset=abc'],
    ['health', '/v1/health?verbose'],
  ])('refuses an unknown query parameter on %s (%s)', async (_route, path) => {
    const answer = await call('GET', path);
    expectJsonError(answer, 400, 'INVALID_REQUEST');
    expect(answer.body.error.message).toMatch(/unknown query parameter/);
  });

  it('refuses unknown query parameters on a write before doing anything', async () => {
    const before = await state();
    expectJsonError(await call('POST', '/v1/topics/edge/records?partition=1', { records: [{ value: 1 }] }), 400, 'INVALID_REQUEST');
    expectJsonError(await call('POST', '/v1/topics?name=x', { name: 'q-created' }), 400, 'INVALID_REQUEST');
    expect(await state()).toEqual(before);
  });
});

describe('JSON errors from the local server for everything (issue 16)', () => {
  it('answers a 100,000-character Idempotency-Key with a JSON 400 from validation, not a reset or a bare 431', async () => {
    const answer = await call('POST', '/v1/topics/edge/records', { records: [{ value: 1 }] }, { 'idempotency-key': 'k'.repeat(100_000) });
    expectJsonError(answer, 400, 'INVALID_REQUEST');
    expect(answer.body.error.message).toMatch(/Idempotency-Key/);
  });

  it('answers a 20,000-character path with a JSON error, not a bare 431', async () => {
    const answer = await call('GET', `/v1/topics/${'t'.repeat(20_000)}`);
    expectJsonError(answer, 400, 'INVALID_REQUEST');
    expect(answer.text.length).toBeLessThan(1000);
  });

  it('answers a raw non-ASCII byte in the path with a JSON 400, not a bare one', async () => {
    const request = Buffer.concat([Buffer.from('GET /v1/topics/caf'), Buffer.from([0xe9]), Buffer.from(' HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')]);
    const answer = await rawRequest(server.url, request);
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/json');
    expectJsonError({ status: answer.status, body: JSON.parse(answer.body) }, 400, 'INVALID_REQUEST');
  });
});

describe('where the contract is silent: decided and kept', () => {
  it('reads a JSON body after one UTF-8 byte-order mark, and one sent as text/plain or with no content type', async () => {
    const bom = await call('POST', '/v1/topics/edge/records', '\ufeff{"records":[{"value":"bom","partition":1}]}');
    expect(bom.status).toBe(200);
    const plain = await call('POST', '/v1/topics/edge/records', '{"records":[{"value":"plain","partition":1}]}', { 'content-type': 'text/plain' });
    expect(plain.status).toBe(200);
    const read = await call('GET', `/v1/topics/edge/partitions/1/records?offset=${bom.body.records[0].offset}&limit=2`);
    expect(read.body.records.map((r: { value: unknown }) => r.value)).toEqual(['bom', 'plain']);
  });

  it('refuses lone UTF-16 surrogates in keys and headers, which have no UTF-8 form, instead of storing U+FFFD', async () => {
    const before = await state();
    for (const record of ['{"key":"a\\ud800","value":1}', '{"value":1,"headers":{"h":"\\udc00"}}', '{"value":1,"headers":{"\\ud83d":"v"}}']) {
      expectJsonError(await call('POST', '/v1/topics/edge/records', `{"records":[${record}]}`), 400, 'INVALID_REQUEST');
    }
    expect(await state()).toEqual(before);
  });

  it('keeps lone UTF-16 surrogates in JSON values exactly', async () => {
    const value = { ['\ud800']: 'x\udfff', list: ['\udbff'] };
    const produced = await call('POST', '/v1/topics/edge/records', { records: [{ value, partition: 1 }] });
    expect(produced.status).toBe(200);
    const read = await call('GET', `/v1/topics/edge/partitions/1/records?offset=${produced.body.records[0].offset}&limit=1`);
    expect(read.body.records[0].value).toEqual(value);
  });
});

describe('canonical paths (issue 11)', () => {
  it.each([
    ['a percent-encoded name character', 'GET /v1/topics/%65dge'],
    ['a percent-encoded dot', 'GET /v1/topics/edge%2E'],
    ['a trailing slash', 'GET /v1/topics/edge/'],
    ['a dot segment', 'GET /v1/topics/./edge'],
    ['a dot-dot segment', 'GET /v1/topics/other/../edge'],
    ['an empty segment', 'GET /v1/topics//edge'],
    ['a doubled leading slash', 'GET //v1/topics'],
    ['leading zeros on a partition', 'GET /v1/topics/edge/partitions/00/records'],
    ['a trailing slash on a write', 'POST /v1/topics/edge/records/'],
    ['a dot-dot segment on a write', 'POST /v1/topics/x/../edge/records'],
    ['a percent-encoded name on a delete', 'DELETE /v1/topics/%65dge'],
  ])('refuses a path with %s with 400 before any work', async (_name, requestLine) => {
    const before = await state();
    const body = '{"records":[{"value":1}]}';
    const answer = await rawRequest(
      server.url,
      `${requestLine} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    );
    expectJsonError({ status: answer.status, body: JSON.parse(answer.body) }, 400, 'INVALID_REQUEST');
    expect(JSON.parse(answer.body).error.message).toMatch(/not in canonical form/);
    expect(await state()).toEqual(before);
  });
});
