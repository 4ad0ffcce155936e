import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currentLeases, ownerOf, partitionKey, resolveTopics } from '../../../lib/groups/group-records.js';
import type { LeaseRecord, MemberRecord } from '../../../lib/groups/lease-store.js';
import type { Topic } from '../../../lib/topics/topic.js';
import { FakeTopics } from './fakes.js';

const lease = (topic: string, partition: number, topicId: string | null, owner: string | null = null, ownerSession: string | null = null): LeaseRecord => ({
  topic,
  partition,
  topicId,
  owner,
  ownerSession,
  leaseToken: `${topic}/${partition}`,
  committedOffset: 3,
  updatedAt: 1,
  committedToken: null,
});
const topic = (name: string, topicId: string, partitions: number): Topic => ({ name, topicId, partitions, retentionHours: 1, createdAt: 0 });
const member = (memberId: string, session: string): MemberRecord => ({
  memberId,
  session,
  topics: [],
  sessionTimeoutMs: 1,
  sessionExpiresAtMs: 1,
});

describe('currentLeases (the incarnation check)', () => {
  it('keeps exactly the leases of an existing topic’s current incarnation and of a partition it still has', () => {
    const arbitraryLease = fc.record({
      topic: fc.constantFrom('a', 'b', 'c'),
      partition: fc.nat(5),
      topicId: fc.constantFrom('a1', 'a2', 'b1', null),
    });
    fc.assert(
      fc.property(fc.uniqueArray(arbitraryLease, { selector: (l) => `${l.topic}#${l.partition}` }), fc.nat(6), (drawn, aPartitions) => {
        // `a` exists as its second incarnation, `b` as its first; `c` was deleted.
        const topics = new Map([
          ['a', topic('a', 'a2', aPartitions)],
          ['b', topic('b', 'b1', 4)],
        ]);
        const leases = drawn.map((l) => lease(l.topic, l.partition, l.topicId));
        const current = currentLeases(leases, topics);
        for (const l of leases) {
          const t = topics.get(l.topic);
          const belongs = t !== undefined && l.topicId === t.topicId && l.partition < t.partitions;
          expect(current.get(partitionKey(l))).toBe(belongs ? l : undefined);
        }
        expect(current.size).toBe(leases.filter((l) => current.has(partitionKey(l))).length);
      }),
    );
  });
});

describe('ownerOf', () => {
  it('names a lease’s owner only while that member is live under the session that took the lease', () => {
    const owner = ownerOf([member('m', 's2'), member('n', 's1')]);
    expect(owner(lease('t', 0, 'x', 'm', 's2'))).toBe('m');
    expect(owner(lease('t', 0, 'x', 'm', 's1'))).toBeNull(); // an earlier session of m
    expect(owner(lease('t', 0, 'x', 'gone', 's1'))).toBeNull(); // not live
    expect(owner(lease('t', 0, 'x'))).toBeNull(); // released
  });
});

describe('resolveTopics', () => {
  it('leaves out topics deleted since a member subscribed', async () => {
    const topics = new FakeTopics();
    topics.create('a', 1);
    const resolved = await resolveTopics(topics, new Set(['a', 'gone']), []);
    expect([...resolved.keys()]).toEqual(['a']);
  });

  it('reads a topic past the cache only when a lease names another incarnation of a partition it has', async () => {
    const topics = new FakeTopics();
    topics.create('a', 2);
    topics.cache('a');
    topics.delete('a');
    const current = topics.create('a', 2);
    // A lease of partition 5 (beyond the cached topic) says nothing about its incarnation: no fresh read.
    expect((await resolveTopics(topics, new Set(['a']), [lease('a', 5, current.topicId)])).get('a')!.topicId).not.toBe(current.topicId);
    expect(topics.reads.filter((r) => r.fresh)).toEqual([]);
    // A lease of partition 1 taken for the new incarnation: the cached topic is the stale one.
    expect((await resolveTopics(topics, new Set(['a']), [lease('a', 1, current.topicId)])).get('a')).toEqual(current);
    expect(topics.reads.filter((r) => r.fresh)).toEqual([{ name: 'a', fresh: true }]);
  });
});
