import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startMaintenanceTimer, type ScheduledEventLike } from '../../../../infra/local/maintenance-timer.js';

function quietLog() {
  return { error: vi.fn() };
}

describe('startMaintenanceTimer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs a pass every interval with a scheduled event', async () => {
    const events: ScheduledEventLike[] = [];
    const timer = startMaintenanceTimer({
      intervalMs: 1000,
      pass: async (event) => void events.push(event),
      log: quietLog(),
    });
    await vi.advanceTimersByTimeAsync(3500);
    await timer.stop();
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event' });
  });

  it('never overlaps two passes: the next waits for a slow one', async () => {
    let running = 0;
    let maxRunning = 0;
    let passes = 0;
    const timer = startMaintenanceTimer({
      intervalMs: 100,
      pass: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        running--;
        passes++;
      },
      log: quietLog(),
    });
    await vi.advanceTimersByTimeAsync(3000);
    // Each cycle is 100 ms of waiting plus 1000 ms of pass: two done, the third started at 2300 ms.
    expect(passes).toBe(2);
    const stopped = timer.stop();
    await vi.advanceTimersByTimeAsync(1000);
    await stopped;
    expect(passes).toBe(3);
    expect(maxRunning).toBe(1);
  });

  it('logs a failing pass and keeps going', async () => {
    const log = quietLog();
    let calls = 0;
    const timer = startMaintenanceTimer({
      intervalMs: 100,
      pass: async () => {
        calls++;
        throw new Error('boom');
      },
      log,
    });
    await vi.advanceTimersByTimeAsync(350);
    await timer.stop();
    expect(calls).toBe(3);
    expect(log.error).toHaveBeenCalledTimes(3);
  });

  it('stop() waits for the running pass and cancels the next', async () => {
    let finished = 0;
    const timer = startMaintenanceTimer({
      intervalMs: 100,
      pass: async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        finished++;
      },
      log: quietLog(),
    });
    await vi.advanceTimersByTimeAsync(150); // a pass is now running
    const stopped = timer.stop();
    await vi.advanceTimersByTimeAsync(2000);
    await stopped;
    expect(finished).toBe(1);
  });
});
