import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathProblem, routePathProblem } from '../../../../functions/http/canonical-path.js';
import { ROUTES } from '../../../../functions/routes.js';

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-'.split('');
const name = fc
  .string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 20 })
  .filter((n) => n !== '.' && n !== '..');
const partition = fc.nat().map(String);

/** A route of the real table with canonical parameters, and the path API Gateway would deliver for it. */
const canonicalRequest = fc.constantFrom(...ROUTES).chain((route) => {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  return fc
    .tuple(...names.map((n) => (n === 'partition' ? partition : name)))
    .map((values) => {
      const params = Object.fromEntries(names.map((n, i) => [n, values[i]!]));
      return { template: route.path, params, path: route.path.replace(/\{(\w+)\}/g, (_, n: string) => params[n]!) };
    });
});

/** Ways to write the same resource differently. */
const mutations: Array<[string, (path: string) => string | undefined]> = [
  ['trailing slash', (p) => `${p}/`],
  ['doubled slash', (p) => p.replace('/', '//')],
  ['dot segment', (p) => p.replace('/v1/', '/v1/./')],
  ['dot-dot segment', (p) => p.replace('/v1/', '/v1/x/../')],
  ['percent-encoded character', (p) => p.replace(/[A-Za-z0-9]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)],
  ['leading zero', (p) => (/\/\d+\/records$/.test(p) ? p.replace(/\/(\d+)\/records$/, '/0$1/records') : undefined)],
  ['upper-case percent escape of a slash', (p) => p.replace(/\/([^/]+)$/, '%2F$1')],
];

describe('canonical paths', () => {
  it('accepts every route of the table with canonical parameters', () => {
    fc.assert(
      fc.property(canonicalRequest, ({ template, params, path }) => {
        expect(pathProblem(path)).toBeUndefined();
        expect(routePathProblem(path, template, params)).toBeUndefined();
      }),
    );
  });

  it('refuses every other spelling of the same request', () => {
    fc.assert(
      fc.property(canonicalRequest, fc.constantFrom(...mutations), ({ template, params, path }, [, mutate]) => {
        const other = mutate(path);
        fc.pre(other !== undefined && other !== path);
        expect(routePathProblem(other!, template, params)).toBeDefined();
      }),
    );
  });

  it('refuses characters outside the name alphabet, and paths that are not absolute', () => {
    for (const path of ['/v1/topics/caf\u00e9', '/v1/topics/a b', '/v1/topics/a+b', 'v1/health', '', '/']) {
      expect(pathProblem(path), path).toBeDefined();
    }
  });
});
