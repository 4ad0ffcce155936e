import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fairShare,
  planHeartbeat,
  type HeartbeatPlan,
  type MemberView,
  type PartitionView,
} from '../../../lib/groups/assignment.js';

/** A group where every member subscribes to the same topics (the case API.md's balance promise is about). */
interface Scenario {
  readonly members: MemberView[];
  readonly partitions: PartitionView[];
}

const TOPICS = ['a', 'b', 'c'];

/** Members m0..m(n-1) on `topics` topics of 1..12 partitions, with random (possibly dead) owners. */
const scenario = fc
  .record({
    n: fc.integer({ min: 1, max: 8 }),
    sizes: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 3 }),
    ownerSeed: fc.array(fc.integer({ min: -3, max: 7 }), { minLength: 36, maxLength: 36 }),
  })
  .map(({ n, sizes, ownerSeed }): Scenario => {
    const topics = TOPICS.slice(0, sizes.length);
    const members = Array.from({ length: n }, (_, i) => ({ memberId: `m${i}`, topics }));
    const partitions: PartitionView[] = [];
    let k = 0;
    sizes.forEach((size, t) => {
      for (let p = 0; p < size; p++) {
        const seed = ownerSeed[k++ % ownerSeed.length]!;
        // Negative: free; beyond n: a member that died (its lease counts as free).
        partitions.push({ topic: topics[t]!, partition: p, owner: seed < 0 ? null : `m${seed}` });
      }
    });
    return { members, partitions };
  });

/** Applies a plan as the lease store would, all writes winning (heartbeats run one at a time). */
function apply(state: PartitionView[], me: string, plan: HeartbeatPlan): PartitionView[] {
  const key = (p: { topic: string; partition: number }) => `${p.topic}/${p.partition}`;
  const release = new Set(plan.release.map(key));
  const take = new Set(plan.take.map(key));
  return state.map((p) => {
    if (release.has(key(p))) return { ...p, owner: null };
    if (take.has(key(p))) return { ...p, owner: me };
    if (plan.steal && key(plan.steal.partition) === key(p)) return { ...p, owner: me };
    return p;
  });
}

const isEmpty = (plan: HeartbeatPlan) => plan.take.length === 0 && plan.release.length === 0 && plan.steal === null;

function loads(members: MemberView[], state: PartitionView[]): Map<string, number> {
  const out = new Map(members.map((m) => [m.memberId, 0]));
  for (const p of state) if (p.owner !== null && out.has(p.owner)) out.set(p.owner, out.get(p.owner)! + 1);
  return out;
}

/**
 * Runs rounds of heartbeats (each member once per round, in an order shuffled by `order`) until a whole round
 * changes nothing, or `maxRounds` pass.
 */
function settle(members: MemberView[], start: PartitionView[], order: number[], maxRounds: number) {
  let state = start;
  for (let round = 0; round < maxRounds; round++) {
    const turn = members
      .map((m, i) => ({ m, key: order[(i + round) % order.length]! }))
      .sort((x, y) => x.key - y.key)
      .map((x) => x.m);
    let changed = false;
    for (const m of turn) {
      const plan = planHeartbeat(m.memberId, members, state);
      if (!isEmpty(plan)) {
        changed = true;
        state = apply(state, m.memberId, plan);
      }
    }
    if (!changed) return { state, rounds: round, settled: true };
  }
  return { state, rounds: maxRounds, settled: false };
}

function expectBalanced(members: MemberView[], state: PartitionView[]): void {
  const p = state.length;
  const n = members.length;
  for (const [, load] of loads(members, state)) {
    expect(load).toBeGreaterThanOrEqual(Math.floor(p / n));
    expect(load).toBeLessThanOrEqual(Math.ceil(p / n));
  }
  expect(state.every((x) => x.owner !== null && members.some((m) => m.memberId === x.owner))).toBe(true);
}

