import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { pathProblem } from '../../../../functions/http/canonical-path.js';
import { ROUTES } from '../../../../functions/routes.js';
import { CONSOLE_ASSETS, CONSOLE_CSP, createConsoleHandler } from '../../../../infra/local/console/serve.js';
import { createRouteMatcher } from '../../../../infra/local/route-matcher.js';

/** A request and a response that records what was written. */
function exchange(method: string, url: string) {
  const req = Object.assign(Readable.from([]), { method, url }) as unknown as IncomingMessage;
  const written: { status?: number; headers?: Record<string, string>; body?: Buffer | undefined; ended: boolean } = { ended: false };
  const res = {
    writeHead(status: number, headers: Record<string, string>) {
      written.status = status;
      written.headers = headers;
      return this;
    },
    end(body?: Buffer) {
      written.body = body;
      written.ended = true;
    },
  } as unknown as ServerResponse;
  return { req, res, written };
}

const serve = createConsoleHandler();
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

describe('the local console files', () => {
  it.each(Object.entries(CONSOLE_ASSETS))('serves %s with its content type, no caching and the CSP', async (path, asset) => {
    const { req, res, written } = exchange('GET', path);
    expect(await serve(req, res)).toBe(true);
    expect(written.status).toBe(200);
    expect(written.headers).toMatchObject({
      'content-type': asset.contentType,
      'cache-control': 'no-store',
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
    });
    expect(Number(written.headers?.['content-length'])).toBe(written.body?.length);
  });

  it('allows scripts, styles and requests from the page itself only', () => {
    expect(CONSOLE_CSP).toContain("default-src 'none'");
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("connect-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });

  it('answers HEAD without a body, ignores the query string, and refuses writes with 405', async () => {
    const head = exchange('HEAD', '/');
    expect(await serve(head.req, head.res)).toBe(true);
    expect(head.written).toMatchObject({ status: 200, body: undefined, ended: true });

    const query = exchange('GET', '/?refresh=1');
    expect(await serve(query.req, query.res)).toBe(true);
    expect(query.written.status).toBe(200);

    const post = exchange('POST', '/');
    expect(await serve(post.req, post.res)).toBe(true);
    expect(post.written.status).toBe(405);
    expect(post.written.headers).toMatchObject({ allow: 'GET, HEAD', 'content-type': 'application/json' });
    expect(JSON.parse(String(post.written.body))).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
  });

  it('leaves every other path to the API, untouched: files not listed, traversal, and the console folder itself', async () => {
    for (const path of ['/console/', '/console', '/console/serve.ts', '/console/../package.json', '/index.html', '/console/render.js/', '/favicon.ico']) {
      const { req, res, written } = exchange('GET', path);
      expect(await serve(req, res), path).toBe(false);
      expect(written.ended, path).toBe(false);
    }
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('shadows no API route: %s reaches the router', async (_, route) => {
    const path = route.path.replace(/\{partition\}/g, '0').replace(/\{[A-Za-z]+\}/g, 'name');
    for (const method of METHODS) {
      const { req, res, written } = exchange(method, path);
      expect(await serve(req, res)).toBe(false);
      expect(written.ended).toBe(false);
    }
  });

  it('serves only paths the router would never match: `/` is not canonical, and no route starts with /console', () => {
    const match = createRouteMatcher(ROUTES);
    expect(pathProblem('/')).toBeDefined();
    for (const path of Object.keys(CONSOLE_ASSETS)) {
      for (const method of METHODS) expect(match(method, path).kind, `${method} ${path}`).toBe('not-found');
    }
  });
});
