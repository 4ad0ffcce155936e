import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardlogClient, type Consumer, type EachBatchPayload } from '../../../lib/client/index.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/** The consumer-group member of the SDK against the real group handlers and the run's emulators. */
let server: TestLocalServer;
let client: ShardlogClient;

beforeAll(async () => {
  server = await startTestLocalServer();
  client = new ShardlogClient({ url: server.url });
});
afterAll(() => server?.stop());

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CRASHING_CONSUMER = fileURLToPath(new URL('./fixtures/crashing-consumer.ts', import.meta.url));

async function topicWith(partitions: number, count: number): Promise<string> {
  const topic = unique('orders');
  await client.createTopic({ name: topic, partitions });
  const producer = client.producer();
  await producer.send(topic, Array.from({ length: count }, (_, i) => ({ key: `k${i % 13}`, value: i })));
  await producer.close();
  return topic;
}

/** Runs `consumer` until `done()` says so (or the timeout), collecting the values it was handed. */
async function consumeUntil(consumer: Consumer, group: string, topic: string, done: (seen: number[]) => boolean, onBatch?: (b: EachBatchPayload) => Promise<void>) {
  const seen: number[] = [];
  const timer = setTimeout(() => void consumer.stop(), 20_000);
  await consumer.run({
    group,
    topics: [topic],
    eachBatch: async (batch) => {
      await onBatch?.(batch);
      seen.push(...batch.records.map((r) => r.value as number));
      if (done(seen)) void consumer.stop();
    },
  });
  clearTimeout(timer);
  return seen;
}

