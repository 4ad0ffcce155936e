import { describe, expect, it } from 'vitest';
import { HeldPartitions, keyOf } from '../../../lib/client/held-partitions.js';
import type { Assignment } from '../../../lib/client/types.js';

const lease = (partition: number, leaseToken: string): Assignment => ({ topic: 't', partition, leaseToken, committedOffset: null });
const membership = (...assignments: Assignment[]) => ({ memberId: 'm', heartbeatIntervalMs: 1_000, assignments });

function sent(held: HeldPartitions) {
  const under = new Map<string, string>();
  return { positions: held.positionsToSend(under), under };
}

describe('HeldPartitions', () => {
  it('sends the positions it reached, each with the lease it was reached under', () => {
    const held = new HeldPartitions();
    held.apply(membership(lease(0, 'a'), lease(1, 'b')));
    held.advance(keyOf({ topic: 't', partition: 1 }), 7);

    const { positions, under } = sent(held);

    expect(positions).toEqual([{ topic: 't', partition: 1, offset: 7 }]);
    expect([...under]).toEqual([[keyOf({ topic: 't', partition: 1 }), 'b']]);
  });

  it('forgets the position of a lease that changed token or owner, and keeps the others', () => {
    const held = new HeldPartitions();
    held.apply(membership(lease(0, 'a'), lease(1, 'b'), lease(2, 'c')));
    for (const p of [0, 1, 2]) held.advance(keyOf({ topic: 't', partition: p }), 10 + p);

    held.apply(membership(lease(0, 'a'), lease(1, 'b-after-reset')));

    expect(sent(held).positions).toEqual([{ topic: 't', partition: 0, offset: 10 }]);
    expect(held.list().map((h) => h.leaseToken)).toEqual(['a', 'b-after-reset']);
  });

  it('never trusts a token a commit was refused for, even if a late heartbeat lists it again', () => {
    const held = new HeldPartitions();
    held.apply(membership(lease(0, 'a')));
    held.drop(keyOf({ topic: 't', partition: 0 }), 'a');

    held.apply(membership(lease(0, 'a')));
    expect(held.size).toBe(0);
    expect(held.nothingAssigned).toBe(false); // the coordinator did list it: not idle, only waiting for a new lease

    held.apply(membership(lease(0, 'a2')));
    expect(held.holds(keyOf({ topic: 't', partition: 0 }), 'a2')).toBe(true);
  });

  it('tells when a fetch left out a partition it holds', () => {
    const held = new HeldPartitions();
    held.apply(membership(lease(0, 'a'), lease(1, 'b')));
    const batch = (partition: number) => ({ topic: 't', partition, leaseToken: 'x', records: [], nextOffset: 0, endOffset: 0 });

    expect(held.missingFrom([batch(0), batch(1)])).toBe(false);
    expect(held.missingFrom([batch(1)])).toBe(true);
  });
});
