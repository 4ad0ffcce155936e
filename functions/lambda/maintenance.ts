import { maintenanceHandler, maintenancePass } from '../maintenance.js';
import { engineFromEnv } from '../runtime.js';

/**
 * The `maintenance` Lambda functions: `handler` serves `POST /v1/admin/maintenance`, `scheduledHandler` the
 * EventBridge schedule (infra/api-stack.ts deploys this entry twice). The engine is built here, at cold start
 * (see functions/runtime.ts).
 */
const engine = engineFromEnv();
export const handler = maintenanceHandler(engine);
export const scheduledHandler = maintenancePass(engine);
