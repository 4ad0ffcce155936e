/**
 * The route table: the single source of truth for which Lambda function serves which HTTP route.
 *
 * The CDK API stack (`infra/api-stack.ts`) creates one `NodejsFunction` per entry of {@link FUNCTIONS} and one
 * HTTP API route per entry of {@link ROUTES}; the embedded local server (`infra/local/`) matches requests
 * against the same {@link ROUTES} and calls the same exported handler. Neither can drift from the other.
 *
 * Paths use API Gateway's `{param}` syntax; a route's `routeKey` is `"<METHOD> <path>"`, exactly the
 * `routeKey` of an API Gateway HTTP API (payload format 2.0) event.
 */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

export interface FunctionSpec {
  /** Entry file, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

/** One function per role, so each gets only the IAM grants its role needs. */
export const FUNCTIONS = {
  topics: {
    entry: 'functions/topics.ts',
    description: 'shardlog: health and topic administration',
    memoryMb: 512,
    timeoutSeconds: 29,
  },
  produce: {
    entry: 'functions/produce.ts',
    description: 'shardlog: produce records',
    memoryMb: 1024,
    timeoutSeconds: 29,
  },
  fetch: {
    entry: 'functions/fetch.ts',
    description: 'shardlog: fetch records from a partition',
    memoryMb: 1024,
    timeoutSeconds: 29,
  },
  groups: {
    entry: 'functions/groups.ts',
    description: 'shardlog: consumer groups (join, heartbeat, fetch, commit, reset)',
    memoryMb: 1024,
    timeoutSeconds: 29,
  },
  maintenance: {
    entry: 'functions/maintenance.ts',
    description: 'shardlog: tiering to S3 and retention',
    memoryMb: 1024,
    timeoutSeconds: 120,
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionName = keyof typeof FUNCTIONS;

export interface RouteSpec {
  readonly method: HttpMethod;
  readonly path: string;
  readonly function: FunctionName;
}

export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/v1/health', function: 'topics' },
  { method: 'POST', path: '/v1/topics', function: 'topics' },
  { method: 'GET', path: '/v1/topics', function: 'topics' },
  { method: 'GET', path: '/v1/topics/{topic}', function: 'topics' },
  { method: 'PATCH', path: '/v1/topics/{topic}', function: 'topics' },
  { method: 'DELETE', path: '/v1/topics/{topic}', function: 'topics' },
  { method: 'POST', path: '/v1/topics/{topic}/records', function: 'produce' },
  { method: 'GET', path: '/v1/topics/{topic}/partitions/{partition}/records', function: 'fetch' },
  { method: 'GET', path: '/v1/groups', function: 'groups' },
  { method: 'GET', path: '/v1/groups/{group}', function: 'groups' },
  { method: 'POST', path: '/v1/groups/{group}/members', function: 'groups' },
  { method: 'POST', path: '/v1/groups/{group}/members/{memberId}/heartbeat', function: 'groups' },
  { method: 'DELETE', path: '/v1/groups/{group}/members/{memberId}', function: 'groups' },
  { method: 'POST', path: '/v1/groups/{group}/members/{memberId}/fetch', function: 'groups' },
  { method: 'POST', path: '/v1/groups/{group}/members/{memberId}/commit', function: 'groups' },
  { method: 'POST', path: '/v1/groups/{group}/offsets', function: 'groups' },
  { method: 'POST', path: '/v1/admin/maintenance', function: 'maintenance' },
];

export function routeKey(route: Pick<RouteSpec, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

export function routesOf(fn: FunctionName): readonly RouteSpec[] {
  return ROUTES.filter((r) => r.function === fn);
}
