import { describe, expect, it } from 'vitest';
import { ShardlogClient } from '../../../lib/client/client.js';
import type { EachBatchPayload } from '../../../lib/client/consumer.js';
import { FakeShardlog } from './fake-server.js';

const COMMIT = 'POST /v1/groups/{group}/members/{memberId}/commit';
const HEARTBEAT = 'POST /v1/groups/{group}/members/{memberId}/heartbeat';

function setup(partitions = 2, records = 10) {
  const fake = new FakeShardlog();
  fake.createTopic('orders', partitions);
  const log = fake.topics.get('orders')!.partitions;
  for (let i = 0; i < records; i++) {
    const p = i % partitions;
    log[p]!.push({ offset: log[p]!.length, timestamp: 1, key: null, value: i, headers: {} });
  }
  const client = new ShardlogClient({ url: 'http://127.0.0.1:4000', fetch: fake.fetch, sleep: async () => undefined });
  return { fake, client };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Consumer', () => {
  it('joins, reads every assigned partition, commits after each handled batch and leaves on stop', async () => {
    const { fake, client } = setup(2, 10);
    const consumer = client.consumer({ waitMs: 0 });
    const seen: number[] = [];

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async ({ records }) => {
        seen.push(...records.map((r) => r.value as number));
      },
      onIdle: () => void consumer.stop(),
    });

    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(fake.committed('g', 'orders', 0)).toBe(5);
    expect(fake.committed('g', 'orders', 1)).toBe(5);
    expect(fake.groups.get('g')!.members.size).toBe(0);
    const commit = fake.requestsTo(COMMIT)[0]!.body as { offsets: Array<{ leaseToken: string }> };
    expect(commit.offsets.every((o) => typeof o.leaseToken === 'string')).toBe(true);
  });

  it('resumes from the committed offsets and then from its own positions', async () => {
    const { fake, client } = setup(1, 6);
    const first = client.consumer({ waitMs: 0, maxRecords: 2 });
    let handled = 0;
    await first.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async () => {
        if (++handled === 2) void first.stop();
      },
    });
    expect(fake.committed('g', 'orders', 0)).toBe(4);

    const second = client.consumer({ waitMs: 0 });
    const seen: number[] = [];
    await second.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async ({ records }) => void seen.push(...records.map((r) => r.value as number)),
      onIdle: () => void second.stop(),
    });
    expect(seen).toEqual([4, 5]);
  });

  it('keeps heartbeating while a slow handler works', async () => {
    const { fake, client } = setup(1, 1);
    fake.heartbeatIntervalMs = 10;
    const consumer = client.consumer({ waitMs: 0 });
    let during = 0;

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async () => {
        const before = fake.requestsTo(HEARTBEAT).length;
        await tick(120);
        during = fake.requestsTo(HEARTBEAT).length - before;
      },
      onIdle: () => void consumer.stop(),
    });

    expect(during).toBeGreaterThanOrEqual(4);
  });

  it('does not commit a batch whose handler failed, and run() rejects with the error', async () => {
    const { fake, client } = setup(1, 3);
    const consumer = client.consumer({ waitMs: 0 });

    await expect(
      consumer.run({
        group: 'g',
        topics: ['orders'],
        eachBatch: async () => {
          throw new Error('database down');
        },
      }),
    ).rejects.toThrow('database down');

    expect(fake.requestsTo(COMMIT)).toHaveLength(0);
    expect(fake.committed('g', 'orders', 0)).toBeNull();
    expect(fake.groups.get('g')!.members.size).toBe(0);
  });

  it('never commits for a partition it lost while the handler ran', async () => {
    const { fake, client } = setup(2, 4);
    fake.heartbeatIntervalMs = 10;
    const consumer = client.consumer({ waitMs: 0, memberId: 'a-member' });
    const stale: boolean[] = [];
    let rebalanced = false;

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async (batch: EachBatchPayload) => {
        if (!rebalanced) {
          rebalanced = true;
          // Another member joins; round-robin (by id) hands it partition 0, the one being handled.
          await fake.fetch('http://127.0.0.1:4000/v1/groups/g/members', {
            method: 'POST',
            body: JSON.stringify({ topics: ['orders'], memberId: '0-member' }),
          });
          await tick(50); // a heartbeat or two tells us
        }
        stale.push(batch.isStale());
      },
      onIdle: () => void consumer.stop(),
    });

    const committed = fake.requestsTo(COMMIT).flatMap((r) => (r.body as { offsets: Array<{ partition: number }> }).offsets);
    expect(committed.map((o) => o.partition)).not.toContain(0);
    expect(fake.committed('g', 'orders', 0)).toBeNull();
    expect(fake.committed('g', 'orders', 1)).toBe(2);
    expect(stale).toEqual([true, false]);
  });

  it('drops a partition whose commit was FENCED and does not read it again under the old lease', async () => {
    const { fake, client } = setup(1, 2);
    const consumer = client.consumer({ waitMs: 0 });
    let batches = 0;

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async () => {
        batches++;
        if (batches === 1) {
          // A reset by an operator fences the lease (new token) behind the member's back.
          await client.resetOffsets('g', { topic: 'orders', to: 'earliest' });
        }
      },
      onIdle: () => void consumer.stop(),
    });

    const commits = fake.requestsTo(COMMIT).map((r) => (r.body as { offsets: Array<{ leaseToken: string }> }).offsets[0]!.leaseToken);
    expect(commits).toHaveLength(2);
    // The refused commit changed nothing; the member picked the partition up again under the new token,
    // re-read from the reset offset and committed under that token.
    expect(commits[0]).not.toBe(commits[1]);
    expect(batches).toBe(2);
    expect(fake.committed('g', 'orders', 0)).toBe(2);
  });

  it('picks up a deleted and re-created topic at its next fetch, from the start, without waiting for a heartbeat tick', async () => {
    const { fake, client } = setup(1, 3);
    fake.heartbeatIntervalMs = 60_000; // no scheduled heartbeat during the test
    const consumer = client.consumer({ waitMs: 10 });
    const seen: number[] = [];
    let recreated = false;
    const deadline = setTimeout(() => void consumer.stop(), 2_000);

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async ({ records }) => void seen.push(...records.map((r) => r.value as number)),
      onIdle: () => {
        if (!recreated) {
          recreated = true;
          fake.recreateTopic('orders', 1);
          fake.topics.get('orders')!.partitions[0]!.push(
            { offset: 0, timestamp: 1, key: null, value: 100, headers: {} },
            { offset: 1, timestamp: 1, key: null, value: 101, headers: {} },
          );
        } else if (seen.includes(101)) void consumer.stop();
      },
    });
    clearTimeout(deadline);

    expect(seen).toEqual([0, 1, 2, 100, 101]);
    expect(fake.committed('g', 'orders', 0)).toBe(2);
  });

  it('does not read on from a position reached under an earlier lease (a reset while the fetch was in flight)', async () => {
    const { fake, client } = setup(1, 10);
    fake.heartbeatIntervalMs = 10;
    const consumer = client.consumer({ waitMs: 0, maxRecords: 5 });
    const seen: number[] = [];
    let reset = false;
    fake.beforeHandle = async (request) => {
      const positions = (request.body as { positions?: Array<{ offset: number }> } | undefined)?.positions;
      if (reset || !request.path.endsWith('/fetch') || positions?.[0]?.offset !== 5) return;
      reset = true;
      // An operator resets to earliest; the member's heartbeat learns the new token before this fetch answers,
      // and the fetch reads from the position the member sent (5) under that new lease.
      const lease = fake.groups.get('g')!.leases.get('orders/0')!;
      lease.committed = 0;
      lease.token = 'after-reset';
      while (consumer.assigned[0]?.leaseToken !== 'after-reset') await tick(5);
    };

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async ({ records }) => void seen.push(...records.map((r) => r.value as number)),
      onIdle: () => void consumer.stop(),
    });

    // Read again from the reset offset: nothing between it and the old position was skipped.
    expect(seen).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(fake.committed('g', 'orders', 0)).toBe(10);
  });

  it('rejoins with the same member id after MEMBER_NOT_FOUND', async () => {
    const { fake, client } = setup(1, 1);
    fake.heartbeatIntervalMs = 10;
    const consumer = client.consumer({ waitMs: 0, memberId: 'stable-id' });
    let expired = false;

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async () => {
        if (!expired) {
          expired = true;
          fake.expireMember('g', 'stable-id');
          await tick(60);
        }
      },
      onIdle: () => void consumer.stop(),
    });

    const joins = fake.requestsTo('POST /v1/groups/{group}/members');
    expect(joins.length).toBeGreaterThanOrEqual(2);
    expect(joins.every((j) => (j.body as { memberId: string }).memberId === 'stable-id')).toBe(true);
    expect(fake.committed('g', 'orders', 0)).toBe(1);
  });

  it('commits only up to resolveOffset when the handler resolved part of a batch', async () => {
    const { fake, client } = setup(1, 5);
    const consumer = client.consumer({ waitMs: 0 });

    await consumer.run({
      group: 'g',
      topics: ['orders'],
      eachBatch: async ({ resolveOffset }) => {
        resolveOffset(1);
        void consumer.stop();
      },
    });

    expect(fake.committed('g', 'orders', 0)).toBe(2);
  });

  it('stop() during a long poll returns promptly and leaves', async () => {
    const { fake, client } = setup(1, 0);
    fake.beforeHandle = async (r) => {
      if (r.path.endsWith('/fetch')) await tick(5_000);
    };
    const consumer = client.consumer({ waitMs: 5_000 });
    const running = consumer.run({ group: 'g', topics: ['orders'], eachBatch: async () => undefined });
    await tick(30);

    const started = Date.now();
    await consumer.stop();
    await running;

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.requestsTo('DELETE /v1/groups/{group}/members/{memberId}')).toHaveLength(1);
  });
});
