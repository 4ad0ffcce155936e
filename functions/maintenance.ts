import { httpHandler, json } from './http/handler.js';
import { int, name, objectBody } from './http/validate.js';
import { withFields } from '../lib/logger.js';
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
}, engine);

export interface MaintenancePassOptions {
  /**
   * Also emit the lag of every group behind (`GroupService.reportLag`), so that a group whose consumers all
   * stopped still shows, and alarms, on the dashboard. The Lambda schedule does; the local stack, whose metrics
   * go nowhere, does not. @default true
   */
  readonly reportLag?: boolean;
}

/**
 * The scheduled entry point over `engine` (EventBridge, the local stack's timer): one pass per invocation, then
 * the lag sweep. A failed sweep is logged, not thrown: the pass's own failures are what the maintenance alarms
 * are about.
 */
export function maintenancePass(engine: Shardlog, options: MaintenancePassOptions = {}): () => Promise<MaintenanceReport> {
  const log = withFields(engine.logger, { handler: 'maintenance-schedule' });
  return async () => {
    try {
      const report = await engine.maintenance.runOnce();
      // A pass that did nothing says so only at debug level: one line a minute of zeros is noise.
      const worked = report.tiered.segments + report.expired.records + report.expired.segments > 0;
      if (worked) log.info('maintenance pass', { report });
      else log.debug('maintenance pass', { report });
      return report;
    } finally {
      if (options.reportLag ?? true) {
        try {
          const sweep = await engine.groups.reportLag();
          log.debug('group lag reported', { ...sweep });
          if (sweep.skipped > 0) log.warn('group lag: groups left out of the sweep', { ...sweep });
        } catch (error) {
          log.error('group lag sweep failed', { error });
        }
      }
    }
  };
}
