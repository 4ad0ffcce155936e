import { describe, expect, it } from 'vitest';
import { InvalidHandlerResultError, toLocalResponse } from '../../../../infra/local/apigw-result.js';

describe('toLocalResponse', () => {
  it('writes a structured result: status, lowercased headers, body and its length', () => {
    const response = toLocalResponse({ statusCode: 201, headers: { 'Content-Type': 'application/json', 'X-Count': 3 }, body: '{"ok":true}' });
    expect(response.statusCode).toBe(201);
    expect(response.headers).toEqual({ 'content-type': 'application/json', 'x-count': '3', 'content-length': '11' });
    expect(response.body.toString()).toBe('{"ok":true}');
  });

  it('turns cookies into set-cookie headers', () => {
    const response = toLocalResponse({ statusCode: 200, cookies: ['a=1; Path=/', 'b=2'] });
    expect(response.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
  });

  it('decodes a base64 body', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const response = toLocalResponse({ statusCode: 200, body: bytes.toString('base64'), isBase64Encoded: true });
    expect(response.body).toEqual(bytes);
    expect(response.headers['content-length']).toBe('4');
  });

  it('sends an empty body when the result has none', () => {
    const response = toLocalResponse({ statusCode: 204 });
    expect(response.body.length).toBe(0);
    expect(response.headers['content-length']).toBe('0');
  });

  it('infers a 200 JSON response from a string or an object without statusCode, as API Gateway does', () => {
    const fromString = toLocalResponse('hello');
    expect(fromString.statusCode).toBe(200);
    expect(fromString.headers['content-type']).toBe('application/json');
    expect(fromString.body.toString()).toBe('hello');
    const fromObject = toLocalResponse({ status: 'ok' } as never);
    expect(fromObject.body.toString()).toBe('{"status":"ok"}');
  });

  it('rejects an invalid status code or a non-string body', () => {
    expect(() => toLocalResponse({ statusCode: 42 })).toThrow(InvalidHandlerResultError);
    expect(() => toLocalResponse({ statusCode: 200, body: { a: 1 } as never })).toThrow(InvalidHandlerResultError);
  });
});
