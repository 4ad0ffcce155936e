import { describe, expect, it } from 'vitest';
import { GroupNotEmptyError, GroupNotFoundError, NotSubscribedError } from '../../../lib/errors.js';
import {
  EXPIRY_GROUPS_PER_PASS,
  EXPIRY_ROUND_REST_MS,
  GROUP_IDLE_BEFORE_EXPIRY_MS,
  GROUP_RETENTION_MS,
} from '../../../lib/groups/group-deletion.js';
import { groupHarness } from './fakes.js';

const EMPTY = { members: [], leases: [], subscriptions: [], activeAt: null };
const fetchAll = { limit: 100, maxBytes: 1 << 20, waitMs: 0 };

/**
 * A group as v1.0 left it in the lease table: a member record with its topics, a lease with a committed offset,
 * a registry entry, and no subscription, no activity item, no `updatedAt` on the lease.
 */
async function preV11Group(h: ReturnType<typeof groupHarness>, group: string, createdAt: number) {
  const t = h.topics.create('t', 1);
  h.log.append(t, 0, 5);
  await h.store.registerGroup(group, createdAt);
  await h.store.putMember(group, { memberId: 'old', session: 's', topics: ['t'], sessionTimeoutMs: 3_000, sessionExpiresAtMs: createdAt + 3_000 });
  await h.store.takeLease(group, { partition: { topic: 't', partition: 0 }, topicId: t.topicId, expected: null, owner: 'old', ownerSession: 's', newToken: 'OLD', now: createdAt });
  await h.store.commitOffset(group, { partition: { topic: 't', partition: 0 }, topicId: t.topicId, offset: 2, memberId: 'old', leaseToken: 'OLD', now: createdAt });
  // v1.0 never wrote `updatedAt`: make the lease look like it.
  const lease = (await h.store.getLease(group, { topic: 't', partition: 0 }))!;
  await h.store.resetOffset(group, { partition: lease, topicId: t.topicId, offset: 2, newToken: 'OLD2', now: createdAt });
  (h.store as unknown as { leases: Map<string, Map<string, { updatedAt: number | null }>> }).leases.get(group)!.get('t#0')!.updatedAt = null;
}

describe('deleting a group (DELETE /v1/groups/{group})', () => {
  it('removes its subscriptions, leases, committed offsets and registry entry, after which it is not found', async () => {
    const { groups, topics, store } = groupHarness();
    topics.create('t', 2);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: assignments[0]!.leaseToken }]);
    await groups.leave('g', 'm');

    await groups.delete('g');

    expect(await store.loadGroup('g')).toEqual(EMPTY);
    expect(await store.listGroups()).toEqual([]);
    await expect(groups.describe('g')).rejects.toBeInstanceOf(GroupNotFoundError);
    await expect(groups.delete('g')).rejects.toBeInstanceOf(GroupNotFoundError);
    await expect(groups.join('g', { memberId: 'm' })).rejects.toBeInstanceOf(NotSubscribedError);
  });

  it('refuses with GROUP_NOT_EMPTY while a member’s session is live, deleting nothing, and deletes once it ended', async () => {
    const { groups, topics, store, clock } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    await groups.join('g', { memberId: 'm', sessionTimeoutMs: 3_000 });
    const before = await store.loadGroup('g');

    const refused = await groups.delete('g').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GroupNotEmptyError);
    expect(refused).toMatchObject({ code: 'GROUP_NOT_EMPTY', details: { group: 'g', members: 1 } });
    expect(await store.loadGroup('g')).toEqual(before);

    clock.now += 3_000;
    await groups.delete('g');
    expect(await store.loadGroup('g')).toEqual(EMPTY);
  });

  it('answers GROUP_NOT_FOUND for a group that never existed', async () => {
    const { groups } = groupHarness();
    await expect(groups.delete('nobody')).rejects.toBeInstanceOf(GroupNotFoundError);
  });
});

