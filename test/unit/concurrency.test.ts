import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapLimit } from '../../lib/concurrency.js';

/** A call log and an in-flight gauge around `fn`, whose promises the fast-check scheduler settles in any order. */
function instrument<T, R>(s: fc.Scheduler, fn: (item: T) => R) {
  const events: string[] = [];
  let inFlight = 0;
  let peak = 0;
  const call = async (item: T, index: number): Promise<R> => {
    events.push(`start ${index}`);
    inFlight++;
    peak = Math.max(peak, inFlight);
    try {
      await s.schedule(Promise.resolve());
      return fn(item);
    } catch (error) {
      events.push(`fail ${index}`);
      throw error;
    } finally {
      inFlight--;
    }
  };
  return { call, events, inFlight: () => inFlight, peak: () => peak };
}

describe('mapLimit', () => {
  it('returns results in the order of the items, whatever order the calls finish in, with exactly `limit` in flight', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.integer(), { maxLength: 30 }), fc.integer({ min: 1, max: 8 }), async (s, items, limit) => {
        const pool = instrument(s, (x: number) => x * 2);
        expect(await s.waitFor(mapLimit(items, limit, pool.call))).toEqual(items.map((x) => x * 2));
        // Never more than the limit, and not fewer either while items wait (it is a pool, not a queue).
        expect(pool.peak()).toBe(Math.min(limit, items.length));
      }),
    );
  });

  it('rejects with the first error, starts no call after it, and returns only once the calls in flight have settled', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }).filter((fails) => fails.includes(true)),
        fc.integer({ min: 1, max: 8 }),
        async (s, fails, limit) => {
          const pool = instrument(s, (i: number) => {
            if (fails[i]) throw new Error(`item ${i}`);
            return i;
          });
          const run = mapLimit(
            fails.map((_, i) => i),
            limit,
            pool.call,
          ).then(
            () => undefined,
            (error: unknown) => ({ error, inFlight: pool.inFlight() }),
          );
          const outcome = await s.waitFor(run);
          const firstFailure = pool.events.findIndex((e) => e.startsWith('fail'));
          expect(outcome).toEqual({ error: new Error(`item ${pool.events[firstFailure]!.slice('fail '.length)}`), inFlight: 0 });
          expect(pool.events.slice(firstFailure).filter((e) => e.startsWith('start'))).toEqual([]);
        },
      ),
    );
  });

  it('calls nothing for no items', async () => {
    let calls = 0;
    expect(await mapLimit([], 4, async () => ++calls)).toEqual([]);
    expect(calls).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s', async (limit) => {
    await expect(mapLimit([1], limit, async (x) => x)).rejects.toBeInstanceOf(RangeError);
  });
});
