import { CANONICAL_INT } from './validate.js';

/**
 * Canonical request paths (issue 11, "Canonical paths").
 *
 * IAM decides on the path of the request ARN; a handler decides on the path parameters it is given. If one
 * resource had two spellings (`/topics/orders` and `/topics/%6Frders`, `/partitions/1` and `/partitions/01`,
 * `/topics/a/../orders`), a policy that denies one spelling could be walked around with the other. So a path
 * has exactly one accepted form, and anything else is refused with 400 before any work:
 *
 * ```
 * path     := ("/" segment)+                       no empty segment: no "//", no trailing "/"
 * segment  := [A-Za-z0-9._-]+ but not "." or ".."  the name alphabet of docs/api.md: no "%" needed
 * {partition} := "0" | [1-9][0-9]*                  integers without leading zeros
 * ```
 * and the path must be exactly the route's template with its parameters filled in.
 *
 * The same functions serve the shared handler wrapper (on `rawPath`, which the cloud delivers too) and the
 * local server's router, so the two cannot disagree.
 */
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Path parameters that hold integers; every other parameter is a name. */
const INTEGER_PARAMS: ReadonlySet<string> = new Set(['partition']);

/** Why `path` is not canonical, before any route is known; `undefined` when it is. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'it does not start with /';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'it has an empty segment (a doubled or trailing slash)';
    if (segment === '.' || segment === '..') return `it has a '${segment}' segment`;
    if (segment.includes('%')) return 'it is percent-encoded, and no canonical path needs an escape';
    if (!SEGMENT.test(segment)) return 'it has characters other than A-Z a-z 0-9 . _ -';
  }
  return undefined;
}

/**
 * Why `path` is not the canonical form of the route `template` (e.g. `/v1/topics/{topic}`) with `params`;
 * `undefined` when it is.
 * @param prefix what precedes the route in the path (API Gateway puts a named stage there: `/prod`).
 */
export function routePathProblem(
  path: string,
  template: string,
  params: Readonly<Record<string, string>>,
  prefix = '',
): string | undefined {
  const generic = pathProblem(path);
  if (generic !== undefined) return generic;
  for (const [name, value] of Object.entries(params)) {
    if (!SEGMENT.test(value) || value === '.' || value === '..') return `{${name}} is not one canonical segment`;
    if (INTEGER_PARAMS.has(name) && /^[0-9]+$/.test(value) && !CANONICAL_INT.test(value)) {
      return `{${name}} has leading zeros`;
    }
  }
  const canonical = template.replace(/\{([A-Za-z0-9_]+)\+?\}/g, (_, name: string) => params[name] ?? '');
  if (path === prefix + canonical) return undefined;
  return 'it is not the route with its parameters as given';
}
