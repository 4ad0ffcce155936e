import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemberNotFoundError, TopicNotFoundError } from '../../../lib/errors.js';
import type { GroupService, Membership } from '../../../lib/groups/group-service.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { groupHarness } from './fakes.js';

const SESSION_MS = 9_000;

/** Heartbeats every member, round after round (a heartbeat interval apart), until a round changes nothing. */
async function settle(groups: GroupService, clock: { now: number }, ids: readonly string[]): Promise<Map<string, Membership>> {
  let last = '';
  for (let round = 0; round < 20; round++) {
    const latest = new Map<string, Membership>();
    for (const id of ids) latest.set(id, await groups.heartbeat('g', id));
    const seen = JSON.stringify([...latest]);
    if (seen === last) return latest;
    last = seen;
    clock.now += SESSION_MS / 3;
  }
  throw new Error('the group did not settle in 20 rounds');
}

describe('membership', () => {
  it('settles any number of members over any number of partitions: ⌊P/N⌋ or ⌈P/N⌉ each, one owner per partition', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 24 }), async (n, p) => {
        const { groups, topics, clock } = groupHarness();
        topics.create('t', p);
        await groups.subscribe('g', 't');
        const ids = Array.from({ length: n }, (_, i) => `m${i}`);
        for (const id of ids) await groups.join('g', { topics: ['t'], memberId: id, sessionTimeoutMs: SESSION_MS });
        const settled = await settle(groups, clock, ids);
        const held = ids.map((id) => settled.get(id)!.assignments.map((a) => a.partition));
        for (const h of held) expect([Math.floor(p / n), Math.ceil(p / n)]).toContain(h.length);
        expect(held.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: p }, (_, i) => i));
      }),
      { numRuns: 40 },
    );
  });

  it('hands a silent member’s leases to the others at their first heartbeat after its session ends', async () => {
    const { groups, topics, clock } = groupHarness();
    topics.create('t', 4);
    await groups.subscribe('g', 't');
    for (const id of ['a', 'b']) await groups.join('g', { topics: ['t'], memberId: id, sessionTimeoutMs: SESSION_MS });
    await settle(groups, clock, ['a', 'b']); // both heartbeat last at the clock's current time
    for (let i = 0; i < 2; i++) {
      clock.now += SESSION_MS / 3; // b's session is still live: nothing moves yet
      expect((await groups.heartbeat('g', 'a')).assignments).toHaveLength(2);
    }
    clock.now += SESSION_MS / 3; // b's session ends now
    expect((await groups.heartbeat('g', 'a')).assignments).toHaveLength(4);
    await expect(groups.heartbeat('g', 'b')).rejects.toBeInstanceOf(MemberNotFoundError);
  });

  it('refuses a heartbeat or a leave once the session expired, and frees a leaving member’s leases at once', async () => {
    const { groups, topics, clock } = groupHarness();
    topics.create('t', 2);
    await groups.subscribe('g', 't');
    await groups.join('g', { topics: ['t'], memberId: 'a', sessionTimeoutMs: SESSION_MS });
    await groups.join('g', { topics: ['t'], memberId: 'b', sessionTimeoutMs: SESSION_MS });
    await groups.leave('g', 'a');
    expect((await groups.heartbeat('g', 'b')).assignments).toHaveLength(2);
    clock.now += SESSION_MS;
    await expect(groups.heartbeat('g', 'b')).rejects.toBeInstanceOf(MemberNotFoundError);
    await expect(groups.leave('g', 'b')).rejects.toBeInstanceOf(MemberNotFoundError);
  });

  it('gives a member that rejoins under the same id new lease tokens, so its old session cannot commit', async () => {
    const { groups, topics } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    const first = await groups.join('g', { topics: ['t'], memberId: 'm' });
    const again = await groups.join('g', { topics: ['t'], memberId: 'm' });
    expect(again.assignments[0]!.leaseToken).not.toBe(first.assignments[0]!.leaseToken);
    await expect(groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: first.assignments[0]!.leaseToken }])).rejects.toThrow(
      /refused/,
    );
  });

  it('asks for a heartbeat every third of the session', async () => {
    const { groups, topics } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    expect((await groups.join('g', { topics: ['t'], sessionTimeoutMs: 9_001 })).heartbeatIntervalMs).toBe(3_000);
    expect((await groups.join('g', { topics: ['t'] })).heartbeatIntervalMs).toBe(10_000); // the default 30 s session
  });

  it('registers a group again at its first member only (a subscription registered it), and refuses a subscribed topic deleted since', async () => {
    class Counting extends MemoryLeaseStore {
      registrations = 0;
      override async registerGroup(group: string, now: number): Promise<void> {
        this.registrations++;
        return super.registerGroup(group, now);
      }
    }
    const store = new Counting();
    const { groups, topics } = groupHarness({ store });
    topics.create('t', 2);
    await groups.subscribe('g', 't');
    topics.create('gone', 1);
    await groups.subscribe('g', 'gone');
    topics.delete('gone');
    store.registrations = 0;
    await groups.join('g', { topics: ['t'], memberId: 'a' });
    await groups.join('g', { topics: ['t'], memberId: 'b' });
    expect(store.registrations).toBe(1);
    expect(await groups.list()).toEqual([{ group: 'g', members: 2 }]);
    await expect(groups.join('g', { topics: ['t', 'gone'], memberId: 'c' })).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  it('takes over a re-created topic’s partitions with new tokens and nothing committed', async () => {
    const { groups, topics } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    const first = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: first.assignments[0]!.leaseToken }]);
    topics.delete('t');
    expect((await groups.heartbeat('g', 'm')).assignments).toEqual([]);
    topics.create('t', 1);
    const [lease] = (await groups.heartbeat('g', 'm')).assignments;
    expect(lease).toMatchObject({ partition: 0, committedOffset: null });
    expect(lease!.leaseToken).not.toBe(first.assignments[0]!.leaseToken);
  });
});
