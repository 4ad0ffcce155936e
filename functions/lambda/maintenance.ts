import { maintenanceHandler, maintenancePass } from '../maintenance.js';
import { lambdaRuntime } from '../runtime.js';

/**
 * The `maintenance` Lambda functions: `handler` serves `POST /v1/admin/maintenance`, `scheduledHandler` the
 * EventBridge schedule (infra/api-stack.ts deploys this entry twice). The engine, logger and metrics are built
 * here, at cold start (see functions/runtime.ts); each invocation flushes its metrics as it ends.
 */
const runtime = lambdaRuntime();
export const handler = runtime.instrument(maintenanceHandler(runtime.engine));
export const scheduledHandler = runtime.instrument(maintenancePass(runtime.engine));
