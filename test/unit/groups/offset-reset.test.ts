import { describe, expect, it } from 'vitest';
import { NotSubscribedError, OffsetOutOfRangeError, PartitionNotFoundError, TopicNotFoundError } from '../../../lib/errors.js';
import { resetOffset, type ResetTarget } from '../../../lib/groups/offset-reset.js';
import { FakeLog, FakeTopics, groupHarness } from './fakes.js';

describe('resetOffset (where a reset target points)', () => {
  const topics = new FakeTopics();
  const log = new FakeLog();
  const t = topics.create('t', 1);
  log.append(t, 0, 10, { timestamp: 1_000 }); // offsets 0..9, timestamps 1000..1009
  log.expire(t, 0, 4); // retention: [4, 10)

  it.each<[string, ResetTarget, number]>([
    ['earliest: the start offset', 'earliest', 4],
    ['latest: the end offset', 'latest', 10],
    ['an offset within the range', { offset: 7 }, 7],
    ['the end offset itself', { offset: 10 }, 10],
    ['the first record at or after a timestamp', { timestamp: 1_006 }, 6],
    ['the first readable record for a timestamp before it', { timestamp: 0 }, 4],
    ['the end offset for a timestamp after every record', { timestamp: 5_000 }, 10],
  ])('resolves %s', async (_, to, expected) => {
    expect(await resetOffset(log, t, 0, to)).toBe(expected);
  });

  it.each([3, 11])('refuses offset %i outside [startOffset, endOffset], naming the partition', async (offset) => {
    const refused = await resetOffset(log, t, 0, { offset }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OffsetOutOfRangeError);
    expect((refused as OffsetOutOfRangeError).details).toMatchObject({ topic: 't', partition: 0, startOffset: 4, endOffset: 10 });
  });
});

describe('resetOffsets', () => {
  it('moves every partition of a topic, and fences the owner with a new token it learns at its next heartbeat', async () => {
    const { groups, topics, log } = groupHarness();
    const t = topics.create('t', 2);
    await groups.subscribe('g', 't');
    log.append(t, 0, 5);
    log.append(t, 1, 3);
    const before = await groups.join('g', { topics: ['t'], memberId: 'm' });
    expect(await groups.resetOffsets('g', { topic: 't', to: 'latest' })).toEqual([
      { topic: 't', partition: 0, offset: 5 },
      { topic: 't', partition: 1, offset: 3 },
    ]);
    const after = await groups.heartbeat('g', 'm');
    expect(after.assignments.map((a) => a.committedOffset)).toEqual([5, 3]);
    for (const [i, a] of after.assignments.entries()) expect(a.leaseToken).not.toBe(before.assignments[i]!.leaseToken);
  });

  it('changes nothing when one partition’s target is out of range', async () => {
    const { groups, topics, log, store } = groupHarness();
    const t = topics.create('t', 2);
    await groups.subscribe('g', 't');
    log.append(t, 0, 5);
    log.append(t, 1, 20);
    const before = await store.loadGroup('g');
    await expect(groups.resetOffsets('g', { topic: 't', to: { offset: 10 } })).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect(await store.loadGroup('g')).toEqual(before);
    expect(before.leases).toEqual([]);
  });

  it('refuses a partition the topic does not have, a subscribed topic deleted since, or an unsubscribed topic, changing nothing', async () => {
    const { groups, topics, store } = groupHarness();
    topics.create('t', 2);
    await groups.subscribe('g', 't');
    topics.create('u', 1);
    await groups.subscribe('g', 'u');
    topics.delete('u');
    topics.create('v', 1);
    const before = await store.loadGroup('g');
    await expect(groups.resetOffsets('g', { topic: 't', partition: 2, to: 'earliest' })).rejects.toBeInstanceOf(PartitionNotFoundError);
    await expect(groups.resetOffsets('g', { topic: 'u', to: 'earliest' })).rejects.toBeInstanceOf(TopicNotFoundError);
    await expect(groups.resetOffsets('g', { topic: 'v', to: 'earliest' })).rejects.toBeInstanceOf(NotSubscribedError);
    await expect(groups.resetOffsets('other', { topic: 't', to: 'earliest' })).rejects.toBeInstanceOf(NotSubscribedError);
    expect(await store.loadGroup('g')).toEqual(before);
    expect(await store.listGroups()).toEqual(['g']);
  });

  it('moves a subscribed group that has no member: a committed offset and no owner', async () => {
    const { groups, topics, log } = groupHarness();
    log.append(topics.create('t', 1), 0, 3);
    await groups.subscribe('g', 't');
    await groups.resetOffsets('g', { topic: 't', partition: 0, to: 'latest' });
    expect(await groups.list()).toEqual([{ group: 'g', members: 0 }]);
    expect((await groups.describe('g')).partitions).toEqual([{ topic: 't', partition: 0, owner: null, committedOffset: 3, endOffset: 3, lag: 0 }]);
  });
});
