import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffsetMismatchError, OffsetOutOfRangeError, PartitionNotFoundError, TopicNotFoundError } from '../../../lib/errors.js';
import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { partitionPk } from '../../../lib/storage/log-table.js';
import { partitionFor } from '../../../lib/log/partitioner.js';
import type { ProduceRecord } from '../../../lib/log/log-types.js';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import { PollGate } from '../../support/poll-gate.js';
import { forward } from '../../support/read-options.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { produceTo, readFrom } from '../../support/by-name.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();

function jsonRecord(value: unknown, extra: Partial<ProduceRecord> = {}): ProduceRecord {
  return { key: null, value: utf8.encode(JSON.stringify(value)), valueIsJson: true, headers: {}, ...extra };
}


let storage: TestStorage;
let engine: Shardlog;
let topicSeq = 0;

/** A fresh engine over the same tables, as another Lambda container would be (no shared caches). */
const another = () => createShardlog(storage, storage.config, { topicCacheMs: 0, tailCacheMs: 0, metaCacheMs: 0 });

async function newTopic(partitions = 1): Promise<string> {
  const name = `t${++topicSeq}-${Date.now()}`;
  await engine.topics.create({ name, partitions, retentionHours: 168 });
  return name;
}

beforeAll(async () => {
  storage = await createTestStorage();
  engine = createShardlog(storage, storage.config);
});

afterAll(() => storage?.cleanup());

