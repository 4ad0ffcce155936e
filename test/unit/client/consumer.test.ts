import { describe, expect, it } from 'vitest';
import { NotSubscribedError, UnavailableError } from '../../../lib/errors.js';
import { Consumer, type ConsumerOptions, type EachBatchPayload } from '../../../lib/client/consumer.js';
import type { GroupFetchRequest } from '../../../lib/client/types.js';
import { FakeClock, settle } from './fakes/fake-clock.js';
import { InMemoryGroups } from './fakes/in-memory-groups.js';
import { InMemoryLog } from './fakes/in-memory-log.js';

/** A topic `orders` of `partitions` holding `records` values 0, 1, … round-robin, and a group coordinator. */
function setup(partitions = 2, records = 10) {
  const clock = new FakeClock();
  const log = new InMemoryLog(clock);
  log.createTopic('orders', partitions);
  for (let i = 0; i < records; i++) log.append('orders', i % partitions, i);
  const groups = new InMemoryGroups(log);
  const consumerOf = (options: ConsumerOptions = {}) => new Consumer(groups, options, clock);
  return { clock, log, groups, consumerOf };
}

/** A promise and its resolver, to hold a handler or a request. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const valuesOf = (payload: EachBatchPayload) => payload.records.map((r) => r.value as number);
const offsetsCommitted = (groups: InMemoryGroups) =>
  groups.callsOf('commit').flatMap((c) => (c.body as { offsets: Array<{ partition: number; offset: number; leaseToken: string }> }).offsets);

describe('Consumer', () => {
  it('joins, reads every assigned partition, commits after each handled batch and leaves on stop', async () => {
    const { groups, consumerOf } = setup(2, 10);
    const consumer = consumerOf({ waitMs: 0 });
    const seen: number[] = [];

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async (batch) => void seen.push(...valuesOf(batch)),
      onIdle: () => void consumer.stop(),
    });

    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(groups.committed('g', 'orders', 0)).toBe(5);
    expect(groups.committed('g', 'orders', 1)).toBe(5);
    expect(groups.groups.get('g')!.members.size).toBe(0);
    expect(groups.callsOf('leaveGroup')).toHaveLength(1);
    expect(offsetsCommitted(groups).every((o) => typeof o.leaseToken === 'string' && o.leaseToken !== '')).toBe(true);
  });

  it('subscribes the group to its topics before it joins, as a Kafka consumer’s subscribe() is all it takes', async () => {
    const { groups, consumerOf } = setup(1, 2);
    const consumer = consumerOf({ waitMs: 0 });
    await consumer.run({ group: 'g', topics: ['orders', 'orders'], eachBatch: async () => {}, onIdle: () => void consumer.stop() });
    const calls = groups.calls.map((c) => c.call);
    expect(calls.slice(0, 2)).toEqual(['subscribe', 'joinGroup']);
    expect(calls.filter((c) => c === 'subscribe')).toHaveLength(1);
    expect((await groups.describeGroup('g')).subscriptions).toEqual(['orders']);
  });

  it('with subscribe: false, leaves subscriptions alone and fails with NOT_SUBSCRIBED naming the PUT', async () => {
    const { groups, consumerOf } = setup(1, 2);
    const refused = await consumerOf({ waitMs: 0 })
      .run({ group: 'g', topics: ['orders'], subscribe: false, eachBatch: async () => {} })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NotSubscribedError);
    expect((refused as Error).message).toContain('PUT /v1/groups/g/subscriptions/orders');
    expect(groups.callsOf('subscribe')).toHaveLength(0);
  });

  it('drops a topic unsubscribed while it runs, commits nothing more of it, and reads on the others', async () => {
    const { groups, log, consumerOf } = setup(1, 4);
    log.createTopic('audit', 1);
    for (let i = 0; i < 3; i++) log.append('audit', 0, 100 + i);
    const consumer = consumerOf({ waitMs: 0, maxRecords: 2 });
    const seen: Record<string, number[]> = { orders: [], audit: [] };
    await consumer.run({
      group: 'g',
      topics: ['orders', 'audit'],
      eachBatch: async (batch) => {
        seen[batch.topic]!.push(...valuesOf(batch));
        if (batch.topic === 'audit') await groups.unsubscribe('g', 'audit');
      },
      onIdle: () => void consumer.stop(),
    });
    expect(seen).toEqual({ orders: [0, 1, 2, 3], audit: [100, 101] });
    expect(groups.committed('g', 'orders', 0)).toBe(4);
    expect(groups.committed('g', 'audit', 0)).toBeNull();
    const positionsSent = groups.callsOf('groupFetch').flatMap((c) => (c.body as GroupFetchRequest).positions ?? []);
    expect(positionsSent.filter((p) => p.topic === 'audit')).toEqual([]);
  });

  it('resumes from the committed offsets and then from its own positions', async () => {
    const { groups, consumerOf } = setup(1, 6);
    const first = consumerOf({ waitMs: 0, maxRecords: 2 });
    let handled = 0;
    await first.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async () => {
        if (++handled === 2) void first.stop();
      },
    });
    expect(groups.committed('g', 'orders', 0)).toBe(4);

    const second = consumerOf({ waitMs: 0 });
    const seen: number[] = [];
    await second.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async (batch) => void seen.push(...valuesOf(batch)),
      onIdle: () => void second.stop(),
    });
    expect(seen).toEqual([4, 5]);
    const fetches = groups.callsOf('groupFetch').map((c) => (c.body as GroupFetchRequest).positions);
    expect(fetches.at(-1)).toEqual([{ topic: 'orders', partition: 0, offset: 6 }]);
  });

  it('heartbeats once per heartbeat interval while a slow handler works', async () => {
    const { clock, groups, consumerOf } = setup(1, 1);
    groups.heartbeatIntervalMs = 1_000;
    const consumer = consumerOf({ waitMs: 0 });
    const started = gate();
    const release = gate();

    const running = consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async () => {
        started.open();
        await release.promise;
      },
      onIdle: () => void consumer.stop(),
    });
    await started.promise;
    const before = groups.callsOf('heartbeat').length;
    await clock.advance(5_000);
    const during = groups.callsOf('heartbeat').length - before;
    release.open();
    await running;

    expect(before).toBe(0);
    expect(during).toBe(5);
    expect(groups.committed('g', 'orders', 0)).toBe(1);
  });

  it('does not commit a batch whose handler failed, and run() rejects with the error', async () => {
    const { groups, consumerOf } = setup(1, 3);
    const consumer = consumerOf({ waitMs: 0 });

    await expect(
      consumer.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async () => {
          throw new Error('database down');
        },
      }),
    ).rejects.toThrow('database down');

    expect(groups.callsOf('commit')).toHaveLength(0);
    expect(groups.committed('g', 'orders', 0)).toBeNull();
    expect(groups.groups.get('g')!.members.size).toBe(0);
  });

  it('never commits for a partition it lost while the handler ran', async () => {
    const { clock, groups, consumerOf } = setup(2, 4);
    groups.heartbeatIntervalMs = 1_000;
    const consumer = consumerOf({ waitMs: 0, memberId: 'a-member' });
    const stale: boolean[] = [];
    let rebalanced = false;

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async (batch) => {
        if (!rebalanced) {
          rebalanced = true;
          // Another member joins; round-robin (by id) hands it partition 0, the one being handled.
          await groups.joinGroup('g', { topics: ['orders'], memberId: '0-member' });
          expect(batch.isStale()).toBe(false); // not known until a heartbeat tells
          await clock.advance(1_000);
        }
        stale.push(batch.isStale());
      },
      onIdle: () => void consumer.stop(),
    });

    expect(offsetsCommitted(groups).map((o) => o.partition)).not.toContain(0);
    expect(groups.committed('g', 'orders', 0)).toBeNull();
    expect(groups.committed('g', 'orders', 1)).toBe(2);
    expect(stale).toEqual([true, false]);
  });

  it('drops a partition whose commit was FENCED and does not read it again under the old lease', async () => {
    const { clock, groups, consumerOf } = setup(1, 2);
    const consumer = consumerOf({ waitMs: 0 });
    let batches = 0;

    await clock.drive(
      consumer.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async () => {
          // An operator's reset fences the lease (new token) behind the member's back.
          if (++batches === 1) await groups.resetOffsets('g', { topic: 'orders', to: 'earliest' });
        },
        onIdle: () => void consumer.stop(),
      }),
    );

    const tokens = offsetsCommitted(groups).map((o) => o.leaseToken);
    expect(tokens).toHaveLength(2);
    // The refused commit changed nothing; the member picked the partition up again under the new token,
    // re-read from the reset offset and committed under that token.
    expect(tokens[0]).not.toBe(tokens[1]);
    expect(batches).toBe(2);
    expect(groups.committed('g', 'orders', 0)).toBe(2);
  });

  it('picks up a deleted and re-created topic at its next fetch, from the start, without waiting for a heartbeat tick', async () => {
    const { clock, log, groups, consumerOf } = setup(1, 3);
    groups.heartbeatIntervalMs = 60_000;
    const consumer = consumerOf({ waitMs: 10 });
    const seen: number[] = [];
    let recreated = false;
    const start = clock.now();

    await clock.drive(
      consumer.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async (batch) => void seen.push(...valuesOf(batch)),
        onIdle: () => {
          if (!recreated) {
            recreated = true;
            groups.recreateTopic('orders', 1);
            log.append('orders', 0, 100, 101);
          } else if (seen.includes(101)) void consumer.stop();
        },
      }),
      10,
    );

    expect(seen).toEqual([0, 1, 2, 100, 101]);
    expect(groups.committed('g', 'orders', 0)).toBe(2);
    expect(clock.now() - start).toBeLessThan(60_000); // no scheduled heartbeat was needed
  });

  it('does not read on from a position reached under an earlier lease (a reset while the fetch was in flight)', async () => {
    const { clock, groups, consumerOf } = setup(1, 10);
    groups.heartbeatIntervalMs = 1_000;
    const consumer = consumerOf({ waitMs: 0, maxRecords: 5 });
    const seen: number[] = [];
    let reset = false;
    groups.beforeFetch = async (request) => {
      if (reset || request.positions?.[0]?.offset !== 5) return;
      reset = true;
      // An operator resets to earliest; the member's heartbeat learns the new token before this fetch answers,
      // and the fetch reads from the position the member sent (5) under that new lease.
      Object.assign(groups.groups.get('g')!.leases.get('orders/0')!, { committed: 0, token: 'after-reset' });
      await clock.advance(1_000);
      expect(consumer.assigned[0]?.leaseToken).toBe('after-reset');
    };

    // Driven: the fetch read from the stale position hands nothing to eachBatch, so a 1 s idle pause follows.
    await clock.drive(
      consumer.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async (batch) => void seen.push(...valuesOf(batch)),
        onIdle: () => void consumer.stop(),
      }),
    );

    // Read again from the reset offset: nothing between it and the old position was skipped.
    expect(reset).toBe(true);
    expect(seen).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(groups.committed('g', 'orders', 0)).toBe(10);
  });

  it('rejoins with the same member id after MEMBER_NOT_FOUND', async () => {
    const { clock, groups, consumerOf } = setup(1, 1);
    const consumer = consumerOf({ waitMs: 0, memberId: 'stable-id' });
    let expired = false;

    await clock.drive(
      consumer.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async ({ heartbeat }) => {
          if (!expired) {
            expired = true;
            groups.expireMember('g', 'stable-id');
            await heartbeat(); // MEMBER_NOT_FOUND: joins again
          }
        },
        onIdle: () => void consumer.stop(),
      }),
    );

    const joins = groups.callsOf('joinGroup');
    expect(joins).toHaveLength(2);
    expect(joins.every((j) => (j.body as { memberId: string }).memberId === 'stable-id')).toBe(true);
    expect(groups.committed('g', 'orders', 0)).toBe(1);
  });

  it('commits only up to resolveOffset when the handler resolved part of a batch', async () => {
    const { groups, consumerOf } = setup(1, 5);
    const consumer = consumerOf({ waitMs: 0 });

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async ({ resolveOffset }) => {
        resolveOffset(1);
        void consumer.stop();
      },
    });

    expect(groups.committed('g', 'orders', 0)).toBe(2);
  });

  it('reports a retriable fetch failure and fetches again only after a backoff', async () => {
    const { clock, groups, consumerOf } = setup(1, 1);
    const errors: unknown[] = [];
    const consumer = consumerOf({ waitMs: 0, onError: (error) => errors.push(error) });
    groups.beforeFetch = () => {
      if (groups.callsOf('groupFetch').length === 1) throw new UnavailableError('down');
    };

    const running = consumer.run({ group: 'g', topics: ['orders'], eachBatch: async () => undefined, onIdle: () => void consumer.stop() });
    await settle();
    expect(errors).toEqual([expect.any(UnavailableError)]);
    expect(groups.callsOf('groupFetch')).toHaveLength(1);
    await clock.advance(200); // the first backoff is under base · 2 = 200 ms
    await running;

    expect(groups.callsOf('groupFetch').length).toBeGreaterThan(1);
    expect(groups.committed('g', 'orders', 0)).toBe(1);
  });

  it('asks the server to start partitions the group never committed at autoOffsetReset, and only then', async () => {
    const { clock, log, groups, consumerOf } = setup(1, 3);
    const latest = consumerOf({ waitMs: 0, autoOffsetReset: 'latest' });
    const seen: number[] = [];
    let appended = false;

    // Driven: after the first, empty fetch the consumer pauses 1 s before it looks again.
    await clock.drive(
      latest.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async (batch) => void seen.push(...valuesOf(batch)),
        onIdle: () => {
          if (appended) return void latest.stop();
          appended = true;
          log.append('orders', 0, 3, 4);
        },
      }),
    );

    expect(seen).toEqual([3, 4]);
    expect(groups.callsOf('groupFetch').every((c) => (c.body as GroupFetchRequest).autoOffsetReset === 'latest')).toBe(true);
    const plain = consumerOf({ waitMs: 0 });
    await plain.run({ group: 'other', topics: ['orders'], eachBatch: async () => undefined, onIdle: () => void plain.stop() });
    expect(groups.callsOf('groupFetch').filter((c) => c.group === 'other').every((c) => !('autoOffsetReset' in (c.body as object)))).toBe(true);
  });

  it('stop() during a long poll returns at once and leaves', async () => {
    const { clock, groups, consumerOf } = setup(1, 0);
    const consumer = consumerOf({ waitMs: 5_000 });
    const running = consumer.run({ group: 'g', topics: ['orders'], eachBatch: async () => undefined });
    await settle();
    expect(groups.callsOf('groupFetch')).toHaveLength(1); // waiting out its 5 s on the clock
    const before = clock.now();

    await consumer.stop();
    await running;

    expect(clock.now()).toBe(before); // no time had to pass
    expect(groups.callsOf('leaveGroup')).toHaveLength(1);
  });

  it('does not long-poll by default: a fetch that finds nothing is followed by a 1 s pause, one that finds records is not', async () => {
    const { clock, log, groups, consumerOf } = setup(1, 2);
    const consumer = consumerOf();
    const fetchedAt: number[] = [];
    groups.beforeFetch = async () => void fetchedAt.push(clock.now());
    let idle = 0;
    const running = clock.drive(
      consumer.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async () => undefined,
        onIdle: () => {
          idle += 1;
          if (idle === 1) log.append('orders', 0, 2); // found by the fetch after the pause
          if (idle === 2) void consumer.stop();
        },
      }),
    );
    await running;
    const requests = groups.callsOf('groupFetch').map((c) => c.body as GroupFetchRequest);
    expect(requests.every((r) => r.waitMs === 0)).toBe(true);
    // Records at once, then nothing: a pause of 1 s; then the appended record (no pause after it), then nothing.
    const gaps = fetchedAt.slice(1).map((t, i) => t - fetchedAt[i]!);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    expect(gaps[0]).toBeLessThan(1_000);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_000);
    expect(gaps[2]).toBeLessThan(1_000);
  });
});
