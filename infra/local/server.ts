import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pathProblem, routePathProblem } from '../../functions/http/canonical-path.js';
import { routeKey, type RouteSpec } from '../../functions/routes.js';
import {
  echo,
  errorToBody,
  ForbiddenError,
  InternalError,
  InvalidRequestError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
  type ShardlogError,
} from '../../lib/errors.js';
import { buildHttpApiEvent, newRequestId, splitTarget } from './apigw-event.js';
import { toLocalResponse, type LocalResponse } from './apigw-result.js';
import type { HandlerLoader } from './handler-loader.js';
import { createRouteMatcher } from './route-matcher.js';

/** API Gateway HTTP API's request body limit (its quota; README, "The HTTP boundary", lists what it answers). */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Lambda's synchronous invocation payload limit, for the event and for the response alike. */
export const LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/**
 * API Gateway HTTP API's limit on the request line and header values together (10,240 bytes, not adjustable).
 * The local server does not enforce it: see {@link LOCAL_MAX_HEADER_BYTES}.
 */
export const API_GATEWAY_MAX_HEADER_BYTES = 10_240;
/**
 * The local server's limit on the request line and headers (Node's default is 16 KiB). Generous on purpose:
 * an over-long `Idempotency-Key` or path should reach the handlers and get their 400 (as a 10 KB one does in
 * the cloud), not be cut off by the emulator; beyond this the answer is a JSON 413.
 */
export const LOCAL_MAX_HEADER_BYTES = 1024 * 1024;
/** How long `close()` lets in-flight requests finish before it drops their connections. */
const CLOSE_GRACE_MS = 5_000;
/** After answering a request Node could not parse, how long its connection may drain before it is dropped. */
const CLIENT_ERROR_LINGER_MS = 2_000;

