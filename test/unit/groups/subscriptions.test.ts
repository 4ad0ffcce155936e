import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, NotSubscribedError, TopicNotFoundError } from '../../../lib/errors.js';
import { MAX_SUBSCRIPTIONS_PER_GROUP } from '../../../lib/groups/group-service.js';
import { groupHarness } from './fakes.js';

const fetchAll = { limit: 100, maxBytes: 1 << 20, waitMs: 0 };

describe('subscriptions (docs/api.md v1.1)', () => {
  it('creates the group at its first subscription, idempotently, and refuses a topic that does not exist', async () => {
    const { groups, topics, store } = groupHarness();
    topics.create('t', 1);
    expect(await groups.subscribe('g', 't')).toEqual({ group: 'g', topic: 't' });
    expect(await groups.subscribe('g', 't')).toEqual({ group: 'g', topic: 't' });
    expect(await store.listGroups()).toEqual(['g']);
    expect((await groups.describe('g')).subscriptions).toEqual(['t']);
    await expect(groups.subscribe('h', 'missing')).rejects.toBeInstanceOf(TopicNotFoundError);
    expect(await store.listGroups()).toEqual(['g']);
    expect(await store.loadGroup('h')).toEqual({ members: [], leases: [], subscriptions: [], activeAt: null });
  });

  it('refuses a join, fetch position, commit or reset on a topic the group is not subscribed to, naming the PUT, writing nothing', async () => {
    const { groups, topics, store } = groupHarness();
    topics.create('t', 1);
    topics.create('secret', 1);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    const before = await store.loadGroup('g');

    const joined = await groups.join('g', { topics: ['t', 'secret'], memberId: 'n' }).catch((e: unknown) => e);
    expect(joined).toBeInstanceOf(NotSubscribedError);
    expect((joined as Error).message).toContain('PUT /v1/groups/g/subscriptions/secret');
    await expect(groups.fetch('g', 'm', { ...fetchAll, positions: [{ topic: 'secret', partition: 0, offset: 0 }] })).rejects.toBeInstanceOf(
      NotSubscribedError,
    );
    await expect(
      groups.commit('g', 'm', [
        { topic: 't', partition: 0, offset: 0, leaseToken: assignments[0]!.leaseToken },
        { topic: 'secret', partition: 0, offset: 0, leaseToken: assignments[0]!.leaseToken },
      ]),
    ).rejects.toBeInstanceOf(NotSubscribedError);
    await expect(groups.resetOffsets('g', { topic: 'secret', to: 'earliest' })).rejects.toBeInstanceOf(NotSubscribedError);

    expect(await store.loadGroup('g')).toEqual(before);
  });

  it('refuses a join without topics while the group has no subscription, naming the PUT', async () => {
    const { groups } = groupHarness();
    const refused = await groups.join('g', { memberId: 'm' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NotSubscribedError);
    expect((refused as Error).message).toContain('PUT /v1/groups/g/subscriptions/{topic}');
  });

  it('gives a member that joined without topics every subscription, including one added after its join', async () => {
    const { groups, topics } = groupHarness();
    topics.create('a', 1);
    topics.create('b', 2);
    await groups.subscribe('g', 'a');
    const joined = await groups.join('g', { memberId: 'm' });
    expect(joined.assignments.map((a) => a.topic)).toEqual(['a']);
    await groups.subscribe('g', 'b');
    const beat = await groups.heartbeat('g', 'm');
    expect(beat.assignments.map((a) => `${a.topic}/${a.partition}`)).toEqual(['a/0', 'b/0', 'b/1']);
  });

  it('ends the topic’s leases at an unsubscribe, fencing their commits, and keeps the committed offset for a later subscription', async () => {
    const { groups, topics, log } = groupHarness();
    log.append(topics.create('t', 1), 0, 5);
    topics.create('u', 1);
    await groups.subscribe('g', 't');
    await groups.subscribe('g', 'u');
    const { assignments } = await groups.join('g', { memberId: 'm' });
    const t0 = assignments.find((a) => a.topic === 't')!;
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 3, leaseToken: t0.leaseToken }]);

    await groups.unsubscribe('g', 't');
    await groups.unsubscribe('g', 't');
    expect((await groups.heartbeat('g', 'm')).assignments.map((a) => a.topic)).toEqual(['u']);
    expect((await groups.fetch('g', 'm', fetchAll)).map((b) => b.topic)).toEqual(['u']);
    await expect(groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 4, leaseToken: t0.leaseToken }])).rejects.toBeInstanceOf(
      NotSubscribedError,
    );
    const described = await groups.describe('g');
    expect(described.subscriptions).toEqual(['u']);
    expect(described.partitions.find((p) => p.topic === 't')).toMatchObject({ owner: null, committedOffset: 3 });

    await groups.subscribe('g', 't');
    const back = (await groups.heartbeat('g', 'm')).assignments.find((a) => a.topic === 't')!;
    expect(back.committedOffset).toBe(3);
    expect(back.leaseToken).not.toBe(t0.leaseToken);
    expect((await groups.fetch('g', 'm', fetchAll)).find((b) => b.topic === 't')!.records.map((r) => r.offset)).toEqual([3, 4]);
  });

  it('limits how many topics a group subscribes to, re-subscribing an existing one always', async () => {
    const { groups, topics } = groupHarness();
    for (let i = 0; i <= MAX_SUBSCRIPTIONS_PER_GROUP; i++) topics.create(`t${i}`, 1);
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_GROUP; i++) await groups.subscribe('g', `t${i}`);
    await expect(groups.subscribe('g', `t${MAX_SUBSCRIPTIONS_PER_GROUP}`)).rejects.toBeInstanceOf(InvalidRequestError);
    expect(await groups.subscribe('g', 't0')).toEqual({ group: 'g', topic: 't0' });
  });

  it('never lets a member read a topic outside the subscriptions, whatever it names and whatever is unsubscribed', async () => {
    const names = ['a', 'b', 'c'];
    await fc.assert(
      fc.asyncProperty(
        fc.subarray(names, { minLength: 1 }),
        fc.subarray(names),
        fc.option(fc.subarray(names, { minLength: 1 }), { nil: undefined }),
        async (subscribed, unsubscribed, named) => {
          const { groups, topics, log } = groupHarness();
          for (const n of names) log.append(topics.create(n, 2), 0, 1);
          for (const n of subscribed) await groups.subscribe('g', n);
          const joined = await groups.join('g', { memberId: 'm', ...(named ? { topics: named } : {}) }).catch((e: unknown) => e);
          if (joined instanceof NotSubscribedError) {
            expect(named?.some((n) => !subscribed.includes(n))).toBe(true);
            return;
          }
          for (const n of unsubscribed) await groups.unsubscribe('g', n);
          const allowed = subscribed.filter((n) => !unsubscribed.includes(n) && (named === undefined || named.includes(n)));
          const beat = await groups.heartbeat('g', 'm');
          for (const a of beat.assignments) expect(allowed).toContain(a.topic);
          for (const b of await groups.fetch('g', 'm', fetchAll)) expect(allowed).toContain(b.topic);
        },
      ),
      { numRuns: 60 },
    );
  });
});
