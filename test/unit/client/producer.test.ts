import { describe, expect, it } from 'vitest';
import { InvalidRequestError, PayloadTooLargeError, TopicNotFoundError, UnavailableError } from '../../../lib/errors.js';
import { Producer, type ProducerOptions } from '../../../lib/client/producer.js';
import { partitionFor } from '../../../lib/log/partitioner.js';
import { FakeClock, settle } from './fakes/fake-clock.js';
import { InMemoryLog } from './fakes/in-memory-log.js';

/** A producer over an in-memory log, on a fake clock: linger, backoff and deadlines move only with `advance`. */
function setup(partitions = 4, options: ProducerOptions = {}) {
  const clock = new FakeClock();
  const log = new InMemoryLog(clock);
  log.createTopic('orders', partitions);
  const producer = new Producer(log, options, clock);
  const values = (partition: number) => log.partition('orders', partition).map((r) => r.value);
  return { clock, log, producer, values };
}

/** A promise and its resolver, to hold a request in flight. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('Producer', () => {
  it('acknowledges every record with the partition its key hashes to, in order', async () => {
    const { clock, log, producer, values } = setup(4, { lingerMs: 1 });
    const records = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: { i } }));

    const sending = producer.send('orders', records);
    await clock.advance(1);
    const acks = await sending;

    expect(acks).toHaveLength(50);
    acks.forEach((ack, i) => expect(ack.partition).toBe(partitionFor(Buffer.from(`k${i % 7}`), 4)));
    // Keyed records are left to the server to place: the client computes the partition only to batch.
    expect(log.produced.flatMap((c) => c.records).every((r) => r.partition === undefined)).toBe(true);
    for (let p = 0; p < 4; p++) {
      const is = values(p).map((v) => (v as { i: number }).i);
      expect(is).toEqual([...is].sort((a, b) => a - b));
    }
  });

  it('lingers lingerMs to batch several send() calls into one request', async () => {
    const { clock, log, producer, values } = setup(1, { lingerMs: 30 });

    const sending = Promise.all([producer.send('orders', [{ value: 1 }]), producer.send('orders', [{ value: 2 }]), producer.send('orders', [{ value: 3 }])]);
    await clock.advance(29);
    expect(log.produced).toHaveLength(0);
    await clock.advance(1);
    await sending;

    expect(log.produced).toHaveLength(1);
    expect(values(0)).toEqual([1, 2, 3]);
  });

  it('by default lingers 100 ms, so records sent within 100 ms of the first share one request', async () => {
    const { clock, log, producer, values } = setup(1);

    const first = producer.send('orders', [{ value: 1 }]);
    await clock.advance(60);
    const second = producer.send('orders', [{ value: 2 }]);
    await clock.advance(39);
    expect(log.produced).toHaveLength(0);
    await clock.advance(1);
    await Promise.all([first, second]);

    expect(log.produced).toHaveLength(1);
    expect(values(0)).toEqual([1, 2]);
  });

  it('with latencyCritical, sends a record without lingering', async () => {
    const { clock, log, producer } = setup(1, { latencyCritical: true });

    const sending = producer.send('orders', [{ value: 1 }]);
    await clock.advance(0);
    await sending;

    expect(log.produced).toHaveLength(1);
  });

  it('with latencyCritical, still batches the records that arrive while the partition has a request in flight', async () => {
    const { clock, log, producer, values } = setup(1, { latencyCritical: true });
    const held = gate();
    log.beforeProduce = () => (log.produced.length === 1 ? held.promise : undefined);

    const first = producer.send('orders', [{ partition: 0, value: 1 }]);
    await clock.advance(0); // the first request leaves and is held in flight
    const rest = Promise.all([2, 3, 4].map((value) => producer.send('orders', [{ partition: 0, value }])));
    await clock.advance(0);
    held.open();
    await clock.advance(0);
    await Promise.all([first, rest]);

    expect(log.produced.map((call) => call.records.length)).toEqual([1, 3]);
    expect(values(0)).toEqual([1, 2, 3, 4]);
  });

  it('lingerMs given with latencyCritical wins', async () => {
    const { clock, log, producer } = setup(1, { latencyCritical: true, lingerMs: 20 });

    const sending = producer.send('orders', [{ value: 1 }]);
    await clock.advance(19);
    expect(log.produced).toHaveLength(0);
    await clock.advance(1);
    await sending;
    expect(log.produced).toHaveLength(1);
  });

  it('combines ready batches of several partitions into one request', async () => {
    const { clock, log, producer } = setup(4, { lingerMs: 5 });

    const sending = producer.send('orders', [
      { partition: 0, value: 'a' },
      { partition: 1, value: 'b' },
      { partition: 3, value: 'c' },
      { value: 'keyless' },
    ]);
    await clock.advance(5);
    await sending;

    expect(log.produced).toHaveLength(1);
    expect(log.produced[0]!.records.map((r) => r.partition)).toEqual([0, 1, 3, undefined]);
  });

  it('closes a batch at maxBatchBytes and keeps the partition order across batches', async () => {
    const { clock, log, producer, values } = setup(1, { lingerMs: 100, maxBatchBytes: 200 });
    const records = Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `record-${String(i).padStart(3, '0')}` }));

    const sending = producer.send('orders', records);
    await clock.advance(100);
    await sending;

    expect(log.produced.length).toBeGreaterThan(2);
    for (const call of log.produced) expect(Buffer.byteLength(JSON.stringify(call.records))).toBeLessThanOrEqual(200 + 10);
    expect(values(0)).toEqual(records.map((r) => r.value));
  });

  it('sends a batch as soon as the next record does not fit in it, without waiting for a linger timer', async () => {
    const { clock, log, producer, values } = setup(1, { lingerMs: 10_000, maxBatchBytes: 100 });
    const first = { partition: 0, value: 'a'.repeat(60) };
    const second = { partition: 0, value: 'b'.repeat(60) };

    const sending = Promise.all([producer.send('orders', [first]), producer.send('orders', [second])]);
    await clock.advance(0);

    // The first batch is full (the second record does not fit): it leaves now, as Kafka sends a full batch.
    expect(log.produced.map((call) => call.records.map((r) => r.value))).toEqual([[first.value]]);
    await clock.advance(10_000);
    await sending;
    expect(values(0)).toEqual([first.value, second.value]);
  });

  it('keeps adding records to a batch whose linger is over while its partition has a request in flight', async () => {
    const { clock, log, producer, values } = setup(1, { lingerMs: 5 });
    const held = gate();
    log.beforeProduce = () => (log.produced.length === 1 ? held.promise : undefined);

    const sends = [producer.send('orders', [{ partition: 0, value: 1 }])];
    await clock.advance(5); // the first request leaves and is held in flight
    sends.push(producer.send('orders', [{ partition: 0, value: 2 }]));
    await clock.advance(5); // the second batch's linger is over, but the partition is busy
    sends.push(producer.send('orders', [{ partition: 0, value: 3 }]));
    await clock.advance(5);
    held.open();
    await clock.advance(0);
    await Promise.all(sends);

    // As in Kafka: the wait for the partition batches as well as the linger does.
    expect(log.produced.map((call) => call.records.map((r) => r.value))).toEqual([[1], [2, 3]]);
    expect(values(0)).toEqual([1, 2, 3]);
  });

  it('keeps one request in flight per partition, so a later batch never overtakes an earlier one', async () => {
    const { clock, log, producer, values } = setup(1, { lingerMs: 0, maxBatchBytes: 50 });
    const held = gate();
    log.beforeProduce = () => (log.produced.length === 1 ? held.promise : undefined);

    const first = producer.send('orders', [{ partition: 0, value: 'first-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }]);
    await settle();
    const second = producer.send('orders', [{ partition: 0, value: 'second' }]);
    await clock.advance(1_000);
    expect(log.produced).toHaveLength(1);
    held.open();
    await clock.advance(0);
    await Promise.all([first, second]);

    expect(log.produced).toHaveLength(2);
    expect(values(0)).toEqual(['first-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'second']);
  });

  it('retries a retriable failure after a backoff with the same Idempotency-Key, and appends once', async () => {
    const { clock, log, producer } = setup(2, { lingerMs: 0 });
    // The first attempt is appended but its response is lost; the retry must not append again.
    log.afterProduce = () => {
      if (log.produced.length === 1) throw new UnavailableError('response lost');
    };

    const sending = producer.send('orders', [{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
    await clock.advance(0);
    expect(log.produced).toHaveLength(1);
    await clock.advance(200); // the first retry waits up to base · 2 = 200 ms
    const acks = await sending;

    expect(log.produced).toHaveLength(2);
    expect(log.produced[1]!.idempotencyKey).toBe(log.produced[0]!.idempotencyKey);
    expect(log.produced[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    // Each acknowledgement points at the record it acknowledges, stored once.
    expect(acks.map((a) => log.partition('orders', a.partition)[a.offset]!.value)).toEqual([1, 2]);
    expect([0, 1].flatMap((p) => log.partition('orders', p))).toHaveLength(2);
  });

  it('retries until deliveryTimeoutMs, then fails the batch with the last error', async () => {
    const { clock, log, producer } = setup(1, { lingerMs: 0, deliveryTimeoutMs: 1_000 });
    const attemptsAt: number[] = [];
    log.beforeProduce = () => {
      attemptsAt.push(clock.now());
      throw new UnavailableError('down');
    };
    const start = clock.now();

    const sending = producer.send('orders', [{ value: 1 }]);
    let failed = false;
    sending.catch(() => (failed = true));
    await clock.advance(999);
    expect(failed).toBe(false);
    await clock.advance(1);

    await expect(sending).rejects.toBeInstanceOf(UnavailableError);
    expect(attemptsAt.length).toBeGreaterThan(2);
    expect(attemptsAt.at(-1)).toBe(start + 1_000); // the backoff is cut short to try once more at the deadline
    await clock.advance(10_000);
    expect(attemptsAt.at(-1)).toBe(start + 1_000);
  });

  it('rejects the send with a non-retriable error without retrying', async () => {
    const { clock, log, producer } = setup(1, { lingerMs: 0 });

    const sending = producer.send('nope', [{ value: 1 }]);
    const failed = expect(sending).rejects.toBeInstanceOf(TopicNotFoundError);
    await clock.advance(10_000);
    await failed;
    expect(log.produced).toHaveLength(1);
  });

  it('fails a keyed send to a missing topic when it looks up the partition count', async () => {
    const { log, producer } = setup(1);

    await expect(producer.send('nope', [{ key: 'k', value: 1 }])).rejects.toBeInstanceOf(TopicNotFoundError);
    expect(log.produced).toHaveLength(0);
  });

  it('reads a topic\'s partition count again once metadataMaxAgeMs has passed, not before', async () => {
    const { clock, log, producer } = setup(1, { lingerMs: 0, metadataMaxAgeMs: 60_000 });
    let lookups = 0;
    const describe = log.describeTopic.bind(log);
    log.describeTopic = (topic) => (lookups++, describe(topic));
    const sendKeyed = async () => {
      const sending = producer.send('orders', [{ key: 'k', value: 1 }]);
      await clock.advance(0);
      await sending;
    };

    await sendKeyed();
    await clock.advance(59_999);
    await sendKeyed();
    expect(lookups).toBe(1);
    await clock.advance(1);
    await sendKeyed();
    expect(lookups).toBe(2);
  });

  it('refuses a record over 1 MB, or without a value, before sending anything', async () => {
    const { log, producer } = setup(1);

    await expect(producer.send('orders', [{ value: 'small' }, { value: 'x'.repeat(1024 * 1024 + 1) }])).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    await expect(producer.send('orders', [{ key: 'k' } as never])).rejects.toBeInstanceOf(InvalidRequestError);
    await producer.flush();
    expect(log.produced).toHaveLength(0);
  });

  it('applies backpressure: send() waits while maxBufferedBytes are unacknowledged', async () => {
    const { clock, log, producer } = setup(1, { lingerMs: 0, maxBufferedBytes: 1 });
    const held = gate();
    log.beforeProduce = () => held.promise;
    // maxBufferedBytes is raised to one record's maximum (1 MiB), so two 600 KB records do not fit together.
    const big = 'x'.repeat(600 * 1024);

    const first = producer.send('orders', [{ value: big }]);
    let secondQueued = false;
    const second = producer.send('orders', [{ value: big }]).then((acks) => {
      secondQueued = true;
      return acks;
    });
    await clock.advance(1_000);

    expect(producer.buffered).toBeLessThanOrEqual(1024 * 1024);
    expect(secondQueued).toBe(false);
    expect(log.produced).toHaveLength(1);
    held.open();
    await clock.advance(0);
    await Promise.all([first, second]);
    expect(log.produced).toHaveLength(2);
    expect(producer.buffered).toBe(0);
  });

  it('flush() sends lingering batches at once', async () => {
    const { clock, log, producer } = setup(1, { lingerMs: 60_000 });

    const sent = producer.send('orders', [{ value: 1 }]);
    await producer.flush();

    await expect(sent).resolves.toHaveLength(1);
    expect(log.produced).toHaveLength(1);
    expect(clock.pending).toBe(0); // the linger timer was cancelled
  });

  it('refuses send() after close()', async () => {
    const { producer } = setup(1);
    await producer.close();

    await expect(producer.send('orders', [{ value: 1 }])).rejects.toThrow(/closed/);
  });

  it('never puts more than 10,000 records in one request', async () => {
    const { clock, log, producer } = setup(2, { lingerMs: 5 });
    const records = Array.from({ length: 12_000 }, (_, i) => ({ partition: i % 2, value: i }));

    const sending = producer.send('orders', records);
    await clock.advance(5);
    await sending;

    for (const call of log.produced) expect(call.records.length).toBeLessThanOrEqual(10_000);
    expect([0, 1].flatMap((p) => log.partition('orders', p))).toHaveLength(12_000);
  });
});
