import { engineFromEnv } from '../runtime.js';
import { shareGroupsHandler } from '../share-groups.js';

/** The `shareGroups` Lambda function: its engine is built here, once, at cold start (functions/runtime.ts). */
export const handler = shareGroupsHandler(engineFromEnv());
