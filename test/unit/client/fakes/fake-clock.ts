import type { Clock } from '../../../../lib/client/clock.js';

/**
 * A {@link Clock} whose time moves only when a test says so: `advance(ms)` runs every timer due on the way, at
 * its own time, and lets the promises it starts settle before the next one. No real time passes.
 */
export class FakeClock implements Clock {
  private time: number;
  private order = 0;
  private timers: Array<{ due: number; order: number; callback: () => void }> = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(callback: () => void, ms: number): () => void {
    const timer = { due: this.time + Math.max(0, ms), order: this.order++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Timers scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, running the timers due on the way in order (`advance(0)`: those due now). */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      const next = this.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.order - b.order)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.due);
      next.callback();
    }
    this.time = Math.max(this.time, target);
    await settle();
  }

  /**
   * Settles `work`, moving time on by `stepMs` whenever it waits for a timer (a backoff, a pause, a long poll).
   * @throws when it has not settled after `maxMs` of fake time.
   */
  async drive<T>(work: Promise<T>, stepMs = 100, maxMs = 120_000): Promise<T> {
    let done = false;
    work.then(
      () => (done = true),
      () => (done = true),
    );
    for (let waited = 0; !done; waited += stepMs) {
      if (waited > maxMs) throw new Error(`still waiting after ${maxMs} ms of fake time`);
      await this.advance(stepMs);
    }
    return work;
  }
}

/**
 * Lets every promise chain that can move on without time do so: a few turns of the event loop, which drains
 * the microtask and `nextTick` queues (and stream events) in between. Not a sleep: no timer is involved.
 */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
