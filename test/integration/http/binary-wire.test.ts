import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ShardlogClient, UPLOAD_MIN_BYTES } from '../../../lib/client/client.js';
import type { ProduceRecord } from '../../../lib/client/types.js';
import { BATCHES_MEDIA_TYPE, decodeFetch, encodeProduce } from '../../../lib/client/wire.js';
import { encodeBatch } from '../../../lib/log/batch-format.js';
import { partitionFor } from '../../../lib/log/partitioner.js';
import { SpillStore } from '../../../lib/log/spill-store.js';
import { PRESIGNED_URL_SECONDS, S3UploadStore, type UploadTicket } from '../../../lib/log/upload-store.js';
import { decodeEnvelope, encodeEnvelope } from '../../../lib/log/wire-batches.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * The binary wire format (docs/api.md, "Binary record batches") and gzip content coding, through the local API
 * Gateway and the real handlers: produce and fetch of stored batches, JSON ⇄ binary agreement, refusals that
 * change nothing.
 */
let server: TestLocalServer;
let client: ShardlogClient;

beforeAll(async () => {
  server = await startTestLocalServer();
  client = new ShardlogClient({ url: server.url, signer: null, retry: { maxAttempts: 1 } });
});

afterAll(() => server?.stop());

const utf8 = new TextEncoder();

async function endOffsets(topic: string): Promise<number[]> {
  return (await client.describeTopic(topic)).partitionStats.map((p) => p.endOffset);
}

async function rawFetch(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
}

