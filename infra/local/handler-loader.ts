import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { functionHandlers } from '../../functions/handlers.js';
import type { FunctionName } from '../../functions/routes.js';
import type { Shardlog } from '../../lib/shardlog.js';

/** The contract of every HTTP entry file: `export async function handler(event)`, exactly as Lambda calls it. */
export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** Returns the `handler` of a function; injectable so the server can be tested with fakes. */
export type HandlerLoader = (fn: FunctionName) => Promise<HttpApiHandler>;

/** The repository root: entry paths in `FUNCTIONS` (functions/routes.ts) are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The handlers of every function over one engine, as the Lambda entries (functions/lambda/) wrap them around
 * theirs: the local stack runs the cloud's route code, with the engine it built from its own configuration
 * instead of one built from `process.env`.
 */
export function engineHandlerLoader(engine: Shardlog): HandlerLoader {
  const handlers = functionHandlers(engine);
  return async (fn) => handlers[fn];
}