describe('produce and fetch', () => {
  it('assigns dense offsets from 0 and returns the records byte for byte, in order', async () => {
    const topic = await newTopic();
    const first = await produceTo(engine, topic, { records: [jsonRecord({ n: 0 }), jsonRecord({ n: 1 })] });
    const second = await produceTo(engine, topic, {
      records: [{ key: utf8.encode('k'), value: new Uint8Array([0, 1, 255]), valueIsJson: false, headers: { h: 'v' }, timestamp: 42 }],
    });
    expect(first.records.map((r) => r.offset)).toEqual([0, 1]);
    expect(second.records).toEqual([{ partition: 0, offset: 2, timestamp: 42 }]);
    const read = await readFrom(engine, topic, 0, forward({ kind: 'earliest' }));
    expect(read.records.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(text.decode(read.records[1]!.value)).toBe('{"n":1}');
    expect([...read.records[2]!.value]).toEqual([0, 1, 255]);
    expect(read.records[2]!.headers).toEqual({ h: 'v' });
    expect(read).toMatchObject({ nextOffset: 3, startOffset: 0, endOffset: 3 });
  });

  it('places keyed records with Kafka\'s murmur2 partitioner and keeps per-key order', async () => {
    const topic = await newTopic(4);
    const records = Array.from({ length: 40 }, (_, i) => jsonRecord({ i }, { key: utf8.encode(`user-${i % 5}`) }));
    const { records: acks } = await produceTo(engine, topic, { records });
    acks.forEach((ack, i) => expect(ack.partition).toBe(partitionFor(utf8.encode(`user-${i % 5}`), 4)));
    for (let p = 0; p < 4; p++) {
      const read = await readFrom(engine, topic, p, forward({ kind: 'earliest' }));
      const seq = read.records.map((r) => JSON.parse(text.decode(r.value)).i as number);
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
    }
  });

  it('sends the keyless records of one request to one partition', async () => {
    const topic = await newTopic(8);
    const { records } = await produceTo(engine, topic, { records: [jsonRecord(1), jsonRecord(2), jsonRecord(3)] });
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
  });

  it('lets concurrent producers on one partition all succeed without holes or duplicates', async () => {
    const topic = await newTopic();
    const producers = 8;
    const perProducer = 15;
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        const own = another();
        for (let i = 0; i < perProducer; i++) {
          await produceTo(own, topic, { records: [jsonRecord({ p, i }), jsonRecord({ p, i, second: true })] });
        }
      }),
    );
    const read = await readFrom(engine, topic, 0, forward({ kind: 'earliest' }));
    const total = producers * perProducer * 2;
    expect(read.records.map((r) => r.offset)).toEqual(Array.from({ length: total }, (_, i) => i));
    const values = read.records.map((r) => JSON.parse(text.decode(r.value)) as { p: number; i: number; second?: boolean });
    for (let p = 0; p < producers; p++) {
      const mine = values.filter((v) => v.p === p);
      expect(mine).toHaveLength(perProducer * 2);
      // Each request's two records are contiguous and every producer's requests keep their order.
      expect(mine.map((v) => v.i)).toEqual(Array.from({ length: perProducer }, (_, i) => [i, i]).flat());
    }
    for (let k = 0; k < values.length; k += 2) expect(values[k + 1]).toEqual({ ...values[k], second: true });
  });

  it('appends a request that spans partitions all or nothing', async () => {
    const topic = await newTopic(3);
    await produceTo(engine, topic, { records: [jsonRecord('seed', { partition: 1 })] });
    const attempt = produceTo(engine, topic, {
      records: [jsonRecord('a', { partition: 0 }), jsonRecord('b', { partition: 2 })],
      expectedOffsets: new Map([
        [0, 0],
        [1, 0], // wrong: partition 1 ends at 1
      ]),
    });
    await expect(attempt).rejects.toBeInstanceOf(OffsetMismatchError);
    for (const p of [0, 1, 2]) {
      const { endOffset } = await engine.log.bounds(await engine.topics.get(topic), p);
      expect(endOffset).toBe(p === 1 ? 1 : 0);
    }
    const ok = await produceTo(engine, topic, {
      records: [jsonRecord('a', { partition: 0 }), jsonRecord('b', { partition: 2 })],
      expectedOffsets: new Map([[1, 1]]),
    });
    expect(ok.records.map((r) => [r.partition, r.offset])).toEqual([
      [0, 0],
      [2, 0],
    ]);
  });

  it('refuses an append whose expectedOffsets is stale and reports the current end', async () => {
    const topic = await newTopic();
    await produceTo(engine, topic, { records: [jsonRecord(1)], expectedOffsets: new Map([[0, 0]]) });
    const stale = produceTo(engine, topic, { records: [jsonRecord(2)], expectedOffsets: new Map([[0, 0]]) });
    await expect(stale).rejects.toMatchObject({ code: 'OFFSET_MISMATCH', details: { endOffset: 1, expectedOffset: 0 } });
    const read = await readFrom(engine, topic, 0, forward({ kind: 'earliest' }));
    expect(read.records).toHaveLength(1);
  });

  it('lets exactly one of two writers with the same expectedOffsets win', async () => {
    const topic = await newTopic();
    const results = await Promise.allSettled([
      produceTo(another(), topic, { records: [jsonRecord('x')], expectedOffsets: new Map([[0, 0]]) }),
      produceTo(another(), topic, { records: [jsonRecord('y')], expectedOffsets: new Map([[0, 0]]) }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof OffsetMismatchError)).toHaveLength(1);
  });

  it('appends a retried request with the same Idempotency-Key only once and answers it the same', async () => {
    const topic = await newTopic(2);
    const request = { records: [jsonRecord('once', { partition: 1 })], idempotencyKey: 'req-1' };
    const first = await produceTo(engine, topic, request);
    const retry = await produceTo(another(), topic, request);
    expect(retry).toEqual(first);
    const other = await produceTo(engine, topic, { ...request, idempotencyKey: 'req-2' });
    expect(other.records[0]!.offset).toBe(1);
    const read = await readFrom(engine, topic, 1, forward({ kind: 'earliest' }));
    expect(read.records).toHaveLength(2);
  });

  it('scopes idempotency keys to their topic', async () => {
    const [a, b] = [await newTopic(), await newTopic()];
    await produceTo(engine, a, { records: [jsonRecord(1)], idempotencyKey: 'shared' });
    await produceTo(engine, a, { records: [jsonRecord(1)], idempotencyKey: 'shared' });
    await produceTo(engine, b, { records: [jsonRecord(1)], idempotencyKey: 'shared' });
    expect((await readFrom(engine, a, 0, forward({ kind: 'earliest' }))).records).toHaveLength(1);
    expect((await readFrom(engine, b, 0, forward({ kind: 'earliest' }))).records).toHaveLength(1);
  });

  it('spills a batch too large for one item to S3 and reads it back byte for byte', async () => {
    const topic = await newTopic();
    const big = new Uint8Array(900 * 1024).map((_, i) => (i * 7919) % 251); // incompressible enough
    await produceTo(engine, topic, { records: [jsonRecord('before')] });
    await produceTo(engine, topic, { records: [{ key: null, value: big, valueIsJson: false, headers: {} }, jsonRecord('after')] });
    const read = await readFrom(another(), topic, 0, forward({ kind: 'offset', offset: 1 }));
    expect(read.records.map((r) => r.offset)).toEqual([1, 2]);
    expect(Buffer.from(read.records[0]!.value).equals(Buffer.from(big))).toBe(true);
  });

  it('rejects unknown topics and partitions', async () => {
    const topic = await newTopic(2);
    await expect(produceTo(engine, 'no-such-topic', { records: [jsonRecord(1)] })).rejects.toBeInstanceOf(TopicNotFoundError);
    await expect(produceTo(engine, topic, { records: [jsonRecord(1, { partition: 2 })] })).rejects.toBeInstanceOf(PartitionNotFoundError);
    await expect(readFrom(engine, topic, 5, forward({ kind: 'earliest' }))).rejects.toBeInstanceOf(PartitionNotFoundError);
  });
});

