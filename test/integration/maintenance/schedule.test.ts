import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/local-env.js';
import { MAX_MAINTENANCE_SKIP_MS } from '../../../lib/maintenance/maintenance-service.js';
import { createShardlog } from '../../../lib/shardlog.js';
import { CapacityMeter } from '../../../lib/storage/capacity-meter.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { Clock, HOUR_MS, sampleRecord } from './harness.js';
import { produceTo } from '../../support/by-name.js';

/**
 * Idle costs nothing (or nearly): a scheduled pass skips a topic until the moment its last pass computed as
 * the next one with work, so an idle topic costs one read of its topic item per pass instead of a few reads
 * per partition.
 */
let storage: TestStorage;
let dynamo: DynamoDBClient;
const meter = new CapacityMeter();
const MINUTE = 60_000;

beforeAll(async () => {
  storage = await createTestStorage(); // its own tables: the request counts below see only this file's topics
  dynamo = new DynamoDBClient({ endpoint: storage.endpoints.dynamo, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
  meter.attach(dynamo);
});
afterAll(async () => {
  dynamo?.destroy();
  await storage?.cleanup();
});

const engineAt = (clock: Clock) =>
  createShardlog({ doc: DynamoDBDocumentClient.from(dynamo), s3: storage.s3 }, storage.config, {
    now: clock.now,
    topicCacheMs: 0,
    tailCacheMs: 0,
    metaCacheMs: 0,
  });

describe('the maintenance schedule', () => {
  it('skips an idle topic until its oldest batch passes its retention, then expires it', async () => {
    const clock = new Clock();
    const engine = engineAt(clock);
    await engine.topics.create({ name: 'idle', partitions: 16, retentionHours: 1 });
    await produceTo(engine, 'idle', { records: [sampleRecord(0, clock.ms)] });
    await engine.maintenance.runOnce(); // looks at every partition and records when the topic is next due
    expect((await engine.topics.get('idle')).maintainAfter).toBe(clock.ms + HOUR_MS);

    clock.advance(30 * MINUTE);
    meter.reset();
    expect(await engine.maintenance.runOnce()).toEqual({ tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 0, segments: 0 } });
    // The catalog, the topic item, the deleted-topics list and the group expiry cursor (resting after a round of
    // the empty registry); nothing per partition, nothing written.
    expect(meter.totals().dynamoByCommand).toEqual({ QueryCommand: 2, GetItemCommand: 2 });
    expect(meter.totals().writeUnits).toBe(0);

    clock.advance(31 * MINUTE);
    expect((await engine.maintenance.runOnce()).expired.records).toBe(1);
  });

  it('looks at a topic at least once an hour, whatever its last pass computed', async () => {
    const clock = new Clock();
    const engine = engineAt(clock);
    await engine.topics.create({ name: 'long', partitions: 1, retentionHours: 168 });
    await engine.maintenance.runOnce();
    expect((await engine.topics.get('long')).maintainAfter).toBe(clock.ms + MAX_MAINTENANCE_SKIP_MS);
  });

  it('looks at a topic again at the next pass after its retention or partitions change', async () => {
    const clock = new Clock();
    const engine = engineAt(clock);
    await engine.topics.create({ name: 'changed', partitions: 1, retentionHours: 24 });
    await produceTo(engine, 'changed', { records: [sampleRecord(0, clock.ms)] });
    await engine.maintenance.runOnce();
    clock.advance(2 * HOUR_MS);
    await engine.maintenance.runOnce();
    expect((await engine.topics.get('changed')).maintainAfter).toBeGreaterThan(clock.ms);
    await engine.topics.update('changed', { retentionHours: 1 });
    expect((await engine.topics.get('changed')).maintainAfter).toBeUndefined();
    expect((await engine.maintenance.runOnce()).expired.records).toBe(1);
  });

  it('still maintains a topic on request, whatever its schedule', async () => {
    const clock = new Clock();
    const engine = engineAt(clock);
    await engine.topics.create({ name: 'asked', partitions: 1, retentionHours: 168 });
    await produceTo(engine, 'asked', { records: [sampleRecord(0, clock.ms)] });
    await engine.maintenance.runOnce();
    expect((await engine.maintenance.runOnce({ topic: 'asked', tierOlderThanMs: 0 })).tiered.records).toBe(1);
  });
});
