import { describe, expect, it } from 'vitest';
import {
  IdempotencyKeyReusedError,
  OffsetMismatchError,
  OffsetOutOfRangeError,
  PartitionNotFoundError,
  PayloadTooLargeError,
} from '../../../lib/errors.js';
import { LogService } from '../../../lib/log/log-service.js';
import type { ProduceRecord } from '../../../lib/log/log-types.js';
import { partitionFor } from '../../../lib/log/partitioner.js';
import { partitionPk } from '../../../lib/storage/log-table.js';
import { appendExpiry, type Topic } from '../../../lib/topics/topic.js';
import { MemoryColdTier, MemoryLogStore } from '../../support/memory-log-store.js';
import { forward } from '../../support/read-options.js';

const utf8 = new TextEncoder();
const topic: Topic = { name: 'orders', topicId: 't1', partitions: 4, retentionHours: 24 * 365, createdAt: 0 };
const pk = (partition = 0) => partitionPk(topic.topicId, partition);

const rec = (n: number, extra: Partial<ProduceRecord> = {}): ProduceRecord => ({
  key: null,
  value: utf8.encode(JSON.stringify(n)),
  valueIsJson: true,
  headers: {},
  partition: 0,
  ...extra,
});
const offsets = (result: { records: { offset: number }[] }) => result.records.map((r) => r.offset);

/**
 * A log service over the in-memory store and cold tier, on a clock that only moves when the service sleeps
 * (`sleeps` lists every sleep; `onSleep` runs after each, e.g. to let a producer append during a long poll).
 */
function setup(options: { cold?: boolean; hotRetentionLimitHours?: number; random?: () => number } = {}) {
  const clock = { ms: 1_000_000, sleeps: [] as number[] };
  const store = new MemoryLogStore({ now: () => clock.ms });
  const cold = options.cold ? new MemoryColdTier() : undefined;
  let onSleep: (() => Promise<void>) | undefined;
  const log = new LogService({
    store,
    ...(cold ? { cold } : {}),
    now: () => clock.ms,
    random: options.random ?? (() => 0.5),
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      clock.ms += ms;
      await onSleep?.();
    },
    ...(options.hotRetentionLimitHours !== undefined ? { hotRetentionLimitHours: options.hotRetentionLimitHours } : {}),
  });
  /** Appends batches of the given sizes to partition 0, numbering records by offset. */
  const fill = async (...sizes: number[]) => {
    for (const size of sizes) {
      const end = store.batches(pk()).reduce((n, b) => n + b.count, 0);
      await log.produce(topic, { records: Array.from({ length: size }, (_, i) => rec(end + i, { timestamp: 1000 + end + i })) });
    }
  };
  return { log, store, cold, clock, fill, onSleep: (fn: () => Promise<void>) => (onSleep = fn) };
}

