import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import {
  echo,
  errorToBody,
  InvalidRequestError,
  RouteNotFoundError,
  ShardlogError,
  type ErrorCode,
} from '../../lib/errors.js';
import { SILENT_LOGGER, withFields, type Logger } from '../../lib/logger.js';
import { NO_METRICS, type MetricsSink } from '../../lib/observability/metrics-sink.js';
import { acceptsGzip, decodeBody, encodeBody } from './body.js';
import { routePathProblem } from './canonical-path.js';
import { STATUS_OF } from './error-table.js';
import { dictionary, knownParams } from './validate.js';

/** A request as route handlers see it: already decoded, never a Lambda type. */
export interface HttpRequest {
  readonly routeKey: string;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header names are lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body, or `undefined` when there was none (or it was binary: {@link rawBody}). */
  readonly body: unknown;
  /** The bytes of a binary body (content type `application/vnd.shardlog.batches+v1`, functions/http/body.ts). */
  readonly rawBody?: Uint8Array;
  readonly requestId: string;
  readonly log: Logger;
  /** Where the route emits its metrics (latency, records and bytes fetched). */
  readonly metrics: MetricsSink;
}

/** Where a handler logs and emits metrics: the engine's (`Shardlog` has both); each defaults to nowhere. */
export interface HandlerTelemetry {
  readonly logger?: Logger;
  readonly metrics?: MetricsSink;
}

export { BinaryBody, JsonText } from './body.js';

export interface HttpResponse {
  readonly status: number;
  /** A value to serialise, {@link JsonText}, or {@link BinaryBody}. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type RouteHandler = (request: HttpRequest) => Promise<HttpResponse>;

/** What a Lambda function of the HTTP API exports as `handler` (API Gateway HTTP API, payload format 2.0). */
export type LambdaHttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** A route that reads query parameters names them; every other parameter is refused with 400. */
export interface RouteDefinition {
  /** The query parameters the route reads. */
  readonly query: readonly string[];
  readonly handle: RouteHandler;
}

/**
 * A route as {@link httpHandler} takes it: a bare handler accepts no query parameter at all, so a route cannot
 * forget to check its query string (`?x=1` on a route that reads none is a 400, not silently ignored).
 */
export type Route = RouteHandler | RouteDefinition;

/** A route that reads the query parameters `query` (and no others). */
export function withQuery(query: readonly string[], handle: RouteHandler): RouteDefinition {
  return { query, handle };
}

/** Lambda's synchronous invocation payload limit; API.md caps request bodies at 6 MB. */
export { MAX_REQUEST_BODY_BYTES } from '../../lib/contract/limits.js';

export const json = (status: number, body: unknown, headers?: Record<string, string>): HttpResponse => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});

export const noContent = (): HttpResponse => ({ status: 204 });

/**
 * The one wrapper every Lambda HTTP handler goes through (Hono's adapter + error handler in one place):
 * decodes the API Gateway HTTP API (payload 2.0) event, refuses a path that is not in canonical form
 * (`canonical-path.ts`) and query parameters the route does not declare, parses JSON once, dispatches on
 * `routeKey`, logs one line per request, and maps every error through the error table. A 500 never carries
 * internals. Every error answer counts in `ErrorResponses` by its code. `telemetry` (the engine) says where the
 * log lines and metrics go.
 *
 * @example
 * export const handler = httpHandler({
 *   'GET /v1/health': async () => json(200, { status: 'ok' }),
 *   'GET /v1/things/{id}': withQuery(['verbose'], async (req) => json(200, { verbose: req.query.verbose })),
 * });
 */
