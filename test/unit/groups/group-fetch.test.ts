import { describe, expect, it } from 'vitest';
import { MemberNotFoundError, OffsetOutOfRangeError } from '../../../lib/errors.js';
import { groupHarness } from './fakes.js';

const fetchAll = { limit: 100, maxBytes: 1 << 20, waitMs: 0 };
const offsets = (batches: { partition: number; records: { offset: number }[] }[]) =>
  batches.map((b) => [b.partition, b.records.map((r) => r.offset)]);

describe('group fetch', () => {
  it('reads each held partition from its position, else its committed offset, else by the reset policy', async () => {
    const { groups, topics, log } = groupHarness();
    const t = topics.create('t', 3);
    await groups.subscribe('g', 't');
    for (const p of [0, 1, 2]) log.append(t, p, 5);
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 1, offset: 3, leaseToken: assignments[1]!.leaseToken }]);
    const batches = await groups.fetch('g', 'm', { ...fetchAll, positions: [{ topic: 't', partition: 2, offset: 4 }] });
    expect(offsets(batches)).toEqual([
      [0, [0, 1, 2, 3, 4]],
      [1, [3, 4]],
      [2, [4]],
    ]);
    expect(batches.map((b) => [b.leaseToken, b.nextOffset, b.endOffset])).toEqual(assignments.map((a) => [a.leaseToken, 5, 5]));
  });

  it('starts at the end with nothing committed under the `latest` policy', async () => {
    const { groups, topics, log } = groupHarness({ resetPolicy: 'latest' });
    log.append(topics.create('t', 1), 0, 5);
    await groups.subscribe('g', 't');
    await groups.join('g', { topics: ['t'], memberId: 'm' });
    expect(await groups.fetch('g', 'm', fetchAll)).toMatchObject([{ records: [], nextOffset: 5 }]);
  });

  it('starts partitions with nothing committed by the fetch’s own reset policy when it gives one', async () => {
    const { groups, topics, log } = groupHarness({ resetPolicy: 'earliest' });
    const t = topics.create('t', 2);
    await groups.subscribe('g', 't');
    log.append(t, 0, 5);
    log.append(t, 1, 5);
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 1, offset: 2, leaseToken: assignments[1]!.leaseToken }]);
    expect(offsets(await groups.fetch('g', 'm', { ...fetchAll, resetPolicy: 'latest' }))).toEqual([
      [0, []],
      [1, [2, 3, 4]],
    ]);
    expect(offsets(await groups.fetch('g', 'm', fetchAll))).toEqual([
      [0, [0, 1, 2, 3, 4]],
      [1, [2, 3, 4]],
    ]);
  });

  it('applies the reset policy when retention overtook the committed offset, but refuses an explicit position there', async () => {
    const { groups, topics, log } = groupHarness();
    const t = topics.create('t', 1);
    await groups.subscribe('g', 't');
    log.append(t, 0, 10);
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 2, leaseToken: assignments[0]!.leaseToken }]);
    log.expire(t, 0, 8);
    expect(offsets(await groups.fetch('g', 'm', fetchAll))).toEqual([[0, [8, 9]]]);
    await expect(groups.fetch('g', 'm', { ...fetchAll, positions: [{ topic: 't', partition: 0, offset: 2 }] })).rejects.toBeInstanceOf(
      OffsetOutOfRangeError,
    );
  });

  it('bounds the whole response by limit, with an even share per partition to read', async () => {
    const { groups, topics, log } = groupHarness();
    const t = topics.create('t', 4);
    await groups.subscribe('g', 't');
    for (const p of [0, 1, 2, 3]) log.append(t, p, 5);
    await groups.join('g', { topics: ['t'], memberId: 'm' });
    const batches = await groups.fetch('g', 'm', { ...fetchAll, limit: 6 });
    expect(offsets(batches)).toEqual([
      [0, [0, 1]],
      [1, [0, 1]],
      [2, [0, 1]],
      [3, []],
    ]);
    expect(batches[3]!.nextOffset).toBe(0);
  });

  it('long-polls every held partition at its next offset, and reads again when a record arrives', async () => {
    const { groups, topics, log } = groupHarness();
    const t = topics.create('t', 2);
    await groups.subscribe('g', 't');
    log.append(t, 1, 2);
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 1, offset: 2, leaseToken: assignments[1]!.leaseToken }]);
    log.onWait = () => {
      log.append(t, 1, 1);
      return true;
    };
    const batches = await groups.fetch('g', 'm', { ...fetchAll, waitMs: 5_000 });
    expect(log.waits).toEqual([
      {
        positions: [
          { topic: 't', partition: 0, offset: 0 },
          { topic: 't', partition: 1, offset: 2 },
        ],
        waitMs: 5_000,
      },
    ]);
    expect(offsets(batches)).toEqual([
      [0, []],
      [1, [2]],
    ]);
  });

  it('reads a record that arrives during the long poll from where the poll waited, not from the `latest` policy again', async () => {
    const { groups, topics, log } = groupHarness({ resetPolicy: 'latest' });
    const t = topics.create('t', 1);
    await groups.subscribe('g', 't');
    log.append(t, 0, 3);
    await groups.join('g', { topics: ['t'], memberId: 'm' });
    log.onWait = () => {
      log.append(t, 0, 1);
      return true;
    };
    expect(offsets(await groups.fetch('g', 'm', { ...fetchAll, waitMs: 5_000 }))).toEqual([[0, [3]]]);
  });

  it('answers nothing after a long poll that found nothing, and waits politely when it holds no partition', async () => {
    const { groups, topics, log } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    await groups.join('g', { topics: ['t'], memberId: 'a' });
    await groups.join('g', { topics: ['t'], memberId: 'b' });
    const held = (await groups.heartbeat('g', 'a')).assignments.length === 1 ? 'a' : 'b';
    const idle = held === 'a' ? 'b' : 'a';
    expect(offsets(await groups.fetch('g', held, { ...fetchAll, waitMs: 100 }))).toEqual([[0, []]]);
    expect(await groups.fetch('g', idle, { ...fetchAll, waitMs: 100 })).toEqual([]);
    expect(log.waits.map((w) => w.positions.length)).toEqual([1, 0]);
  });

  it('reads no lease of an earlier incarnation of a topic, and refuses a member whose session expired', async () => {
    const { groups, topics, log, clock } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    await groups.join('g', { topics: ['t'], memberId: 'm', sessionTimeoutMs: 5_000 });
    topics.delete('t');
    log.append(topics.create('t', 1), 0, 3);
    expect(await groups.fetch('g', 'm', fetchAll)).toEqual([]);
    clock.now += 5_000;
    await expect(groups.fetch('g', 'm', fetchAll)).rejects.toBeInstanceOf(MemberNotFoundError);
  });
});
