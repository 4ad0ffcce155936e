import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OffsetMismatchError,
  OffsetOutOfRangeError,
  ShardlogClient,
  TopicExistsError,
  TopicNotFoundError,
  type ConsumedRecord,
} from '../../../lib/client/index.js';
import { partitionFor } from '../../../lib/log/partitioner.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/** The SDK against the real handlers behind the in-process local API Gateway and the run's emulators. */
let server: TestLocalServer;
let client: ShardlogClient;

beforeAll(async () => {
  server = await startTestLocalServer();
  client = new ShardlogClient({ url: server.url });
});
afterAll(() => server?.stop());

const name = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function readAll(topic: string, partition: number): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  let offset = 0;
  for (;;) {
    const page = await client.fetch(topic, partition, { offset, limit: 1000 });
    out.push(...page.records);
    offset = page.nextOffset;
    if (offset >= page.endOffset) return out;
  }
}

describe('ShardlogClient against the local stack', () => {
  it('administers topics and rebuilds server errors as their classes', async () => {
    const topic = name('admin');
    const created = await client.createTopic({ name: topic, partitions: 3, retentionHours: 24 });
    expect(created).toMatchObject({ name: topic, partitions: 3, retentionHours: 24 });

    await expect(client.createTopic({ name: topic })).rejects.toBeInstanceOf(TopicExistsError);
    expect((await client.listTopics()).map((t) => t.name)).toContain(topic);
    expect((await client.describeTopic(topic)).partitionStats).toHaveLength(3);

    await client.deleteTopic(topic);
    await expect(client.describeTopic(topic)).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  it('produces and fetches back, with offsets out of range reported with both bounds', async () => {
    const topic = name('roundtrip');
    await client.createTopic({ name: topic, partitions: 1 });
    const { records } = await client.produce(topic, [
      { key: 'a', value: { n: 1 }, headers: { h: 'v' } },
      { value: 'two' },
    ]);
    expect(records.map((r) => r.offset)).toEqual([0, 1]);

    const page = await client.fetch(topic, 0, { from: 'earliest' });
    expect(page.records.map((r) => [r.key, r.value])).toEqual([
      ['a', { n: 1 }],
      [null, 'two'],
    ]);
    expect(page.records[0]!.headers).toEqual({ h: 'v' });

    const error = await client.fetch(topic, 0, { offset: 99 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect((error as OffsetOutOfRangeError).details).toMatchObject({ startOffset: 0, endOffset: 2 });
  });

  it('refuses a produce whose expectedOffsets no longer match', async () => {
    const topic = name('occ');
    await client.createTopic({ name: topic, partitions: 1 });
    await client.produce(topic, [{ value: 1 }], { expectedOffsets: { 0: 0 } });

    await expect(client.produce(topic, [{ value: 2 }], { expectedOffsets: { 0: 0 } })).rejects.toBeInstanceOf(OffsetMismatchError);
  });

  it('answers a retried produce with the same Idempotency-Key from the first attempt', async () => {
    const topic = name('idem');
    await client.createTopic({ name: topic, partitions: 2 });
    // The first response is "lost" on the way back; the client retries the same request.
    let lost = false;
    const lossy = new ShardlogClient({
      url: server.url,
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        if (init.method === 'POST' && !lost) {
          lost = true;
          return new Response(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'lost', retriable: true } }), { status: 503 });
        }
        return response;
      },
    });

    const { records } = await lossy.produce(topic, [{ key: 'k', value: 1 }, { key: 'k', value: 2 }]);

    const partition = records[0]!.partition;
    expect((await readAll(topic, partition)).map((r) => r.value)).toEqual([1, 2]);
  });

  it('places keyed records where partitionFor says, so the producer batches by the real partition', async () => {
    const topic = name('keys');
    await client.createTopic({ name: topic, partitions: 5 });
    const producer = client.producer({ lingerMs: 2 });
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);

    const acks = await producer.send(topic, keys.map((key, i) => ({ key, value: i })));
    await producer.close();

    acks.forEach((ack, i) => expect(ack.partition).toBe(partitionFor(Buffer.from(keys[i]!), 5)));
  });

  it('keeps per-key order through the producer under concurrency', async () => {
    const topic = name('order');
    await client.createTopic({ name: topic, partitions: 3 });
    const producer = client.producer({ lingerMs: 1, maxBatchBytes: 2_000 });

    await Promise.all(
      Array.from({ length: 20 }, (_, chunk) =>
        producer.send(topic, Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 6}`, value: { seq: chunk * 50 + i } }))),
      ),
    );
    await producer.close();

    const all = (await Promise.all([0, 1, 2].map((p) => readAll(topic, p)))).flat();
    expect(all).toHaveLength(1000);
    for (const key of ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']) {
      const seqs = all.filter((r) => r.key === key).map((r) => (r.value as { seq: number }).seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('runs maintenance for a topic', async () => {
    const topic = name('maint');
    await client.createTopic({ name: topic });

    const result = await client.runMaintenance({ topic });

    expect(result).toMatchObject({ tiered: expect.any(Object), expired: expect.any(Object) });
  });
});