export function httpHandler(routes: Readonly<Record<string, Route>>, telemetry: HandlerTelemetry = {}): LambdaHttpHandler {
  const log = telemetry.logger ?? SILENT_LOGGER;
  const metrics = telemetry.metrics ?? NO_METRICS;
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = Date.now();
    const requestId = event.requestContext?.requestId ?? randomUUID();
    const requestLog = withFields(log, { requestId, routeKey: event.routeKey });
    let response: HttpResponse;
    let result: APIGatewayProxyStructuredResultV2;
    let errorCode: ErrorCode | undefined;
    const gzip = acceptsGzip(headerOf(event, 'accept-encoding'));
    try {
      // Own keys only: a routeKey of `constructor` must not reach Object.prototype.
      const route = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
      if (!route) throw new RouteNotFoundError(`no route for ${echo(String(event.routeKey))}`);
      const { query, handle } = typeof route === 'function' ? { query: [], handle: route } : route;
      response = await handle(decode(event, query, { requestId, log: requestLog, metrics }));
      // Inside the try: a body that cannot be serialised is a 500 from the error table, logged as one.
      result = encode(response, gzip);
    } catch (raw) {
      ({ response, code: errorCode } = errorResponse(raw, requestLog));
      try {
        result = encode(response, gzip);
      } catch (error) {
        requestLog.error('error response could not be serialised', { error });
        ({ response, code: errorCode } = { response: INTERNAL_ERROR, code: 'INTERNAL' });
        result = encode(response, false);
      }
    }
    if (errorCode !== undefined) metrics.add('ErrorResponses', 1, { ErrorCode: errorCode });
    requestLog.info('request', {
      path: event.rawPath,
      // Who called: the IAM principal API Gateway authorized (payload 2.0 `requestContext.authorizer.iam`).
      caller: (event.requestContext as { authorizer?: { iam?: { userArn?: string } } } | undefined)?.authorizer?.iam?.userArn,
      status: response.status,
      ...(errorCode !== undefined ? { errorCode } : {}),
      durationMs: Date.now() - started,
    });
    return result;
  };
}

/**
 * Turns the event into an {@link HttpRequest}, refusing (400) a non-canonical path and undeclared query
 * parameters before the body is even parsed. Headers, query and path parameters go into objects without a
 * prototype, so a parameter named `__proto__` is seen (and refused) instead of vanishing.
 */
function decode(
  event: APIGatewayProxyEventV2,
  allowedQuery: readonly string[],
  context: Pick<HttpRequest, 'requestId' | 'log' | 'metrics'>,
): HttpRequest {
  const pathParameters = dictionary<string>();
  for (const [name, value] of Object.entries(event.pathParameters ?? {})) {
    if (value !== undefined) pathParameters[name] = value;
  }
  checkCanonicalPath(event, pathParameters);
  const query = dictionary<string>();
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  knownParams(query, allowedQuery);
  const headers = dictionary<string>();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const { json: body, bytes } = decodeBody(event, headers);
  return { routeKey: event.routeKey, pathParameters, query, headers, body, ...(bytes ? { rawBody: bytes } : {}), ...context };
}

/** `rawPath` must be the route's template with its parameters filled in, nothing else (`canonical-path.ts`). */
function checkCanonicalPath(event: APIGatewayProxyEventV2, pathParameters: Readonly<Record<string, string>>): void {
  const rawPath = String(event.rawPath ?? '');
  const template = event.routeKey.slice(event.routeKey.indexOf(' ') + 1);
  // On a named stage API Gateway keeps the stage in rawPath (`/prod/v1/...`); `$default` has none.
  const stage = event.requestContext?.stage;
  const prefix = stage && stage !== '$default' && rawPath.startsWith(`/${stage}/`) ? `/${stage}` : '';
  const problem = routePathProblem(rawPath, template, pathParameters, prefix);
  if (problem !== undefined) {
    throw new InvalidRequestError(`the path '${echo(rawPath)}' is not in canonical form: ${problem}`);
  }
}

function errorResponse(error: unknown, log: Logger): { response: HttpResponse; code: ErrorCode } {
  // SDK errors arrive translated: the storage boundary (lib/storage/aws-errors.ts) did it.
  if (error instanceof ShardlogError) {
    const status = STATUS_OF[error.code];
    if (status >= 500) log.error('dependency failure', { error });
    const headers: Record<string, string> = {};
    if (error.code === 'THROTTLED') headers['retry-after'] = String(error.details.retryAfterSeconds ?? 1);
    return { response: json(status, errorToBody(error), headers), code: error.code };
  }
  log.error('unhandled error', { error });
  return { response: INTERNAL_ERROR, code: 'INTERNAL' };
}

/** The generic 500 (API.md: a 5xx never carries internals). */
const INTERNAL_ERROR: HttpResponse = json(500, { error: { code: 'INTERNAL', message: 'internal error', retriable: true } });

function encode(response: HttpResponse, gzip: boolean): APIGatewayProxyStructuredResultV2 {
  if (response.body === undefined) return { statusCode: response.status, headers: { ...response.headers } };
  const encoded = encodeBody(response.body, gzip);
  return { statusCode: response.status, ...encoded, headers: { ...response.headers, ...encoded.headers } };
}

/** A request header by lower-case name, whatever case the event gives it in. */
function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}