describe('Consumer against the local stack', () => {
  it('reads every record once, commits as it goes, and leaves the group with no lag', async () => {
    const topic = await topicWith(3, 300);
    const group = unique('g');
    const consumer = client.consumer({ waitMs: 0 });

    const seen: number[] = [];
    await consumer.run({
      group,
      topics: [topic],
      eachBatch: async ({ records }) => void seen.push(...records.map((r) => r.value as number)),
      onIdle: () => void consumer.stop(),
    });

    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const description = await client.describeGroup(group);
    expect(description.members).toHaveLength(0);
    expect(description.partitions.every((p) => p.lag === 0)).toBe(true);
  });

  it('keeps its leases while a handler outlasts the session timeout', async () => {
    const topic = await topicWith(1, 5);
    const group = unique('g');
    const consumer = client.consumer({ waitMs: 0, sessionTimeoutMs: 3_000 });

    const seen = await consumeUntil(consumer, group, topic, (s) => s.length >= 5, async () => {
      await new Promise((r) => setTimeout(r, 4_500)); // longer than the session: heartbeats must keep it alive
    });

    expect(seen).toHaveLength(5);
    expect((await client.describeGroup(group)).partitions[0]!.committedOffset).toBe(5);
  });

  it('runs two members in one group that together read every record', async () => {
    const topic = await topicWith(4, 400);
    const group = unique('g');
    // A lease given back by one member is taken by the other at its next heartbeat; with the default 30 s
    // session (10 s heartbeats) a rebalance under load could outlast the 20 s budget of consumeUntil.
    const a = client.consumer({ waitMs: 200, sessionTimeoutMs: 3_000 });
    const b = client.consumer({ waitMs: 200, sessionTimeoutMs: 3_000 });
    const all = new Set<number>();
    const done = () => all.size >= 400;
    const run = (c: Consumer) =>
      consumeUntil(c, group, topic, () => done(), async ({ records }) => {
        for (const r of records) all.add(r.value as number);
        if (done()) {
          void a.stop();
          void b.stop();
        }
      });

    const [seenA, seenB] = await Promise.all([run(a), run(b)]);

    expect(all.size).toBe(400);
    expect(seenA.length + seenB.length).toBeGreaterThanOrEqual(400);
  });

  it('loses nothing when a member is killed mid-batch: its uncommitted batch goes to the next member', async () => {
    const topic = await topicWith(1, 100);
    const group = unique('g');
    // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild that SIGKILL would miss.
    const child = spawn(process.execPath, ['--import', 'tsx', CRASHING_CONSUMER, server.url, group, topic], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const batches: Array<{ batch: number; offsets: number[] }> = [];
    for await (const line of createInterface({ input: child.stdout })) {
      batches.push(JSON.parse(line) as { batch: number; offsets: number[] });
      if (batches.length === 2) break;
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const inFlight = batches[1]!.offsets;
    expect(inFlight.length).toBeGreaterThan(0);

    // A new member gets the partition once the dead one's session (3 s) expired, from the last commit on.
    const seen = await consumeUntil(client.consumer({ waitMs: 500, sessionTimeoutMs: 3_000 }), group, topic, (s) => s.includes(99));

    expect(Math.min(...seen)).toBe(batches[0]!.offsets.at(-1)! + 1);
    expect(seen).toEqual(expect.arrayContaining(inFlight));
    const everything = new Set([...batches[0]!.offsets, ...seen]);
    expect(everything.size).toBe(100);
  }, 40_000);

  it('recovers by itself when its topic is deleted and created again: every new record delivered and committed, nothing old', async () => {
    const topic = await topicWith(2, 40); // the first incarnation: values 0..39
    const group = unique('g');
    // Heartbeats every 10 s: the consumer notices the new incarnation at its next fetch, not at that tick.
    const consumer = client.consumer({ waitMs: 200, sessionTimeoutMs: 30_000 });
    const NEW = Array.from({ length: 30 }, (_, i) => 1000 + i);
    const old = new Set<number>();
    const fresh = new Set<number>();
    const oldAfterDelete: number[] = [];
    let phase: 'old' | 'recreating' | 'new' = 'old';
    let failure: unknown;

    const recreate = async () => {
      phase = 'recreating';
      try {
        await client.deleteTopic(topic);
        phase = 'new';
        await client.createTopic({ name: topic, partitions: 3 });
        const producer = client.producer();
        await producer.send(topic, NEW.map((value) => ({ key: `k${value}`, value })));
        await producer.close();
      } catch (error) {
        failure = error;
        void consumer.stop();
      }
    };
    const timer = setTimeout(() => void consumer.stop(), 30_000);
    await consumer.run({
      group,
      topics: [topic],
      eachBatch: async ({ records }) => {
        for (const r of records) {
          const value = r.value as number;
          if (value < 1000) {
            old.add(value);
            if (phase === 'new') oldAfterDelete.push(value);
          } else fresh.add(value);
        }
      },
      onIdle: () => {
        if (phase === 'old' && old.size === 40) void recreate();
        // Caught up on the new incarnation and its last commit acknowledged: done.
        if (phase === 'new' && fresh.size === NEW.length) void consumer.stop();
      },
    });
    clearTimeout(timer);

    expect(failure).toBeUndefined();
    expect(oldAfterDelete).toEqual([]);
    expect([...fresh].sort((a, b) => a - b)).toEqual(NEW);
    const description = await client.describeGroup(group);
    expect(description.partitions).toHaveLength(3);
    expect(description.partitions.reduce((n, p) => n + p.endOffset, 0)).toBe(NEW.length);
    for (const p of description.partitions) expect(p).toMatchObject({ committedOffset: p.endOffset, lag: 0 });
  }, 40_000);

  it('starts partitions the group never committed at the end with autoOffsetReset latest; a committed offset wins', async () => {
    const topic = await topicWith(2, 20); // values 0..19 were there before any member
    const group = unique('g');
    const latest = client.consumer({ waitMs: 0, autoOffsetReset: 'latest' });
    let produced = false;
    const seen: number[] = [];
    const timer = setTimeout(() => void latest.stop(), 20_000);
    await latest.run({
      group,
      topics: [topic],
      eachBatch: async ({ records }) => void seen.push(...records.map((r) => r.value as number)),
      onIdle: () => {
        if (seen.length >= 4) void latest.stop();
        else if (!produced) {
          produced = true;
          void client.produce(topic, [100, 101, 102, 103].map((value) => ({ partition: value % 2, value })));
        }
      },
    });
    clearTimeout(timer);
    expect(seen.sort((a, b) => a - b)).toEqual([100, 101, 102, 103]);

    // The group has committed both partitions now: `earliest` applies to none of them.
    const earliest = client.consumer({ waitMs: 0, autoOffsetReset: 'earliest' });
    const again: number[] = [];
    await earliest.run({
      group,
      topics: [topic],
      eachBatch: async ({ records }) => void again.push(...records.map((r) => r.value as number)),
      onIdle: () => void earliest.stop(),
    });
    expect(again).toEqual([]);
  });

  it('refuses an autoOffsetReset other than earliest or latest', async () => {
    const topic = await topicWith(1, 1);
    const consumer = client.consumer({ waitMs: 0, autoOffsetReset: 'middle' as never });

    await expect(consumer.run({ group: unique('g'), topics: [topic], eachBatch: async () => undefined })).rejects.toThrow(/autoOffsetReset/);
  });

  it('stops reading a partition after a reset fences its lease, and resumes from the reset offset', async () => {
    const topic = await topicWith(1, 10);
    const group = unique('g');
    const consumer = client.consumer({ waitMs: 0, maxRecords: 5 });
    let resets = 0;
    const seen = await consumeUntil(consumer, group, topic, (s) => s.length >= 15, async () => {
      if (resets++ === 0) await client.resetOffsets(group, { topic, to: 'earliest' });
    });

    // The first batch (0..4) was fenced by the reset, so it was read again from 0: nothing was skipped.
    expect(seen.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect((await client.describeGroup(group)).partitions[0]!.committedOffset).toBe(10);
  });
});