export interface LocalServerOptions {
  readonly routes: readonly RouteSpec[];
  readonly loadHandler: HandlerLoader;
  readonly maxBodyBytes?: number;
  readonly maxLambdaPayloadBytes?: number;
  /** Request line and headers; default {@link LOCAL_MAX_HEADER_BYTES}. */
  readonly maxHeaderBytes?: number;
  readonly log?: Pick<Console, 'error'>;
  readonly now?: () => Date;
  /**
   * Called when a handler's result is over Lambda's payload limit (the client gets a 500, as in the cloud). A
   * test harness collects these to fail the run: no accepted request may trip it (see test/support/local-server.ts).
   */
  readonly onPayloadLimitExceeded?: (violation: PayloadLimitViolation) => void;
  /**
   * Answers requests that are not the API's before any routing or canonical-path check, or returns `false` to
   * leave them to the API (`npm start` serves the local console at `/` this way: infra/local/console/serve.ts).
   */
  readonly beforeRouting?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

/** A handler result that Lambda would have refused to return. */
export interface PayloadLimitViolation {
  readonly routeKey: string;
  readonly requestId: string;
  /** The result serialised as JSON, as Lambda counts it. */
  readonly payloadBytes: number;
  readonly limitBytes: number;
}

/** The local API Gateway. */
export interface LocalServer {
  readonly server: Server;
  /** Listens on `host:port` (port 0 picks a free one) and resolves with the base URL, e.g. `http://127.0.0.1:4000`. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (up to a grace period) and resolves once closed. */
  close(): Promise<void>;
}

/**
 * An HTTP server that plays API Gateway (HTTP API, payload format 2.0) in front of the Lambda handlers: it
 * matches each request against the route table, builds the event the cloud would build, calls the route's
 * function through `loadHandler`, and writes the structured result back.
 *
 * Emulated: route matching and `{param}` decoding, 404/405 for unknown routes and methods, the 10 MB body
 * limit (413), Lambda's 6 MB limit on the event and on the response as Lambda measures it, the result serialised as
 * JSON (413 / 500, and a hook tests use to fail on it), and a generic 500 for a
 * handler that throws or returns garbage (the error goes to stderr, never to the client).
 * Not emulated: API Gateway's 30 s integration timeout and Lambda's per-function timeout (a slow handler
 * simply takes long), concurrency limits and throttling, authorizers, CORS.
 *
 * Routing errors use shardlog's error body (API.md), not API Gateway's `{"message":"Not Found"}`, and an
 * unknown method gives 405 where API Gateway gives 404: the local server is for developing against the
 * contract. EVERY answer is the contract's JSON error, also for requests Node cannot parse (`clientError`:
 * malformed request lines or headers, raw non-ASCII bytes, headers over {@link LOCAL_MAX_HEADER_BYTES}, a
 * request that does not arrive in time). A path that is not canonical (`functions/http/canonical-path.ts`) is
 * refused with 400 before routing, with the same rules the handler wrapper applies to `rawPath`.
 */
/**
 * Why a request must not reach the local API, or `undefined`. The local server has no authentication (in the
 * cloud every route needs SigV4), so a web page open in the same browser must not be able to use it:
 * - a browser names the page that sent a request in `Origin`; anything but the server's own origin (the
 *   console at `/`) is refused, which stops cross-site requests that need no CORS preflight (a `text/plain`
 *   POST, a form). curl and the SDK send no `Origin`.
 * - DNS rebinding (a page whose host name resolves to 127.0.0.1 is "same origin" with its own host name) is
 *   stopped by accepting only a `Host` that is a loopback name or the address the server listens on.
 */
export function crossSiteProblem(req: Pick<IncomingMessage, 'headers'>, listenHost: string): string | undefined {
  const host = req.headers.host;
  if (host !== undefined && !allowedHostnames(listenHost).has(hostnameOf(host))) {
    return `the local server answers only requests addressed to a loopback name, not to '${echo(host)}'`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host ?? ''}`) {
    return `the local server refuses requests from another web origin ('${echo(origin)}'); use curl or the SDK`;
  }
  return undefined;
}

const allowedHostnames = (listenHost: string) => new Set(['localhost', '127.0.0.1', '[::1]', listenHost.includes(':') ? `[${listenHost}]` : listenHost]);

/** The host name of a `Host` header value (`localhost:4000` → `localhost`, `[::1]:4000` → `[::1]`). */
function hostnameOf(host: string): string {
  const bracket = host.startsWith('[') ? host.indexOf(']') : -1;
  if (bracket >= 0) return host.slice(0, bracket + 1).toLowerCase();
  const colon = host.indexOf(':');
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}

export function createLocalServer(options: LocalServerOptions): LocalServer {
  const match = createRouteMatcher(options.routes);
  const maxBodyBytes = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  const maxLambdaPayloadBytes = options.maxLambdaPayloadBytes ?? LAMBDA_MAX_PAYLOAD_BYTES;
  const log = options.log ?? console;
  const now = options.now ?? (() => new Date());

  let listenHost = '127.0.0.1';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = newRequestId();
    res.setHeader('apigw-requestid', requestId);
    const crossSite = crossSiteProblem(req, listenHost);
    if (crossSite !== undefined) {
      req.resume(); // discard any body
      return sendError(res, 403, new ForbiddenError(crossSite));
    }
    if (options.beforeRouting !== undefined && (await options.beforeRouting(req, res))) return;
    const target = req.url ?? '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const [path] = splitTarget(target);
    const problem = pathProblem(path);
    if (problem !== undefined) {
      req.resume(); // discard any body
      return sendError(res, 400, new InvalidRequestError(`the path '${echo(path)}' is not in canonical form: ${problem}`));
    }
    const routed = match(method, path);

    if (routed.kind !== 'matched') {
      req.resume(); // discard any body
      if (routed.kind === 'method-not-allowed') {
        res.setHeader('allow', routed.allowedMethods.join(', '));
        return sendError(res, 405, new MethodNotAllowedError(`method ${echo(method)} is not allowed on ${echo(path)}`));
      }
      return sendError(res, 404, new RouteNotFoundError(`no route for ${echo(method)} ${echo(path)}`));
    }
    const routeProblem = routePathProblem(path, routed.route.path, routed.pathParameters);
    if (routeProblem !== undefined) {
      req.resume();
      return sendError(res, 400, new InvalidRequestError(`the path '${echo(path)}' is not in canonical form: ${routeProblem}`));
    }

    const body = await readBody(req, maxBodyBytes);
    if (body === undefined) {
      return sendTooLarge(req, res, new PayloadTooLargeError(`request body exceeds API Gateway's limit of ${maxBodyBytes} bytes`));
    }

    const route = routed.route;
    const event = buildHttpApiEvent(
      {
        method,
        target,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        httpVersion: req.httpVersion,
        localPort: req.socket.localPort ?? 0,
      },
      { routeKey: routeKey(route), pathParameters: routed.pathParameters, requestId, now: now() },
    );
    if (Buffer.byteLength(JSON.stringify(event)) > maxLambdaPayloadBytes) {
      return sendError(
        res,
        413,
        new PayloadTooLargeError(`request exceeds Lambda's invocation payload limit of ${maxLambdaPayloadBytes} bytes`),
      );
    }

