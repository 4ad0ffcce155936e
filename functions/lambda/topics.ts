import { topicsHandler } from '../topics.js';
import { engineFromEnv } from '../runtime.js';

/** The `topics` Lambda function: its engine is built here, once, at cold start (functions/runtime.ts). */
export const handler = topicsHandler(engineFromEnv());
