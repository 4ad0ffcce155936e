import { describe, expect, it } from 'vitest';
import { GroupNotFoundError } from '../../../lib/errors.js';
import { groupHarness } from './fakes.js';

describe('describe and list', () => {
  it('reports owners, offsets and lag, counting lag from the reset policy where nothing is committed', async () => {
    const { groups, topics, log, clock } = groupHarness({ resetPolicy: 'earliest' });
    const t = topics.create('t', 2);
    await groups.subscribe('g', 't');
    log.append(t, 0, 10);
    log.append(t, 1, 10);
    log.expire(t, 1, 4);
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm', sessionTimeoutMs: 5_000 });
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 7, leaseToken: assignments[0]!.leaseToken }]);
    expect(await groups.describe('g')).toEqual({
      group: 'g',
      subscriptions: ['t'],
      members: [{ memberId: 'm', expiresAt: clock.now + 5_000, partitions: 2 }],
      partitions: [
        { topic: 't', partition: 0, owner: 'm', committedOffset: 7, endOffset: 10, lag: 3 },
        { topic: 't', partition: 1, owner: 'm', committedOffset: null, endOffset: 10, lag: 6 },
      ],
    });
    clock.now += 5_000;
    expect(await groups.describe('g')).toMatchObject({
      members: [],
      partitions: [
        { partition: 0, owner: null, committedOffset: 7 },
        { partition: 1, owner: null, committedOffset: null },
      ],
    });
    expect(await groups.list()).toEqual([{ group: 'g', members: 0 }]);
  });

  it('counts no lag where nothing is committed under the `latest` policy', async () => {
    const { groups, topics, log } = groupHarness({ resetPolicy: 'latest' });
    log.append(topics.create('t', 1), 0, 10);
    await groups.subscribe('g', 't');
    await groups.join('g', { topics: ['t'], memberId: 'm' });
    expect((await groups.describe('g')).partitions).toEqual([{ topic: 't', partition: 0, owner: 'm', committedOffset: null, endOffset: 10, lag: 0 }]);
  });

  it('refuses a group that has no subscription, no live member and no lease', async () => {
    const { groups } = groupHarness();
    await expect(groups.describe('nobody')).rejects.toBeInstanceOf(GroupNotFoundError);
  });
});
