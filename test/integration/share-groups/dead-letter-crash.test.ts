import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import type { ShareStep } from '../../../lib/share-groups/share-context.js';
import type { SharedRecord } from '../../../lib/share-groups/share-group-service.js';
import { produceTo, readFrom } from '../../support/by-name.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

/*
 * The dead-letter step crash-injected (lib/share-groups/dead-letters.ts, docs/design.md "Share groups"): a
 * step that archives records stops right after marking them (`archive.marked`) or right after appending their
 * copies (`archive.appended`), once or several times in a row; the next fetch or ack, by another process,
 * completes the archive. Each archived record must then be in the dead-letter topic exactly once, with its
 * origin headers, and never be delivered again.
 */

let storage: TestStorage;
let seq = 0;
beforeAll(async () => {
  storage = await createTestStorage();
});
afterAll(() => storage?.cleanup());

class InjectedCrash extends Error {
  constructor(readonly step: ShareStep) {
    super(`injected crash after ${step}`);
    this.name = 'InjectedCrash';
  }
}

class Clock {
  ms = Date.now();
  readonly now = (): number => this.ms;
}

/** An engine on `clock` whose share groups crash after `crash` the first `times` times it is reached. */
function engineAt(clock: Clock, crash?: { step: ShareStep; times: number }): Shardlog {
  let crashes = 0;
  return createShardlog(storage, storage.config, {
    now: clock.now,
    topicCacheMs: 0,
    tailCacheMs: 0,
    metaCacheMs: 0,
    ...(crash
      ? {
          onShareStep: (step: ShareStep) => {
            if (step === crash.step && crashes < crash.times) {
              crashes++;
              throw new InjectedCrash(step);
            }
          },
        }
      : {}),
  });
}

/** A source topic of `count` keyed records, a 3-partition dead-letter topic, a group reading it from the start. */
async function setUp(clock: Clock, count: number, maxDeliveries: number) {
  const engine = engineAt(clock);
  const name = `dlc-${++seq}-${Date.now()}`;
  const source = `${name}-src`;
  const dlq = `${name}-dlq`;
  await engine.topics.create({ name: source, partitions: 1, retentionHours: 24 });
  await engine.topics.create({ name: dlq, partitions: 3, retentionHours: 24 });
  await produceTo(engine, source, {
    records: Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), valueIsJson: false, headers: { n: String(i) } })),
  });
  const group = `${name}-g`;
  await engine.shareGroups.subscribe(group, source, 'earliest');
  await engine.shareGroups.configure(group, { maxDeliveries, deadLetterTopic: dlq });
  return { engine, source, dlq, group };
}

/** Every record of the dead-letter topic, by origin offset (a duplicate shows as a count above one). */
async function deadLetters(engine: Shardlog, dlq: string): Promise<Map<number, number>> {
  const copies = new Map<number, number>();
  for (let p = 0; p < 3; p++) {
    const { records } = await readFrom(engine, dlq, p, { start: { kind: 'offset', offset: 0 }, limit: 1000, maxBytes: 1_000_000, encoding: 'base64', waitMs: 0, direction: 'forward' });
    for (const r of records) {
      const origin = Number(r.headers['shardlog-origin-offset']);
      expect(Buffer.from(r.value).toString()).toBe(`v${origin}`);
      expect(r.headers.n).toBe(String(origin));
      copies.set(origin, (copies.get(origin) ?? 0) + 1);
    }
  }
  return copies;
}

const fetchAll = (engine: Shardlog, group: string) =>
  engine.shareGroups.fetch(group, { maxRecords: 1000, lockMs: 1_000, waitMs: 0, encoding: 'base64' }).then((r) => r.records);
const acks = (records: readonly SharedRecord[], type: (offset: number) => 'accept' | 'reject') =>
  records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.record.offset, receipt: r.receipt, type: type(r.record.offset) }));

describe.each([
  { step: 'archive.marked' as const, times: 1 },
  { step: 'archive.appended' as const, times: 1 },
  { step: 'archive.appended' as const, times: 3 },
])('a crash after $step ($times times)', ({ step, times }) => {
  it('leaves each rejected record in the dead-letter topic exactly once, completed by the next ack', async () => {
    const clock = new Clock();
    const { source, dlq, group } = await setUp(clock, 12, 5);
    const crashing = engineAt(clock, { step, times });
    const held = await fetchAll(crashing, group);
    expect(held).toHaveLength(12);
    const rejected = (offset: number) => (offset % 3 === 0 ? 'reject' : 'accept');
    await expect(crashing.shareGroups.acknowledge(group, acks(held, rejected))).rejects.toBeInstanceOf(InjectedCrash);
    // Retried by the member (same receipts): the acks applied before the crash are FENCED now (already done).
    for (let attempt = 1; attempt < times; attempt++) {
      await expect(crashing.shareGroups.acknowledge(group, acks(held, rejected))).rejects.toBeInstanceOf(InjectedCrash);
    }
    const next = engineAt(clock);
    const retried = await next.shareGroups.acknowledge(group, acks(held, rejected));
    expect(retried.every((r) => !r.ok && r.error?.code === 'FENCED')).toBe(true);
    expect(await deadLetters(next, dlq)).toEqual(new Map([0, 3, 6, 9].map((o) => [o, 1])));
    expect(await fetchAll(next, group)).toEqual([]);
    const described = await next.shareGroups.describe(group);
    expect(described.partitions).toEqual([expect.objectContaining({ topic: source, startOffset: 12, inFlight: 0, archived: 4 })]);
  });

  it('leaves each record past maxDeliveries in the dead-letter topic exactly once, completed by the next fetch', async () => {
    const clock = new Clock();
    const { dlq, group } = await setUp(clock, 5, 1);
    const crashing = engineAt(clock, { step, times });
    expect(await fetchAll(crashing, group)).toHaveLength(5);
    // The locks expire unacknowledged: the fetch that notices archives them (their one delivery was the last).
    for (let attempt = 0; attempt < times; attempt++) {
      clock.ms += 1_001;
      await expect(fetchAll(crashing, group)).rejects.toBeInstanceOf(InjectedCrash);
    }
    const next = engineAt(clock);
    expect(await fetchAll(next, group)).toEqual([]);
    expect(await deadLetters(next, dlq)).toEqual(new Map([0, 1, 2, 3, 4].map((o) => [o, 1])));
    expect((await next.shareGroups.describe(group)).partitions[0]).toMatchObject({ startOffset: 5, inFlight: 0, archived: 5 });
  });
});
