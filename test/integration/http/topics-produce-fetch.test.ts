import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';
import { PollGate } from '../../support/poll-gate.js';

/**
 * The HTTP contract of API.md for health, topics, produce, fetch and maintenance, through the local API
 * Gateway and the real Lambda handlers, against DynamoDB Local and s3rver.
 */
let server: TestLocalServer;
const gate = new PollGate();

beforeAll(async () => {
  server = await startTestLocalServer({ engine: { sleep: gate.sleep } });
});

afterAll(() => server?.stop());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

describe('health and topics', () => {
  it('answers health', async () => {
    expect(await call('GET', '/v1/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('creates, lists, describes, grows and deletes a topic', async () => {
    const created = await call('POST', '/v1/topics', { name: 'orders', partitions: 3 });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'orders', partitions: 3, retentionHours: 168 });
    expect(created.body.partitionStats).toEqual([0, 1, 2].map((partition) => ({ partition, startOffset: 0, endOffset: 0 })));
    expect(typeof created.body.createdAt).toBe('number');

    expect((await call('POST', '/v1/topics', { name: 'orders' })).body.error.code).toBe('TOPIC_EXISTS');
    expect((await call('GET', '/v1/topics')).body.topics).toContainEqual({ name: 'orders', partitions: 3 });

    const grown = await call('PATCH', '/v1/topics/orders', { partitions: 4, retentionHours: 24 });
    expect(grown).toMatchObject({ status: 200, body: { partitions: 4, retentionHours: 24 } });
    const shrink = await call('PATCH', '/v1/topics/orders', { partitions: 2 });
    expect(shrink.status).toBe(400);
    expect(shrink.body.error.message).toMatch(/only grow/);

    expect((await call('DELETE', '/v1/topics/orders')).status).toBe(204);
    expect((await call('GET', '/v1/topics/orders')).status).toBe(404);
    expect((await call('DELETE', '/v1/topics/orders')).body.error.code).toBe('TOPIC_NOT_FOUND');
  });

  it.each([
    [{ name: '..' }, /name must be/],
    [{ name: 'a/b' }, /name must be/],
    [{ name: 'x'.repeat(201) }, /name must be/],
    [{ name: 'ok', partitions: 0 }, /partitions must be an integer from 1 to 1024/],
    [{ name: 'ok', partitions: 1025 }, /partitions/],
    [{ name: 'ok', partitions: '3' }, /partitions/],
    [{ name: 'ok', retentionHours: -1 }, /retentionHours/],
    [{ name: 'ok', colour: 'red' }, /unknown field 'colour'/],
  ])('refuses to create a topic from %j and creates nothing', async (body, message) => {
    const response = await call('POST', '/v1/topics', body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'INVALID_REQUEST', retriable: false });
    expect(response.body.error.message).toMatch(message);
    expect((await call('GET', '/v1/topics/ok')).status).toBe(404);
  });

  it('answers a path that matches no route with 404 and a wrong method with 405', async () => {
    expect((await call('GET', '/v1/nothing')).status).toBe(404);
    expect((await call('PUT', '/v1/topics')).status).toBe(405);
  });
});

