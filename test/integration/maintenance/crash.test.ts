import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OffsetOutOfRangeError, TopicNotFoundError } from '../../../lib/errors.js';
import { offsetSk, segmentPk } from '../../../lib/storage/log-table.js';
import { HOT_COPY_GRACE_MS, type MaintenanceStep } from '../../../lib/maintenance/maintenance-steps.js';
import { RECLAIM_AFTER_MS } from '../../../lib/maintenance/reclaim.js';
import { partitionSegmentPrefix, topicSegmentPrefix } from '../../../lib/storage/prefixes.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import {
  batchItems,
  Clock,
  crashingMaintenance,
  engineAt,
  forward,
  HOUR_MS,
  indexItems,
  InjectedCrash,
  metaItem,
  objectKeys,
  queryAll,
  readAll,
  sampleRecord,
  sweepExpired,
} from './harness.js';
import { produceTo, readFrom } from '../../support/by-name.js';

/**
 * Crash injection: a pass stops right after each step, in turn. Every offset must then read back byte for
 * byte (from one tier, or from both with identical bytes), also once TTL has removed whatever it may remove,
 * and the next clean pass must finish the work and leave the invariants whole.
 */
let storage: TestStorage;
let seq = 0;
beforeAll(async () => {
  // These tests pin the tiered regime (every topic tiered to S3); hot-retention.test.ts covers the other.
  storage = await createTestStorage({ hotRetentionLimitHours: 0 });
  // A pass logs each injected crash as a failure, with its stack: expected here, so those lines are dropped
  // (expectCrashAt checks the crash itself); any other line still reaches stderr.
  const write = process.stderr.write.bind(process.stderr) as (chunk: unknown, ...rest: unknown[]) => boolean;
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) =>
    String(chunk).includes('"name":"InjectedCrash"') ? true : write(chunk, ...rest)) as typeof process.stderr.write);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await storage?.cleanup();
});

const MINUTE = 60_000;

async function producedTopic(clock: Clock, retentionHours = 168, batches = 5) {
  const engine = engineAt(storage, clock);
  const name = `crash-${++seq}-${Date.now()}`;
  const topic = await engine.topics.create({ name, partitions: 1, retentionHours });
  let i = 0;
  for (let b = 0; b < batches; b++) {
    await produceTo(engine, name, { records: Array.from({ length: 1 + (b % 3) }, () => sampleRecord(i, clock.ms + i++)) });
  }
  return { engine, name, topic, count: i };
}

/** The state a finished tiering pass leaves: segments tile [0, end), marks at the end, every hot copy on TTL or gone. */
async function expectFullyTiered(topicId: string, end: number) {
  const index = await indexItems(storage, topicId);
  let next = 0;
  for (const item of index) {
    expect(item.sk).toBe(offsetSk(next));
    next = Number(item.end);
  }
  expect(next).toBe(end);
  expect(await metaItem(storage, topicId)).toMatchObject({ tieredOffset: end, endOffset: end, releasedOffset: end, startOffset: 0 });
  for (const item of await batchItems(storage, topicId)) expect(item.expiresAt).toBeTypeOf('number');
  const objects = await objectKeys(storage, partitionSegmentPrefix(topicId, 0));
  for (const item of index) expect(objects).toContain(item.key);
  return { index, objects };
}

/** The pass failed with the injected crash, at `step`: the step was reached and the crash surfaced. */
async function expectCrashAt(pass: Promise<unknown>, step: MaintenanceStep): Promise<void> {
  const error = await pass.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(InjectedCrash);
  expect((error as InjectedCrash).step).toBe(step);
}

const TIERING_STEPS: MaintenanceStep[] = ['tier.object-put', 'tier.indexed', 'tier.meta-advanced', 'tier.ttl-set', 'tier.released'];

describe('a crash during tiering', () => {
  it.each(TIERING_STEPS)('after %s leaves every offset readable, and the next pass completes', async (step) => {
    const clock = new Clock();
    const { engine, name, topic, count } = await producedTopic(clock);
    const before = await readAll(engine, name);
    await expectCrashAt(crashingMaintenance(engine, clock, { step }).runOnce({ topic: name, tierOlderThanMs: 0 }), step);

    expect(await readAll(engine, name)).toEqual(before);
    // Time passes; TTL deletes whatever the crashed pass allowed it to delete.
    clock.advance(HOT_COPY_GRACE_MS + HOUR_MS);
    await sweepExpired(storage, clock.ms);
    expect(await readAll(engine, name)).toEqual(before);
    expect((await readFrom(engine, name, 0, forward({ kind: 'latest' }))).endOffset).toBe(count);

    // The next clean pass finishes the job.
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    const { index, objects } = await expectFullyTiered(topic.topicId, count);
    // Only a crash between the PUT and the index entry leaves an orphan object (unreferenced; swept by retention).
    expect(objects.length - index.length).toBe(step === 'tier.object-put' ? 1 : 0);
    clock.advance(HOT_COPY_GRACE_MS + HOUR_MS);
    await sweepExpired(storage, clock.ms);
    expect(await batchItems(storage, topic.topicId)).toEqual([]);
    expect(await readAll(engine, name)).toEqual(before);
    const acks = await produceTo(engine, name, { records: [sampleRecord(0, clock.ms)] });
    expect(acks.records[0]!.offset).toBe(count);
  });

  it('in the middle of setting TTLs (after the first item) is finished by the next pass', async () => {
    const clock = new Clock();
    const { engine, name, topic, count } = await producedTopic(clock, 168, 40);
    const before = await readAll(engine, name);
    const crashing = crashingMaintenance(engine, clock, { step: 'tier.ttl-set', occurrence: 2 });
    await expectCrashAt(crashing.runOnce({ topic: name, tierOlderThanMs: 0 }), 'tier.ttl-set');
    const withTtl = (await batchItems(storage, topic.topicId)).filter((i) => i.expiresAt !== undefined).length;
    expect(withTtl).toBeGreaterThan(0);
    expect(withTtl).toBeLessThan(40);
    clock.advance(HOT_COPY_GRACE_MS + HOUR_MS);
    await sweepExpired(storage, clock.ms);
    expect(await readAll(engine, name)).toEqual(before);
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    await expectFullyTiered(topic.topicId, count);
  });
});

