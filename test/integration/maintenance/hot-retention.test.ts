import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/local-env.js';
import { OffsetOutOfRangeError } from '../../../lib/errors.js';
import { offsetSk } from '../../../lib/storage/log-table.js';
import { createShardlog } from '../../../lib/shardlog.js';
import { CapacityMeter } from '../../../lib/storage/capacity-meter.js';
import { HOT_TTL_MARGIN_MS } from '../../../lib/topics/topic.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { batchItems, Clock, engineAt, forward, HOUR_MS, metaItem, objectKeys, readAll, sampleRecord, sweepExpired } from './harness.js';
import { produceTo, readFrom } from '../../support/by-name.js';

/**
 * Topics whose retention is within `hotRetentionLimitHours` (12 weeks by default) stay in DynamoDB: each batch
 * is written with a TTL of retention + a day (free deletion), scheduled passes do not tier them (tiering would
 * rewrite every item to set a TTL, costing more than a week of storage), and retention moves `startOffset`.
 */
let storage: TestStorage;
let seq = 0;
const MINUTE = 60_000;

beforeAll(async () => {
  storage = await createTestStorage(); // the default limit: 168-hour and 1-hour topics are hot-retention topics
});
afterAll(() => storage?.cleanup());

const newName = () => `hot-${++seq}-${Date.now()}`;

