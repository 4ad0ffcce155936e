import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFetchResponse, encodeGroupFetchResponse } from '../../../functions/http/records.js';
import type { ReadResult } from '../../../lib/log/log-types.js';
import { MAX_RESPONSE_PAYLOAD_BYTES, type RecordEncoding } from '../../../lib/log/wire-size.js';
import type { Shardlog } from '../../../lib/shardlog.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { Clock, engineAt, forward, HOUR_MS, sweepExpired } from '../maintenance/harness.js';
import { produceTo, readFrom } from '../../support/by-name.js';

/**
 * Reads at the documented maxima (10,000 records of ~1 KB JSON, maxBytes 6 MB) produce a response that fits
 * Lambda's payload limit in both encodings, from the hot tier and from cold segments alike, forward, backward,
 * by timestamp and in a group fetch: the cut is by each record's size as encoded (lib/log/wire-size.ts).
 */
let storage: TestStorage;
let engine: Shardlog;
const clock = new Clock();
const TOTAL = 10_000;
const MAX_MAX_BYTES = 6 * 1024 * 1024;
const utf8 = new TextEncoder();
const name = `sizes-${Date.now()}`;

beforeAll(async () => {
  // The tiered regime: maintenance moves these batches to S3 segments.
  storage = await createTestStorage({ hotRetentionLimitHours: 0 });
  engine = engineAt(storage, clock);
  await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
  for (let r = 0; r < 4; r++) {
    await produceTo(engine, name, {
      records: Array.from({ length: TOTAL / 4 }, (_, j) => {
        const i = r * (TOTAL / 4) + j;
        const value = { id: i, note: 'she said "hi" \\ '.repeat(24), tags: Array.from({ length: 40 }, (_, t) => `t${t}`), text: 'x'.repeat(300) };
        return { key: utf8.encode(`k${i % 10}`), value: utf8.encode(JSON.stringify(value)), valueIsJson: true, headers: { h: 'v' }, timestamp: clock.ms - TOTAL + i };
      }),
    });
  }
});

afterAll(() => storage?.cleanup());

/** What Lambda would count for this body in a structured result. */
const payloadBytes = (body: string) => Buffer.byteLength(JSON.stringify({ statusCode: 200, headers: { 'content-type': 'application/json' }, body }));

async function expectAllFit(tier: string): Promise<void> {
  for (const encoding of ['json', 'base64'] as RecordEncoding[]) {
    const reads: Array<[string, ReadResult, number, number]> = [
      ['forward', await readFrom(engine, name, 0, forward({ kind: 'offset', offset: 0 }, { maxBytes: MAX_MAX_BYTES, encoding })), 0, 1],
      ['timestamp', await readFrom(engine, name, 0, forward({ kind: 'timestamp', timestamp: 0 }, { maxBytes: MAX_MAX_BYTES, encoding })), 0, 1],
      [
        'backward',
        await readFrom(engine, name, 0, forward({ kind: 'latest' }, { direction: 'backward', maxBytes: MAX_MAX_BYTES, encoding })),
        TOTAL - 1,
        -1,
      ],
    ];
    for (const [how, result, first, step] of reads) {
      const what = `${tier} ${how} ${encoding}`;
      expect(result.records.length, what).toBeGreaterThan(1000);
      expect(result.records.length, what).toBeLessThan(TOTAL);
      result.records.forEach((r, i) => expect(r.offset, what).toBe(first + step * i));
      expect(payloadBytes(encodeFetchResponse(result, encoding).text), what).toBeLessThanOrEqual(MAX_RESPONSE_PAYLOAD_BYTES);
    }
    await engine.groups.subscribe(`g-${tier}-${encoding}`, name);
    const member = await engine.groups.join(`g-${tier}-${encoding}`, { topics: [name] });
    const batches = await engine.groups.fetch(`g-${tier}-${encoding}`, member.memberId, { limit: TOTAL, maxBytes: MAX_MAX_BYTES, waitMs: 0, encoding });
    expect(batches[0]!.records.length).toBeGreaterThan(1000);
    expect(payloadBytes(encodeGroupFetchResponse(batches, encoding).text)).toBeLessThanOrEqual(MAX_RESPONSE_PAYLOAD_BYTES);
  }
}

describe('responses at the documented maxima', () => {
  it('fit from the hot tier and from cold segments, in both encodings and every direction', { timeout: 120_000 }, async () => {
    await expectAllFit('hot');
    const report = await engine.maintenance.runOnce({ topic: name, tierOlderThanMs: 0 });
    expect(report.tiered.records).toBe(TOTAL);
    clock.advance(2 * HOUR_MS);
    await sweepExpired(storage, clock.ms);
    await expectAllFit('cold');
  });
});

describe('a read cut short inside a batch', () => {
  it('ends there, forward and backward, when more cold batches were fetched after it', { timeout: 60_000 }, async () => {
    const topic = `cut-${Date.now()}`;
    await engine.topics.create({ name: topic, partitions: 1, retentionHours: 168 });
    // Ten batches of 100 compressible records: a cold read fetches them all in one ranged GET (they are small
    // once gzipped) and the size cut falls inside the second batch.
    for (let b = 0; b < 10; b++) {
      await produceTo(engine, topic, {
        records: Array.from({ length: 100 }, (_, j) => ({ key: null, value: utf8.encode(JSON.stringify({ i: b * 100 + j, pad: 'y'.repeat(200) })), valueIsJson: true, headers: {} })),
      });
    }
    await engine.maintenance.runOnce({ topic, tierOlderThanMs: 0 });
    clock.advance(2 * HOUR_MS);
    await sweepExpired(storage, clock.ms);

    const maxBytes = 150 * 260;
    const ahead = await readFrom(engine, topic, 0, forward({ kind: 'offset', offset: 0 }, { maxBytes }));
    expect(ahead.records.length).toBeGreaterThan(100);
    expect(ahead.records.length).toBeLessThan(200);
    ahead.records.forEach((r, i) => expect(r.offset).toBe(i));
    expect(ahead.nextOffset).toBe(ahead.records.length);

    const back = await readFrom(engine, topic, 0, forward({ kind: 'latest' }, { direction: 'backward', maxBytes }));
    expect(back.records.length).toBeGreaterThan(100);
    back.records.forEach((r, i) => expect(r.offset).toBe(999 - i));
    expect(back.nextOffset).toBe(1000 - back.records.length);
  });
});
