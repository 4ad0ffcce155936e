import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { decodeSegment } from './route-matcher.js';

/** What the local server knows about one HTTP request, independent of `node:http`. */
export interface LocalRequest {
  readonly method: string;
  /** The request target as received: still percent-encoded path, optional `?query`. */
  readonly target: string;
  /** Node's `req.rawHeaders`: alternating names and values, duplicates kept, original case. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  /** `req.httpVersion`, e.g. `1.1`. */
  readonly httpVersion: string;
  /** Port the server listens on, for `x-forwarded-port`. */
  readonly localPort: number;
}

/** What routing decided, plus the values a test wants to pin (request id, clock). */
export interface EventContext {
  /** `"<METHOD> <path pattern>"`, e.g. `GET /v1/topics/{topic}`. */
  readonly routeKey: string;
  readonly pathParameters: Record<string, string>;
  readonly requestId: string;
  readonly now: Date;
}

/** Account id placed in `requestContext`; LocalStack uses the same placeholder. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_API_ID = 'local';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// ignoreBOM: a byte-order mark is part of the body, as API Gateway passes it on; the handler decides about it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Builds the API Gateway HTTP API event (payload format 2.0) that the cloud would hand the route's Lambda for
 * this request, so the local server can call the very handler deployed to Lambda.
 *
 * Where the format has a quirk, this follows what API Gateway does rather than what would look tidier:
 * - `rawPath` and `requestContext.http.path` are percent-DECODED (HTTP APIs decode the path; REST APIs and
 *   function URLs do not); `rawQueryString` stays encoded, without the `?`.
 * - Header names are lowercased; repeated headers are joined with `,`. `Cookie` headers are moved into
 *   `cookies` (split on `;`) and removed from `headers`. `x-forwarded-for/-port/-proto` and
 *   `x-amzn-trace-id` are added as API Gateway adds them.
 * - `queryStringParameters` are decoded, repeated keys joined with `,`; absent when there is no query.
 *   `pathParameters` are absent when the route has none; `body` is absent when the request has none.
 * - Difference: API Gateway base64-encodes bodies by content type; here a body is passed as text when it is
 *   valid UTF-8 and base64-encoded (`isBase64Encoded: true`) otherwise, which is what the handlers need.
 */
export function buildHttpApiEvent(request: LocalRequest, context: EventContext): APIGatewayProxyEventV2 {
  const [encodedPath, rawQueryString] = splitTarget(request.target);
  const path = decodeSegment(encodedPath);
  const { headers, cookies } = collectHeaders(request.rawHeaders);
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${request.sourceIp}` : request.sourceIp;
  headers['x-forwarded-port'] = String(request.localPort);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] ??= traceId(context.now);

  const domainName = headers['host'] ?? `127.0.0.1:${request.localPort}`;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: context.routeKey,
    rawPath: path,
    rawQueryString,
    headers,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      domainName,
      domainPrefix: domainName.split('.')[0] as string,
      http: {
        method: request.method.toUpperCase(),
        path,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey: context.routeKey,
      stage: '$default',
      time: formatRequestTime(context.now),
      timeEpoch: context.now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(rawQueryString);
  if (query !== undefined) event.queryStringParameters = query;
  if (Object.keys(context.pathParameters).length > 0) event.pathParameters = Object.assign(dictionary(), context.pathParameters);
  if (request.body.length > 0) {
    const text = decodeUtf8(request.body);
    if (text === undefined) {
      event.body = request.body.toString('base64');
      event.isBase64Encoded = true;
    } else {
      event.body = text;
    }
  }
  return event;
}

/** A request id in API Gateway's shape (a short base64 string, e.g. `JKJaXmPLvHcESHA=`). */
export function newRequestId(): string {
  return randomBytes(11).toString('base64');
}

/** API Gateway's `requestContext.time`: `12/Mar/2020:19:03:58 +0000` (CLF, always UTC). */
export function formatRequestTime(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(now.getUTCDate())}/${MONTHS[now.getUTCMonth()]}/${now.getUTCFullYear()}:` +
    `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000`
  );
}

/** Splits a request target into its (encoded) path and raw query; an absolute-form target is reduced to its path. */
export function splitTarget(target: string): [path: string, rawQuery: string] {
  let rest = target.split('#', 1)[0] as string;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i.exec(rest);
  if (absolute !== null) rest = rest.slice(absolute[0].length) || '/';
  const q = rest.indexOf('?');
  return q === -1 ? [rest, ''] : [rest.slice(0, q), rest.slice(q + 1)];
}

/** Objects without a prototype, so that a header or parameter named `__proto__` is kept (and seen) as data. */
function dictionary(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function collectHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; cookies: string[] } {
  const headers = dictionary();
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter((c) => c !== ''));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return { headers, cookies };
}

function parseQuery(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const params = dictionary();
  // URLSearchParams decodes `+` as a space and tolerates malformed escapes, as a browser form would.
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    params[key] = params[key] === undefined ? value : `${params[key]},${value}`;
  }
  return Object.keys(params).length > 0 ? params : undefined;
}

function decodeUtf8(body: Buffer): string | undefined {
  try {
    return UTF8.decode(body);
  } catch {
    return undefined;
  }
}

/** X-Ray's trace header format: `Root=1-<epoch seconds hex>-<24 hex>`. */
function traceId(now: Date): string {
  return `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}
