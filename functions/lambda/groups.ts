import { groupsHandler } from '../groups.js';
import { engineFromEnv } from '../runtime.js';

/** The `groups` Lambda function: its engine is built here, once, at cold start (functions/runtime.ts). */
export const handler = groupsHandler(engineFromEnv());
