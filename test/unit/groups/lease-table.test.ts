import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SESSION_TIMEOUT_MS } from '../../../lib/groups/session.js';
import {
  activityKey,
  decodeExpiryCursor,
  decodeGroup,
  decodeLease,
  decodeRegistryEntry,
  encodeMember,
  encodeSubscription,
  expressionNames,
  groupItemPrefix,
  groupPk,
  LEASE,
  leaseKey,
  memberKey,
  memberTtlSeconds,
  registryKey,
  renewedMemberTtlSeconds,
  subscriptionKey,
} from '../../../lib/groups/lease-table.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../../../lib/storage/tables.js';

const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/);
const member = fc.record({
  memberId: name,
  session: fc.uuid(),
  topics: fc.option(fc.array(name, { maxLength: 4 }), { nil: null }),
  sessionTimeoutMs: fc.integer({ min: 3_000, max: MAX_SESSION_TIMEOUT_MS }),
  sessionExpiresAtMs: fc.integer({ min: 0, max: 2 ** 45 }),
});

describe('lease table layout', () => {
  it('reads back the member record a join writes, keyed under its group, with a TTL past its session', () => {
    fc.assert(
      fc.property(name, member, (group, m) => {
        const item = encodeMember(group, m);
        expect(decodeGroup([item])).toEqual({ members: [m], leases: [], subscriptions: [], activeAt: null });
        expect(item).toMatchObject(memberKey(group, m.memberId));
        expect((item[TTL_ATTRIBUTE] as number) * 1000).toBeGreaterThan(m.sessionExpiresAtMs);
      }),
    );
  });

  it('gives a renewed member a TTL past the longest session it may have', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (now) => {
        expect(renewedMemberTtlSeconds(now)).toBe(memberTtlSeconds(now + MAX_SESSION_TIMEOUT_MS));
        expect(renewedMemberTtlSeconds(now) * 1000).toBeGreaterThan(now + MAX_SESSION_TIMEOUT_MS);
      }),
    );
  });

  it('sorts a group Query into members, leases, subscriptions and activity, skipping items of other kinds', () => {
    const lease = {
      ...leaseKey('g', { topic: 'orders', partition: 3 }),
      topic: 'orders',
      partition: 3,
      topicId: 'X1',
      owner: 'm',
      ownerSession: 's',
      leaseToken: 'T1',
      committedOffset: 7,
      committedToken: 'T1',
      updatedAt: 1,
    };
    const other = { [PARTITION_KEY]: 'group#g', [SORT_KEY]: 'share#orders#3' };
    const m = { memberId: 'm', session: 's', topics: ['orders'], sessionTimeoutMs: 3_000, sessionExpiresAtMs: 5_000 };
    const subscription = encodeSubscription(groupPk('g'), { topic: 'orders', subscribedAt: 2 });
    const activity = { ...activityKey('g'), activeAt: 9 };
    expect(decodeGroup([activity, lease, other, encodeMember('g', m), subscription])).toEqual({
      members: [m],
      leases: [
        { topic: 'orders', partition: 3, topicId: 'X1', owner: 'm', ownerSession: 's', leaseToken: 'T1', committedOffset: 7, committedToken: 'T1', updatedAt: 1 },
      ],
      subscriptions: [{ topic: 'orders', subscribedAt: 2 }],
      activeAt: 9,
    });
  });

  it('decodes a released lease without owner or committed offset as nulls', () => {
    expect(decodeLease({ ...leaseKey('g', { topic: 't', partition: 0 }), topic: 't', partition: 0, leaseToken: 'T' })).toEqual({
      topic: 't',
      partition: 0,
      topicId: null,
      owner: null,
      ownerSession: null,
      leaseToken: 'T',
      committedOffset: null,
      committedToken: null,
      updatedAt: null,
    });
  });

  it('writes a member that reads every subscription without a topics attribute, and reads one written before v1.1 with it', () => {
    const follower = { memberId: 'm', session: 's', topics: null, sessionTimeoutMs: 3_000, sessionExpiresAtMs: 5_000 };
    expect(encodeMember('g', follower)).not.toHaveProperty('topics');
    expect(decodeGroup([{ ...encodeMember('g', follower), topics: ['orders'] }]).members[0]!.topics).toEqual(['orders']);
  });

  it('selects each kind of a group’s items by a sort-key prefix no other kind starts with', () => {
    const keys = {
      subscriptions: subscriptionKey('g', 'orders'),
      leases: leaseKey('g', { topic: 'orders', partition: 0 }),
      activity: activityKey('g'),
    } as const;
    const others = [memberKey('g', 'activity'), memberKey('g', 'sub#x'), ...Object.values(keys)];
    for (const [kind, key] of Object.entries(keys) as Array<[keyof typeof keys, (typeof keys)[keyof typeof keys]]>) {
      expect(key[PARTITION_KEY]).toBe(groupPk('g'));
      const prefix = groupItemPrefix(kind);
      expect(others.filter((k) => k[SORT_KEY].startsWith(prefix))).toEqual([key]);
    }
  });

  it('reads registry entries and the expiry cursor, an absent cursor as the start of a round', () => {
    expect(decodeRegistryEntry({ ...registryKey('g'), group: 'g', createdAt: 5 })).toEqual({ group: 'g', createdAt: 5 });
    expect(decodeExpiryCursor(undefined)).toEqual({ after: null, restUntil: 0 });
    expect(decodeExpiryCursor({ after: 'g', restUntil: 7 })).toEqual({ after: 'g', restUntil: 7 });
  });

  it('keys the registry apart from every group, so listing groups reads no member or lease', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(registryKey(a)[PARTITION_KEY]).not.toBe(memberKey(b, 'm')[PARTITION_KEY]);
      }),
    );
  });

  it('names attributes in expressions by placeholders of their logical names', () => {
    expect(expressionNames(LEASE, 'owner', 'leaseToken', 'sk')).toEqual({ '#owner': 'owner', '#leaseToken': 'leaseToken', '#sk': SORT_KEY });
  });
});
