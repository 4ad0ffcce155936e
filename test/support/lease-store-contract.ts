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
      expect(await s.loadGroup(g)).toEqual({ members: [], leases: [] });
    });

    it('loads one group’s members and leases, and nothing of another group', async () => {
      const [s, g, other] = [store(), group(), group()];
      await s.putMember(g, member('a', 5_000));
      await s.takeLease(g, take());
      await s.putMember(other, member('b', 5_000));
      const records = await s.loadGroup(g);
      expect(records.members).toEqual([member('a', 5_000)]);
      expect(records.leases).toEqual([
        { topic: 'orders', partition: 0, topicId: 'X1', owner: 'a', ownerSession: 'a-session', leaseToken: 'T1', committedOffset: null, committedToken: null },
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
      });
    });

    it('registers a group once, however often it is registered', async () => {
      const [s, g] = [store(), group()];
      await s.registerGroup(g, 1);
      await s.registerGroup(g, 2);
      expect((await s.listGroups()).filter((x) => x === g)).toEqual([g]);
    });
  });
}
