import { httpHandler, json } from './http/handler.js';
import { int, name, objectBody } from './http/validate.js';
import { shardlog } from './runtime.js';
import { createLogger } from '../lib/logger.js';
import type { MaintenanceReport } from '../lib/maintenance/maintenance-steps.js';

/**
 * The maintenance pass (lib/maintenance): tiering of hot batches to S3 segments, retention, and reclaiming
 * deleted topics. Served on demand by `POST /v1/admin/maintenance`, and run by the schedule (EventBridge every
 * minute in the cloud, the local stack's timer locally) through {@link scheduledHandler}.
 */
export type { MaintenanceReport };

export const handler = httpHandler({
  'POST /v1/admin/maintenance': async (req) => {
    const body = objectBody(req.body, ['topic', 'tierOlderThanMs']);
    const topic = body.topic === undefined ? undefined : name(body.topic, 'topic');
    const tierOlderThanMs =
      body.tierOlderThanMs === undefined ? undefined : int(body.tierOlderThanMs, 'tierOlderThanMs', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const report = await shardlog().maintenance.runOnce({
      ...(topic !== undefined ? { topic } : {}),
      ...(tierOlderThanMs !== undefined ? { tierOlderThanMs } : {}),
    });
    req.log.info('maintenance pass', { report });
    return json(200, report);
  },
});

const log = createLogger({ handler: 'maintenance-schedule' });

/** EventBridge schedule entry point (and the local stack's timer): one pass per invocation. */
export async function scheduledHandler(): Promise<MaintenanceReport> {
  const report = await shardlog().maintenance.runOnce();
  log.info('maintenance pass', { report });
  return report;
}
