import { httpHandler, json } from './http/handler.js';
import { int, name, objectBody } from './http/validate.js';
import { createLogger } from '../lib/logger.js';
import type { MaintenanceReport } from '../lib/maintenance/maintenance-steps.js';
import type { Shardlog } from '../lib/shardlog.js';

/**
 * The maintenance pass (lib/maintenance): tiering of hot batches to S3 segments, retention, and reclaiming
 * deleted topics. Served on demand by `POST /v1/admin/maintenance` ({@link maintenanceHandler}), and run by the
 * schedule (EventBridge every minute in the cloud, the local stack's timer locally) through
 * {@link maintenancePass}.
 */
export const maintenanceHandler = (engine: Shardlog) => httpHandler({
  'POST /v1/admin/maintenance': async (req) => {
    const body = objectBody(req.body, ['topic', 'tierOlderThanMs']);
    const topic = body.topic === undefined ? undefined : name(body.topic, 'topic');
    const tierOlderThanMs =
      body.tierOlderThanMs === undefined ? undefined : int(body.tierOlderThanMs, 'tierOlderThanMs', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const report = await engine.maintenance.runOnce({
      ...(topic !== undefined ? { topic } : {}),
      ...(tierOlderThanMs !== undefined ? { tierOlderThanMs } : {}),
    });
    req.log.info('maintenance pass', { report });
    return json(200, report);
  },
});

/** The scheduled entry point over `engine` (EventBridge, the local stack's timer): one pass per invocation. */
export function maintenancePass(engine: Shardlog): () => Promise<MaintenanceReport> {
  const log = createLogger({ handler: 'maintenance-schedule' });
  return async () => {
    const report = await engine.maintenance.runOnce();
    log.info('maintenance pass', { report });
    return report;
  };
}
