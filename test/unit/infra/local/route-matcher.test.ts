import { describe, expect, it } from 'vitest';
import { ROUTES, type RouteSpec } from '../../../../functions/routes.js';
import { createRouteMatcher } from '../../../../infra/local/route-matcher.js';

describe('createRouteMatcher', () => {
  const match = createRouteMatcher(ROUTES);

  it('matches a literal route of the real table', () => {
    const result = match('GET', '/v1/health');
    expect(result).toMatchObject({ kind: 'matched', route: { method: 'GET', path: '/v1/health', function: 'topics' } });
    expect(result.kind === 'matched' && result.pathParameters).toEqual({});
  });

  it('extracts and decodes {param} segments', () => {
    const result = match('GET', '/v1/topics/orders%2Ev1/partitions/3/records');
    expect(result).toEqual({
      kind: 'matched',
      route: expect.objectContaining({ path: '/v1/topics/{topic}/partitions/{partition}/records', function: 'fetch' }),
      pathParameters: { topic: 'orders.v1', partition: '3' },
    });
  });

  it('keeps an encoded slash inside its parameter instead of splitting on it', () => {
    const result = match('GET', '/v1/topics/a%2Fb');
    expect(result.kind === 'matched' && result.pathParameters).toEqual({ topic: 'a/b' });
  });

  it('picks the route by method among routes sharing a path', () => {
    const get = match('GET', '/v1/topics');
    const post = match('post', '/v1/topics');
    expect(get.kind === 'matched' && get.route.method).toBe('GET');
    expect(post.kind === 'matched' && post.route.method).toBe('POST');
  });

  it('reports the allowed methods when the path exists but the method does not', () => {
    expect(match('PUT', '/v1/topics/orders')).toEqual({ kind: 'method-not-allowed', allowedMethods: ['GET', 'PATCH', 'DELETE'] });
  });

  it('reports not-found for unknown paths, an extra segment, a trailing slash or an empty parameter', () => {
    for (const path of ['/v2/health', '/v1/health/x', '/v1/topics/', '/v1/topics//records', 'v1/health', '/V1/HEALTH']) {
      expect(match('GET', path), path).toEqual({ kind: 'not-found' });
    }
  });

  it('keeps a malformed escape as written', () => {
    const result = match('GET', '/v1/topics/100%zz');
    expect(result.kind === 'matched' && result.pathParameters).toEqual({ topic: '100%zz' });
  });

  it('prefers a literal segment over a parameter, whatever the table order', () => {
    const routes: RouteSpec[] = [
      { method: 'GET', path: '/v1/groups/{group}', function: 'groups' },
      { method: 'GET', path: '/v1/groups/offsets', function: 'topics' },
    ];
    const result = createRouteMatcher(routes)('GET', '/v1/groups/offsets');
    expect(result.kind === 'matched' && result.route.path).toBe('/v1/groups/offsets');
  });

  it('lets a greedy {param+} take the rest of the path', () => {
    const routes: RouteSpec[] = [{ method: 'GET', path: '/files/{key+}', function: 'fetch' }];
    const m = createRouteMatcher(routes);
    const result = m('GET', '/files/a/b%20c/d');
    expect(result.kind === 'matched' && result.pathParameters).toEqual({ key: 'a/b c/d' });
    expect(m('GET', '/files/')).toEqual({ kind: 'not-found' });
  });

  it('routes every entry of the real table to itself', () => {
    for (const route of ROUTES) {
      const path = route.path.replace(/\{(\w+)\}/g, 'x1');
      const result = match(route.method, path);
      expect(result.kind === 'matched' && result.route, `${route.method} ${route.path}`).toBe(route);
    }
  });
});
