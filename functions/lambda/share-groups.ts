import { lambdaRuntime } from '../runtime.js';
import { shareGroupsHandler } from '../share-groups.js';

/**
 * The `shareGroups` Lambda function: its engine, logger and metrics are built here, once, at cold start
 * (functions/runtime.ts); each invocation flushes its metrics as it ends.
 */
const runtime = lambdaRuntime();
export const handler = runtime.instrument(shareGroupsHandler(runtime.engine));
