import { randomBytes } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OffsetOutOfRangeError } from '../../../lib/errors.js';
import type { StoredRecord } from '../../../lib/log/batch-format.js';
import { wireSize } from '../../../lib/log/wire-size.js';
import type { ProduceRecord } from '../../../lib/log/log-types.js';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import type { Topic } from '../../../lib/topics/topic.js';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/local-env.js';
import { PollGate } from '../../support/poll-gate.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import {
  batchItems,
  Clock,
  engineAt,
  fingerprint,
  forward,
  HOUR_MS,
  metaItem,
  readAll,
  sampleRecord,
  sweepExpired,
} from '../maintenance/harness.js';
import { produceTo, readFrom } from '../../support/by-name.js';

/**
 * Reads return the same records, byte for byte, whichever tier holds them: the partition is read once while
 * all hot, then with its older part in both tiers, then with that part only in S3 (TTL swept), in every
 * direction and by timestamp, across the hot/cold boundary.
 */
let storage: TestStorage;
beforeAll(async () => {
  // These tests pin the tiered regime (every topic tiered to S3); hot-retention.test.ts covers the other.
  storage = await createTestStorage({ hotRetentionLimitHours: 0 });
});
afterAll(() => storage?.cleanup());

interface Views {
  forward7: string[];
  forwardBig: string[];
  backward: string[];
  timestamps: number[];
}

async function backwardAll(engine: Shardlog, name: string, pageLimit: number): Promise<string[]> {
  const out: StoredRecord[] = [];
  let before = (await readFrom(engine, name, 0, forward({ kind: 'latest' }))).endOffset;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await readFrom(engine, name, 0, forward({ kind: 'offset', offset: before }, { direction: 'backward', limit: pageLimit }));
    if (page.records.length === 0) break;
    out.push(...page.records);
    before = page.nextOffset;
  }
  return fingerprint(out);
}

async function views(engine: Shardlog, name: string, topic: Topic, probes: number[]): Promise<Views> {
  const timestamps: number[] = [];
  for (const ts of probes) timestamps.push(await engine.log.offsetForTimestamp(topic, 0, ts));
  return {
    forward7: await readAll(engine, name, 0, 7),
    forwardBig: fingerprint((await readFrom(engine, name, 0, forward({ kind: 'earliest' }))).records),
    backward: await backwardAll(engine, name, 5),
    timestamps,
  };
}

