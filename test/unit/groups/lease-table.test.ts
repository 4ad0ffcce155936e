import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SESSION_TIMEOUT_MS } from '../../../lib/groups/session.js';
import {
  decodeGroup,
  decodeLease,
  encodeMember,
  expressionNames,
  LEASE,
  leaseKey,
  memberKey,
  memberTtlSeconds,
  registryKey,
  renewedMemberTtlSeconds,
} from '../../../lib/groups/lease-table.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../../../lib/storage/tables.js';

const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/);
const member = fc.record({
  memberId: name,
  session: fc.uuid(),
  topics: fc.array(name, { maxLength: 4 }),
  sessionTimeoutMs: fc.integer({ min: 3_000, max: MAX_SESSION_TIMEOUT_MS }),
  sessionExpiresAtMs: fc.integer({ min: 0, max: 2 ** 45 }),
});

describe('lease table layout', () => {
  it('reads back the member record a join writes, keyed under its group, with a TTL past its session', () => {
    fc.assert(
      fc.property(name, member, (group, m) => {
        const item = encodeMember(group, m);
        expect(decodeGroup([item])).toEqual({ members: [m], leases: [] });
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

  it('sorts a group Query into members and leases, skipping items of other kinds', () => {
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
    expect(decodeGroup([lease, other, encodeMember('g', m)])).toEqual({
      members: [m],
      leases: [{ topic: 'orders', partition: 3, topicId: 'X1', owner: 'm', ownerSession: 's', leaseToken: 'T1', committedOffset: 7, committedToken: 'T1' }],
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
    });
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
