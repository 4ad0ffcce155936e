import { randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT_ID } from './apigw-event.js';
import { LOCAL_REGION } from './local-env.js';

/** One maintenance pass, as `maintenancePass` of functions/maintenance.ts serves the EventBridge schedule. */
export type MaintenancePass = (event: ScheduledEventLike) => Promise<unknown>;

/** The fields of an EventBridge "Scheduled Event" (the cloud's trigger), passed for fidelity. */
export interface ScheduledEventLike {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Scheduled Event';
  readonly source: 'aws.events';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, never>;
}

export interface MaintenanceTimerOptions {
  readonly intervalMs: number;
  /** The pass to run. */
  readonly pass: MaintenancePass;
  readonly log?: Pick<Console, 'error'>;
  readonly now?: () => Date;
}

export interface MaintenanceTimer {
  /** Cancels the next pass and waits for a running one to finish. */
  stop(): Promise<void>;
}

/**
 * Runs the maintenance pass every `intervalMs`, as the cloud's schedule does every minute.
 *
 * Passes never overlap: the next one is scheduled only when the previous one has settled (a chained
 * `setTimeout`, not `setInterval`), so a slow pass delays the next instead of racing it. A failing pass is
 * logged and the timer keeps going: one bad pass must not stop retention locally.
 */
export function startMaintenanceTimer(options: MaintenanceTimerOptions): MaintenanceTimer {
  const log = options.log ?? console;
  const now = options.now ?? (() => new Date());
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce().finally(() => {
        running = undefined;
        schedule();
      });
    }, options.intervalMs);
    // The timer alone must not keep a process (a test worker, a CLI that is shutting down) alive.
    timer.unref();
  };

  const runOnce = async (): Promise<void> => {
    try {
      await options.pass(scheduledEvent(now()));
    } catch (error) {
      log.error('maintenance: pass failed (will run again at the next interval)', error);
    }
  };

  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

function scheduledEvent(now: Date): ScheduledEventLike {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [],
    detail: {},
  };
}
