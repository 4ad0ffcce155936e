import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { httpHandler, json, JsonText, type HttpRequest } from '../../../../functions/http/handler.js';
import { FencedError, OffsetOutOfRangeError, ThrottledError, UnavailableError } from '../../../../lib/errors.js';

function event(routeKey: string, body?: string, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path!,
    rawQueryString: '',
    headers: { 'Content-Type': 'application/json' },
    isBase64Encoded: false,
    ...(body !== undefined ? { body } : {}),
    requestContext: {
      accountId: '1',
      apiId: 'a',
      domainName: 'x',
      domainPrefix: 'x',
      http: { method: method!, path: path!, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    ...extra,
  };
}

const quiet = () => vi.spyOn(process.stdout, 'write').mockImplementation(() => true);

describe('httpHandler', () => {
  it('passes the parsed body, lower-cased headers and path parameters to the route', async () => {
    quiet();
    const route = vi.fn(async (_request: HttpRequest) => json(200, { ok: true }));
    const handler = httpHandler({ 'POST /v1/things/{id}': route });
    const result = await handler(event('POST /v1/things/{id}', '{"a":1}', { pathParameters: { id: 'x' } }));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!)).toEqual({ ok: true });
    expect(route.mock.calls[0]![0]).toMatchObject({ body: { a: 1 }, pathParameters: { id: 'x' }, headers: { 'content-type': 'application/json' } });
  });

  it('answers malformed JSON with 400 INVALID_REQUEST without calling the route', async () => {
    quiet();
    const route = vi.fn(async () => json(200, {}));
    const result = await httpHandler({ 'POST /x': route })(event('POST /x', '{"a":'));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!).error).toMatchObject({ code: 'INVALID_REQUEST', retriable: false });
    expect(route).not.toHaveBeenCalled();
  });

  it('maps engine errors through the error table, with their details', async () => {
    quiet();
    const handler = httpHandler({
      'GET /range': async () => {
        throw new OffsetOutOfRangeError(99, 5, 10);
      },
      'GET /fenced': async () => {
        throw new FencedError('lease lost');
      },
    });
    const range = await handler(event('GET /range'));
    expect(range.statusCode).toBe(416);
    expect(JSON.parse(range.body!).error).toEqual({
      code: 'OFFSET_OUT_OF_RANGE',
      message: expect.stringContaining('[5, 10]'),
      retriable: false,
      offset: 99,
      startOffset: 5,
      endOffset: 10,
    });
    expect((await handler(event('GET /fenced'))).statusCode).toBe(409);
  });

  it('sets Retry-After on 429', async () => {
    quiet();
    const result = await httpHandler({
      'GET /busy': async () => {
        throw new ThrottledError('slow down', 3);
      },
    })(event('GET /busy'));
    expect(result.statusCode).toBe(429);
    expect(result.headers?.['retry-after']).toBe('3');
  });

  it('answers an outage translated at the storage boundary with 503, without the cause', async () => {
    quiet();
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const down = Object.assign(new Error('boom at shardlog-prod-xyz'), { name: 'InternalServerError', $fault: 'server' });
    const handler = httpHandler({
      'GET /b': async () => {
        throw new UnavailableError('a storage dependency is unavailable; retry shortly', { cause: down });
      },
    });
    const unavailable = await handler(event('GET /b'));
    expect(unavailable.statusCode).toBe(503);
    expect(JSON.parse(unavailable.body!).error).toMatchObject({ code: 'UNAVAILABLE', retriable: true });
    expect(unavailable.body).not.toContain('boom');
  });

  it('answers an unexpected error with a generic 500 that leaks nothing', async () => {
    quiet();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const result = await httpHandler({
      'GET /bug': async () => {
        throw new TypeError('secret table name shardlog-prod-xyz');
      },
    })(event('GET /bug'));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body!)).toEqual({ error: { code: 'INTERNAL', message: 'internal error', retriable: true } });
    expect(String(stderr.mock.calls.flat().join(''))).toContain('secret table name'); // logged, not returned
  });

  it('answers a body that cannot be serialised with the contract\'s 500, logged, never a crash or a 200 log line', async () => {
    const stdout = quiet();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    // Any failure while writing the body (here a value JSON.stringify refuses) stays inside the error table.
    const result = await httpHandler({ 'GET /bad': async () => json(200, { n: 1n }) })(event('GET /bad'));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body!)).toEqual({ error: { code: 'INTERNAL', message: 'internal error', retriable: true } });
    expect(stderr.mock.calls.flat().join('')).toContain('BigInt');
    const lines = stdout.mock.calls.flat().join('');
    if (lines) expect(lines).not.toContain('"status":200');
  });

  it('sends a JsonText body as it is', async () => {
    quiet();
    const result = await httpHandler({ 'GET /text': async () => json(200, new JsonText('{"n":12345678901234567890}')) })(event('GET /text'));
    expect(result.body).toBe('{"n":12345678901234567890}');
  });

  it('refuses bodies over 6 MB with 413', async () => {
    quiet();
    const route = vi.fn(async () => json(200, {}));
    const result = await httpHandler({ 'POST /x': route })(event('POST /x', `"${'a'.repeat(6 * 1024 * 1024)}"`));
    expect(result.statusCode).toBe(413);
    expect(route).not.toHaveBeenCalled();
  });
});