describe('produce and fetch over HTTP', () => {
  beforeAll(async () => {
    expect((await call('POST', '/v1/topics', { name: 'events', partitions: 2 })).status).toBe(201);
  });

  it('produces in request order and fetches the records back', async () => {
    const produced = await call('POST', '/v1/topics/events/records', {
      records: [
        { value: { n: 1 }, partition: 0, headers: { source: 'test' } },
        { key: 'k', value: 'two', partition: 0, timestamp: 1234 },
      ],
    });
    expect(produced.status).toBe(200);
    expect(produced.body.records).toEqual([
      { partition: 0, offset: 0, timestamp: expect.any(Number) },
      { partition: 0, offset: 1, timestamp: 1234 },
    ]);
    const fetched = await call('GET', '/v1/topics/events/partitions/0/records?offset=0');
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ nextOffset: 2, startOffset: 0, endOffset: 2 });
    expect(fetched.body.records).toEqual([
      { offset: 0, timestamp: expect.any(Number), key: null, value: { n: 1 }, headers: { source: 'test' } },
      { offset: 1, timestamp: 1234, key: 'k', value: 'two', headers: {} },
    ]);
  });

  it('round-trips raw bytes with encoding=base64', async () => {
    const value = Buffer.from([0, 1, 2, 250, 251, 255]).toString('base64');
    const produced = await call('POST', '/v1/topics/events/records', { encoding: 'base64', records: [{ key: 'AQI=', value, partition: 1 }] });
    const offset = produced.body.records[0].offset;
    const fetched = await call('GET', `/v1/topics/events/partitions/1/records?offset=${offset}&encoding=base64`);
    expect(fetched.body.records[0]).toMatchObject({ key: 'AQI=', value });
  });

  it('replays the first response for a retried Idempotency-Key and appends once', async () => {
    const body = { records: [{ value: 'pay once', partition: 1 }] };
    const first = await call('POST', '/v1/topics/events/records', body, { 'idempotency-key': 'payment-42' });
    const again = await call('POST', '/v1/topics/events/records', body, { 'idempotency-key': 'payment-42' });
    expect(again.body).toEqual(first.body);
    const fetched = await call('GET', '/v1/topics/events/partitions/1/records?from=earliest');
    expect(fetched.body.records.filter((r: { value: unknown }) => r.value === 'pay once')).toHaveLength(1);
  });

  it('refuses a stale expectedOffsets with 409 OFFSET_MISMATCH and the current end', async () => {
    const end = (await call('GET', '/v1/topics/events')).body.partitionStats[0].endOffset;
    const stale = await call('POST', '/v1/topics/events/records', { records: [{ value: 1, partition: 0 }], expectedOffsets: { '0': end - 1 } });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: 'OFFSET_MISMATCH', endOffset: end, retriable: false });
    const ok = await call('POST', '/v1/topics/events/records', { records: [{ value: 1, partition: 0 }], expectedOffsets: { '0': end } });
    expect(ok.body.records[0].offset).toBe(end);
  });

  it('answers out-of-range offsets with 416 and both bounds', async () => {
    const response = await call('GET', '/v1/topics/events/partitions/0/records?offset=999');
    expect(response.status).toBe(416);
    expect(response.body.error).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', startOffset: 0, offset: 999 });
    expect(typeof response.body.error.endOffset).toBe('number');
  });

  it('reads backwards from the end, newest first', async () => {
    const response = await call('GET', '/v1/topics/events/partitions/0/records?direction=backward&limit=2');
    const end = response.body.endOffset;
    expect(response.body.records.map((r: { offset: number }) => r.offset)).toEqual([end - 1, end - 2]);
    expect(response.body.nextOffset).toBe(end - 2);
  });

  it('finds records by timestamp', async () => {
    const response = await call('GET', '/v1/topics/events/partitions/0/records?timestamp=1234&limit=1');
    expect(response.body.records[0].timestamp).toBeGreaterThanOrEqual(1234);
  });

  it('long-polls with waitMs until a record arrives', async () => {
    const end = (await call('GET', '/v1/topics/events')).body.partitionStats[1].endOffset;
    const asleep = gate.arm();
    const waiting = call('GET', `/v1/topics/events/partitions/1/records?offset=${end}&waitMs=5000`);
    await asleep; // the poll found nothing and waits
    await call('POST', '/v1/topics/events/records', { records: [{ value: 'late', partition: 1 }] });
    gate.wake();
    const response = await waiting;
    expect(response.body.records.map((r: { value: unknown }) => r.value)).toEqual(['late']);
  });

  it('answers unknown topics and partitions with 404', async () => {
    expect((await call('POST', '/v1/topics/nope/records', { records: [{ value: 1 }] })).body.error.code).toBe('TOPIC_NOT_FOUND');
    expect((await call('GET', '/v1/topics/nope/partitions/0/records')).body.error.code).toBe('TOPIC_NOT_FOUND');
    expect((await call('GET', '/v1/topics/events/partitions/7/records')).body.error.code).toBe('PARTITION_NOT_FOUND');
    expect((await call('POST', '/v1/topics/events/records', { records: [{ value: 1, partition: 2 }] })).status).toBe(404);
  });

  it('rejects bad produce requests with 400 or 413 and appends nothing', async () => {
    const before = (await call('GET', '/v1/topics/events')).body.partitionStats;
    const bad = [
      await call('POST', '/v1/topics/events/records', 'not json'),
      await call('POST', '/v1/topics/events/records', { records: [{ value: 1 }, { nope: 1 }] }),
      await call('POST', '/v1/topics/events/records', { records: [{ value: 1 }], expectedOffsets: { '0': -5 } }),
      await call('POST', '/v1/topics/events/records', { records: [{ value: 1 }] }, { 'idempotency-key': '' }),
    ];
    for (const response of bad) expect(response.status).toBe(400);
    const tooBig = await call('POST', '/v1/topics/events/records', { records: [{ value: 'x'.repeat(1024 * 1024 + 1) }] });
    expect(tooBig.status).toBe(413);
    expect((await call('GET', '/v1/topics/events')).body.partitionStats).toEqual(before);
  });

  it('rejects a bad fetch query with 400', async () => {
    for (const q of ['offset=abc', 'limit=0', 'waitMs=99999', 'direction=up', 'from=earliest&offset=1', 'encoding=xml']) {
      const response = await call('GET', `/v1/topics/events/partitions/0/records?${q}`);
      expect(response.status, q).toBe(400);
    }
    expect((await call('GET', '/v1/topics/events/partitions/-1/records')).status).toBe(400);
  });

  it('stores records compressed in batches, not one item per record', async () => {
    await call('POST', '/v1/topics/events/records', {
      records: Array.from({ length: 50 }, (_, i) => ({ value: { i, text: 'repetitive '.repeat(20) }, partition: 0 })),
    });
    const topic = (await call('GET', '/v1/topics/events')).body;
    const end = topic.partitionStats[0].endOffset;
    const stored = await server.storage.dynamo.send(
      new GetItemCommand({ TableName: server.storage.config.logTable, Key: { pk: { S: `topic#events` }, sk: { S: 'meta' } } }),
    );
    const topicId = stored.Item!.topicId!.S!;
    const batch = await server.storage.dynamo.send(
      new GetItemCommand({
        TableName: server.storage.config.logTable,
        Key: { pk: { S: `p#${topicId}#0` }, sk: { S: String(end - 50).padStart(16, '0') } },
      }),
    );
    expect(Number(batch.Item!.n!.N)).toBe(50);
    expect(batch.Item!.v!.B!.length).toBeLessThan(50 * 200); // ~11 KB of JSON, gzip-compressed
  });
});

describe('maintenance', () => {
  it('runs a pass on demand and validates its input', async () => {
    const pass = await call('POST', '/v1/admin/maintenance', {});
    expect(pass.status).toBe(200);
    expect(pass.body).toMatchObject({ tiered: { segments: expect.any(Number) }, expired: { records: expect.any(Number) } });
    expect((await call('POST', '/v1/admin/maintenance', { tierOlderThanMs: -1 })).status).toBe(400);
    expect((await call('POST', '/v1/admin/maintenance', { topic: '..' })).status).toBe(400);
  });
});
