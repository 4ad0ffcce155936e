import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acknowledge,
  acquirable,
  acquire,
  compact,
  completeArchive,
  emptyWindow,
  expand,
  MAX_IN_FLIGHT_RECORDS,
  pendingArchives,
  sameState,
  settle,
  skipTo,
  windowEnd,
  windowStats,
  type AckType,
  type ArchivePolicy,
  type RecordState,
  type ShareWindow,
} from '../../../lib/share-groups/share-window.js';

/*
 * The window logic under any interleaving of acquire / accept / release / reject / renew / expire (time passing,
 * then `settle`), dead-letter completion, retention and appends, checked against a model of what each record
 * did. The invariants are docs/design.md's invariant 9 and the share-groups section:
 * - no record is held by two receipts: an acquisition only takes records no live lock holds;
 * - delivery counts only grow, and never pass maxDeliveries;
 * - the start offset moves only over accepted or archived records (or below the log's start, after retention);
 * - an accepted or archived record is never delivered again;
 * - every record is delivered until accepted or archived: draining the log at the end reaches its end;
 * - an ack applies exactly when its receipt holds the record (else FENCED), and the window stays canonical and
 *   within MAX_IN_FLIGHT_RECORDS.
 */

type Op =
  | { kind: 'append'; n: number }
  | { kind: 'acquire'; max: number; lockMs: number }
  | { kind: 'ack'; type: AckType; pick: number; stale: boolean }
  | { kind: 'time'; ms: number }
  | { kind: 'settle' }
  | { kind: 'complete'; pick: number }
  | { kind: 'retention'; n: number }
  | { kind: 'policy'; maxDeliveries: number; deadLetter: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('acquire' as const), max: fc.integer({ min: 1, max: 30 }), lockMs: fc.integer({ min: 1, max: 5_000 }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('ack' as const),
      type: fc.constantFrom<AckType>('accept', 'accept', 'release', 'reject', 'renew'),
      pick: fc.nat(),
      stale: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 4_000 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'settle' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('complete' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retention' as const), n: fc.integer({ min: 1, max: 10 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('policy' as const), maxDeliveries: fc.integer({ min: 1, max: 6 }), deadLetter: fc.boolean() }) },
);

/** What the model knows of one offset: an independent, record-by-record account of the state machine. */
interface Known {
  deliveries: number;
  /** Accepted, archived, or removed by retention: never delivered again. */
  done: boolean;
  /** Waiting for its dead-letter copy, in this batch. */
  archiving?: number;
  /** The receipt that holds it, its lock's end and length (absent: nobody holds it). */
  held?: { receipt: string; deadline: number; lockMs: number };
}

/** The window must be canonical: see `compact`. */
function expectCanonical(w: ShareWindow): void {
  if (w.runs.length === 0) return;
  expect(['accepted', 'archived']).not.toContain(w.runs[0]!.state.kind);
  expect(sameState(w.runs.at(-1)!.state, { kind: 'available', deliveries: 0 })).toBe(false);
  w.runs.forEach((run, i) => {
    expect(run.count).toBeGreaterThan(0);
    if (i > 0) expect(sameState(run.state, w.runs[i - 1]!.state)).toBe(false);
  });
  expect(windowEnd(w) - w.startOffset).toBeLessThanOrEqual(MAX_IN_FLIGHT_RECORDS);
}

/** The window says of every offset what the model says: below the start only done records, then state by state. */
function expectAgrees(w: ShareWindow, known: ReadonlyMap<number, Known>, logEnd: number): void {
  const states = expand(w);
  for (let o = 0; o < Math.max(logEnd, windowEnd(w)) + 1; o++) {
    const k = known.get(o) ?? { deliveries: 0, done: false };
    if (o < w.startOffset) {
      expect(k.done, `offset ${o} is below the start ${w.startOffset} but not done`).toBe(true);
      continue;
    }
    const s: RecordState = states[o - w.startOffset] ?? { kind: 'available', deliveries: 0 };
    const where = `offset ${o}: ${JSON.stringify(s)} vs ${JSON.stringify(k)}`;
    if (k.done) expect(['accepted', 'archived'], where).toContain(s.kind);
    else if (k.archiving !== undefined) expect(s, where).toEqual({ kind: 'archiving', deliveries: k.deliveries, batch: k.archiving, reason: expect.any(String) });
    else if (k.held) expect(s, where).toEqual({ kind: 'acquired', deliveries: k.deliveries, ...k.held });
    else expect(s, where).toEqual({ kind: 'available', deliveries: k.deliveries });
  }
}

function run(ops: readonly Op[]) {
  let now = 1_000_000;
  let w = emptyWindow(0);
  let logStart = 0;
  let logEnd = 0;
  let receipts = 0;
  let batches = 0;
  let maxDeliveries = 3;
  let deadLetter = false;
  const known = new Map<number, Known>();
  const acquisitions: Array<{ offset: number; receipt: string }> = [];
  const knownOf = (o: number): Known => {
    if (!known.has(o)) known.set(o, { deliveries: 0, done: false });
    return known.get(o)!;
  };
  const nextPolicy = (): ArchivePolicy => ({ maxDeliveries, deadLetterBatch: deadLetter ? ++batches : null });
  /** The model's archive: done at once, or pending in the step's dead-letter batch. */
  const archive = (k: Known, policy: ArchivePolicy) => {
    delete k.held;
    if (policy.deadLetterBatch === null) k.done = true;
    else k.archiving = policy.deadLetterBatch;
  };
  /** The model's settle: expired locks end; records at maxDeliveries that nobody holds are archived. */
  const settleModel = (policy: ArchivePolicy) => {
    for (const k of known.values()) {
      if (k.done || k.archiving !== undefined) continue;
      if (k.held && k.held.deadline <= now) delete k.held;
      if (!k.held && k.deliveries >= policy.maxDeliveries) archive(k, policy);
    }
  };
  const apply = (next: ShareWindow) => {
    expectCanonical(next);
    expect(next.startOffset).toBeGreaterThanOrEqual(w.startOffset);
    expect(next.archived).toBeGreaterThanOrEqual(w.archived);
    w = next;
    expectAgrees(w, known, logEnd);
  };

  for (const o of ops) {
    switch (o.kind) {
      case 'append':
        logEnd += o.n;
        break;
      case 'time':
        now += o.ms;
        break;
      case 'policy':
        maxDeliveries = o.maxDeliveries;
        deadLetter = o.deadLetter;
        break;
      case 'settle': {
        const policy = nextPolicy();
        settleModel(policy);
        apply(settle(w, now, policy));
        break;
      }
      case 'acquire': {
        const policy = nextPolicy();
        settleModel(policy);
        apply(settle(w, now, policy));
        const offsets = acquirable(w, o.max).filter((off) => off >= logStart && off < logEnd);
        const receipt = `r${++receipts}`;
        for (const off of offsets) {
          const k = knownOf(off);
          // Invariant 9: one receipt at a time, never after done or archived, never past maxDeliveries.
          expect(k.done, `offset ${off} delivered again after it was done`).toBe(false);
          expect(k.archiving, `offset ${off} delivered while archiving`).toBeUndefined();
          expect(k.held, `offset ${off} handed to a second receipt`).toBeUndefined();
          expect(k.deliveries).toBeLessThan(maxDeliveries);
          k.deliveries += 1;
          k.held = { receipt, deadline: now + o.lockMs, lockMs: o.lockMs };
          acquisitions.push({ offset: off, receipt });
        }
        apply(acquire(w, offsets, { receipt, lockMs: o.lockMs }, now));
        break;
      }
      case 'ack': {
        if (acquisitions.length === 0) break;
        const target = acquisitions[o.pick % acquisitions.length]!;
        const receipt = o.stale ? `${target.receipt}-stale` : target.receipt;
        const k = knownOf(target.offset);
        const holds = !k.done && k.held?.receipt === receipt;
        const policy = nextPolicy();
        const result = acknowledge(w, [{ offset: target.offset, receipt, type: o.type }], now, policy);
        expect(result.applied, `${o.type} by ${receipt} of ${JSON.stringify(k)}`).toEqual([holds]);
        if (holds) {
          if (o.type === 'accept') {
            k.done = true;
            delete k.held;
          } else if (o.type === 'renew') k.held = { ...k.held!, deadline: now + k.held!.lockMs };
          else if (o.type === 'reject' || k.deliveries >= policy.maxDeliveries) archive(k, policy);
          else delete k.held;
        }
        apply(result.window);
        break;
      }
      case 'complete': {
        const pending = [...pendingArchives(w).keys()];
        if (pending.length === 0) break;
        const batch = pending[o.pick % pending.length]!;
        for (const k of known.values()) {
          if (k.archiving === batch) {
            delete k.archiving;
            k.done = true;
          }
        }
        apply(completeArchive(w, batch));
        break;
      }
      case 'retention':
        logStart = Math.min(logEnd, logStart + o.n);
        for (let off = 0; off < logStart; off++) {
          const k = knownOf(off);
          delete k.held;
          delete k.archiving;
          k.done = true;
        }
        apply(skipTo(w, logStart));
        break;
    }
    const stats = windowStats(w, now);
    expect(stats.acquired + stats.available).toBeLessThanOrEqual(stats.inFlight);
  }
  return { w, now, logStart, logEnd, maxDeliveries, known };
}

describe('the share-partition window', () => {
  it('keeps every invariant under any interleaving of acquire, acks, expiry, dead-letter completion and retention', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        run(ops);
      }),
      { numRuns: 400 },
    );
  });

  it('delivers every record until it is accepted or archived: draining reaches the end of the log', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const state = run(ops);
        let { w, now } = state;
        const delivered = new Set<number>();
        for (let round = 0; round < 100 && (w.startOffset < state.logEnd || w.runs.length > 0); round++) {
          for (const batch of pendingArchives(w).keys()) w = completeArchive(w, batch);
          now += 10_000;
          w = settle(w, now, { maxDeliveries: state.maxDeliveries, deadLetterBatch: null });
          const offsets = acquirable(w, MAX_IN_FLIGHT_RECORDS).filter((o) => o < state.logEnd);
          for (const o of offsets) {
            expect(state.known.get(o)?.done ?? false, `offset ${o} redelivered after it was done`).toBe(false);
            delivered.add(o);
          }
          w = acquire(w, offsets, { receipt: `drain${round}`, lockMs: 1 }, now);
          w = acknowledge(w, offsets.map((offset) => ({ offset, receipt: `drain${round}`, type: 'accept' as const })), now, { maxDeliveries: 99, deadLetterBatch: null }).window;
        }
        expect(w.runs).toEqual([]);
        expect(w.startOffset).toBe(Math.max(state.logEnd, state.logStart));
        // Everything not done before the drain was delivered by it, or archived: already delivered maxDeliveries
        // times, or waiting for its dead-letter copy.
        for (let o = state.logStart; o < state.logEnd; o++) {
          const k = state.known.get(o) ?? { deliveries: 0, done: false };
          if (!k.done) expect(delivered.has(o) || k.archiving !== undefined || k.deliveries >= state.maxDeliveries, `offset ${o}`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('stops acquiring at the in-flight bound while the front record is held', () => {
    let w = acquire(emptyWindow(10), [10], { receipt: 'front', lockMs: 1_000 }, 0);
    const rest = acquirable(w, 10_000);
    expect(rest).toHaveLength(MAX_IN_FLIGHT_RECORDS - 1);
    w = acquire(w, rest, { receipt: 'rest', lockMs: 1_000 }, 0);
    w = acknowledge(w, rest.map((offset) => ({ offset, receipt: 'rest', type: 'accept' as const })), 0, { maxDeliveries: 5, deadLetterBatch: null }).window;
    expect(acquirable(w, 10)).toEqual([]);
    expect(w.runs).toHaveLength(2);
    w = acknowledge(w, [{ offset: 10, receipt: 'front', type: 'accept' }], 0, { maxDeliveries: 5, deadLetterBatch: null }).window;
    expect(w).toEqual({ startOffset: 10 + MAX_IN_FLIGHT_RECORDS, runs: [], archived: 0 });
  });

  it('archives a record whose lock expires on its last delivery, through the dead-letter batch when there is a topic', () => {
    const policy = { maxDeliveries: 2, deadLetterBatch: 7 };
    let w = emptyWindow(0);
    for (let delivery = 1; delivery <= 2; delivery++) {
      w = settle(w, delivery * 100, policy);
      expect(acquirable(w, 1)).toEqual([0]);
      w = acquire(w, [0], { receipt: `r${delivery}`, lockMs: 10 }, delivery * 100);
    }
    w = settle(w, 1_000, policy);
    expect(acquirable(w, 1)).toEqual([1]);
    expect(pendingArchives(w)).toEqual(new Map([[7, [{ offset: 0, deliveries: 2, reason: 'max-deliveries' }]]]));
    expect(w.archived).toBe(1);
    expect(completeArchive(w, 7)).toEqual({ startOffset: 1, runs: [], archived: 1 });
  });

  it('compacts a window of runs: done front dropped, never-delivered tail implicit, equal neighbours merged', () => {
    const a = { kind: 'acquired' as const, deliveries: 1, receipt: 'r', deadline: 5, lockMs: 5 };
    const w = compact(3, [{ kind: 'accepted' }, a, a, { kind: 'archived' }, { kind: 'available', deliveries: 0 }], 4);
    expect(w).toEqual({ startOffset: 4, runs: [{ count: 2, state: a }, { count: 1, state: { kind: 'archived' } }], archived: 4 });
  });
});
