import type { HttpMethod, RouteSpec } from '../../functions/routes.js';

/** The outcome of matching one request against the route table. */
export type RouteMatch<R extends RouteSpec = RouteSpec> =
  | { readonly kind: 'matched'; readonly route: R; readonly pathParameters: Record<string, string> }
  /** The path is served, but not with this method; `allowedMethods` feeds the `Allow` header of the 405. */
  | { readonly kind: 'method-not-allowed'; readonly allowedMethods: readonly HttpMethod[] }
  | { readonly kind: 'not-found' };

type Segment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'greedy'; readonly name: string };

interface CompiledRoute<R extends RouteSpec> {
  readonly route: R;
  readonly segments: readonly Segment[];
}

/**
 * Compiles an API Gateway route table into a matcher: `(method, rawPath) => RouteMatch`.
 *
 * Rules, as API Gateway HTTP APIs apply them:
 * - `{name}` matches exactly one non-empty path segment; `{name+}` (greedy) matches the rest of the path.
 * - Segments are compared after percent-decoding, and parameters are returned decoded. Splitting happens
 *   before decoding, so an encoded `%2F` stays inside its parameter instead of creating a new segment.
 * - When several routes match, the most specific wins: a literal segment beats `{param}`, which beats
 *   `{param+}`, comparing from the left (so `/v1/groups/offsets` would beat `/v1/groups/{group}`).
 * - Matching is case-sensitive and a trailing slash is a different path (`/v1/topics/` is not `/v1/topics`).
 */
export function createRouteMatcher<R extends RouteSpec>(routes: readonly R[]): (method: string, rawPath: string) => RouteMatch<R> {
  const compiled = routes.map((route) => ({ route, segments: parsePattern(route.path) })).sort(bySpecificity);

  return (method, rawPath) => {
    const segments = splitPath(rawPath);
    if (segments === undefined) return { kind: 'not-found' };
    const allowedMethods: HttpMethod[] = [];
    for (const candidate of compiled) {
      const pathParameters = matchSegments(candidate.segments, segments);
      if (pathParameters === undefined) continue;
      if (candidate.route.method === method.toUpperCase()) {
        return { kind: 'matched', route: candidate.route, pathParameters };
      }
      if (!allowedMethods.includes(candidate.route.method)) allowedMethods.push(candidate.route.method);
    }
    return allowedMethods.length > 0 ? { kind: 'method-not-allowed', allowedMethods } : { kind: 'not-found' };
  };
}

/** Splits an absolute, still percent-encoded path into raw segments; `undefined` when it is not absolute. */
function splitPath(rawPath: string): string[] | undefined {
  if (!rawPath.startsWith('/')) return undefined;
  return rawPath.slice(1).split('/');
}

function parsePattern(path: string): Segment[] {
  return path
    .slice(1)
    .split('/')
    .map((part): Segment => {
      const param = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(part);
      if (param === null) return { kind: 'literal', value: part };
      return param[2] === '+' ? { kind: 'greedy', name: param[1] as string } : { kind: 'param', name: param[1] as string };
    });
}

function matchSegments(pattern: readonly Segment[], segments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const segment = pattern[i] as Segment;
    if (segment.kind === 'greedy') {
      const rest = segments.slice(i);
      if (rest.length === 0 || rest.every((part) => part === '')) return undefined;
      params[segment.name] = rest.map(decodeSegment).join('/');
      return params;
    }
    const raw = segments[i];
    if (raw === undefined) return undefined;
    const value = decodeSegment(raw);
    if (segment.kind === 'literal') {
      if (value !== segment.value) return undefined;
    } else {
      if (value === '') return undefined;
      params[segment.name] = value;
    }
  }
  return segments.length === pattern.length ? params : undefined;
}

const RANK = { literal: 0, param: 1, greedy: 2 } as const;

function bySpecificity<R extends RouteSpec>(a: CompiledRoute<R>, b: CompiledRoute<R>): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const diff = RANK[(a.segments[i] as Segment).kind] - RANK[(b.segments[i] as Segment).kind];
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Percent-decodes one segment; a malformed escape (`%zz`) is kept as written rather than failing the request. */
export function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