describe('hot-retention topics', () => {
  it('write every batch with a TTL of its retention plus a day', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = newName();
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
    await produceTo(engine, name, { records: [sampleRecord(0, clock.ms), sampleRecord(1, clock.ms)] });
    const [item] = await batchItems(storage, topic.topicId);
    expect(item!.expiresAt).toBe(Math.ceil((clock.ms + 168 * HOUR_MS + HOT_TTL_MARGIN_MS) / 1000));
  });

  it('are not tiered by a scheduled pass, only on request, and tiering them rewrites no item', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = newName();
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
    await produceTo(engine, name, { records: [0, 1, 2].map((i) => sampleRecord(i, clock.ms)) });
    const before = await batchItems(storage, topic.topicId);
    clock.advance(2 * HOUR_MS); // far past the 15-minute tiering threshold
    expect((await engine.maintenance.runOnce({ topic: name })).tiered.segments).toBe(0);
    const all = await readAll(engine, name);
    expect((await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 })).tiered).toMatchObject({ segments: 1, records: 3 });
    // The hot copies keep the TTL they were written with: no UpdateItem per batch.
    expect((await batchItems(storage, topic.topicId)).map((i) => i.expiresAt)).toEqual(before.map((i) => i.expiresAt));
    expect(await readAll(engine, name)).toEqual(all);
  });

  it('expire past their retention by moving startOffset: 416 below it, the rest readable byte for byte', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = newName();
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 1 });
    for (let b = 0; b < 3; b++) await produceTo(engine, name, { records: [0, 1].map((k) => sampleRecord(b * 2 + k, clock.ms)) });
    clock.advance(40 * MINUTE);
    await produceTo(engine, name, { records: [6, 7].map((i) => sampleRecord(i, clock.ms)) });
    const all = await readAll(engine, name);
    clock.advance(30 * MINUTE); // the first three batches are 70 minutes old, the last one 30

    const report = await engine.maintenance.runOnce({ topic: name });
    expect(report).toEqual({ tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 6, segments: 0 } });
    expect(await metaItem(storage, topic.topicId)).toMatchObject({ startOffset: 6, floorOffset: 8 });
    const error = await readFrom(engine, name, 0, forward({ kind: 'offset', offset: 2 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect((error as OffsetOutOfRangeError).details).toMatchObject({ startOffset: 6, endOffset: 8 });
    expect(await readAll(engine, name)).toEqual(all.slice(6));
    const back = await readFrom(engine, name, 0, forward({ kind: 'latest' }, { direction: 'backward' }));
    expect(back.records.map((r) => r.offset)).toEqual([7, 6]);
  });

  it('never reuse offsets after TTL removed every item', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = newName();
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 1 });
    await produceTo(engine, name, { records: [0, 1, 2].map((i) => sampleRecord(i, clock.ms)) });
    clock.advance(HOUR_MS + MINUTE);
    expect((await engine.maintenance.runOnce({ topic: name })).expired.records).toBe(3);
    clock.advance(HOT_TTL_MARGIN_MS);
    expect(await sweepExpired(storage, clock.ms)).toBeGreaterThan(0); // what DynamoDB's TTL eventually does
    expect(await batchItems(storage, topic.topicId)).toEqual([]);

    const { records } = await produceTo(engine, name, { records: [sampleRecord(3, clock.ms)] });
    expect(records[0]!.offset).toBe(3);
    expect(await engine.log.bounds(topic, 0)).toEqual({ startOffset: 3, endOffset: 4 });
  });

  it('record the end offset before any item could expire, even for a partition idle since', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = newName();
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 24 });
    await produceTo(engine, name, { records: [0, 1].map((i) => sampleRecord(i, clock.ms)) });
    await engine.maintenance.runOnce({ topic: name }); // a pass within the day of margin
    const meta = await metaItem(storage, topic.topicId);
    expect(meta).toMatchObject({ floorOffset: 2 });
    expect(meta!.startOffset ?? 0).toBe(0);
    clock.advance(24 * HOUR_MS + HOT_TTL_MARGIN_MS + MINUTE);
    await sweepExpired(storage, clock.ms); // even with no pass after the retention
    expect((await produceTo(engine, name, { records: [sampleRecord(2, clock.ms)] })).records[0]!.offset).toBe(2);
  });

  it('give batches written under a longer retention a TTL when a shorter retention expires them', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = newName();
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 3000 }); // beyond the limit: tiered
    await produceTo(engine, name, { records: [0, 1].map((i) => sampleRecord(i, clock.ms)) });
    expect((await batchItems(storage, topic.topicId))[0]!.expiresAt).toBeUndefined();
    await engine.topics.update(name, { retentionHours: 1 });
    clock.advance(2 * HOUR_MS);
    expect((await engine.maintenance.runOnce({ topic: name })).expired.records).toBe(2);
    const [item] = await batchItems(storage, topic.topicId);
    expect(item!.sk).toBe(offsetSk(0));
    expect(typeof item!.expiresAt).toBe('number');
  });

  it('delete the S3 objects of the spilled batches they expire', async () => {
    const clock = new Clock();
    const engine = createShardlog(storage, { ...storage.config, spillThresholdBytes: 256 }, {
      now: clock.now,
      topicCacheMs: 0,
      tailCacheMs: 0,
      metaCacheMs: 0,
    });
    const name = newName();
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 1 });
    const noisy = (i: number) => ({ ...sampleRecord(i, clock.ms), value: new Uint8Array(randomBytes(2048)) }); // incompressible
    await produceTo(engine, name, { records: [noisy(0), noisy(1)] });
    clock.advance(40 * MINUTE);
    await produceTo(engine, name, { records: [noisy(2), noisy(3)] });
    const prefix = `spill/p/${topic.topicId}/0/`;
    expect(await objectKeys(storage, prefix)).toHaveLength(2);
    clock.advance(30 * MINUTE);
    expect((await engine.maintenance.runOnce({ topic: name })).expired.records).toBe(2);
    expect(await objectKeys(storage, prefix)).toHaveLength(1);
    expect((await readFrom(engine, name, 0, forward({ kind: 'earliest' }))).records.map((r) => r.offset)).toEqual([2, 3]);
  });

  it('cost a settled partition no write per scheduled pass', async () => {
    const dynamo = new DynamoDBClient({ endpoint: storage.endpoints.dynamo, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
    const meter = new CapacityMeter().attach(dynamo);
    const engine = createShardlog({ doc: DynamoDBDocumentClient.from(dynamo), s3: storage.s3 }, storage.config, {
      topicCacheMs: 0,
      tailCacheMs: 0,
      metaCacheMs: 0,
    });
    const name = newName();
    await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
    await produceTo(engine, name, { records: [sampleRecord(0, Date.now())] });
    await engine.maintenance.runOnce({ topic: name }); // records the floor: one small write
    meter.reset();
    await engine.maintenance.runOnce({ topic: name });
    const totals = meter.totals();
    expect(totals.writeUnits).toBe(0);
    expect(totals.dynamoByCommand.UpdateItemCommand ?? 0).toBe(0);
    dynamo.destroy();
  });
});