describe('planHeartbeat (property-based)', () => {
  it('settles every group into ⌊P/N⌋ or ⌈P/N⌉ leases per member with every partition owned', () => {
    fc.assert(
      fc.property(scenario, fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), ({ members, partitions }, order) => {
        const { state, settled } = settle(members, partitions, order, 4 * (partitions.length + members.length) + 10);
        expect(settled).toBe(true);
        expectBalanced(members, state);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves members beyond the partition count with nothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), (p, extra) => {
        const members = Array.from({ length: p + extra }, (_, i) => ({ memberId: `m${i}`, topics: ['a'] }));
        const partitions = Array.from({ length: p }, (_, i) => ({ topic: 'a', partition: i, owner: null }));
        const { state } = settle(members, partitions, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 200);
        const held = [...loads(members, state).values()];
        expect(held.filter((l) => l === 1)).toHaveLength(p);
        expect(held.filter((l) => l === 0)).toHaveLength(extra);
      }),
    );
  });

  it('plans nothing for anyone in a settled group, so a heartbeat writes only the member record', () => {
    fc.assert(
      fc.property(scenario, ({ members, partitions }) => {
        const { state } = settle(members, partitions, [0, 1, 2, 3, 4, 5, 6, 7], 200);
        for (const m of members) expect(isEmpty(planHeartbeat(m.memberId, members, state))).toBe(true);
      }),
    );
  });

  it('steals at most one lease per heartbeat, only when nothing is free, from a most loaded member', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ members, partitions }, who) => {
        const me = members[who % members.length]!.memberId;
        const plan = planHeartbeat(me, members, partitions);
        if (plan.steal === null) return;
        const live = new Set(members.map((m) => m.memberId));
        expect(partitions.some((p) => p.owner === null || !live.has(p.owner))).toBe(false);
        const load = loads(members, partitions);
        const max = Math.max(...[...load].filter(([id]) => id !== me).map(([, l]) => l));
        expect(load.get(plan.steal.from)).toBe(max);
        expect(plan.steal.from).not.toBe(me);
        expect(plan.take).toHaveLength(0);
      }),
      { numRuns: 500 },
    );
  });

  it('never takes a lease a live member holds, and never takes a member above its ceil', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ members, partitions }, who) => {
        const me = members[who % members.length]!.memberId;
        const plan = planHeartbeat(me, members, partitions);
        const live = new Set(members.map((m) => m.memberId));
        for (const t of plan.take) {
          const owner = partitions.find((p) => p.topic === t.topic && p.partition === t.partition)!.owner;
          expect(owner === null || !live.has(owner)).toBe(true);
        }
        const after = loads(members, apply(partitions, me, plan)).get(me)!;
        const before = loads(members, partitions).get(me)!;
        const { ceil } = fairShare(me, members, partitions);
        expect(after).toBeLessThanOrEqual(Math.max(ceil, before));
      }),
      { numRuns: 500 },
    );
  });

  it('moves a silent member’s leases to the others within one round of heartbeats', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 10 }), ({ members, partitions }, dead, order) => {
        fc.pre(members.length >= 2);
        const { state } = settle(members, partitions, [0, 1, 2, 3, 4, 5, 6, 7], 200);
        const survivors = members.filter((_, i) => i !== dead % members.length);
        // One heartbeat of each survivor, in a random order.
        const round = [...survivors].sort((x, y) => ((order[survivors.indexOf(x) % order.length] ?? 0) - (order[survivors.indexOf(y) % order.length] ?? 0)));
        let next = state;
        for (const m of round) next = apply(next, m.memberId, planHeartbeat(m.memberId, survivors, next));
        const live = new Set(survivors.map((m) => m.memberId));
        expect(next.every((p) => p.owner !== null && live.has(p.owner))).toBe(true);
        expectBalanced(survivors, settle(survivors, next, [0, 1, 2, 3, 4, 5, 6], 200).state);
      }),
      { numRuns: 300 },
    );
  });

  it('gives back leases above ⌈P/N⌉ when a member joins a settled group', () => {
    const topics = ['a'];
    const old = [{ memberId: 'x', topics }, { memberId: 'y', topics }];
    const partitions = Array.from({ length: 10 }, (_, i) => ({ topic: 'a', partition: i, owner: i < 5 ? 'x' : 'y' }));
    const members = [...old, { memberId: 'z', topics }];
    const plan = planHeartbeat('x', members, partitions);
    expect(plan.release).toHaveLength(1); // ⌈10/3⌉ = 4
    expect(plan.take).toHaveLength(0);
    expectBalanced(members, settle(members, partitions, [2, 0, 1], 200).state);
  });

  it('gives up the leases of a topic the member no longer subscribes to', () => {
    const members = [{ memberId: 'x', topics: ['b'] }, { memberId: 'y', topics: ['a'] }];
    const partitions = [
      { topic: 'a', partition: 0, owner: 'x' },
      { topic: 'b', partition: 0, owner: null },
    ];
    const plan = planHeartbeat('x', members, partitions);
    expect(plan.release).toEqual([{ topic: 'a', partition: 0 }]);
    expect(plan.take).toEqual([{ topic: 'b', partition: 0 }]);
  });

  it('leaves no partition unowned when members subscribe to different topics', () => {
    fc.assert(
      fc.property(
        fc.array(fc.subarray(TOPICS, { minLength: 1 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        (subscriptions, sizes, order) => {
          const members = subscriptions.map((topics, i) => ({ memberId: `m${i}`, topics }));
          const subscribed = new Set(subscriptions.flat());
          const partitions = TOPICS.filter((t) => subscribed.has(t)).flatMap((topic, t) =>
            Array.from({ length: sizes[t]! }, (_, partition) => ({ topic, partition, owner: null })),
          );
          const { state, settled } = settle(members, partitions, order, 200);
          expect(settled).toBe(true);
          for (const p of state) {
            expect(p.owner).not.toBeNull();
            expect(members.find((m) => m.memberId === p.owner)!.topics).toContain(p.topic);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('gives an unknown member an empty plan', () => {
    expect(planHeartbeat('ghost', [{ memberId: 'a', topics: ['a'] }], [{ topic: 'a', partition: 0, owner: null }])).toEqual({
      take: [],
      release: [],
      steal: null,
    });
  });
});