describe('group expiry (a step of the maintenance pass)', () => {
  it('deletes a group with no live member after 7 idle days, and not a moment before', async () => {
    const { groups, topics, store, clock } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { memberId: 'm', sessionTimeoutMs: 3_000 });
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: assignments[0]!.leaseToken }]);
    await groups.leave('g', 'm');
    const lastCommit = clock.now;

    clock.now = lastCommit + GROUP_RETENTION_MS;
    expect(await groups.expireIdle()).toBe(0);
    clock.now = lastCommit + GROUP_IDLE_BEFORE_EXPIRY_MS - 1;
    await store.putExpiryCursor({ after: null, restUntil: 0 });
    expect(await groups.expireIdle()).toBe(0);
    expect(await store.listGroups()).toEqual(['g']);

    clock.now = lastCommit + GROUP_IDLE_BEFORE_EXPIRY_MS;
    await store.putExpiryCursor({ after: null, restUntil: 0 });
    expect(await groups.expireIdle()).toBe(1);
    expect(await store.listGroups()).toEqual([]);
    expect(await store.loadGroup('g')).toEqual(EMPTY);
  });

  it('keeps a group whose members heartbeat, however long it lives', async () => {
    const { groups, topics, store, clock } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    await groups.join('g', { memberId: 'm', sessionTimeoutMs: 300_000 });
    const end = clock.now + GROUP_IDLE_BEFORE_EXPIRY_MS + 24 * 3_600_000;
    while (clock.now < end) {
      clock.now += 250_000;
      await groups.heartbeat('g', 'm');
      await store.putExpiryCursor({ after: null, restUntil: 0 });
      expect(await groups.expireIdle()).toBe(0);
    }
    expect(await store.listGroups()).toEqual(['g']);
  });

  it('examines a bounded page of the registry per pass, resuming where the last stopped, and rests after a round', async () => {
    const { groups, topics, store, clock } = groupHarness();
    topics.create('t', 1);
    const n = EXPIRY_GROUPS_PER_PASS + 3;
    for (let i = 0; i < n; i++) await groups.subscribe(`g${String(i).padStart(3, '0')}`, 't');
    clock.now += GROUP_IDLE_BEFORE_EXPIRY_MS;

    expect(await groups.expireIdle()).toBe(EXPIRY_GROUPS_PER_PASS);
    expect(await groups.expireIdle()).toBe(3);
    expect(await store.listGroups()).toEqual([]);
    await groups.subscribe('late', 't');
    clock.now += GROUP_IDLE_BEFORE_EXPIRY_MS - 1;
    expect(await groups.expireIdle()).toBe(0);
    expect((await store.getExpiryCursor()).restUntil).toBeGreaterThan(0);
    clock.now += EXPIRY_ROUND_REST_MS + 1;
    expect(await groups.expireIdle()).toBe(1);
  });
});

describe('groups created before v1.1', () => {
  it('are refused with NOT_SUBSCRIBED naming the PUT, then resume from their committed offsets once subscribed', async () => {
    const h = groupHarness();
    await preV11Group(h, 'legacy', h.clock.now - 30 * 24 * 3_600_000);

    const refused = await h.groups.join('legacy', { topics: ['t'], memberId: 'm' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NotSubscribedError);
    expect((refused as Error).message).toContain('PUT /v1/groups/legacy/subscriptions/t');
    expect((await h.groups.describe('legacy')).partitions).toMatchObject([{ topic: 't', partition: 0, owner: null, committedOffset: 2 }]);

    await h.groups.subscribe('legacy', 't');
    const { assignments } = await h.groups.join('legacy', { memberId: 'm' });
    expect(assignments).toMatchObject([{ topic: 't', partition: 0, committedOffset: 2 }]);
    expect((await h.groups.fetch('legacy', 'm', fetchAll))[0]!.records.map((r) => r.offset)).toEqual([2, 3, 4]);
  });

  it('are not expired at the first pass after the upgrade: their 7 days count from that pass', async () => {
    const h = groupHarness();
    await preV11Group(h, 'legacy', h.clock.now - 30 * 24 * 3_600_000);
    const upgrade = h.clock.now;

    expect(await h.groups.expireIdle()).toBe(0);
    expect(await h.store.listGroups()).toEqual(['legacy']);
    expect((await h.store.loadGroup('legacy')).activeAt).toBe(upgrade);

    h.clock.now = upgrade + GROUP_IDLE_BEFORE_EXPIRY_MS;
    await h.store.putExpiryCursor({ after: null, restUntil: 0 });
    expect(await h.groups.expireIdle()).toBe(1);
    expect(await h.store.loadGroup('legacy')).toEqual(EMPTY);
  });
});
