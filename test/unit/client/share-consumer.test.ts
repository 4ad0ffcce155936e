import { describe, expect, it } from 'vitest';
import { ShareConsumer, type ShareConsumerCalls } from '../../../lib/client/share-consumer.js';
import type { ShareAck, ShareAckResult, ShareFetchRequest, SharedRecord } from '../../../lib/client/share-types.js';
import { FakeClock } from './fakes/fake-clock.js';

/** One share group over one partition, in memory: locks on the fake clock, receipts fence every ack. */
class FakeShareGroup implements ShareConsumerCalls {
  readonly acks: ShareAck[][] = [];
  readonly subscribed: string[] = [];
  private readonly held = new Map<number, { receipt: string; until: number }>();
  private readonly done = new Map<number, 'accept' | 'reject'>();
  private readonly deliveries = new Map<number, number>();
  private receipts = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly values: readonly string[],
  ) {}

  get outcome(): Map<number, 'accept' | 'reject'> {
    return this.done;
  }

  async subscribeShareGroup(group: string, topic: string): Promise<unknown> {
    this.subscribed.push(`${group}/${topic}`);
    return {};
  }

  async shareFetch(_group: string, request: ShareFetchRequest): Promise<{ records: SharedRecord[] }> {
    const receipt = `r${++this.receipts}`;
    const now = this.clock.now();
    const records: SharedRecord[] = [];
    for (let offset = 0; offset < this.values.length && records.length < (request.maxRecords ?? 100); offset++) {
      const lock = this.held.get(offset);
      if (this.done.has(offset) || (lock && lock.until > now)) continue;
      this.held.set(offset, { receipt, until: now + request.lockMs! });
      const deliveryCount = (this.deliveries.get(offset) ?? 0) + 1;
      this.deliveries.set(offset, deliveryCount);
      records.push({ topic: 't', partition: 0, offset, timestamp: 0, key: null, value: this.values[offset]!, headers: {}, deliveryCount, receipt });
    }
    return { records };
  }

  async shareAck(_group: string, acks: ShareAck[]): Promise<ShareAckResult[]> {
    this.acks.push(acks);
    const now = this.clock.now();
    return acks.map((ack) => {
      const lock = this.held.get(ack.offset);
      const ok = !this.done.has(ack.offset) && lock?.receipt === ack.receipt;
      if (ok) {
        if (ack.type === 'accept' || ack.type === 'reject') {
          this.done.set(ack.offset, ack.type);
          this.held.delete(ack.offset);
        } else if (ack.type === 'release') this.held.delete(ack.offset);
        else lock.until = now + 30_000;
      }
      return { topic: ack.topic, partition: ack.partition, offset: ack.offset, ok, ...(ok ? {} : { error: { code: 'FENCED', message: 'stale', retriable: false } }) };
    });
  }
}

const permanent = Object.assign(new Error('bad address'), { retriable: false });

describe('ShareConsumer', () => {
  it('accepts after the handler succeeds, releases on a retriable error and rejects on a non-retriable one', async () => {
    const clock = new FakeClock();
    const group = new FakeShareGroup(clock, ['ok', 'flaky', 'poison']);
    const consumer = new ShareConsumer(group, { waitMs: 0 }, clock);
    const seen: string[] = [];
    const running = consumer.run({
      group: 'mailers',
      topics: ['t'],
      concurrency: 2,
      eachMessage: async ({ record }) => {
        seen.push(`${String(record.value)}#${record.deliveryCount}`);
        if (record.value === 'poison') throw permanent;
        if (record.value === 'flaky' && record.deliveryCount === 1) throw new Error('timeout');
      },
    });
    for (let waited = 0; group.outcome.size < 3 && waited < 60_000; waited += 100) await clock.advance(100);
    await consumer.stop();
    await running;
    expect(group.subscribed).toEqual(['mailers/t']);
    expect([...group.outcome].sort()).toEqual([
      [0, 'accept'],
      [1, 'accept'],
      [2, 'reject'],
    ]);
    expect(seen).toContain('flaky#2');
    // One ack call per batch: the first batch's three verdicts together.
    expect(group.acks[0]!.map((a) => a.type)).toEqual(['accept', 'release', 'reject']);
  });

  it('renews the lock of a record whose handler outlasts it, in the same call as the verdicts reached so far', async () => {
    const clock = new FakeClock();
    const group = new FakeShareGroup(clock, ['fast', 'slow']);
    const consumer = new ShareConsumer(group, { waitMs: 0, lockMs: 3_000 }, clock);
    let finishSlow = () => {};
    const running = consumer.run({
      group: 'g',
      topics: ['t'],
      concurrency: 2,
      eachMessage: ({ record }) => (record.value === 'slow' ? new Promise<void>((resolve) => (finishSlow = resolve)) : Promise.resolve()),
    });
    await clock.advance(1_000);
    expect(group.acks[0]).toEqual([
      expect.objectContaining({ offset: 0, type: 'accept' }),
      expect.objectContaining({ offset: 1, type: 'renew' }),
    ]);
    await clock.advance(5_000);
    expect(group.acks.slice(1).every((call) => call.length === 1 && call[0]!.type === 'renew')).toBe(true);
    finishSlow();
    await clock.advance(0);
    expect(group.outcome.get(1)).toBe('accept');
    await consumer.stop();
    await running;
  });

  it('on stop, lets the running handler finish and releases the records it had not started', async () => {
    const clock = new FakeClock();
    const group = new FakeShareGroup(clock, ['a', 'b', 'c']);
    const consumer = new ShareConsumer(group, { waitMs: 0 }, clock);
    let finish = () => {};
    const started: string[] = [];
    const running = consumer.run({
      group: 'g',
      topics: ['t'],
      eachMessage: ({ record }) => {
        started.push(String(record.value));
        return new Promise<void>((resolve) => (finish = resolve));
      },
    });
    await clock.advance(0);
    const stopped = consumer.stop();
    finish();
    await stopped;
    await running;
    expect(started).toEqual(['a']);
    expect(group.acks.flat().map((a) => [a.offset, a.type])).toEqual([
      [0, 'accept'],
      [1, 'release'],
      [2, 'release'],
    ]);
  });

  it('does not long-poll by default, and pauses 1 s after a fetch that found nothing', async () => {
    const clock = new FakeClock();
    const group = new FakeShareGroup(clock, []);
    const requests: Array<{ at: number; waitMs: number | undefined }> = [];
    const fetch = group.shareFetch.bind(group);
    group.shareFetch = async (name, request) => (requests.push({ at: clock.now(), waitMs: request.waitMs }), fetch(name, request));
    const consumer = new ShareConsumer(group, {}, clock);
    const running = consumer.run({ group: 'mailers', topics: ['t'], eachMessage: async () => undefined });
    for (let waited = 0; requests.length < 3 && waited < 10_000; waited += 100) await clock.advance(100);
    await consumer.stop();
    await running;
    expect(requests.every((r) => r.waitMs === 0)).toBe(true);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(1_000);
  });
});
