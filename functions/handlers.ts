import type { Shardlog } from '../lib/shardlog.js';
import { fetchHandler } from './fetch.js';
import { groupsHandler } from './groups.js';
import type { LambdaHttpHandler } from './http/handler.js';
import { maintenanceHandler } from './maintenance.js';
import { produceHandler } from './produce.js';
import type { FunctionName } from './routes.js';
import { shareGroupsHandler } from './share-groups.js';
import { topicsHandler } from './topics.js';

/**
 * The HTTP handler of every function of the route table over one engine: what the local stack serves
 * (infra/local/stack.ts). Each Lambda entry (functions/lambda/) wraps the same handler around the engine it
 * builds at cold start; here the caller builds the engine, so a process may hold several.
 */
export function functionHandlers(engine: Shardlog): Readonly<Record<FunctionName, LambdaHttpHandler>> {
  return {
    topics: topicsHandler(engine),
    produce: produceHandler(engine),
    fetch: fetchHandler(engine),
    groups: groupsHandler(engine),
    shareGroups: shareGroupsHandler(engine),
    maintenance: maintenanceHandler(engine),
  };
}
