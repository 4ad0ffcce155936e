import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffsetOutOfRangeError, TopicNotFoundError } from '../../../lib/errors.js';
import { offsetSk } from '../../../lib/storage/log-table.js';
import { RECLAIM_AFTER_MS } from '../../../lib/maintenance/reclaim.js';
import { partitionSegmentPrefix, topicSegmentPrefix } from '../../../lib/storage/prefixes.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { randomBytes } from 'node:crypto';
import {
  batchItems,
  Clock,
  engineAt,
  forward,
  HOUR_MS,
  indexItems,
  metaItem,
  objectKeys,
  queryAll,
  readAll,
  sampleRecord,
  sweepExpired,
} from './harness.js';
import { segmentPk } from '../../../lib/storage/log-table.js';
import { produceTo, readFrom } from '../../support/by-name.js';

let storage: TestStorage;
let seq = 0;
beforeAll(async () => {
  // These tests pin the tiered regime (every topic tiered to S3); hot-retention.test.ts covers the other.
  storage = await createTestStorage({ hotRetentionLimitHours: 0 });
});
afterAll(() => storage?.cleanup());

const MINUTE = 60_000;

describe('retention', () => {
  it('expires whole segments older than retentionHours, advances startOffset and answers 416 below it', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = `ret-${++seq}-${Date.now()}`;
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 1 });
    for (let b = 0; b < 3; b++) await produceTo(engine, name, { records: [0, 1, 2].map((k) => sampleRecord(b * 3 + k, clock.ms)) });
    clock.advance(20 * MINUTE);
    expect((await engine.maintenance.runOnce({ topic: name })).tiered).toMatchObject({ segments: 1, records: 9 });
    for (let b = 0; b < 2; b++) await produceTo(engine, name, { records: [0, 1, 2].map((k) => sampleRecord(9 + b * 3 + k, clock.ms)) });
    const all = await readAll(engine, name);
    clock.advance(50 * MINUTE); // the first segment is 70 minutes old, the second 50

    const report = await engine.maintenance.runOnce({ topic: name });
    expect(report).toEqual({ tiered: { segments: 1, records: 6, bytes: report.tiered.bytes }, expired: { records: 9, segments: 1 } });
    expect(await metaItem(storage, topic.topicId)).toMatchObject({ startOffset: 9, tieredOffset: 15, endOffset: 15 });
    expect((await indexItems(storage, topic.topicId)).map((i) => i.sk)).toEqual([offsetSk(9)]);
    expect(await objectKeys(storage, partitionSegmentPrefix(topic.topicId, 0))).toHaveLength(1);

    const error = await readFrom(engine, name, 0, forward({ kind: 'offset', offset: 3 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect((error as OffsetOutOfRangeError).details).toMatchObject({ startOffset: 9, endOffset: 15 });
    const earliest = await readFrom(engine, name, 0, forward({ kind: 'earliest' }));
    expect(earliest).toMatchObject({ startOffset: 9, endOffset: 15 });
    expect(await readAll(engine, name)).toEqual(all.slice(9));
    // Backward reads stop at the start.
    const back = await readFrom(engine, name, 0, forward({ kind: 'latest' }, { direction: 'backward' }));
    expect(back.records.map((r) => r.offset)).toEqual([14, 13, 12, 11, 10, 9]);
  });

  it('keeps the end offset when every record expired: the next append continues after it', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = `ret-${++seq}-${Date.now()}`;
    const topic = await engine.topics.create({ name, partitions: 1, retentionHours: 1 / 60 });
    for (let b = 0; b < 4; b++) await produceTo(engine, name, { records: [sampleRecord(b, clock.ms), sampleRecord(b + 1, clock.ms)] });
    clock.advance(2 * MINUTE);
    // Hot data older than the retention is tiered and expired in the same pass, whatever the tiering threshold.
    const report = await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 10 * HOUR_MS });
    expect(report.tiered.records).toBe(8);
    expect(report.expired).toEqual({ records: 8, segments: 1 });
    expect(await objectKeys(storage, topicSegmentPrefix(topic.topicId))).toEqual([]);
    clock.advance(2 * HOUR_MS);
    await sweepExpired(storage, clock.ms);
    expect(await batchItems(storage, topic.topicId)).toEqual([]);
    expect(await readFrom(engine, name, 0, forward({ kind: 'earliest' }))).toMatchObject({ records: [], startOffset: 8, endOffset: 8 });
    const acks = await produceTo(engine, name, { records: [sampleRecord(1, clock.ms)] });
    expect(acks.records[0]!.offset).toBe(8);
    expect(await readFrom(engine, name, 0, forward({ kind: 'earliest' }))).toMatchObject({ startOffset: 8, endOffset: 9, nextOffset: 9 });
    await expect(readFrom(engine, name, 0, forward({ kind: 'offset', offset: 0 }))).rejects.toBeInstanceOf(OffsetOutOfRangeError);
  });

  it('counts retention from the append time, not from producer timestamps', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = `ret-${++seq}-${Date.now()}`;
    await engine.topics.create({ name, partitions: 1, retentionHours: 1 });
    await produceTo(engine, name, { records: [sampleRecord(0, 42)] }); // a timestamp from 1970
    clock.advance(20 * MINUTE);
    const report = await engine.maintenance.runOnce({ topic: name });
    expect(report.tiered.records).toBe(1);
    expect(report.expired.records).toBe(0);
  });
});

describe('deleted topics', () => {
  it('reclaims every item and object of a deleted topic, and a re-created topic starts empty', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = `del-${++seq}-${Date.now()}`;
    const topic = await engine.topics.create({ name, partitions: 2, retentionHours: 168 });
    for (let b = 0; b < 3; b++) {
      await produceTo(engine, name, { records: [{ ...sampleRecord(b, clock.ms), partition: b % 2 }] });
    }
    // A spilled batch, so that spill objects must go too.
    await produceTo(engine, name, { records: [{ key: null, value: randomBytes(380 * 1024), valueIsJson: false, headers: {}, partition: 1 }] });
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    await produceTo(engine, name, { records: [{ ...sampleRecord(9, clock.ms), partition: 0 }] });
    expect((await objectKeys(storage, topicSegmentPrefix(topic.topicId))).length).toBe(2);
    expect((await objectKeys(storage, `spill/p/${topic.topicId}/`)).length).toBe(1);

    await engine.topics.delete(name);
    await expect(readFrom(engine, name, 0, forward({ kind: 'earliest' }))).rejects.toBeInstanceOf(TopicNotFoundError);
    // Not before RECLAIM_AFTER_MS: a process with a cached topic may still be appending.
    await engine.maintenance.runOnce();
    expect((await engine.topics.listDeleted()).map((d) => d.topicId)).toContain(topic.topicId);
    clock.advance(RECLAIM_AFTER_MS + 1000);
    await engine.maintenance.runOnce();

    expect((await engine.topics.listDeleted()).map((d) => d.topicId)).not.toContain(topic.topicId);
    for (const p of [0, 1]) {
      expect(await queryAll(storage.doc, storage.config.logTable, `p#${topic.topicId}#${p}`)).toEqual([]);
      expect(await queryAll(storage.doc, storage.config.logTable, segmentPk(topic.topicId, p))).toEqual([]);
    }
    expect(await objectKeys(storage, topicSegmentPrefix(topic.topicId))).toEqual([]);
    expect(await objectKeys(storage, `spill/p/${topic.topicId}/`)).toEqual([]);

    await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
    expect(await readFrom(engine, name, 0, forward({ kind: 'earliest' }))).toMatchObject({ records: [], startOffset: 0, endOffset: 0 });
  });
});
