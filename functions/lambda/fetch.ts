import { fetchHandler } from '../fetch.js';
import { engineFromEnv } from '../runtime.js';

/** The `fetch` Lambda function: its engine is built here, once, at cold start (functions/runtime.ts). */
export const handler = fetchHandler(engineFromEnv());
