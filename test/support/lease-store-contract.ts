import { describe, expect, it } from 'vitest';
import type { LeaseStore, MemberRecord, TakeLease } from '../../lib/groups/lease-store.js';

/**
 * What every {@link LeaseStore} does, as the coordinator relies on it: run against `DynamoLeaseStore` on
 * DynamoDB Local (test/integration/groups/dynamo-lease-store.test.ts) and against the in-memory fake the unit
 * tests of lib/groups use (test/unit/groups/memory-lease-store.test.ts), so the fake cannot drift from the
 * real store. Every lost race is a return value, never an exception.
 * @param store the store under test (called in each test, after the file's `beforeAll`).
 */
export function leaseStoreContract(name: string, store: () => LeaseStore): void {
  let seq = 0;
  /** A group name no other test uses (the table may be shared by the whole file). */
  const group = () => `contract-${++seq}-${Date.now()}`;
  const member = (memberId: string, sessionExpiresAtMs: number): MemberRecord => ({
    memberId,
    session: `${memberId}-session`,
    topics: ['orders'],
    sessionTimeoutMs: 10_000,
    sessionExpiresAtMs,
  });
  const partition = { topic: 'orders', partition: 0 };
  const take = (over: Partial<TakeLease> = {}): TakeLease => ({
    partition,
    topicId: 'X1',
    expected: null,
    owner: 'a',
    ownerSession: 'a-session',
    newToken: 'T1',
    now: 1,
    ...over,
  });
  const commit = { partition, topicId: 'X1', memberId: 'a', leaseToken: 'T1', offset: 4, now: 1 };

  describe(`${name} (the LeaseStore contract)`, () => {
    it('renews a live session by its own timeout, and refuses an unknown member or an expired session', async () => {
      const [s, g] = [store(), group()];
      await s.putMember(g, member('a', 5_000));
      expect(await s.renewMember(g, 'a', 4_999)).toMatchObject({ memberId: 'a', sessionExpiresAtMs: 14_999 });
      expect(await s.renewMember(g, 'a', 14_999)).toBeNull();
      expect(await s.renewMember(g, 'nobody', 0)).toBeNull();
    });

    it('deletes a member and answers with what was deleted, and null when there was nothing', async () => {
      const [s, g] = [store(), group()];
      await s.putMember(g, member('a', 5_000));
      expect(await s.deleteMember(g, 'a')).toEqual(member('a', 5_000));
      expect(await s.deleteMember(g, 'a')).toBeNull();
      expect(await s.loadGroup(g)).toEqual({ members: [], leases: [], subscriptions: [], activeAt: null });
    });

    it('loads one group’s members and leases, and nothing of another group', async () => {
      const [s, g, other] = [store(), group(), group()];
      await s.putMember(g, member('a', 5_000));
      await s.takeLease(g, take());
      await s.putMember(other, member('b', 5_000));
      const records = await s.loadGroup(g);
      expect(records.members).toEqual([member('a', 5_000)]);
      expect(records.leases).toEqual([
        { topic: 'orders', partition: 0, topicId: 'X1', owner: 'a', ownerSession: 'a-session', leaseToken: 'T1', committedOffset: null, committedToken: null, updatedAt: 1 },
      ]);
    });

    it('lets one of two takes of the same lease as read win, and tells a retried winning take it won', async () => {
      const [s, g] = [store(), group()];
      expect(await s.takeLease(g, take())).toMatchObject({ owner: 'a', leaseToken: 'T1' });
      expect(await s.takeLease(g, take({ owner: 'b', ownerSession: 'b-session', newToken: 'T2' }))).toBeNull();
      expect(await s.takeLease(g, take())).toMatchObject({ owner: 'a', leaseToken: 'T1' });
      const read = await s.getLease(g, partition);
      expect(await s.takeLease(g, take({ expected: read, owner: 'b', ownerSession: 'b-session', newToken: 'T2' }))).toMatchObject({ owner: 'b' });
      expect(await s.takeLease(g, take({ expected: read, owner: 'c', ownerSession: 'c-session', newToken: 'T3' }))).toBeNull();
    });

    it('keeps the committed offset across a take of the same incarnation and drops it for another', async () => {
      const [s, g] = [store(), group()];
      await s.takeLease(g, take());
      expect(await s.commitOffset(g, commit)).toBe('ok');
      const kept = await s.takeLease(g, take({ expected: await s.getLease(g, partition), owner: 'b', newToken: 'T2' }));
      expect(kept).toMatchObject({ committedOffset: 4, topicId: 'X1' });
      const dropped = await s.takeLease(g, take({ expected: kept, topicId: 'X2', owner: 'c', newToken: 'T3' }));
      expect(dropped).toMatchObject({ committedOffset: null, committedToken: null, topicId: 'X2' });
    });

    it('releases a lease only for its holder with its token, and tells a retried release it won', async () => {
      const [s, g] = [store(), group()];
      await s.takeLease(g, take());
      expect(await s.releaseLease(g, partition, 'b', 'T1')).toBe(false);
      expect(await s.releaseLease(g, partition, 'a', 'T0')).toBe(false);
      expect(await s.releaseLease(g, partition, 'a', 'T1')).toBe(true);
      expect(await s.getLease(g, partition)).toMatchObject({ owner: null, ownerSession: null, leaseToken: 'T1' });
      expect(await s.releaseLease(g, partition, 'a', 'T1')).toBe(true);
    });

    it('stores a commit only for the owner, with its token, of the same incarnation', async () => {
      const [s, g] = [store(), group()];
      await s.takeLease(g, take());
      expect(await s.commitOffset(g, { ...commit, memberId: 'b' })).toBe('fenced');
      expect(await s.commitOffset(g, { ...commit, leaseToken: 'T0' })).toBe('fenced');
      expect(await s.commitOffset(g, { ...commit, topicId: 'X2' })).toBe('fenced');
      expect(await s.commitOffset(g, { ...commit, partition: { topic: 'orders', partition: 1 } })).toBe('fenced');
      expect(await s.getLease(g, partition)).toMatchObject({ committedOffset: null });
      expect(await s.commitOffset(g, commit)).toBe('ok');
      expect(await s.getLease(g, partition)).toMatchObject({ committedOffset: 4, committedToken: 'T1' });
    });

    it('recognizes a retried commit whose first attempt won after the lease moved, and no other offset', async () => {
      const [s, g] = [store(), group()];
      await s.takeLease(g, take());
      expect(await s.commitOffset(g, commit)).toBe('ok');
      await s.takeLease(g, take({ expected: await s.getLease(g, partition), owner: 'b', newToken: 'T2' }));
      expect(await s.commitOffset(g, commit)).toBe('ok');
      expect(await s.commitOffset(g, { ...commit, offset: 5 })).toBe('fenced');
      expect(await s.commitOffset(g, { ...commit, topicId: 'X2' })).toBe('fenced');
    });

    it('resets an offset with a new token, keeping the owner but fencing its commits under the old token', async () => {
      const [s, g] = [store(), group()];
      await s.takeLease(g, take());
      await s.commitOffset(g, commit);
      const reset = await s.resetOffset(g, { partition, topicId: 'X1', offset: 1, newToken: 'T9', now: 2 });
      expect(reset).toMatchObject({ owner: 'a', leaseToken: 'T9', committedOffset: 1, committedToken: null });
      expect(await s.commitOffset(g, commit)).toBe('fenced');
      expect(await s.getLease(g, partition)).toMatchObject({ committedOffset: 1 });
    });

    it('creates a lease by a reset in a group that never had it', async () => {
      const [s, g] = [store(), group()];
      expect(await s.getLease(g, partition)).toBeNull();
      expect(await s.resetOffset(g, { partition, topicId: 'X1', offset: 3, newToken: 'T1', now: 2 })).toEqual({
        topic: 'orders',
        partition: 0,
        topicId: 'X1',
        owner: null,
        ownerSession: null,
        leaseToken: 'T1',
        committedOffset: 3,
        committedToken: null,
        updatedAt: 2,
      });
    });

    it('registers a group once, however often it is registered, keeping the first time', async () => {
      const [s, g] = [store(), group()];
      await s.registerGroup(g, 1);
      await s.registerGroup(g, 2);
      expect((await s.listGroups()).filter((x) => x === g)).toEqual([g]);
      expect(await s.getRegistryEntry(g)).toEqual({ group: g, createdAt: 1 });
      await s.unregisterGroup(g);
      await s.unregisterGroup(g);
      expect(await s.getRegistryEntry(g)).toBeNull();
      expect(await s.listGroups()).not.toContain(g);
    });

    it('records when a lease was last taken, committed or reset', async () => {
      const [s, g] = [store(), group()];
      await s.takeLease(g, take({ now: 5 }));
      await s.commitOffset(g, { ...commit, now: 6 });
      expect(await s.getLease(g, partition)).toMatchObject({ updatedAt: 6 });
      await s.releaseLease(g, partition, 'a', 'T1');
      expect(await s.getLease(g, partition)).toMatchObject({ updatedAt: 6 });
      expect(await s.resetOffset(g, { partition, topicId: 'X1', offset: 1, newToken: 'T2', now: 7 })).toMatchObject({ updatedAt: 7 });
    });

    it('keeps subscriptions by topic, idempotently with the first time, apart from other groups', async () => {
      const [s, g, other] = [store(), group(), group()];
      await s.putSubscription(g, 'orders', 1);
      await s.putSubscription(g, 'orders', 2);
      await s.putSubscription(g, 'payments', 3);
      await s.putSubscription(other, 'audit', 4);
      const expected = [
        { topic: 'orders', subscribedAt: 1 },
        { topic: 'payments', subscribedAt: 3 },
      ];
      expect(await s.loadSubscriptions(g)).toEqual(expected);
      expect((await s.loadGroup(g)).subscriptions).toEqual(expected);
      expect(await s.deleteSubscription(g, 'orders')).toBe(true);
      expect(await s.deleteSubscription(g, 'orders')).toBe(false);
      expect(await s.loadSubscriptions(g)).toEqual([{ topic: 'payments', subscribedAt: 3 }]);
    });

    it('ends a lease whoever holds it, keeping token and offset, and creates none', async () => {
      const [s, g] = [store(), group()];
      await s.takeLease(g, take());
      await s.commitOffset(g, commit);
      await s.endLease(g, partition);
      expect(await s.getLease(g, partition)).toMatchObject({ owner: null, ownerSession: null, leaseToken: 'T1', committedOffset: 4 });
      expect(await s.commitOffset(g, { ...commit, offset: 5 })).toBe('fenced');
      await s.endLease(g, { topic: 'orders', partition: 9 });
      expect(await s.getLease(g, { topic: 'orders', partition: 9 })).toBeNull();
    });

    it('records activity forward only, and refreshes without creating unless asked to create', async () => {
      const [s, g] = [store(), group()];
      expect(await s.recordActivity(g, 5, { create: false })).toBe(false);
      expect((await s.loadGroup(g)).activeAt).toBeNull();
      expect(await s.recordActivity(g, 5, { create: true })).toBe(true);
      expect(await s.recordActivity(g, 4, { create: true })).toBe(false);
      expect(await s.recordActivity(g, 5, { create: false })).toBe(false);
      expect(await s.recordActivity(g, 8, { create: false })).toBe(true);
      expect((await s.loadGroup(g)).activeAt).toBe(8);
    });

    it('deletes a member record only once its session has ended', async () => {
      const [s, g] = [store(), group()];
      await s.putMember(g, member('a', 5_000));
      expect(await s.deleteMemberIfExpired(g, 'a', 4_999)).toBe(false);
      expect((await s.loadGroup(g)).members).toHaveLength(1);
      expect(await s.deleteMemberIfExpired(g, 'a', 5_000)).toBe(true);
      expect(await s.deleteMemberIfExpired(g, 'nobody', 0)).toBe(true);
      expect((await s.loadGroup(g)).members).toEqual([]);
    });

    it('deletes a group’s items kind by kind, at most as many as asked, never its members', async () => {
      const [s, g] = [store(), group()];
      await s.putMember(g, member('a', 5_000));
      for (const p of [0, 1, 2]) await s.takeLease(g, take({ partition: { topic: 'orders', partition: p }, newToken: `T${p}` }));
      await s.putSubscription(g, 'orders', 1);
      await s.recordActivity(g, 1, { create: true });
      expect(await s.deleteGroupItems(g, 'leases', 2)).toBe(2);
      expect((await s.loadGroup(g)).leases).toHaveLength(1);
      expect(await s.deleteGroupItems(g, 'leases', 2)).toBe(1);
      expect(await s.deleteGroupItems(g, 'subscriptions', 10)).toBe(1);
      expect(await s.deleteGroupItems(g, 'activity', 10)).toBe(1);
      expect(await s.deleteGroupItems(g, 'activity', 10)).toBe(0);
      expect(await s.loadGroup(g)).toEqual({ members: [member('a', 5_000)], leases: [], subscriptions: [], activeAt: null });
    });

    it('pages through the registry in name order, resuming after a group', async () => {
      const s = store();
      const prefix = `contract-registry-${++seq}-${Date.now()}`;
      const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
      for (const [i, name] of [...names].reverse().entries()) await s.registerGroup(name, i);
      const seen: string[] = [];
      let after: string | null = prefix;
      for (let pages = 0; pages < 10; pages++) {
        const page = await s.listRegistry(after, 2);
        const mine = page.entries.filter((e) => e.group.startsWith(prefix));
        seen.push(...mine.map((e) => e.group));
        if (!page.more || mine.length < page.entries.length) break;
        after = page.entries.at(-1)!.group;
      }
      expect(seen).toEqual(names);
      expect((await s.listRegistry(names[1]!, 1)).entries).toEqual([{ group: names[2], createdAt: 0 }]);
    });

    it('stores the expiry cursor, with or without a group to resume after', async () => {
      const s = store();
      await s.putExpiryCursor({ after: 'g', restUntil: 0 });
      expect(await s.getExpiryCursor()).toEqual({ after: 'g', restUntil: 0 });
      await s.putExpiryCursor({ after: null, restUntil: 9 });
      expect(await s.getExpiryCursor()).toEqual({ after: null, restUntil: 9 });
    });
  });
}
