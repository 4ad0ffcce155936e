import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, TopicNotFoundError } from '../../../lib/errors.js';
import { ShardlogClient } from '../../../lib/client/client.js';
import { partitionFor } from '../../../lib/log/partitioner.js';
import type { ProduceRecord } from '../../../lib/client/types.js';
import { FakeShardlog, type RecordedRequest } from './fake-server.js';

const PRODUCE = 'POST /v1/topics/{topic}/records';

function setup(partitions = 4) {
  const fake = new FakeShardlog();
  fake.createTopic('orders', partitions);
  const client = new ShardlogClient({ url: 'http://127.0.0.1:4000', fetch: fake.fetch, sleep: async () => undefined });
  return { fake, client };
}

function producedRecords(r: RecordedRequest): ProduceRecord[] {
  return (r.body as { records: ProduceRecord[] }).records;
}

/** A promise and its resolver, to hold a request in flight. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Producer', () => {
  it('acknowledges every record with the partition its key hashes to, in order', async () => {
    const { fake, client } = setup(4);
    const producer = client.producer({ lingerMs: 1 });
    const records = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: { i } }));

    const acks = await producer.send('orders', records);

    expect(acks).toHaveLength(50);
    acks.forEach((ack, i) => expect(ack.partition).toBe(partitionFor(Buffer.from(`k${i % 7}`), 4)));
    // Keyed records are left to the server to place: the client computes the partition only to batch.
    expect(fake.requestsTo(PRODUCE).flatMap(producedRecords).every((r) => r.partition === undefined)).toBe(true);
    for (const log of fake.topics.get('orders')!.partitions) {
      const is = log.map((r) => (r.value as { i: number }).i);
      expect(is).toEqual([...is].sort((a, b) => a - b));
    }
    await producer.close();
  });

  it('lingers to batch several send() calls into one request', async () => {
    const { fake, client } = setup(1);
    const producer = client.producer({ lingerMs: 30 });

    await Promise.all([producer.send('orders', [{ value: 1 }]), producer.send('orders', [{ value: 2 }]), producer.send('orders', [{ value: 3 }])]);

    expect(fake.requestsTo(PRODUCE)).toHaveLength(1);
    expect(fake.topics.get('orders')!.partitions[0]!.map((r) => r.value)).toEqual([1, 2, 3]);
  });

  it('combines ready batches of several partitions into one request', async () => {
    const { fake, client } = setup(4);
    const producer = client.producer({ lingerMs: 5 });

    await producer.send('orders', [
      { partition: 0, value: 'a' },
      { partition: 1, value: 'b' },
      { partition: 3, value: 'c' },
      { value: 'keyless' },
    ]);

    expect(fake.requestsTo(PRODUCE)).toHaveLength(1);
    expect(producedRecords(fake.requestsTo(PRODUCE)[0]!).map((r) => r.partition)).toEqual([0, 1, 3, undefined]);
  });

  it('closes a batch at maxBatchBytes and keeps the partition order across batches', async () => {
    const { fake, client } = setup(1);
    const producer = client.producer({ lingerMs: 100, maxBatchBytes: 200 });
    const records = Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `record-${String(i).padStart(3, '0')}` }));

    await producer.send('orders', records);

    const requests = fake.requestsTo(PRODUCE);
    expect(requests.length).toBeGreaterThan(2);
    for (const r of requests) expect(Buffer.byteLength(JSON.stringify(producedRecords(r)))).toBeLessThanOrEqual(200 + 10);
    expect(fake.topics.get('orders')!.partitions[0]!.map((r) => r.value)).toEqual(records.map((r) => r.value));
  });

  it('keeps one request in flight per partition, so a later batch never overtakes an earlier one', async () => {
    const { fake, client } = setup(1);
    const held = gate();
    let inFlight = 0;
    let maxInFlight = 0;
    fake.beforeHandle = async (r) => {
      if (`${r.method}` !== 'POST') return;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (fake.requests.length === 1) await held.promise;
      inFlight--;
    };
    const producer = client.producer({ lingerMs: 0, maxBatchBytes: 50 });

    const first = producer.send('orders', [{ partition: 0, value: 'first-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }]);
    await new Promise((r) => setTimeout(r, 10));
    const second = producer.send('orders', [{ partition: 0, value: 'second' }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.requestsTo(PRODUCE)).toHaveLength(1);
    held.open();
    await Promise.all([first, second]);

    expect(maxInFlight).toBe(1);
    expect(fake.topics.get('orders')!.partitions[0]!.map((r) => r.value)).toEqual([
      'first-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      'second',
    ]);
  });

  it('retries a retriable failure with the same Idempotency-Key and appends once', async () => {
    const { fake } = setup(2);
    // The first attempt "succeeds" on the server but its response is lost; the retry must not append again.
    let calls = 0;
    const realFetch = fake.fetch;
    const flaky = new ShardlogClient({
      url: 'http://127.0.0.1:4000',
      retry: { maxAttempts: 1 },
      fetch: async (url, init) => {
        const response = await realFetch(url, init);
        if (init.method === 'POST' && ++calls === 1) {
          return new Response(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'lost', retriable: true } }), { status: 503 });
        }
        return response;
      },
    });
    const producer = flaky.producer({ lingerMs: 0 });

    const acks = await producer.send('orders', [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);

    const keys = fake.requestsTo(PRODUCE).map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    const stored = fake.topics.get('orders')!.partitions.flat();
    expect(stored.map((r) => r.value).sort()).toEqual([1, 2]);
    // Each acknowledgement points at the record it acknowledges.
    const log = fake.topics.get('orders')!.partitions;
    expect(acks.map((a) => log[a.partition]![a.offset]!.value)).toEqual([1, 2]);
  });

  it('rejects the send with a non-retriable error without retrying', async () => {
    const { fake, client } = setup(1);
    const producer = client.producer({ lingerMs: 0 });

    await expect(producer.send('nope', [{ value: 1 }])).rejects.toBeInstanceOf(TopicNotFoundError);
    expect(fake.requestsTo(PRODUCE)).toHaveLength(1);
  });

  it('fails a keyed send to a missing topic when it looks up the partition count', async () => {
    const { client } = setup(1);
    const producer = client.producer();

    await expect(producer.send('nope', [{ key: 'k', value: 1 }])).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  it('refuses a record over 1 MB before sending anything', async () => {
    const { fake, client } = setup(1);
    const producer = client.producer();

    await expect(producer.send('orders', [{ value: 'small' }, { value: 'x'.repeat(1024 * 1024 + 1) }])).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    await producer.flush();
    expect(fake.requestsTo(PRODUCE)).toHaveLength(0);
  });

  it('applies backpressure: send() waits while maxBufferedBytes are unacknowledged', async () => {
    const { fake, client } = setup(1);
    const held = gate();
    fake.beforeHandle = async (r) => {
      if (r.method === 'POST') await held.promise;
    };
    const producer = client.producer({ lingerMs: 0, maxBufferedBytes: 1 });
    // maxBufferedBytes is raised to one record's maximum (1 MiB), so two 600 KB records do not fit together.
    const big = 'x'.repeat(600 * 1024);

    const first = producer.send('orders', [{ value: big }]);
    let secondQueued = false;
    const second = producer.send('orders', [{ value: big }]).then((acks) => {
      secondQueued = true;
      return acks;
    });
    await new Promise((r) => setTimeout(r, 30));

    expect(producer.buffered).toBeLessThanOrEqual(1024 * 1024);
    expect(secondQueued).toBe(false);
    expect(fake.requestsTo(PRODUCE)).toHaveLength(1);
    held.open();
    await Promise.all([first, second]);
    expect(fake.requestsTo(PRODUCE)).toHaveLength(2);
    expect(producer.buffered).toBe(0);
  });

  it('flush() sends lingering batches at once', async () => {
    const { fake, client } = setup(1);
    const producer = client.producer({ lingerMs: 60_000 });

    const sent = producer.send('orders', [{ value: 1 }]);
    await producer.flush();

    await expect(sent).resolves.toHaveLength(1);
    expect(fake.requestsTo(PRODUCE)).toHaveLength(1);
  });

  it('refuses send() after close()', async () => {
    const { client } = setup(1);
    const producer = client.producer();
    await producer.close();

    await expect(producer.send('orders', [{ value: 1 }])).rejects.toThrow(/closed/);
  });

  it('never puts more than 10,000 records in one request', async () => {
    const { fake, client } = setup(2);
    const producer = client.producer({ lingerMs: 5 });
    const records = Array.from({ length: 12_000 }, (_, i) => ({ partition: i % 2, value: i }));

    await producer.send('orders', records);

    for (const r of fake.requestsTo(PRODUCE)) expect(producedRecords(r).length).toBeLessThanOrEqual(10_000);
    expect(fake.topics.get('orders')!.partitions.flat()).toHaveLength(12_000);
  });
});
