import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/local-env.js';
import type { ProduceRecord, ReadOptions } from '../../../lib/log/log-service.js';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import { CapacityMeter } from '../../../lib/storage/capacity-meter.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

/**
 * Pins the cost design of the log (README, "Performance and cost"): a produce to one partition is a
 * single standard (not transactional) write, and a consumer's fetch at its next offset is a single Query.
 * These are counts of requests and capacity units, which DynamoDB Local reports like DynamoDB — not timings.
 */
const utf8 = new TextEncoder();
const record = (i: number): ProduceRecord => ({
  key: utf8.encode(`k${i % 10}`),
  value: utf8.encode(JSON.stringify({ i, payload: 'x'.repeat(900), at: 1_700_000_000_000 + i })),
  valueIsJson: true,
  headers: {},
  partition: 0,
});
const fetchFrom = (offset: number): ReadOptions => ({
  start: { kind: 'offset', offset },
  limit: 10_000,
  maxBytes: 6 * 1024 * 1024,
  encoding: 'json',
  waitMs: 0,
  direction: 'forward',
});

let storage: TestStorage;
let dynamo: DynamoDBClient;
let engine: Shardlog;
const meter = new CapacityMeter();

beforeAll(async () => {
  storage = await createTestStorage();
  dynamo = new DynamoDBClient({ endpoint: storage.endpoints.dynamo, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
  meter.attach(dynamo);
  engine = createShardlog({ doc: DynamoDBDocumentClient.from(dynamo), s3: storage.s3 }, storage.config);
  await engine.topics.create({ name: 'costs', partitions: 2, retentionHours: 168 });
});

afterAll(async () => {
  dynamo?.destroy();
  await storage?.cleanup();
});

describe('what the log costs in DynamoDB', () => {
  it('appends a warm single-partition produce with exactly one standard PutItem', async () => {
    await engine.log.produce('costs', { records: [record(0)] }); // learns the tail (and the topic)
    meter.reset();
    const batch = Array.from({ length: 100 }, (_, i) => record(i));
    await engine.log.produce('costs', { records: batch });
    const totals = meter.totals();
    expect(totals.dynamoByCommand).toEqual({ PutItemCommand: 1 });
    // 100 records of ~1 KB compress far below 100 KB; a transaction would also double the units.
    expect(totals.writeUnits).toBeGreaterThanOrEqual(1);
    expect(totals.writeUnits).toBeLessThan(30);
  });

  it('reads a consumer\'s next page with one Query once the partition meta is cached', async () => {
    const first = await engine.log.read('costs', 0, fetchFrom(0));
    await engine.log.produce('costs', { records: [record(1), record(2)] });
    meter.reset();
    const next = await engine.log.read('costs', 0, fetchFrom(first.nextOffset));
    expect(next.records.map((r) => r.offset)).toEqual([first.nextOffset, first.nextOffset + 1]);
    expect(meter.totals().dynamoByCommand).toEqual({ QueryCommand: 1 });
  });

  it('answers an empty poll at the end with one Query that reads no batch', async () => {
    const end = (await engine.log.read('costs', 0, fetchFrom(0))).nextOffset; // this process now knows the end
    meter.reset();
    const poll = await engine.log.read('costs', 0, fetchFrom(end));
    expect(poll).toMatchObject({ records: [], nextOffset: end, endOffset: end });
    expect(meter.totals().dynamoByCommand).toEqual({ QueryCommand: 1 });
    expect(meter.totals().readUnits).toBeLessThanOrEqual(1);
  });

  it('reads the newest batch once, not twice, for an empty poll in a process that knows nothing yet', async () => {
    const fresh = createShardlog({ doc: DynamoDBDocumentClient.from(dynamo), s3: storage.s3 }, storage.config);
    const end = (await engine.log.bounds(await engine.topics.get('costs'), 0)).endOffset;
    await fresh.topics.get('costs');
    await fresh.store.readMeta(`p#${(await fresh.topics.get('costs')).topicId}#0`);
    meter.reset();
    expect(await fresh.log.read('costs', 0, fetchFrom(end))).toMatchObject({ records: [], endOffset: end });
    expect(meter.totals().dynamoByCommand).toEqual({ QueryCommand: 2 }); // the empty page and the batch before it
  });

  it('checks a commit offset the process has already seen without reading storage', async () => {
    const topic = await engine.topics.get('costs');
    const end = (await engine.log.read('costs', 0, fetchFrom(0))).nextOffset;
    meter.reset();
    await engine.log.checkOffset(topic, 0, end);
    await engine.log.checkOffset(topic, 0, end - 1);
    expect(meter.totals().dynamoRequests).toBe(0);
    await expect(engine.log.checkOffset(topic, 0, end + 1)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
  });

  it('pays the transactional price only for requests that need a transaction', async () => {
    meter.reset();
    await engine.log.produce('costs', { records: [record(3)], idempotencyKey: 'cost-test' });
    expect(meter.totals().dynamoByCommand).toEqual({ TransactWriteItemsCommand: 1 });
    meter.reset();
    await engine.log.produce('costs', { records: [{ ...record(4), partition: 0 }, { ...record(5), partition: 1 }] });
    expect(Object.keys(meter.totals().dynamoByCommand)).toContain('TransactWriteItemsCommand');
  });
});
