import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offsetSk } from '../../../lib/storage/log-table.js';
import { HOT_COPY_GRACE_MS } from '../../../lib/maintenance/maintenance-steps.js';
import { partitionSegmentPrefix } from '../../../lib/storage/prefixes.js';
import { decodeSegment } from '../../../lib/segments/segment-format.js';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import {
  batchItems,
  Clock,
  engineAt,
  HOUR_MS,
  indexItems,
  metaItem,
  objectKeys,
  readAll,
  sampleRecord,
  sweepExpired,
} from './harness.js';
import { produceTo } from '../../support/by-name.js';

let storage: TestStorage;
let seq = 0;

beforeAll(async () => {
  // These tests pin the tiered regime (every topic tiered to S3); hot-retention.test.ts covers the other.
  storage = await createTestStorage({ hotRetentionLimitHours: 0 });
});
afterAll(() => storage?.cleanup());

async function topicWithBatches(clock: Clock, batches: number, perBatch = 3) {
  const engine = engineAt(storage, clock);
  const name = `tier-${++seq}-${Date.now()}`;
  const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
  let i = 0;
  for (let b = 0; b < batches; b++) {
    await produceTo(engine, name, { records: Array.from({ length: perBatch }, () => sampleRecord(i, clock.ms - 1000 + i++)) });
    clock.advance(10);
  }
  return { engine, name, topic };
}

describe('tiering', () => {
  it('moves old hot batches into one indexed segment and reports what it moved', async () => {
    const clock = new Clock();
    const { engine, name, topic } = await topicWithBatches(clock, 6);
    const before = await readAll(engine, name);
    const report = await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    expect(report.tiered).toMatchObject({ segments: 1, records: 18 });
    expect(report.tiered.bytes).toBeGreaterThan(0);
    expect(report.expired).toEqual({ records: 0, segments: 0 });

    const [index] = await indexItems(storage, topic.topicId);
    expect(index).toMatchObject({ sk: offsetSk(0), end: 18 });
    const keys = await objectKeys(storage, partitionSegmentPrefix(topic.topicId, 0));
    expect(keys).toEqual([index!.key]);
    // The object is a valid v1 segment holding the six batches exactly as the hot items stored them.
    const object = await storage.s3.send(new GetObjectCommand({ Bucket: storage.config.segmentBucket, Key: keys[0]! }));
    const segment = decodeSegment(await object.Body!.transformToByteArray());
    const hot = await batchItems(storage, topic.topicId);
    expect(segment.batches.map((b) => Buffer.from(b).toString('hex'))).toEqual(hot.map((h) => Buffer.from(h.v as Uint8Array).toString('hex')));
    expect(await metaItem(storage, topic.topicId)).toMatchObject({ startOffset: 0, endOffset: 18, tieredOffset: 18, releasedOffset: 18 });
    // Every hot copy is now on TTL, with the grace period.
    const expiry = Math.ceil((clock.ms + HOT_COPY_GRACE_MS) / 1000);
    expect(hot.map((h) => h.expiresAt)).toEqual(hot.map(() => expiry));
    expect(await readAll(engine, name)).toEqual(before);
  });

  it('tiers only batches older than the threshold, contiguously from the last tiered offset', async () => {
    const clock = new Clock();
    const { engine, name, topic } = await topicWithBatches(clock, 3);
    clock.advance(10 * 60_000);
    await produceTo(engine, name, { records: [sampleRecord(99, clock.ms)] });
    const report = await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 5 * 60_000 });
    expect(report.tiered.records).toBe(9);
    expect(await metaItem(storage, topic.topicId)).toMatchObject({ tieredOffset: 9 });
    const hot = await batchItems(storage, topic.topicId);
    expect(hot.filter((h) => h.expiresAt === undefined).map((h) => h.sk)).toEqual([offsetSk(9)]);
    // The default threshold (15 minutes) is not reached yet by the newest batch.
    expect((await engine.maintenance.runOnce({ topic: name })).tiered.records).toBe(0);
    clock.advance(16 * 60_000);
    expect((await engine.maintenance.runOnce({ topic: name })).tiered).toMatchObject({ segments: 1, records: 1 });
    expect((await indexItems(storage, topic.topicId)).map((i) => [i.sk, i.end])).toEqual([
      [offsetSk(0), 9],
      [offsetSk(9), 10],
    ]);
  });

  it('is idempotent: a second pass over the same state moves nothing', async () => {
    const clock = new Clock();
    const { engine, name } = await topicWithBatches(clock, 2);
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    expect(await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 })).toEqual({
      tiered: { segments: 0, records: 0, bytes: 0 },
      expired: { records: 0, segments: 0 },
    });
  });

  it('never reuses offsets after TTL removed every hot item', async () => {
    const clock = new Clock();
    const { engine, name, topic } = await topicWithBatches(clock, 4);
    const before = await readAll(engine, name);
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    clock.advance(HOT_COPY_GRACE_MS + HOUR_MS);
    await sweepExpired(storage, clock.ms);
    expect(await batchItems(storage, topic.topicId)).toEqual([]);
    // Everything now comes from S3, byte for byte, and the end offset is still 12.
    expect(await readAll(engine, name)).toEqual(before);
    const acks = await produceTo(engine, name, { records: [sampleRecord(1, clock.ms), sampleRecord(2, clock.ms)] });
    expect(acks.records.map((r) => r.offset)).toEqual([12, 13]);
    const fresh = engineAt(storage, clock);
    const all = await readAll(fresh, name);
    expect(all.slice(0, 12)).toEqual(before);
    expect(all).toHaveLength(14);
  });

  it('lets two overlapping passes race: one segment wins, the loser adopts it and leaves no object behind', async () => {
    const clock = new Clock();
    const { engine, name, topic } = await topicWithBatches(clock, 5);
    const before = await readAll(engine, name);
    const other = engineAt(storage, clock);
    const [a, b] = await Promise.all([
      engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 }),
      other.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 }),
    ]);
    expect(a.tiered.segments + b.tiered.segments).toBe(1);
    const index = await indexItems(storage, topic.topicId);
    expect(index.map((i) => [i.sk, i.end])).toEqual([[offsetSk(0), 15]]);
    expect(await objectKeys(storage, partitionSegmentPrefix(topic.topicId, 0))).toEqual([index[0]!.key]);
    expect(await metaItem(storage, topic.topicId)).toMatchObject({ tieredOffset: 15, releasedOffset: 15 });
    clock.advance(HOT_COPY_GRACE_MS + 1000);
    await sweepExpired(storage, clock.ms);
    expect(await readAll(engine, name)).toEqual(before);
  });

  it('bounds a segment by its batch count and continues in the next one', async () => {
    const clock = new Clock();
    const { engine, name, topic } = await topicWithBatches(clock, 7, 1);
    const { createMaintenance } = await import('../../../lib/maintenance/create-maintenance.js');
    const small = createMaintenance({ ...engine, clients: engine.clients, now: clock.now, maxSegmentBatches: 3 });
    const report = await small.runOnce({ topic: name, tierOlderThanMs: 0 });
    expect(report.tiered).toMatchObject({ segments: 3, records: 7 });
    expect((await indexItems(storage, topic.topicId)).map((i) => [i.sk, i.end])).toEqual([
      [offsetSk(0), 3],
      [offsetSk(3), 6],
      [offsetSk(6), 7],
    ]);
  });
});