const RETENTION_STEPS: MaintenanceStep[] = ['retention.start-advanced', 'retention.objects-deleted', 'retention.index-deleted'];

describe('a crash during retention', () => {
  it.each(RETENTION_STEPS)('after %s keeps the retained offsets readable, and the next pass completes', async (step) => {
    const clock = new Clock();
    const { engine, name, topic, count } = await producedTopic(clock, 1);
    // An orphan object at base 0, as a pass that crashed between its PUT and its index entry leaves one.
    await expectCrashAt(crashingMaintenance(engine, clock, { step: 'tier.object-put' }).runOnce({ topic: name, tierOlderThanMs: 0 }), 'tier.object-put');
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 }); // segment A: [0, count)
    clock.advance(20 * MINUTE);
    for (let k = 0; k < 3; k++) await produceTo(engine, name, { records: [sampleRecord(100 + k, clock.ms)] });
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 }); // segment B: [count, count + 3)
    const all = await readAll(engine, name);
    clock.advance(45 * MINUTE); // A is 65 minutes old, B 45: A expires

    await expectCrashAt(crashingMaintenance(engine, clock, { step }).runOnce({ topic: name }), step);
    expect(await metaItem(storage, topic.topicId)).toMatchObject({ startOffset: count });
    expect(await readAll(engine, name)).toEqual(all.slice(count));
    await expect(readFrom(engine, name, 0, forward({ kind: 'offset', offset: 0 }))).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    await engine.maintenance.runOnce({ topic: name });
    const index = await indexItems(storage, topic.topicId);
    expect(index.map((i) => i.sk)).toEqual([offsetSk(count)]);
    // The expired segment, and the orphan object below the start, are gone.
    expect(await objectKeys(storage, partitionSegmentPrefix(topic.topicId, 0))).toEqual([index[0]!.key]);
    expect(await readAll(engine, name)).toEqual(all.slice(count));
    // Once TTL removed the hot copies, the retained offsets come from S3.
    clock.advance(20 * MINUTE);
    await sweepExpired(storage, clock.ms);
    expect(await batchItems(storage, topic.topicId)).toEqual([]);
    expect(await readAll(engine, name)).toEqual(all.slice(count));
  });
});

const RECLAIM_STEPS: MaintenanceStep[] = ['reclaim.objects-deleted', 'reclaim.index-deleted', 'reclaim.items-deleted', 'reclaim.forgotten'];

describe('a crash while reclaiming a deleted topic', () => {
  it.each(RECLAIM_STEPS)('after %s is finished by the next pass', async (step) => {
    const clock = new Clock();
    const { engine, name, topic } = await producedTopic(clock);
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    await produceTo(engine, name, { records: [sampleRecord(7, clock.ms)] });
    await engine.topics.delete(name);
    clock.advance(RECLAIM_AFTER_MS + 1000);
    const crashing = crashingMaintenance(engine, clock, { step, topicId: topic.topicId });
    await expectCrashAt(crashing.runOnce(), step);
    await expect(readFrom(engine, name, 0, forward({ kind: 'earliest' }))).rejects.toBeInstanceOf(TopicNotFoundError);
    // Stopped at `step`: the deleted topic's record is forgotten by the last step only.
    const stillListed = (await engine.topics.listDeleted()).some((d) => d.topicId === topic.topicId);
    expect(stillListed).toBe(step !== 'reclaim.forgotten');

    await engine.maintenance.runOnce();
    expect((await engine.topics.listDeleted()).map((d) => d.topicId)).not.toContain(topic.topicId);
    expect(await queryAll(storage.doc, storage.config.logTable, `p#${topic.topicId}#0`)).toEqual([]);
    expect(await queryAll(storage.doc, storage.config.logTable, segmentPk(topic.topicId, 0))).toEqual([]);
    expect(await objectKeys(storage, topicSegmentPrefix(topic.topicId))).toEqual([]);
  });
});
