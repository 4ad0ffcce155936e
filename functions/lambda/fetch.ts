import { fetchHandler } from '../fetch.js';
import { lambdaRuntime } from '../runtime.js';

/**
 * The `fetch` Lambda function: its engine, logger and metrics are built here, once, at cold start
 * (functions/runtime.ts); each invocation flushes its metrics as it ends.
 */
const runtime = lambdaRuntime();
export const handler = runtime.instrument(fetchHandler(runtime.engine));
