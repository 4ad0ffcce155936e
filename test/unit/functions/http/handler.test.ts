import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { httpHandler, json, JsonText, withQuery, type HttpRequest } from '../../../../functions/http/handler.js';
import { FencedError, OffsetOutOfRangeError, ThrottledError, UnavailableError } from '../../../../lib/errors.js';
import { EmfCapture, RecordingLogger } from '../../../support/telemetry.js';

/** An event as API Gateway builds it: `rawPath` is the route's template with the path parameters filled in. */
function event(routeKey: string, body?: string, extra: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  const [method, template] = routeKey.split(' ');
  const path = template!.replace(/\{(\w+)\}/g, (_, name: string) => extra.pathParameters?.[name] ?? '');
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
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

describe('httpHandler', () => {
  it('passes the parsed body, lower-cased headers and path parameters to the route', async () => {
    const route = vi.fn(async (_request: HttpRequest) => json(200, { ok: true }));
    const handler = httpHandler({ 'POST /v1/things/{id}': route });
    const result = await handler(event('POST /v1/things/{id}', '{"a":1}', { pathParameters: { id: 'x' } }));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!)).toEqual({ ok: true });
    expect(route.mock.calls[0]![0]).toMatchObject({ body: { a: 1 }, pathParameters: { id: 'x' }, headers: { 'content-type': 'application/json' } });
  });

  it('answers malformed JSON with 400 INVALID_REQUEST without calling the route', async () => {
    const route = vi.fn(async () => json(200, {}));
    const result = await httpHandler({ 'POST /x': route })(event('POST /x', '{"a":'));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!).error).toMatchObject({ code: 'INVALID_REQUEST', retriable: false });
    expect(route).not.toHaveBeenCalled();
  });

  it('maps engine errors through the error table, with their details', async () => {
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
    const result = await httpHandler({
      'GET /busy': async () => {
        throw new ThrottledError('slow down', 3);
      },
    })(event('GET /busy'));
    expect(result.statusCode).toBe(429);
    expect(result.headers?.['retry-after']).toBe('3');
  });

  it('answers an outage translated at the storage boundary with 503, without the cause', async () => {
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

  it('answers an unexpected error with a generic 500 that leaks nothing, and logs it', async () => {
    const logger = new RecordingLogger();
    const result = await httpHandler(
      {
        'GET /bug': async () => {
          throw new TypeError('secret table name shardlog-prod-xyz');
        },
      },
      { logger },
    )(event('GET /bug'));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body!)).toEqual({ error: { code: 'INTERNAL', message: 'internal error', retriable: true } });
    const logged = logger.lines.find((line) => line.level === 'error');
    expect(String(logged?.fields.error)).toContain('secret table name'); // logged, not returned
  });

  it('answers a body that cannot be serialised with the contract\'s 500, logged, never a crash or a 200 log line', async () => {
    const logger = new RecordingLogger();
    // Any failure while writing the body (here a value JSON.stringify refuses) stays inside the error table.
    const result = await httpHandler({ 'GET /bad': async () => json(200, { n: 1n }) }, { logger })(event('GET /bad'));
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body!)).toEqual({ error: { code: 'INTERNAL', message: 'internal error', retriable: true } });
    expect(String(logger.lines.find((line) => line.level === 'error')?.fields.error)).toContain('BigInt');
    expect(logger.lines.filter((line) => line.message === 'request').map((line) => line.fields.status)).toEqual([500]);
  });

  it('counts every error answer by its code in ErrorResponses (read back from the EMF lines), and no success', async () => {
    const capture = new EmfCapture('Shardlog-Test');
    const handler = httpHandler(
      {
        'GET /ok': async () => json(200, {}),
        'GET /fenced': async () => {
          throw new FencedError('lease moved');
        },
        'GET /bug': async () => {
          throw new TypeError('bug');
        },
      },
      { metrics: capture.sink },
    );
    for (const routeKey of ['GET /ok', 'GET /fenced', 'GET /fenced', 'GET /bug', 'GET /nowhere']) await handler(event(routeKey));
    capture.flush();
    const byCode = Object.fromEntries(capture.points('ErrorResponses').map((p) => [p.dimensions.ErrorCode, p.values]));
    expect(byCode).toEqual({ FENCED: [2], INTERNAL: [1], NOT_FOUND: [1] });
    expect(capture.points().every((p) => p.name === 'ErrorResponses' && p.dimensions.service === 'Shardlog-Test')).toBe(true);
  });

  it('sends a JsonText body as it is', async () => {
    const result = await httpHandler({ 'GET /text': async () => json(200, new JsonText('{"n":12345678901234567890}')) })(event('GET /text'));
    expect(result.body).toBe('{"n":12345678901234567890}');
  });

  it('refuses bodies over 6 MB with 413', async () => {
    const route = vi.fn(async () => json(200, {}));
    const result = await httpHandler({ 'POST /x': route })(event('POST /x', `"${'a'.repeat(6 * 1024 * 1024)}"`));
    expect(result.statusCode).toBe(413);
    expect(route).not.toHaveBeenCalled();
  });

  it('refuses a base64-encoded body that is not valid UTF-8 instead of decoding it with replacement characters', async () => {
    const route = vi.fn(async () => json(200, {}));
    const invalid = Buffer.concat([Buffer.from('{"v":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]).toString('base64');
    const result = await httpHandler({ 'POST /x': route })(event('POST /x', invalid, { isBase64Encoded: true }));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!).error.message).toMatch(/not valid UTF-8/);
    expect(route).not.toHaveBeenCalled();
  });

  it('parses a base64-encoded UTF-8 body as JSON', async () => {
    const route = vi.fn(async (_request: HttpRequest) => json(200, {}));
    const body = Buffer.from('{"v":"é€😀"}').toString('base64');
    await httpHandler({ 'POST /x': route })(event('POST /x', body, { isBase64Encoded: true }));
    expect(route.mock.calls[0]![0].body).toEqual({ v: 'é€😀' });
  });

  it('ignores one leading byte-order mark and reads JSON whatever the content type says', async () => {
    const route = vi.fn(async (_request: HttpRequest) => json(200, {}));
    const handler = httpHandler({ 'POST /x': route });
    await handler(event('POST /x', '\ufeff{"a":1}'));
    await handler(event('POST /x', '{"a":2}', { headers: { 'content-type': 'text/plain' } }));
    await handler(event('POST /x', '{"a":3}', { headers: {} }));
    expect(route.mock.calls.map((c) => c[0].body)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect((await handler(event('POST /x', '\ufeff\ufeff{"a":1}'))).statusCode).toBe(400);
  });

  it('refuses a body whose charset is not UTF-8', async () => {
    const route = vi.fn(async () => json(200, {}));
    const result = await httpHandler({ 'POST /x': route })(
      event('POST /x', '{"a":1}', { headers: { 'content-type': 'application/json; charset=utf-16' } }),
    );
    expect(result.statusCode).toBe(400);
    expect(route).not.toHaveBeenCalled();
  });

  it('refuses query parameters on a route that declares none, __proto__ included', async () => {
    const route = vi.fn(async () => json(200, {}));
    const handler = httpHandler({ 'GET /x': route });
    for (const queryStringParameters of [{ x: '1' }, JSON.parse('{"__proto__":"1"}'), { constructor: '1' }]) {
      const result = await handler(event('GET /x', undefined, { queryStringParameters }));
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body!).error.message).toMatch(/unknown query parameter/);
    }
    expect(route).not.toHaveBeenCalled();
  });

  it('passes the declared query parameters of a route and refuses the others', async () => {
    const route = vi.fn(async (_request: HttpRequest) => json(200, {}));
    const handler = httpHandler({ 'GET /x': withQuery(['limit'], route) });
    expect((await handler(event('GET /x', undefined, { queryStringParameters: { limit: '5' } }))).statusCode).toBe(200);
    expect(route.mock.calls[0]![0].query).toEqual({ limit: '5' });
    const unknown = await handler(event('GET /x', undefined, { queryStringParameters: JSON.parse('{"limit":"5","__proto__":"x"}') }));
    expect(unknown.statusCode).toBe(400);
    expect(route).toHaveBeenCalledTimes(1);
  });

  it('keeps headers named like Object.prototype members as data', async () => {
    const route = vi.fn(async (_request: HttpRequest) => json(200, {}));
    await httpHandler({ 'GET /x': route })(event('GET /x', undefined, { headers: JSON.parse('{"__proto__":"p","Constructor":"c"}') }));
    const { headers } = route.mock.calls[0]![0];
    expect(Object.keys(headers)).toEqual(['__proto__', 'constructor']);
    expect(headers['__proto__']).toBe('p');
  });

  it('answers 404 for a routeKey that only Object.prototype knows', async () => {
    const result = await httpHandler({ 'GET /x': async () => json(200, {}) })(event('GET /x', undefined, { routeKey: 'constructor' }));
    expect(result.statusCode).toBe(404);
  });

  it.each([
    ['leading zeros in an integer parameter', '/v1/t/orders/p/01', { topic: 'orders', partition: '01' }],
    ['a trailing slash', '/v1/t/orders/p/1/', { topic: 'orders', partition: '1' }],
    ['a dot segment', '/v1/t/./orders/p/1', { topic: 'orders', partition: '1' }],
    ['a dot-dot segment', '/v1/t/x/../orders/p/1', { topic: 'orders', partition: '1' }],
    ['a doubled slash', '/v1//t/orders/p/1', { topic: 'orders', partition: '1' }],
    ['a percent-encoded name character', '/v1/t/%6Frders/p/1', { topic: 'orders', partition: '1' }],
    ['a parameter that is not the one in the path', '/v1/t/orders/p/1', { topic: 'other', partition: '1' }],
    ['a decoded slash inside a parameter', '/v1/t/a/b/p/1', { topic: 'a/b', partition: '1' }],
  ])('refuses a path with %s before calling the route', async (_name, rawPath, pathParameters) => {
    const route = vi.fn(async () => json(200, {}));
    const handler = httpHandler({ 'GET /v1/t/{topic}/p/{partition}': route });
    const result = await handler(event('GET /v1/t/{topic}/p/{partition}', undefined, { rawPath, pathParameters }));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body!).error.message).toMatch(/not in canonical form/);
    expect(route).not.toHaveBeenCalled();
  });

  it('accepts a canonical path, also behind a named stage', async () => {
    const route = vi.fn(async () => json(200, {}));
    const handler = httpHandler({ 'GET /v1/t/{topic}/p/{partition}': route });
    const pathParameters = { topic: 'orders.v1', partition: '10' };
    expect((await handler(event('GET /v1/t/{topic}/p/{partition}', undefined, { pathParameters }))).statusCode).toBe(200);
    const staged = event('GET /v1/t/{topic}/p/{partition}', undefined, { pathParameters, rawPath: '/prod/v1/t/orders.v1/p/10' });
    staged.requestContext.stage = 'prod';
    expect((await handler(staged)).statusCode).toBe(200);
  });

  it('quotes at most a bounded part of the path in its error', async () => {
    const rawPath = `/v1/t/${'x'.repeat(100_000)}/`;
    const result = await httpHandler({ 'GET /v1/t/{topic}': async () => json(200, {}) })(
      event('GET /v1/t/{topic}', undefined, { rawPath, pathParameters: { topic: 'x'.repeat(100_000) } }),
    );
    expect(result.statusCode).toBe(400);
    expect(result.body!.length).toBeLessThan(1000);
  });
});