describe('batches in S3 (spilled)', () => {
  it('writes a batch above the spill threshold to S3 behind a small pointer item and reads it back byte for byte', async () => {
    const spilling = createShardlog(storage, { ...storage.config, spillThresholdBytes: 1024 }, { tailCacheMs: 0 });
    const topic = await newTopic();
    const noise = () => new Uint8Array(randomBytes(600)); // incompressible: 4 records exceed 1 KB
    const produced: Uint8Array[] = [];
    for (let b = 0; b < 12; b++) {
      const records = Array.from({ length: 4 }, (_, i) => {
        const value = noise();
        produced.push(value);
        return { key: null, value, valueIsJson: false, headers: {} };
      });
      await produceTo(spilling, topic, { records });
    }
    const { Items } = await storage.doc.send(
      new QueryCommand({
        TableName: storage.config.logTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': partitionPk((await engine.topics.get(topic)).topicId, 0) },
      }),
    );
    expect(Items).toHaveLength(12);
    for (const item of Items!) {
      expect(item.v).toBeUndefined();
      expect(String(item.ref)).toMatch(/^spill\//);
    }
    // One fetch over twelve spilled batches (their GETs overlap) returns every record, in order.
    const read = await readFrom(spilling, topic, 0, forward({ kind: 'earliest' }));
    expect(read.records.map((r) => r.offset)).toEqual(Array.from({ length: 48 }, (_, i) => i));
    read.records.forEach((r, i) => expect(Buffer.from(r.value).equals(Buffer.from(produced[i]!))).toBe(true));
    // Small batches stay inline.
    await produceTo(spilling, topic, { records: [jsonRecord('small')] });
    const last = await readFrom(spilling, topic, 0, forward({ kind: 'offset', offset: 48 }));
    expect(text.decode(last.records[0]!.value)).toBe('"small"');
  });
});

describe('fetch positions and limits', () => {
  let topic: string;
  beforeAll(async () => {
    topic = await newTopic();
    // Three batches: [0..4], [5..6], [7..9], with out-of-order timestamps in the last one.
    await produceTo(engine, topic, { records: [0, 1, 2, 3, 4].map((i) => jsonRecord(i, { timestamp: 1000 + i * 10 })) });
    await produceTo(engine, topic, { records: [5, 6].map((i) => jsonRecord(i, { timestamp: 1000 + i * 10 })) });
    await produceTo(engine, topic, {
      records: [jsonRecord(7, { timestamp: 1100 }), jsonRecord(8, { timestamp: 1075 }), jsonRecord(9, { timestamp: 1200 })],
    });
  });

  const offsets = (r: { records: Array<{ offset: number }> }) => r.records.map((x) => x.offset);

  it('starts inside a batch and honours limit', async () => {
    const read = await readFrom(engine, topic, 0, forward({ kind: 'offset', offset: 3 }, { limit: 4 }));
    expect(offsets(read)).toEqual([3, 4, 5, 6]);
    expect(read.nextOffset).toBe(7);
    expect(read.endOffset).toBe(10);
  });

  it('returns at least one record even when it exceeds maxBytes, then stops at maxBytes', async () => {
    expect(offsets(await readFrom(engine, topic, 0, forward({ kind: 'earliest' }, { maxBytes: 1 })))).toEqual([0]);
    // maxBytes counts records as encoded in the response (lib/log/wire-size.ts): framing included.
    expect(offsets(await readFrom(engine, topic, 0, forward({ kind: 'earliest' }, { maxBytes: 200 }))).length).toBeGreaterThan(1);
  });

  it('reads from latest as an empty page at the end offset', async () => {
    const read = await readFrom(engine, topic, 0, forward({ kind: 'latest' }));
    expect(read).toMatchObject({ records: [], nextOffset: 10, endOffset: 10 });
  });

  it('finds the first record at or after a timestamp, as Kafka\'s offsetsForTimes does', async () => {
    expect(offsets(await readFrom(engine, topic, 0, forward({ kind: 'timestamp', timestamp: 1025 }, { limit: 1 })))).toEqual([3]);
    expect(offsets(await readFrom(engine, topic, 0, forward({ kind: 'timestamp', timestamp: 0 }, { limit: 1 })))).toEqual([0]);
    // 1075 is record 8, but record 7 (1100) is the first at or after it in offset order.
    expect(offsets(await readFrom(engine, topic, 0, forward({ kind: 'timestamp', timestamp: 1075 }, { limit: 1 })))).toEqual([7]);
    expect(offsets(await readFrom(engine, topic, 0, forward({ kind: 'timestamp', timestamp: 1150 }, { limit: 1 })))).toEqual([9]);
    expect(await readFrom(engine, topic, 0, forward({ kind: 'timestamp', timestamp: 5000 }))).toMatchObject({ records: [], nextOffset: 10 });
  });

  it('walks backwards, newest first, across batches', async () => {
    const back = await readFrom(engine, topic, 0, { ...forward({ kind: 'latest' }, { limit: 4 }), direction: 'backward' });
    expect(offsets(back)).toEqual([9, 8, 7, 6]);
    expect(back.nextOffset).toBe(6);
    const more = await readFrom(engine, topic, 0, { ...forward({ kind: 'offset', offset: back.nextOffset }), direction: 'backward' });
    expect(offsets(more)).toEqual([5, 4, 3, 2, 1, 0]);
    const none = await readFrom(engine, topic, 0, { ...forward({ kind: 'earliest' }), direction: 'backward' });
    expect(none.records).toEqual([]);
  });

  it('refuses offsets beyond the end with both bounds', async () => {
    const err = await readFrom(engine, topic, 0, forward({ kind: 'offset', offset: 11 })).catch((e) => e);
    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect(err.details).toMatchObject({ offset: 11, startOffset: 0, endOffset: 10 });
  });

  it('long-polls at the end until a record arrives', async () => {
    const gate = new PollGate();
    const poller = createShardlog(storage, storage.config, { topicCacheMs: 0, tailCacheMs: 0, metaCacheMs: 0, sleep: gate.sleep });
    const asleep = gate.arm();
    const waiting = readFrom(poller, topic, 0, forward({ kind: 'offset', offset: 10 }, { waitMs: 5000 }));
    await asleep; // the poll found nothing at offset 10 and waits
    await produceTo(engine, topic, { records: [jsonRecord('late')] });
    gate.wake();
    const read = await waiting;
    expect(offsets(read)).toEqual([10]);
  });

  // An empty long poll that ends at its deadline: test/unit/log/log-service.test.ts, on an injected clock.
});

describe('topics', () => {
  it('makes a deleted topic unreadable at once and starts a re-created one from offset 0', async () => {
    const topic = await newTopic();
    await produceTo(engine, topic, { records: [jsonRecord('old'), jsonRecord('old')] });
    await engine.topics.delete(topic);
    await expect(readFrom(engine, topic, 0, forward({ kind: 'earliest' }))).rejects.toBeInstanceOf(TopicNotFoundError);
    await engine.topics.create({ name: topic, partitions: 1, retentionHours: 1 });
    const { records } = await produceTo(engine, topic, { records: [jsonRecord('new')] });
    expect(records[0]!.offset).toBe(0);
    const read = await readFrom(engine, topic, 0, forward({ kind: 'earliest' }));
    expect(read.records.map((r) => text.decode(r.value))).toEqual(['"new"']);
    expect((await engine.topics.listDeleted()).some((d) => d.name === topic)).toBe(true);
  });

  it('grows partitions but never shrinks them', async () => {
    const topic = await newTopic(2);
    await expect(engine.topics.update(topic, { partitions: 1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    const grown = await engine.topics.update(topic, { partitions: 5, retentionHours: 1 });
    expect(grown).toMatchObject({ partitions: 5, retentionHours: 1 });
    const { records } = await produceTo(engine, topic, { records: [jsonRecord(1, { partition: 4 })] });
    expect(records[0]).toMatchObject({ partition: 4, offset: 0 });
    expect((await engine.topics.list()).find((t) => t.name === topic)).toEqual({ name: topic, partitions: 5 });
  });
});
