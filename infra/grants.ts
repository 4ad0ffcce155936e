import { ROUTES, routeKey, type RouteGrant, type RouteSpec } from '../functions/routes.js';
import { isValidName, NAME_PATTERN } from '../lib/names.js';

/**
 * Grants as code: which `execute-api:Invoke` resources give a role exactly one job. Pure (no CDK), so the policy
 * it describes can be unit-tested against request ARNs; `ApiStack.grantProduce` and friends turn it into IAM
 * statements on `arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/`.
 *
 * ## Why every resource is an exact path
 * In an execute-api ARN, `*` matches any characters INCLUDING `/`, and `?` any one character. So
 * `.../POST/v1/topics/orders*` would also allow `orders2` and `orders/anything`. A grant therefore lists exact
 * route paths with the granted names substituted for `{topic}` and `{group}`, validated by the API's own name
 * rule (lib/names.ts), so no name can carry a wildcard or a `/`.
 *
 * ## The one wildcard, and why it cannot widen a grant
 * Parameters a grant cannot know in advance (`{partition}`, `{memberId}`: chosen at run time) become `*`. Such a
 * `*` could match several segments, so `.../members/x/../../other/members/y/heartbeat` would match
 * `.../groups/billing/members/*\/heartbeat` if API Gateway routed on a normalized path while IAM saw the raw one
 * (we have found no statement of which path API Gateway puts in the ARN). Three things close that:
 * 1. Every grant comes with a Deny of every non-canonical path ({@link NON_CANONICAL_PATH_PATTERNS}): a `.` or
 *    `..` segment, an empty segment (`//`), a trailing `/`, any percent escape. Names never contain `/` or `%` and are never
 *    `.` or `..`, so the Deny never hits a canonical request.
 * 2. A wildcard only ever stands after the granted names (`/v1/groups/<group>/members/*`), so without `..` the
 *    request stays under the granted group or topic; extra segments match no route (API Gateway answers 404).
 * 3. The handlers refuse non-canonical paths with 400 before any work (canonical paths, issue 11 item 3): the
 *    backstop should API Gateway ever hand a handler a path IAM did not see.
 */

/** The path parameters each scoped grant fixes to the names it is given. */
export const GRANT_PARAMS = {
  produce: ['topic'],
  consume: ['topic', 'group'],
  read: ['topic'],
  shareConsume: ['topic', 'group'],
} as const satisfies Record<RouteGrant, readonly string[]>;

/**
 * Path parameters no grant can fix (a partition of the granted topic, a member id a join hands out); each
 * becomes `*`. Any other parameter left unfixed would widen a grant, so building it fails instead.
 */
export const FREE_PARAMS: readonly string[] = ['partition', 'memberId'];

/**
 * Denied under the API's ARN with every scoped grant (relative to `<apiId>/`): paths no canonical request has.
 * `*` matches across `/`, so `*\/..\/*` is any `..` segment in the middle, `*\/..` one at the end.
 */
export const NON_CANONICAL_PATH_PATTERNS: readonly string[] = ['*/./*', '*/.', '*/../*', '*/..', '*//*', '*/', '*%*'];

/** The names a grant is given: a topic and, for group grants, a group. */
export interface GrantNames {
  readonly topic?: string;
  readonly group?: string;
}

/** What a grant allows and denies, as `METHOD/path` patterns below `<apiId>/<stage>/`, and `<apiId>/` patterns. */
export interface GrantResources {
  /** e.g. `POST/v1/topics/orders/records`, `GET/v1/topics/orders/partitions/*\/records` */
  readonly allow: readonly string[];
  /** {@link NON_CANONICAL_PATH_PATTERNS}, relative to `<apiId>/` */
  readonly deny: readonly string[];
}

/**
 * The resources of a scoped grant, from the route table: every route tagged with `grant`, its `{topic}` and
 * `{group}` replaced by the given names and its free parameters by `*`.
 * @throws Error when a name is missing or invalid, or a route of the grant has a parameter the grant cannot fix.
 * @example grantResources('produce', { topic: 'orders' }).allow
 *   // ['GET/v1/health', 'GET/v1/topics/orders', 'POST/v1/topics/orders/records']
 */
export function grantResources(
  grant: RouteGrant,
  names: GrantNames,
  routes: readonly RouteSpec[] = ROUTES,
): GrantResources {
  const fixed: Record<string, string> = {};
  for (const param of GRANT_PARAMS[grant]) {
    const value = names[param];
    assertGrantName(value, param, grant);
    fixed[param] = value;
  }
  const allow = routes
    .filter((route) => route.grants?.includes(grant))
    .map((route) => `${route.method}${substitute(route, fixed, grant)}`);
  return { allow: [...new Set(allow)].sort(), deny: NON_CANONICAL_PATH_PATTERNS };
}

/** What `grantAdmin` allows below `<apiId>/<stage>/`: every method on every path, present and future. */
export const ADMIN_RESOURCE = '*';

/**
 * Names given to a grant follow the API's name rule (docs/api.md "Conventions", lib/names.ts), and must be plain
 * strings at synthesis time: a CDK token could resolve to anything, wildcards included.
 */
export function assertGrantName(value: unknown, param: string, grant: string): asserts value is string {
  if (typeof value !== 'string' || !isValidName(value)) {
    throw new Error(
      `grant ${grant}: ${param} must be a name matching ${NAME_PATTERN} other than '.' and '..', got ${JSON.stringify(value)}`,
    );
  }
}

function substitute(route: RouteSpec, fixed: Readonly<Record<string, string>>, grant: RouteGrant): string {
  return route.path.replace(/\{([^}]+)\}/g, (_whole, param: string) => {
    const name = fixed[param];
    if (name !== undefined) return name;
    if (FREE_PARAMS.includes(param)) return '*';
    throw new Error(
      `route ${routeKey(route)} is tagged '${grant}', which does not fix {${param}}: a wildcard there would let the ` +
        `grant reach every ${param}. Tag the route with a grant that names it, or leave it to administrators.`,
    );
  });
}
