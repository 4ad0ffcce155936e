import { produceHandler } from '../produce.js';
import { engineFromEnv } from '../runtime.js';

/** The `produce` Lambda function: its engine is built here, once, at cold start (functions/runtime.ts). */
export const handler = produceHandler(engineFromEnv());
