import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import {
  errorToBody,
  InvalidRequestError,
  PayloadTooLargeError,
  RouteNotFoundError,
  ShardlogError,
} from '../../lib/errors.js';
import { parseJson } from '../../lib/log/json-text.js';
import { createLogger, type Logger } from '../../lib/logger.js';
import { STATUS_OF } from './error-table.js';

/** A request as route handlers see it: already decoded, never a Lambda type. */
export interface HttpRequest {
  readonly routeKey: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body, or `undefined` when there was none. */
  readonly body: unknown;
  readonly requestId: string;
  readonly log: Logger;
}

/**
 * A response body that is JSON text already: written by an encoder that measured it (fetch responses, whose
 * record values are spliced in as stored), and sent as is.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export interface HttpResponse {
  readonly status: number;
  /** A value to serialise, or {@link JsonText}. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

/** Lambda's synchronous invocation payload limit; API.md caps request bodies at 6 MB. */
export const MAX_REQUEST_BODY_BYTES = 6 * 1024 * 1024;

export const json = (status: number, body: unknown, headers?: Record<string, string>): HttpResponse => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});

export const noContent = (): HttpResponse => ({ status: 204 });

/**
 * The one wrapper every Lambda HTTP handler goes through (Hono's adapter + error handler in one place):
 * decodes the API Gateway HTTP API (payload 2.0) event, parses JSON once, dispatches on `routeKey`, logs one
 * line per request, and maps every error through the error table. A 500 never carries internals.
 *
 * @example
 * export const handler = httpHandler({ 'GET /v1/health': async () => json(200, { status: 'ok' }) });
 */
export function httpHandler(routes: Readonly<Record<string, RouteHandler>>) {
  const log = createLogger();
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = Date.now();
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const requestLog = createLogger({ requestId, routeKey: event.routeKey });
    let response: HttpResponse;
    let result: APIGatewayProxyStructuredResultV2;
    try {
      const route = routes[event.routeKey];
      if (!route) throw new RouteNotFoundError(`no route for ${event.routeKey}`);
      response = await route(decode(event, requestId, requestLog));
      // Inside the try: a body that cannot be serialised is a 500 from the error table, logged as one.
      result = encode(response);
    } catch (raw) {
      response = errorResponse(raw, requestLog);
      try {
        result = encode(response);
      } catch (error) {
        requestLog.error('error response could not be serialised', { error });
        response = INTERNAL_ERROR;
        result = encode(response);
      }
    }
    log.info('request', {
      requestId,
      routeKey: event.routeKey,
      path: event.rawPath,
      // Who called: the IAM principal API Gateway authorized (payload 2.0 `requestContext.authorizer.iam`).
      caller: (event.requestContext as { authorizer?: { iam?: { userArn?: string } } } | undefined)?.authorizer?.iam?.userArn,
      status: response.status,
      durationMs: Date.now() - started,
    });
    return result;
  };
}

function decode(event: APIGatewayProxyEventV2, requestId: string, log: Logger): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  const pathParameters: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) pathParameters[name] = value;
  }
  return { routeKey: event.routeKey, pathParameters, query, headers, body: parseBody(event), requestId, log };
}

function parseBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_REQUEST_BODY_BYTES) {
    throw new PayloadTooLargeError(`request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes`, {
      details: { limitBytes: MAX_REQUEST_BODY_BYTES },
    });
  }
  try {
    // JSON.parse, keeping the digits of numbers a double cannot hold (record values store them as written).
    return parseJson(text);
  } catch (cause) {
    throw new InvalidRequestError('request body is not valid JSON', { cause });
  }
}

function errorResponse(error: unknown, log: Logger): HttpResponse {
  // SDK errors arrive translated: the storage boundary (lib/storage/aws-errors.ts) did it.
  if (error instanceof ShardlogError) {
    const status = STATUS_OF[error.code];
    if (status >= 500) log.error('dependency failure', { error });
    const headers: Record<string, string> = {};
    if (error.code === 'THROTTLED') headers['retry-after'] = String(error.details.retryAfterSeconds ?? 1);
    return json(status, errorToBody(error), headers);
  }
  log.error('unhandled error', { error });
  return INTERNAL_ERROR;
}

/** The generic 500 (API.md: a 5xx never carries internals). */
const INTERNAL_ERROR: HttpResponse = json(500, { error: { code: 'INTERNAL', message: 'internal error', retriable: true } });

function encode(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = { ...response.headers };
  if (response.body === undefined) return { statusCode: response.status, headers };
  headers['content-type'] = 'application/json';
  const body = response.body instanceof JsonText ? response.body.text : JSON.stringify(response.body);
  return { statusCode: response.status, headers, body };
}
