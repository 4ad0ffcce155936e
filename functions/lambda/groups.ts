import { groupsHandler } from '../groups.js';
import { lambdaRuntime } from '../runtime.js';

/**
 * The `groups` Lambda function: its engine, logger and metrics are built here, once, at cold start
 * (functions/runtime.ts); each invocation flushes its metrics as it ends.
 */
const runtime = lambdaRuntime();
export const handler = runtime.instrument(groupsHandler(runtime.engine));
