import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterLostRace,
  DEFAULT_APPEND_BACKOFF as POLICY,
  delayBeforeFirstAttempt,
  narrow,
  widen,
  windowAt,
  type LostRace,
} from '../../../lib/log/append-retry.js';

const fixed = (r: number) => () => r;
const race = (over: Partial<LostRace> = {}): LostRace => ({
  losses: 2,
  elapsedMs: 0,
  kind: 'condition',
  windowMs: 400,
  quiet: false,
  roundTripMs: 5,
  ...over,
});

const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const anyRace = fc.record({
  losses: fc.integer({ min: 1, max: 1_000_000 }),
  elapsedMs: fc.integer({ min: 0, max: 2 * POLICY.budgetMs }),
  kind: fc.constantFrom<LostRace['kind']>('condition', 'conflict'),
  windowMs: fc.integer({ min: POLICY.baseMs, max: POLICY.capMs }),
  quiet: fc.boolean(),
  roundTripMs: fc.integer({ min: 0, max: 5_000 }),
});

describe('afterLostRace', () => {
  it('retries any number of lost races while the time budget lasts, and gives up once it is spent', () => {
    fc.assert(
      fc.property(anyRace, unit, (r, random) => {
        expect(afterLostRace(r, fixed(random)).retry).toBe(r.elapsedMs < POLICY.budgetMs);
      }),
    );
  });

  it('never sleeps past the budget nor beyond the contention window', () => {
    fc.assert(
      fc.property(anyRace, unit, (r, random) => {
        const decision = afterLostRace(r, fixed(random));
        if (!decision.retry) return;
        expect(decision.delayMs).toBeGreaterThanOrEqual(0);
        expect(decision.delayMs).toBeLessThanOrEqual(POLICY.budgetMs - r.elapsedMs);
        expect(decision.delayMs).toBeLessThanOrEqual(Math.max(POLICY.baseMs, r.windowMs));
      }),
    );
  });

  it('retries the first loss on a quiet partition at once, after the winner, without a read', () => {
    expect(afterLostRace(race({ losses: 1, quiet: true }), fixed(0.9))).toEqual({ retry: true, delayMs: 0, refresh: false });
  });

  it('backs off with full jitter over the window once the partition is contended', () => {
    expect(afterLostRace(race({ losses: 1, quiet: false, windowMs: 400 }), fixed(0.5))).toEqual({ retry: true, delayMs: 200, refresh: true });
    expect(afterLostRace(race({ windowMs: 400 }), fixed(0))).toMatchObject({ delayMs: 0 });
  });

  it('backs off from a transaction conflict even on a quiet partition, and then reads the tails', () => {
    expect(afterLostRace(race({ losses: 1, quiet: true, kind: 'conflict', windowMs: 40 }), fixed(0.5))).toEqual({
      retry: true,
      delayMs: 20,
      refresh: true,
    });
  });

  it('reads the true end after a sleep as long as a round trip, and continues after the winner after a shorter one', () => {
    expect(afterLostRace(race({ windowMs: 400, roundTripMs: 150 }), fixed(0.5))).toMatchObject({ delayMs: 200, refresh: true });
    expect(afterLostRace(race({ windowMs: 400, roundTripMs: 250 }), fixed(0.5))).toMatchObject({ delayMs: 200, refresh: false });
  });

  it('lets a request that has waited longer draw from a narrower window than a fresher one (older first)', () => {
    fc.assert(
      fc.property(anyRace, fc.integer({ min: 0, max: POLICY.budgetMs }), unit, (r, moreMs, random) => {
        const younger = afterLostRace({ ...r, losses: 2, elapsedMs: Math.min(r.elapsedMs, POLICY.budgetMs - 1) }, fixed(random));
        const older = afterLostRace({ ...r, losses: 2, elapsedMs: Math.min(r.elapsedMs + moreMs, POLICY.budgetMs - 1) }, fixed(random));
        if (younger.retry && older.retry) expect(older.delayMs).toBeLessThanOrEqual(younger.delayMs);
      }),
    );
    // Half the budget gone: a quarter of the window.
    expect(afterLostRace(race({ windowMs: 4_000, elapsedMs: POLICY.budgetMs / 2 }), fixed(0.5))).toMatchObject({ delayMs: 500 });
  });
});

describe('the contention window of a partition', () => {
  it('opens at the round trip of the losing attempt (at least baseMs) and doubles with each loss, up to capMs', () => {
    expect(widen(undefined, 0, 3).windowMs).toBe(POLICY.baseMs);
    expect(widen(undefined, 0, 120).windowMs).toBe(120);
    let window = widen(undefined, 0, 0);
    const sizes = [window.windowMs];
    for (let i = 0; i < 12; i++) sizes.push((window = widen(window, 0, 0)).windowMs);
    expect(sizes.slice(0, 4)).toEqual([10, 20, 40, 80]);
    expect(sizes.at(-1)).toBe(POLICY.capMs);
  });

  it('narrows with each win and closes once below baseMs', () => {
    const open = { windowMs: 1_000, atMs: 0 };
    expect(narrow(open, 0).windowMs).toBe(1_000 * POLICY.narrowFactor);
    expect(narrow({ windowMs: POLICY.baseMs, atMs: 0 }, 0).windowMs).toBe(0);
  });

  it('halves every halfLifeMs while nothing happens, and closes below baseMs / 2', () => {
    const open = { windowMs: 1_000, atMs: 50_000 };
    expect(windowAt(open, 50_000)).toBe(1_000);
    expect(windowAt(open, 50_000 + POLICY.halfLifeMs)).toBeCloseTo(500);
    expect(windowAt(open, 50_000 + 10 * POLICY.halfLifeMs)).toBe(0);
    expect(windowAt(undefined, 0)).toBe(0);
  });

  it('makes a new append wait a random part of an open window, and not at all on a quiet partition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: POLICY.capMs }), unit, (windowMs, random) => {
        const delay = delayBeforeFirstAttempt(windowMs, fixed(random));
        expect(delay).toBeGreaterThanOrEqual(0);
        if (windowMs === 0) expect(delay).toBe(0);
        else expect(delay).toBeLessThan(windowMs);
      }),
    );
  });
});