describe('cold reads', () => {
  it('return identical records from hot, both and cold tiers, across the boundary, in every direction', { timeout: 90_000 }, async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = `cold-${Date.now()}`;
    await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
    const topic = await engine.topics.get(name);
    const base = clock.ms - 100_000;
    let i = 0;
    const records = (n: number): ProduceRecord[] =>
      // Timestamps mostly rise but sometimes step back (producer-supplied, as Kafka allows).
      Array.from({ length: n }, () => sampleRecord(i, base + i * 100 - (i++ % 7 === 3 ? 450 : 0)));
    for (let b = 0; b < 20; b++) await produceTo(engine, name, { records: records(1 + (b % 5)) });
    // One batch too large for an item: spilled to S3, then folded into the segment.
    const big: ProduceRecord = { key: null, value: randomBytes(400 * 1024), valueIsJson: false, headers: { big: 'yes' }, timestamp: base + i++ * 100 };
    await produceTo(engine, name, { records: [big] });
    for (let b = 0; b < 4; b++) await produceTo(engine, name, { records: records(3) });
    const tieredEnd = i;
    clock.advance(10 * 60_000);
    for (let b = 0; b < 8; b++) await produceTo(engine, name, { records: records(2 + (b % 3)) });
    const probes = [base - 1, base + 250, base + 1234, base + tieredEnd * 100 - 50, base + tieredEnd * 100 + 50, base + 10_000_000];
    for (let k = 0; k < i; k += 3) probes.push(base + k * 100, base + k * 100 + 1);

    const hot = await views(engine, name, topic, probes);
    expect(hot.forward7).toHaveLength(i);
    expect((await batchItems(storage, topic.topicId)).some((item) => item.ref !== undefined)).toBe(true);

    const report = await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 5 * 60_000 });
    expect(report.tiered.records).toBe(tieredEnd);
    expect(await views(engine, name, topic, probes)).toEqual(hot);

    // TTL passes: reads skip expired copies before DynamoDB deletes them, and after.
    clock.advance(2 * HOUR_MS);
    expect(await views(engine, name, topic, probes)).toEqual(hot);
    await sweepExpired(storage, clock.ms);
    expect((await batchItems(storage, topic.topicId)).length).toBe(8);
    expect(await views(engine, name, topic, probes)).toEqual(hot);
    expect(await metaItem(storage, topic.topicId)).toMatchObject({ tieredOffset: tieredEnd, endOffset: tieredEnd });

    // A long poll at the end still wakes up on a new append.
    const end = (await readFrom(engine, name, 0, forward({ kind: 'latest' }))).endOffset;
    const gate = new PollGate();
    const poller = createShardlog(storage, storage.config, { now: clock.now, topicCacheMs: 0, tailCacheMs: 0, metaCacheMs: 0, sleep: gate.sleep });
    const asleep = gate.arm();
    const polling = readFrom(poller, name, 0, forward({ kind: 'offset', offset: end }, { waitMs: 5000 }));
    await asleep; // the poll found nothing at the end and waits
    await produceTo(engine, name, { records: [sampleRecord(1000, clock.ms)] });
    gate.wake();
    expect((await polling).records.map((r) => r.offset)).toEqual([end]);
    // Out of range above the end is still a 416 with both bounds.
    await expect(readFrom(engine, name, 0, forward({ kind: 'offset', offset: end + 5 }))).rejects.toBeInstanceOf(OffsetOutOfRangeError);
  });

  it('serves a 1 MB cold fetch with one ranged GET', async () => {
    const clock = new Clock();
    const engine = engineAt(storage, clock);
    const name = `cold-mb-${Date.now()}`;
    await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
    // 2 MB of incompressible 1 KB records in 100-record batches.
    for (let b = 0; b < 20; b++) {
      await produceTo(engine, name, {
        records: Array.from({ length: 100 }, () => ({ key: null, value: randomBytes(1024), valueIsJson: false, headers: {} })),
      });
    }
    await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    clock.advance(2 * HOUR_MS);
    await sweepExpired(storage, clock.ms);

    const counts: Record<string, number> = {};
    const dynamoCounts: Record<string, number> = {};
    const count = (client: { middlewareStack: S3Client['middlewareStack'] }, into: Record<string, number>) =>
      client.middlewareStack.add(
        (next, context) => async (args) => {
          into[context.commandName ?? '?'] = (into[context.commandName ?? '?'] ?? 0) + 1;
          return next(args);
        },
        { step: 'initialize', name: 'countRequests' },
      );
    const s3 = new S3Client({ endpoint: storage.endpoints.s3, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, forcePathStyle: true });
    count(s3, counts);
    const reader = engineAt(storage, clock, s3);
    count(storage.doc as unknown as { middlewareStack: S3Client['middlewareStack'] }, dynamoCounts);
    const page = await readFrom(reader, name, 0, forward({ kind: 'offset', offset: 0 }, { maxBytes: 1024 * 1024 }));
    storage.doc.middlewareStack.remove('countRequests');
    s3.destroy();
    // maxBytes counts records as encoded in the response (here base64 in a JSON fetch: these bytes are not JSON).
    const bytes = page.records.reduce((sum, r) => sum + wireSize(r, 'json'), 0);
    expect(bytes).toBeGreaterThan(0.95 * 1024 * 1024);
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(counts).toEqual({ GetObjectCommand: 1 });
  });
});