describe('LogService.produce', () => {
  it('places records by partition, key or one sticky partition per request, and acknowledges dense offsets', async () => {
    const { log, clock } = setup({ random: () => 0.9 });
    const key = utf8.encode('customer-7');
    const out = await log.produce(topic, {
      records: [rec(0, { partition: 2 }), rec(1, { partition: undefined, key }), rec(2, { partition: undefined }), rec(3, { partition: undefined })],
    });
    const keyed = partitionFor(key, topic.partitions);
    expect(out.records).toEqual([
      { partition: 2, offset: 0, timestamp: clock.ms },
      { partition: keyed, offset: keyed === 2 ? 1 : 0, timestamp: clock.ms },
      // Keyless records stick to one partition for the request (random 0.9 of 4 partitions: 3).
      { partition: 3, offset: keyed === 3 ? 1 : 0, timestamp: clock.ms },
      { partition: 3, offset: keyed === 3 ? 2 : 1, timestamp: clock.ms },
    ]);
    const again = await log.produce(topic, { records: [rec(4, { partition: 2, timestamp: 7 })] });
    expect(again.records).toEqual([{ partition: 2, offset: keyed === 2 ? 2 : 1, timestamp: 7 }]);
  });

  it('refuses a partition the topic does not have, written or only expected, and appends nothing', async () => {
    const { log, store } = setup();
    await expect(log.produce(topic, { records: [rec(0), rec(1, { partition: 4 })] })).rejects.toBeInstanceOf(PartitionNotFoundError);
    await expect(log.produce(topic, { records: [rec(0)], expectedOffsets: new Map([[9, 0]]) })).rejects.toBeInstanceOf(PartitionNotFoundError);
    expect(store.calls.append).toBe(0);
  });

  it('refuses with 413 a request touching more partitions than one transaction holds, one fewer with an idempotency key', async () => {
    const { log } = setup();
    const wide: Topic = { ...topic, partitions: 200 };
    const records = Array.from({ length: 99 }, (_, p) => rec(p, { partition: p }));
    await expect(log.produce(wide, { records })).resolves.toBeDefined();
    const attempt = log.produce(wide, { records, idempotencyKey: 'k', expectedOffsets: new Map([[150, 0]]) });
    await expect(attempt).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(attempt).rejects.toMatchObject({ details: { limitPartitions: 99 } });
  });

  it('replays the first response to a retry under the same Idempotency-Key and refuses the key for another body', async () => {
    const { log, store } = setup();
    const first = await log.produce(topic, { records: [rec(0)], idempotencyKey: 'req-1' });
    const retry = await log.produce(topic, { records: [rec(0)], idempotencyKey: 'req-1' });
    expect(retry).toEqual(first);
    expect(store.batches(pk())).toHaveLength(1);
    await expect(log.produce(topic, { records: [rec(1)], idempotencyKey: 'req-1' })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('appends only at the expected end offset', async () => {
    const { log, store } = setup();
    await log.produce(topic, { records: [rec(0)], expectedOffsets: new Map([[0, 0]]) });
    await expect(log.produce(topic, { records: [rec(1)], expectedOffsets: new Map([[0, 0]]) })).rejects.toBeInstanceOf(OffsetMismatchError);
    expect(store.batches(pk())).toHaveLength(1);
  });

  it('lands after a competing append that won the race for the end offset, keeping offsets dense', async () => {
    const { log, store } = setup();
    let competed = false;
    store.beforeWrite = async () => {
      if (competed) return;
      competed = true;
      await store.append(topic.topicId, [{ partition: 0, records: [{ ...rec(9), timestamp: 1 }, { ...rec(9), timestamp: 1 }] }]);
    };
    const out = await log.produce(topic, { records: [rec(0)] });
    expect(out.records[0]!.offset).toBe(2);
    expect(offsets(await log.read(topic, 0, forward({ kind: 'earliest' })))).toEqual([0, 1, 2]);
  });

  it('writes a hot-retention topic\'s batches with their TTL', async () => {
    const { log, store, clock } = setup({ hotRetentionLimitHours: 48 });
    const hot: Topic = { ...topic, retentionHours: 24 };
    await log.produce(hot, { records: [rec(0)] });
    expect(store.batches(pk())[0]!.expiresAt).toBe(appendExpiry(hot, 48, clock.ms));
  });
});

describe('LogService.read', () => {
  it('reads from a batch boundary with one query beside the meta item, and learns the end from the last batch', async () => {
    const { store, fill } = setup();
    await fill(3, 3);
    const reader = new LogService({ store }); // a process that appended nothing
    store.calls.queryBatches = store.calls.readMeta = store.calls.readTail = 0;
    const read = await reader.read(topic, 0, forward({ kind: 'offset', offset: 3 }));
    expect(offsets(read)).toEqual([3, 4, 5]);
    expect(read).toMatchObject({ nextOffset: 6, startOffset: 0, endOffset: 6 });
    expect(store.calls).toMatchObject({ queryBatches: 1, readMeta: 1, readTail: 0 });
  });

  it('reads from inside a batch, starting at the offset asked', async () => {
    const { log, fill } = setup();
    await fill(5, 5);
    expect(offsets(await log.read(topic, 0, forward({ kind: 'offset', offset: 3 }, { limit: 4 })))).toEqual([3, 4, 5, 6]);
  });

  it('cuts at limit and at maxBytes (never below one record) and continues where it stopped', async () => {
    const { log, fill } = setup();
    await fill(4, 4, 4);
    const first = await log.read(topic, 0, forward({ kind: 'earliest' }, { limit: 5 }));
    expect(first).toMatchObject({ nextOffset: 5, endOffset: 12 });
    expect(offsets(await log.read(topic, 0, forward({ kind: 'offset', offset: first.nextOffset }, { limit: 5 })))).toEqual([5, 6, 7, 8, 9]);
    expect(offsets(await log.read(topic, 0, forward({ kind: 'earliest' }, { maxBytes: 1 })))).toEqual([0]);
  });

  it('answers an empty read at the end with one small query once this process knows the end', async () => {
    const { log, store, fill } = setup();
    await fill(3);
    store.calls.queryBatches = store.calls.readTail = 0;
    expect(await log.read(topic, 0, forward({ kind: 'offset', offset: 3 }))).toEqual({ records: [], nextOffset: 3, startOffset: 0, endOffset: 3 });
    expect(store.calls).toMatchObject({ queryBatches: 1, readTail: 0 });
  });

  it('finds the end from the newest batch in a process that has not seen it', async () => {
    const { store, fill } = setup();
    await fill(3);
    const reader = new LogService({ store });
    expect(await reader.read(topic, 0, forward({ kind: 'offset', offset: 3 }))).toMatchObject({ records: [], nextOffset: 3, endOffset: 3 });
  });

  it('answers 416 with both bounds past the end and below the start offset', async () => {
    const { log, store, fill } = setup();
    await fill(3, 3);
    await expect(log.read(topic, 0, forward({ kind: 'offset', offset: 7 }))).rejects.toMatchObject({
      constructor: OffsetOutOfRangeError,
      details: { startOffset: 0, endOffset: 6 },
    });
    store.setMeta(pk(), { startOffset: 3 });
    await expect(log.read(topic, 0, forward({ kind: 'offset', offset: 1 }))).rejects.toMatchObject({ details: { startOffset: 3, endOffset: 6 } });
    expect(offsets(await log.read(topic, 0, forward({ kind: 'earliest' })))).toEqual([3, 4, 5]);
    await expect(log.read(topic, 5, forward({ kind: 'earliest' }))).rejects.toBeInstanceOf(PartitionNotFoundError);
  });

  it('reads tiered offsets from the cold tier once their hot copies expired, then goes on with the hot batches', async () => {
    const { log, store, cold, clock, fill } = setup({ cold: true });
    await fill(3, 3, 3);
    cold!.tier(store, topic.topicId, 0, 6);
    store.expire(pk(), 6, Math.floor(clock.ms / 1000)); // the TTL of the hot copies has passed
    const read = await log.read(topic, 0, forward({ kind: 'offset', offset: 1 }));
    expect(offsets(read)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(read.endOffset).toBe(9);
    expect(cold!.reads.forward).toBe(1);
    // Once TTL deleted them, the same.
    store.remove(pk(), 6);
    expect(offsets(await log.read(topic, 0, forward({ kind: 'offset', offset: 1 })))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('keeps the end offset, and reads every record cold, once TTL removed every hot item', async () => {
    const { log, store, cold, fill } = setup({ cold: true });
    await fill(3, 3);
    cold!.tier(store, topic.topicId, 0, 6);
    store.remove(pk(), 6);
    const reader = new LogService({ store, cold: cold! }); // knows nothing of the end
    expect(await reader.read(topic, 0, forward({ kind: 'latest' }))).toMatchObject({ records: [], nextOffset: 6, endOffset: 6 });
    expect(offsets(await reader.read(topic, 0, forward({ kind: 'earliest' })))).toEqual([0, 1, 2, 3, 4, 5]);
    await expect(reader.read(topic, 0, forward({ kind: 'offset', offset: 7 }))).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect((await log.produce(topic, { records: [rec(6)] })).records[0]!.offset).toBe(6);
  });

  it('skips hot copies whose TTL has passed when no cold tier reads them', async () => {
    const { log, store, clock, fill } = setup();
    await fill(2, 2);
    store.expire(pk(), 2, Math.floor(clock.ms / 1000));
    expect(offsets(await log.read(topic, 0, forward({ kind: 'offset', offset: 2 })))).toEqual([2, 3]);
    expect(offsets(await log.read(topic, 0, forward({ kind: 'offset', offset: 0 })))).toEqual([]);
  });

  it('reads backward, newest first, down to the start offset, across the cold boundary', async () => {
    const { log, store, cold, clock, fill } = setup({ cold: true });
    await fill(3, 3, 3);
    cold!.tier(store, topic.topicId, 0, 3);
    store.expire(pk(), 3, Math.floor(clock.ms / 1000));
    const back = await log.read(topic, 0, forward({ kind: 'latest' }, { direction: 'backward', limit: 4 }));
    expect(offsets(back)).toEqual([8, 7, 6, 5]);
    expect(back).toMatchObject({ nextOffset: 5, endOffset: 9 });
    const rest = await log.read(topic, 0, forward({ kind: 'offset', offset: 5 }, { direction: 'backward' }));
    expect(offsets(rest)).toEqual([4, 3, 2, 1, 0]);
    store.setMeta(pk(), { startOffset: 2 });
    expect(offsets(await log.read(topic, 0, forward({ kind: 'offset', offset: 4 }, { direction: 'backward' })))).toEqual([3, 2]);
  });

  it('starts at the first record at or after a timestamp, even when producers sent them out of order', async () => {
    const { log } = setup();
    const at = (ts: number[]) => log.produce(topic, { records: ts.map((t, i) => rec(i, { timestamp: t })) });
    await at([100, 300, 200]);
    await at([150, 400]);
    await at([500]);
    const from = (timestamp: number) => log.read(topic, 0, forward({ kind: 'timestamp', timestamp }, { limit: 1 }));
    expect(offsets(await from(250))).toEqual([1]);
    expect(offsets(await from(350))).toEqual([4]);
    expect(await from(600)).toMatchObject({ records: [], nextOffset: 6 });
    const before = await log.read(topic, 0, forward({ kind: 'timestamp', timestamp: 350 }, { direction: 'backward' }));
    expect(offsets(before)).toEqual([3, 2, 1, 0]);
  });

  it('long-polls at the end until a record lands, on the injected clock', async () => {
    const { log, store, clock, fill, onSleep } = setup();
    await fill(2);
    const started = clock.ms;
    onSleep(async () => {
      if (clock.sleeps.length === 3) await store.append(topic.topicId, [{ partition: 0, records: [{ ...rec(2), timestamp: 1 }] }]);
    });
    const read = await log.read(topic, 0, forward({ kind: 'offset', offset: 2 }, { waitMs: 5_000 }));
    expect(offsets(read)).toEqual([2]);
    // Probes back off from 50 ms by half each time.
    expect(clock.sleeps).toEqual([50, 75, 112.5]);
    expect(clock.ms - started).toBe(237.5);
  });

  it('gives up a long poll at its deadline, with an empty read at the end', async () => {
    const { log, clock, fill } = setup();
    await fill(2);
    const started = clock.ms;
    expect(await log.read(topic, 0, forward({ kind: 'latest' }, { waitMs: 1_000 }))).toMatchObject({ records: [], nextOffset: 2 });
    expect(clock.ms - started).toBe(1_000);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(500);
  });

  it('waits for any of several partitions', async () => {
    const { log, store, clock, onSleep } = setup();
    onSleep(async () => {
      if (clock.sleeps.length === 2) await store.append(topic.topicId, [{ partition: 3, records: [{ ...rec(0), timestamp: 1 }] }]);
    });
    const positions = [0, 3].map((partition) => ({ topic, partition, offset: 0 }));
    expect(await log.waitForAny(positions, 5_000)).toBe(true);
    expect(clock.sleeps).toHaveLength(2);
    expect(await log.waitForAny([{ topic, partition: 1, offset: 0 }], 300)).toBe(false);
  });
});

describe('LogService.checkOffset', () => {
  it('accepts an offset within what this process knows without reading the tail, and refuses one outside with 416', async () => {
    const { log, store, fill } = setup();
    await fill(3);
    store.calls.readTail = 0;
    await log.checkOffset(topic, 0, 3);
    expect(store.calls.readTail).toBe(0);
    await expect(log.checkOffset(topic, 0, 4)).rejects.toMatchObject({ constructor: OffsetOutOfRangeError, details: { endOffset: 3 } });
  });
});
