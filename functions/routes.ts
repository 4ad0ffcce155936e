/**
 * The route table: the single source of truth for which Lambda function serves which HTTP route.
 *
 * The CDK API stack (`infra/api-stack.ts`) creates one `NodejsFunction` per entry of {@link FUNCTIONS} and one
 * HTTP API route per entry of {@link ROUTES}; the embedded local server (`infra/local/`) matches requests
 * against the same {@link ROUTES} and calls the same route handlers (functions/handlers.ts), over an engine
 * it builds. Neither can drift from the other.
 *
 * Paths use API Gateway's `{param}` syntax; a route's `routeKey` is `"<METHOD> <path>"`, exactly the
 * `routeKey` of an API Gateway HTTP API (payload format 2.0) event.
 */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

export interface FunctionSpec {
  /**
   * Entry file, relative to the repository root: it builds the engine at cold start and exports `handler`
   * (functions/lambda/; the routes themselves are in functions/<name>.ts, see functions/handlers.ts).
   */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

/** One function per role, so each gets only the IAM grants its role needs. */
export const FUNCTIONS = {
  topics: {
    entry: 'functions/lambda/topics.ts',
    description: 'shardlog: health and topic administration',
    memoryMb: 512,
    timeoutSeconds: 29,
  },
  produce: {
    entry: 'functions/lambda/produce.ts',
    description: 'shardlog: produce records',
    memoryMb: 1024,
    timeoutSeconds: 29,
  },
  fetch: {
    entry: 'functions/lambda/fetch.ts',
    description: 'shardlog: fetch records from a partition',
    memoryMb: 1024,
    timeoutSeconds: 29,
  },
  groups: {
    entry: 'functions/lambda/groups.ts',
    description: 'shardlog: consumer groups (subscribe, join, heartbeat, fetch, commit, reset, delete)',
    memoryMb: 1024,
    timeoutSeconds: 29,
  },
  // Its own function (not `groups`): dead-letter appends need writes to the log table that consumer groups never make.
  shareGroups: {
    entry: 'functions/lambda/share-groups.ts',
    description: 'shardlog: share groups (subscribe, fetch, acknowledge, dead letters)',
    memoryMb: 1024,
    timeoutSeconds: 29,
  },
  maintenance: {
    entry: 'functions/lambda/maintenance.ts',
    description: 'shardlog: tiering to S3, retention, group expiry',
    memoryMb: 1024,
    timeoutSeconds: 120,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

/**
 * The scoped IAM grants of the CDK app (`ApiStack.grantProduce(role, topic)` and friends, infra/grants.ts): a route
 * listed under a grant is allowed on its exact route ARN, with `{topic}` and `{group}` replaced by the names the
 * grant is given. `grantAdmin` holds every route, so it is not listed.
 * - `produce` (topic): append to the topic, describe it.
 * - `consume` (topic, group): subscribe the group to the topic, join, heartbeat, fetch, commit, leave, describe
 *   the group and the topic.
 * - `read` (topic): plain fetch of the topic's partitions, describe it.
 * - `shareConsume` (topic, group): the share-group routes of docs/api.md v1.1 for that group and topic.
 */
export type RouteGrant = 'produce' | 'consume' | 'read' | 'shareConsume';

export interface RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
  readonly function: FunctionName;
  /**
   * The scoped grants that allow this route (see {@link RouteGrant}); `[]`: administrators only. Required on
   * every deployed route ({@link ROUTES}), so a new route cannot reach a grant by accident; optional here only
   * for route tables built in tests of the local route matcher.
   */
  readonly grants?: readonly RouteGrant[];
}

/** A route of the deployed table: its grants are decided. */
export type DeployedRouteSpec = RouteSpec & { readonly grants: readonly RouteGrant[] };

// Everyone with any grant may ask whether the service is up; it reveals nothing.
const EVERY_GRANT: readonly RouteGrant[] = ['produce', 'consume', 'read', 'shareConsume'];
// Describing a topic (partitions, offsets) is part of producing to it, consuming it and reading it.
const TOPIC_USERS: readonly RouteGrant[] = ['produce', 'consume', 'read', 'shareConsume'];
const ADMIN_ONLY: readonly RouteGrant[] = [];

export const ROUTES: readonly DeployedRouteSpec[] = [
  { method: 'GET', path: '/v1/health', function: 'topics', grants: EVERY_GRANT },
  { method: 'POST', path: '/v1/topics', function: 'topics', grants: ADMIN_ONLY },
  // Lists every topic name: administrators only.
  { method: 'GET', path: '/v1/topics', function: 'topics', grants: ADMIN_ONLY },
  { method: 'GET', path: '/v1/topics/{topic}', function: 'topics', grants: TOPIC_USERS },
  { method: 'PATCH', path: '/v1/topics/{topic}', function: 'topics', grants: ADMIN_ONLY },
  { method: 'DELETE', path: '/v1/topics/{topic}', function: 'topics', grants: ADMIN_ONLY },
  { method: 'POST', path: '/v1/topics/{topic}/records', function: 'produce', grants: ['produce'] },
  // A presigned PUT for one batch to append by its upload id (docs/api.md, "Binary record batches"): part of producing.
  { method: 'POST', path: '/v1/topics/{topic}/uploads', function: 'produce', grants: ['produce'] },
  { method: 'GET', path: '/v1/topics/{topic}/partitions/{partition}/records', function: 'fetch', grants: ['read'] },
  // Lists every group name: administrators only.
  { method: 'GET', path: '/v1/groups', function: 'groups', grants: ADMIN_ONLY },
  { method: 'GET', path: '/v1/groups/{group}', function: 'groups', grants: ['consume'] },
  // v1.1: a group reads only the topics it is subscribed to; the topic is in the path, so the grant decides.
  { method: 'PUT', path: '/v1/groups/{group}/subscriptions/{topic}', function: 'groups', grants: ['consume'] },
  { method: 'DELETE', path: '/v1/groups/{group}/subscriptions/{topic}', function: 'groups', grants: ['consume'] },
  // Deletes the group's committed offsets with it: an operator's decision.
  { method: 'DELETE', path: '/v1/groups/{group}', function: 'groups', grants: ADMIN_ONLY },
  { method: 'POST', path: '/v1/groups/{group}/members', function: 'groups', grants: ['consume'] },
  { method: 'POST', path: '/v1/groups/{group}/members/{memberId}/heartbeat', function: 'groups', grants: ['consume'] },
  { method: 'DELETE', path: '/v1/groups/{group}/members/{memberId}', function: 'groups', grants: ['consume'] },
  { method: 'POST', path: '/v1/groups/{group}/members/{memberId}/fetch', function: 'groups', grants: ['consume'] },
  { method: 'POST', path: '/v1/groups/{group}/members/{memberId}/commit', function: 'groups', grants: ['consume'] },
  // A reset moves the group's committed offsets under its members' feet: an operator's seek.
  { method: 'POST', path: '/v1/groups/{group}/offsets', function: 'groups', grants: ADMIN_ONLY },
  // Share groups (docs/api.md v1.1): the tags of V1_1_ROUTES in test/unit/infra/grants.test.ts.
  { method: 'PUT', path: '/v1/share-groups/{group}/subscriptions/{topic}', function: 'shareGroups', grants: ['shareConsume'] },
  { method: 'DELETE', path: '/v1/share-groups/{group}/subscriptions/{topic}', function: 'shareGroups', grants: ['shareConsume'] },
  { method: 'POST', path: '/v1/share-groups/{group}/fetch', function: 'shareGroups', grants: ['shareConsume'] },
  { method: 'POST', path: '/v1/share-groups/{group}/acks', function: 'shareGroups', grants: ['shareConsume'] },
  { method: 'GET', path: '/v1/share-groups/{group}', function: 'shareGroups', grants: ['shareConsume'] },
  // Sets where the group's archived records get written, and deletes the group: an operator's decisions.
  { method: 'PATCH', path: '/v1/share-groups/{group}', function: 'shareGroups', grants: ADMIN_ONLY },
  { method: 'DELETE', path: '/v1/share-groups/{group}', function: 'shareGroups', grants: ADMIN_ONLY },
  // Lists every share group name: administrators only.
  { method: 'GET', path: '/v1/share-groups', function: 'shareGroups', grants: ADMIN_ONLY },
  { method: 'POST', path: '/v1/admin/maintenance', function: 'maintenance', grants: ADMIN_ONLY },
];

export function routeKey(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}
