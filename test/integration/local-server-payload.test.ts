import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROUTES } from '../../functions/routes.js';
import { createLocalServer, type LocalServer, type PayloadLimitViolation } from '../../infra/local/server.js';

/**
 * The local server's emulation of Lambda's response limit, with a fake handler: Lambda counts the result
 * serialised as JSON, in which the body is a JSON string, so a body of quotes counts about twice its length.
 */
const LIMIT = 10_000;
const violations: PayloadLimitViolation[] = [];
const log = { error: vi.fn() };
let server: LocalServer;
let url: string;
let body = '';

beforeAll(async () => {
  server = createLocalServer({
    routes: ROUTES,
    loadHandler: async () => async (): Promise<APIGatewayProxyResultV2> => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body }),
    maxLambdaPayloadBytes: LIMIT,
    log,
    onPayloadLimitExceeded: (v) => violations.push(v),
  });
  url = await server.listen(0);
});

afterAll(() => server.close());

describe('the local server, checking responses against Lambda\'s payload limit', () => {
  it('measures the result as Lambda does: a body under the limit whose escaping takes it over is a 500 and a violation', async () => {
    body = JSON.stringify({ quotes: '"'.repeat(3_000) }); // ~6 KB of body, ~12 KB once serialised in the result
    expect(body.length).toBeLessThan(LIMIT);
    const response = await fetch(`${url}/v1/health`);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: 'INTERNAL', retriable: true });
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ routeKey: 'GET /v1/health', limitBytes: LIMIT });
    expect(violations[0]!.payloadBytes).toBeGreaterThan(LIMIT);
    expect(log.error).toHaveBeenCalledWith(expect.stringMatching(/over Lambda's 10000/));
  });

  it('passes a result that fits', async () => {
    body = JSON.stringify({ text: 'x'.repeat(LIMIT - 200) });
    const response = await fetch(`${url}/v1/health`);
    expect(response.status).toBe(200);
    expect(violations).toHaveLength(1);
  });
});

describe('the local server and web pages', () => {
  it('answers a cross-site POST with the contract’s 403 and never calls the handler', async () => {
    body = JSON.stringify({ status: 'ok' });
    const response = await fetch(`${url}/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://evil.example' },
      body: '{"name":"planted"}',
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: 'FORBIDDEN', retriable: false });
  });
});