async function postBatches(topic: string, body: Uint8Array, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/v1/topics/${topic}/records`, {
    method: 'POST',
    headers: { 'content-type': BATCHES_MEDIA_TYPE, ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
}

describe('binary produce and fetch', () => {
  it('reads back, as JSON and as stored batches, the same records byte for byte, whichever format produced them', async () => {
    await client.createTopic({ name: 'wire-agree', partitions: 2 });
    const records: ProduceRecord[] = [
      { key: 'a', value: { n: 1, big: 12345678901234567890, text: 'é\u2028' }, headers: { h: 'v' }, timestamp: 5 },
      { key: null, value: [1, 2, { deep: null }], partition: 1, timestamp: 6 },
      { key: 'b', value: 'plain', headers: { '\ufeffbom': '' } },
    ];
    await client.produce('wire-agree', records);
    await client.produce('wire-agree', records, { format: 'binary' });
    await client.produce('wire-agree', [{ key: '/w==', value: '//79' }], { format: 'binary', encoding: 'base64' });
    for (const partition of [0, 1]) {
      const path = `/v1/topics/wire-agree/partitions/${partition}/records?from=earliest`;
      const json = await rawFetch(path);
      const binary = await rawFetch(path, { accept: BATCHES_MEDIA_TYPE });
      expect(binary.headers.get('content-type')).toBe(BATCHES_MEDIA_TYPE);
      const decoded = await decodeFetch(binary.bytes, () => Promise.reject(new Error('no URL expected')));
      expect(decoded.records.length).toBeGreaterThan(1);
      expect(JSON.stringify(decoded)).toBe(new TextDecoder().decode(json.bytes));
    }
    // Half of the records went as JSON and half as batches: each half reads back the same values.
    const all = [...(await client.fetch('wire-agree', 0, {}, undefined, 'binary')).records, ...(await client.fetch('wire-agree', 1)).records];
    expect(all.filter((r) => r.key === 'a').map((r) => r.value)).toEqual([records[0]!.value, records[0]!.value]);
  });

  it('answers a binary produce with the offsets in the order of the request', async () => {
    await client.createTopic({ name: 'wire-order', partitions: 3 });
    const records = [0, 1, 2, 0, 1, 2].map((partition, i) => ({ value: i, partition }));
    const { records: acks } = await client.produce('wire-order', records, { format: 'binary' });
    expect(acks.map((a) => [a.partition, a.offset])).toEqual([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]]);
  });

  it('refuses a corrupt batch (bad CRC), a batch with a base offset and a payload that does not add up, with 400, appending nothing', async () => {
    await client.createTopic({ name: 'wire-corrupt', partitions: 2 });
    const good = encodeBatch(0, [{ key: null, value: utf8.encode('1'), valueIsJson: true, headers: {}, timestamp: 1 }]);
    const flipped = good.slice();
    flipped[flipped.length - 1]! ^= 0xff;
    const offset = encodeBatch(7, [{ key: null, value: utf8.encode('1'), valueIsJson: true, headers: {}, timestamp: 1 }]);
    const bodies = [
      encodeEnvelope({ recordBatches: [{ partition: 0, length: good.length }, { partition: 1, length: flipped.length }] }, [good, flipped]),
      encodeEnvelope({ recordBatches: [{ partition: 0, length: offset.length }] }, [offset]),
      encodeEnvelope({ recordBatches: [{ partition: 0, length: good.length }] }, [good, new Uint8Array([1])]),
      encodeEnvelope({ recordBatches: [{ partition: 0, length: good.length, extra: 1 }] }, [good]),
      new Uint8Array([0x53, 0x4c, 0x42, 9, 0, 0, 0, 0]),
    ];
    for (const body of bodies) {
      const response = await postBatches('wire-corrupt', body);
      expect(response.status).toBe(400);
      expect(response.body.error!.code).toBe('INVALID_REQUEST');
    }
    expect(await endOffsets('wire-corrupt')).toEqual([0, 0]);
  });

  it('refuses a value flagged as JSON that is not JSON text (a JSON fetch splices it as stored)', async () => {
    await client.createTopic({ name: 'wire-notjson', partitions: 1 });
    const batch = encodeBatch(0, [{ key: null, value: utf8.encode('{nope'), valueIsJson: true, headers: {}, timestamp: 1 }]);
    const response = await postBatches('wire-notjson', encodeEnvelope({ recordBatches: [{ partition: 0, length: batch.length }] }, [batch]));
    expect(response.status).toBe(400);
    expect(await endOffsets('wire-notjson')).toEqual([0]);
  });

  it('replays a binary produce retried with its Idempotency-Key, and refuses the key with another body', async () => {
    await client.createTopic({ name: 'wire-idem', partitions: 2 });
    const encoded = encodeProduce([{ key: 'k', value: 1 }], { partitions: 2, idempotencyKey: 'key-1', timestampOf: () => 1 });
    const first = await postBatches('wire-idem', encoded.body, { 'idempotency-key': 'key-1' });
    const again = await postBatches('wire-idem', encoded.body, { 'idempotency-key': 'key-1' });
    expect(again).toEqual(first);
    const other = encodeProduce([{ key: 'k', value: 2 }], { partitions: 2, idempotencyKey: 'key-1', timestampOf: () => 1 });
    expect((await postBatches('wire-idem', other.body, { 'idempotency-key': 'key-1' })).status).toBe(409);
    expect((await endOffsets('wire-idem')).reduce((a, b) => a + b)).toBe(1);
  });

  it('places keyed records by the current partition count after the topic grew, as a JSON produce would', async () => {
    await client.createTopic({ name: 'wire-grow', partitions: 2 });
    await client.produce('wire-grow', [{ key: 'warm', value: 0 }], { format: 'binary' }); // caches 2 partitions
    await client.updateTopic('wire-grow', { partitions: 4 });
    const key = Array.from({ length: 64 }, (_, i) => `key-${i}`).find((k) => partitionFor(utf8.encode(k), 4) !== partitionFor(utf8.encode(k), 2))!;
    const [binary] = (await client.produce('wire-grow', [{ key, value: 1 }], { format: 'binary' })).records;
    const [json] = (await client.produce('wire-grow', [{ key, value: 2 }])).records;
    expect(binary!.partition).toBe(json!.partition);
    expect(binary!.partition).toBe(partitionFor(utf8.encode(key), 4));
  });

  it('delivers through the SDK producer and consumer, which speak binary by default', async () => {
    await client.createTopic({ name: 'wire-sdk', partitions: 2 });
    const producer = client.producer({ lingerMs: 0 });
    const values = Array.from({ length: 50 }, (_, i) => ({ i }));
    await producer.send('wire-sdk', values.map((value, i) => ({ key: `k${i % 5}`, value })));
    await producer.close();
    const seen: unknown[] = [];
    const consumer = client.consumer();
    await consumer.run({
      group: 'wire-sdk-group',
      topics: ['wire-sdk'],
      eachBatch: async ({ records }) => {
        seen.push(...records.map((r) => r.value));
        if (seen.length >= values.length) void consumer.stop();
      },
    });
    expect(seen).toHaveLength(values.length);
    expect(new Set(seen.map((v) => JSON.stringify(v)))).toEqual(new Set(values.map((v) => JSON.stringify(v))));
  });
});

describe('uploads straight to S3', () => {
  const oneRecord = (value: string) => encodeBatch(0, [{ key: null, value: utf8.encode(value), valueIsJson: true, headers: {}, timestamp: 1 }]);

  async function upload(topic: string, bytes: Uint8Array, length = bytes.length): Promise<UploadTicket> {
    const response = await fetch(`${server.url}/v1/topics/${topic}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ length }),
    });
    expect(response.status).toBe(201);
    const ticket = (await response.json()) as UploadTicket;
    const put = await fetch(ticket.url, { method: 'PUT', headers: ticket.headers, body: bytes });
    expect(put.status).toBe(200);
    return ticket;
  }

  const appendUpload = (topic: string, id: string, length: number) =>
    postBatches(topic, encodeEnvelope({ recordBatches: [{ partition: 0, length, upload: id }] }, []));

  it('appends a batch the client uploaded with a presigned PUT, and reads it back', async () => {
    await client.createTopic({ name: 'upload-ok', partitions: 1 });
    const batch = encodeBatch(0, Array.from({ length: 2000 }, (_, i) => ({ key: null, value: utf8.encode(JSON.stringify({ i, pad: 'p'.repeat(20) })), valueIsJson: true, headers: {}, timestamp: i })));
    const ticket = await upload('upload-ok', batch);
    expect(new URL(ticket.url).pathname).toMatch(/\/upload\/[^/]+\/[A-Za-z0-9_-]{22}\.batch$/);
    const appended = await appendUpload('upload-ok', ticket.upload, batch.length);
    expect(appended.status).toBe(200);
    const read = await client.fetch('upload-ok', 0, { limit: 10_000 }, undefined, 'binary');
    expect(read.records.map((r) => (r.value as { i: number }).i)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('refuses with 400, appending nothing, a pointer to a missing upload, one of another size, and one that fails its CRC', async () => {
    await client.createTopic({ name: 'upload-bad', partitions: 1 });
    expect((await appendUpload('upload-bad', 'A'.repeat(22), 100)).status).toBe(400);
    const good = oneRecord('1');
    const ticket = await upload('upload-bad', good);
    expect((await appendUpload('upload-bad', ticket.upload, good.length + 1)).status).toBe(400);
    expect((await appendUpload('upload-bad', ticket.upload, good.length - 1)).status).toBe(400);
    const flipped = oneRecord('2');
    flipped[flipped.length - 1]! ^= 0xff;
    const corrupt = await upload('upload-bad', flipped);
    const refused = await appendUpload('upload-bad', corrupt.upload, flipped.length);
    expect(refused.status).toBe(400);
    expect(refused.body.error!.message).toMatch(/checksum mismatch/);
    expect(await endOffsets('upload-bad')).toEqual([0]);
  });

  it('signs the PUT with its Content-Length, so that S3 refuses another size (s3rver checks no v4 signature: only that it is signed)', async () => {
    await client.createTopic({ name: 'upload-size', partitions: 1 });
    const response = await fetch(`${server.url}/v1/topics/upload-size/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ length: 10 }),
    });
    const ticket = (await response.json()) as UploadTicket;
    expect(new URL(ticket.url).searchParams.get('X-Amz-SignedHeaders')!.split(';')).toContain('content-length');
    expect(ticket.headers).toEqual({ 'content-length': '10' });
    expect(new URL(ticket.url).searchParams.get('X-Amz-Expires')).toBe(String(PRESIGNED_URL_SECONDS));
  });

  it('refuses an upload ticket for no bytes or for more than 16 MiB, with 400', async () => {
    for (const length of [0, 16 * 1024 * 1024 + 1, '1']) {
      const response = await fetch(`${server.url}/v1/topics/upload-size/uploads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ length }),
      });
      expect(response.status).toBe(400);
    }
  });

  it('hands out every spilled batch, however small, as a presigned GET to a client that accepts URLs, never an inline one', async () => {
    await client.createTopic({ name: 'url-read', partitions: 1 });
    const hex = (i: number) => createHash('sha512').update(String(i)).digest('hex');
    const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ value: { i: from + i, h: hex(from + i) + hex(-i) }, partition: 0 }));
    await client.produce('url-read', values(0, 1500), { format: 'binary' }); // ~600 KiB stored: spilled
    await client.produce('url-read', values(1500, 3), { format: 'binary' }); // inline
    await client.produce('url-read', values(1503, 70), { format: 'binary' }); // ~10 KiB stored: just over the 8 KiB spill threshold
    const path = '/v1/topics/url-read/partitions/0/records?from=earliest&limit=10000&maxBytes=6291456';
    const withUrls = await rawFetch(path, { accept: `${BATCHES_MEDIA_TYPE};urls=1` });
    const frame = JSON.parse(new TextDecoder().decode(withUrls.bytes.subarray(8, 8 + new DataView(withUrls.bytes.buffer).getUint32(4))));
    const entries = frame.recordBatches as Array<{ count: number; length: number; url?: string }>;
    expect(entries.map((e) => [e.count, e.url !== undefined])).toEqual([[1500, true], [3, false], [70, true]]);
    expect(entries[2]!.length).toBeGreaterThan(8 * 1024);
    expect(entries[2]!.length).toBeLessThan(16 * 1024);
    expect(entries.filter((e) => e.url).every((e) => /\/spill\//.test(e.url!))).toBe(true);
    // Only the inline batch's bytes passed through the function.
    expect(withUrls.bytes.length).toBeLessThan(4096 + entries[1]!.length);
    const viaUrl = await client.fetch('url-read', 0, { limit: 10_000, maxBytes: 6_291_456 }, undefined, 'binary');
    const json = await rawFetch(path);
    expect(JSON.stringify(viaUrl)).toBe(new TextDecoder().decode(json.bytes));
    // Without `urls=1` every batch comes as bytes.
    const withoutUrls = await rawFetch(path, { accept: BATCHES_MEDIA_TYPE });
    expect(withoutUrls.bytes.length).toBeGreaterThan(entries.reduce((sum, e) => sum + e.length, 0));
  });

  it('reads a group fetch of many spilled batches over two partitions through URLs, as the JSON group fetch reads it', async () => {
    await client.createTopic({ name: 'url-group', partitions: 2 });
    const hex = (i: number) => createHash('sha512').update(`g${i}`).digest('hex');
    // 20 batches of ~10 KiB stored per partition: 40 URLs in one response, more than the SDK loads at once.
    for (let b = 0; b < 20; b++) {
      for (const partition of [0, 1]) {
        const records = Array.from({ length: 70 }, (_, i) => ({ value: { b, i, h: hex(b * 1000 + i + partition * 500) + hex(-i) }, partition }));
        await client.produce('url-group', records, { format: 'binary' });
      }
    }
    await client.subscribe('url-group-readers', 'url-group');
    const { memberId } = await client.joinGroup('url-group-readers', {});
    const request = { limit: 10_000, maxBytes: 6_000_000, waitMs: 0 };
    const json = await client.groupFetch('url-group-readers', memberId, request);
    const binary = await client.groupFetch('url-group-readers', memberId, request, undefined, 'binary');
    expect(json.batches.map((b) => b.records.length).sort()).toEqual([1400, 1400]);
    expect(JSON.stringify(binary)).toBe(JSON.stringify(json));
    // What the SDK was sent: every batch as a URL, no batch bytes.
    const raw = await fetch(`${server.url}/v1/groups/url-group-readers/members/${memberId}/fetch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: `${BATCHES_MEDIA_TYPE};urls=1` },
      body: JSON.stringify(request),
    });
    const { frameText, payload } = decodeEnvelope(new Uint8Array(await raw.arrayBuffer()));
    const frame = JSON.parse(frameText) as { batches: Array<{ recordBatches: Array<{ url?: string }> }> };
    expect(frame.batches.flatMap((b) => b.recordBatches).filter((e) => e.url !== undefined)).toHaveLength(40);
    expect(payload.length).toBe(0);
  });

  it('has the SDK upload a batch of a MiB or more itself, and a retry of it under the same key replays', async () => {
    await client.createTopic({ name: 'upload-sdk', partitions: 1 });
    const hex = (i: number) => createHash('sha512').update(`u${i}`).digest('hex');
    const records = Array.from({ length: 6000 }, (_, i) => ({ value: { i, h: hex(i) + hex(-i) + hex(i + 0.5) }, partition: 0 }));
    const first = await client.produce('upload-sdk', records, { format: 'binary', idempotencyKey: 'big-1' });
    const listed = await server.storage.s3.send(new ListObjectsV2Command({ Bucket: server.storage.config.segmentBucket, Prefix: 'upload/' }));
    expect(listed.Contents?.length ?? 0).toBeGreaterThan(0);
    // The same batch again, inline this time: the same request (its digest covers bytes, not upload ids).
    const encoded = encodeProduce(records, { partitions: 1, idempotencyKey: 'big-1', timestampOf: () => 0 });
    expect(encoded.batches[0]!.bytes.length).toBeGreaterThanOrEqual(UPLOAD_MIN_BYTES);
    const again = await client.produce('upload-sdk', records, { format: 'binary', idempotencyKey: 'big-1' });
    expect(again).toEqual(first);
    expect(await endOffsets('upload-sdk')).toEqual([6000]);
    const read = await client.fetch('upload-sdk', 0, { limit: 10_000, maxBytes: 6_291_456 }, undefined, 'binary');
    expect(read.records.map((r) => (r.value as { i: number }).i)).toEqual(records.map((r) => r.value.i).slice(0, read.records.length));
  });

  it('has s3 refuse a presigned PUT once it expired', async () => {
    const signedAt = Date.now() - (PRESIGNED_URL_SECONDS + 60) * 1000;
    const store = new S3UploadStore({ s3: server.storage.s3, bucket: server.storage.config.segmentBucket, now: () => signedAt });
    const ticket = await store.presignPut('some-topic-id', 4);
    expect(ticket.expiresAt).toBeLessThan(Date.now());
    const put = await fetch(ticket.url, { method: 'PUT', headers: ticket.headers, body: new Uint8Array(4) });
    expect(put.status).toBe(403);
    expect(await put.text()).toMatch(/expired/i);
  });
});

describe('expired presigned GETs', () => {
  it('has s3 refuse a presigned GET of a spilled batch once it expired', async () => {
    await client.createTopic({ name: 'url-expired', partitions: 1 });
    const hex = (i: number) => createHash('sha512').update(`e${i}`).digest('hex');
    await client.produce('url-expired', Array.from({ length: 1500 }, (_, i) => ({ value: hex(i) + hex(-i), partition: 0 })), { format: 'binary' });
    const { batches } = await server.engine.log.read(await server.engine.topics.get('url-expired'), 0, {
      start: { kind: 'earliest' }, limit: 10_000, maxBytes: 6_291_456, encoding: 'json', waitMs: 0, direction: 'forward', batches: { urls: true },
    });
    const key = decodeURIComponent(new URL(batches![0]!.url!).pathname.split('/').slice(2).join('/'));
    expect((await fetch(batches![0]!.url!)).status).toBe(200);
    const signedAt = Date.now() - (PRESIGNED_URL_SECONDS + 60) * 1000;
    const old = new SpillStore({ s3: server.storage.s3, bucket: server.storage.config.segmentBucket, now: () => signedAt });
    const expired = await old.presignGet(key);
    const response = await fetch(expired.url);
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/expired/i);
  });
});

describe('gzip content coding', () => {
  it('inflates a gzipped JSON produce and gzips a fetch for a client that accepts it', async () => {
    await client.createTopic({ name: 'gzip-topic', partitions: 1 });
    const body = gzipSync(JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => ({ value: { i, pad: 'x'.repeat(50) } })) }));
    const produced = await fetch(`${server.url}/v1/topics/gzip-topic/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    expect(produced.status).toBe(200);
    const raw = await rawFetch('/v1/topics/gzip-topic/partitions/0/records?from=earliest', { 'accept-encoding': 'gzip' });
    // Node's fetch inflates a gzipped body itself: the header says it came compressed.
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    const plain = await rawFetch('/v1/topics/gzip-topic/partitions/0/records?from=earliest');
    expect(JSON.parse(new TextDecoder().decode(raw.bytes)).records).toHaveLength(100);
    expect(raw.bytes).toEqual(plain.bytes);
  });

  it('answers 413 to a gzip body that inflates past 6 MB, appending nothing', async () => {
    await client.createTopic({ name: 'gzip-bomb', partitions: 1 });
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const response = await fetch(`${server.url}/v1/topics/gzip-bomb/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(response.status).toBe(413);
    expect(await endOffsets('gzip-bomb')).toEqual([0]);
  });

  it('refuses a body that is not gzip under Content-Encoding: gzip, and an unknown coding, with 400', async () => {
    for (const [coding, body] of [['gzip', '{"records":[{"value":1}]}'], ['br', '{"records":[{"value":1}]}']] as const) {
      const response = await fetch(`${server.url}/v1/topics/gzip-bomb/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': coding },
        body,
      });
      expect(response.status).toBe(400);
    }
  });
});
