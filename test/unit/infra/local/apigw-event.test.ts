import { describe, expect, it } from 'vitest';
import { buildHttpApiEvent, formatRequestTime, splitTarget, type LocalRequest } from '../../../../infra/local/apigw-event.js';

const NOW = new Date(Date.UTC(2020, 2, 12, 19, 3, 58, 123));

function request(overrides: Partial<LocalRequest> = {}): LocalRequest {
  return {
    method: 'GET',
    target: '/v1/health',
    rawHeaders: ['Host', '127.0.0.1:4000', 'User-Agent', 'curl/8.0'],
    body: Buffer.alloc(0),
    sourceIp: '127.0.0.1',
    httpVersion: '1.1',
    localPort: 4000,
    ...overrides,
  };
}

const context = { routeKey: 'GET /v1/health', pathParameters: {}, requestId: 'req-1', now: NOW };

describe('buildHttpApiEvent', () => {
  it('builds a payload 2.0 event with the request context API Gateway sends', () => {
    const event = buildHttpApiEvent(request(), context);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /v1/health',
      rawPath: '/v1/health',
      rawQueryString: '',
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1:4000',
        http: { method: 'GET', path: '/v1/health', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8.0' },
        requestId: 'req-1',
        routeKey: 'GET /v1/health',
        stage: '$default',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: NOW.getTime(),
      },
    });
  });

  it('omits body, cookies, query and path parameters when the request has none', () => {
    const event = buildHttpApiEvent(request(), context);
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('cookies');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
  });

  it('lowercases header names, joins repeated headers with commas and adds the forwarding headers', () => {
    const event = buildHttpApiEvent(
      request({ rawHeaders: ['Host', 'h', 'X-Custom', 'a', 'x-custom', 'b', 'Accept', 'application/json'] }),
      context,
    );
    expect(event.headers).toMatchObject({
      host: 'h',
      'x-custom': 'a,b',
      accept: 'application/json',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-port': '4000',
      'x-forwarded-proto': 'http',
    });
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
  });

  it('moves Cookie headers into cookies', () => {
    const event = buildHttpApiEvent(request({ rawHeaders: ['Cookie', 'a=1; b=2', 'cookie', 'c=3'] }), context);
    expect(event.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(event.headers).not.toHaveProperty('cookie');
  });

  it('keeps the raw query string and decodes parameters, joining repeated keys with commas', () => {
    const event = buildHttpApiEvent(request({ target: '/v1/health?offset=5&tag=a%20b&tag=c&flag&q=x+y' }), context);
    expect(event.rawQueryString).toBe('offset=5&tag=a%20b&tag=c&flag&q=x+y');
    expect(event.queryStringParameters).toEqual({ offset: '5', tag: 'a b,c', flag: '', q: 'x y' });
  });

  it('keeps query parameters and headers named __proto__ as data', () => {
    const event = buildHttpApiEvent(request({ target: '/v1/health?__proto__=1&constructor=2', rawHeaders: ['__proto__', 'h'] }), context);
    expect(Object.keys(event.queryStringParameters!)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(event.queryStringParameters, '__proto__')?.value).toBe('1');
    expect(Object.getOwnPropertyDescriptor(event.headers, '__proto__')?.value).toBe('h');
    // What Lambda receives is the JSON of the event: the keys survive it.
    expect(JSON.parse(JSON.stringify(event)).queryStringParameters).toEqual(JSON.parse('{"__proto__":"1","constructor":"2"}'));
  });

  it('decodes rawPath and http.path as HTTP APIs do', () => {
    const event = buildHttpApiEvent(request({ target: '/v1/topics/my%20topic' }), { ...context, pathParameters: { topic: 'my topic' } });
    expect(event.rawPath).toBe('/v1/topics/my topic');
    expect(event.requestContext.http.path).toBe('/v1/topics/my topic');
    expect(event.pathParameters).toEqual({ topic: 'my topic' });
  });

  it('passes a UTF-8 body as text', () => {
    const body = Buffer.from(JSON.stringify({ name: 'zürich ☃' }));
    const event = buildHttpApiEvent(request({ method: 'POST', body }), context);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe('{"name":"zürich ☃"}');
  });

  it('base64-encodes a body that is not valid UTF-8', () => {
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const event = buildHttpApiEvent(request({ method: 'POST', body }), context);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body as string, 'base64')).toEqual(body);
  });

  it('falls back to the local address for domainName when there is no Host header', () => {
    const event = buildHttpApiEvent(request({ rawHeaders: [] }), context);
    expect(event.requestContext.domainName).toBe('127.0.0.1:4000');
    expect(event.requestContext.http.userAgent).toBe('');
  });
});

describe('splitTarget', () => {
  it('splits path and query and drops a fragment', () => {
    expect(splitTarget('/a/b?x=1&y=2#frag')).toEqual(['/a/b', 'x=1&y=2']);
    expect(splitTarget('/a')).toEqual(['/a', '']);
  });

  it('reduces an absolute-form target to its path', () => {
    expect(splitTarget('http://host:4000/v1/health?x=1')).toEqual(['/v1/health', 'x=1']);
    expect(splitTarget('http://host:4000')).toEqual(['/', '']);
  });
});

describe('formatRequestTime', () => {
  it('formats in UTC with zero padding', () => {
    expect(formatRequestTime(new Date(Date.UTC(2024, 0, 5, 3, 4, 5)))).toBe('05/Jan/2024:03:04:05 +0000');
  });
});