    let response: LocalResponse;
    let payloadBytes: number | undefined;
    try {
      const handler = await options.loadHandler(route.function);
      const result = await handler(event);
      payloadBytes = payloadOverLimit(result, maxLambdaPayloadBytes);
      response = toLocalResponse(result);
    } catch (error) {
      log.error(`local server: ${routeKey(route)} (function '${route.function}', request ${requestId}) failed:`, error);
      return sendInternal(res);
    }
    if (payloadBytes !== undefined) {
      // In the cloud, Lambda rejects the oversized response and the client sees a 5xx.
      log.error(`local server: ${routeKey(route)} returned ${payloadBytes} bytes, over Lambda's ${maxLambdaPayloadBytes}`);
      options.onPayloadLimitExceeded?.({ routeKey: routeKey(route), requestId, payloadBytes, limitBytes: maxLambdaPayloadBytes });
      return sendInternal(res);
    }
    res.writeHead(response.statusCode, response.headers);
    res.end(response.body);
  };

  const maxHeaderBytes = options.maxHeaderBytes ?? LOCAL_MAX_HEADER_BYTES;
  const server = createServer({ maxHeaderSize: maxHeaderBytes }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error('local server: unexpected failure', error);
      if (!res.headersSent) sendInternal(res);
      else res.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, maxHeaderBytes));

  return {
    server,
    listen(port, host = '127.0.0.1') {
      listenHost = host;
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          resolve(`http://${host}:${address.port}`);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        if (!server.listening) return resolve();
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        force.unref();
        server.close((error) => {
          clearTimeout(force);
          if (error) reject(error);
          else resolve();
        });
        // Kept-alive idle connections would hold close() open; in-flight requests may finish.
        server.closeIdleConnections();
      });
    },
  };
}

/**
 * The size of a handler's result as Lambda checks it against its limit, the result serialised as JSON (in which
 * the HTTP body is a JSON string: every `"` of a JSON body costs two bytes), when that is over `limit`;
 * undefined when it fits. Serialising is skipped when even six bytes per character of the body (a control
 * character escaped as \u00XX) could not reach the limit.
 */
export function payloadOverLimit(result: unknown, limit: number): number | undefined {
  const body = typeof result === 'object' && result !== null && 'body' in result ? (result as { body?: unknown }).body : result;
  if (typeof body === 'string' && body.length * 6 + 64 * 1024 < limit) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(result ?? null));
  return bytes > limit ? bytes : undefined;
}

/**
 * Reads the whole body; `undefined` once it exceeds `limit` (checked against Content-Length first, so an
 * announced 50 MB upload is refused without reading it).
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  // destroyOnReturn: false, so leaving the loop early does not destroy the socket before the 413 is sent.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendError(res: ServerResponse, statusCode: number, error: ShardlogError): void {
  const body = Buffer.from(JSON.stringify(errorToBody(error)));
  res.writeHead(statusCode, { 'content-type': 'application/json', 'content-length': String(body.length) });
  res.end(body);
}

/** 413 and close the connection once the response is out; the rest of the oversized body is discarded. */
function sendTooLarge(req: IncomingMessage, res: ServerResponse, error: ShardlogError): void {
  res.setHeader('connection', 'close');
  sendError(res, 413, error);
  // Drain (and drop) whatever the client is still sending, so it reads the 413 instead of a reset socket.
  req.resume();
}

/**
 * Answers a request Node's HTTP parser refused (Node's own answer is a bare `400 Bad Request` or `431`), with
 * the contract's JSON error, then closes the connection. The socket is drained for a moment before it is
 * dropped, so a client still sending (a 2 MB header) reads the answer instead of a connection reset.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, maxHeaderBytes: number): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, shardlogError] = clientErrorAnswer(error, maxHeaderBytes);
  const body = Buffer.from(JSON.stringify(errorToBody(shardlogError)));
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    `content-type: application/json\r\ncontent-length: ${body.length}\r\n` +
    `apigw-requestid: ${newRequestId()}\r\nconnection: close\r\n\r\n`;
  socket.on('error', () => socket.destroy());
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  socket.resume(); // read and drop whatever is still coming
  const linger = setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}

function clientErrorAnswer(error: NodeJS.ErrnoException, maxHeaderBytes: number): [number, ShardlogError] {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [
        413,
        new PayloadTooLargeError(
          `the request line and headers exceed the local server's limit of ${maxHeaderBytes} bytes ` +
            `(API Gateway's is ${API_GATEWAY_MAX_HEADER_BYTES})`,
          { details: { limitBytes: maxHeaderBytes } },
        ),
      ];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return [400, new InvalidRequestError('the request did not arrive completely in time')];
    case 'HPE_INVALID_URL':
      return [400, new InvalidRequestError('the request target is not a valid path; percent-encode anything that is not printable ASCII')];
    default:
      // HPE_INVALID_*: a malformed request line or header, a bad Content-Length, ...
      return [400, new InvalidRequestError(`malformed HTTP request (${echo(String(error.code ?? 'parse error'))})`)];
  }
}

/** A 500 that never carries internals (API.md: "A 5xx never carries internals"). */
function sendInternal(res: ServerResponse): void {
  sendError(res, 500, new InternalError('internal error'));
}
