import {
  errorFromBody,
  ForbiddenError,
  InternalError,
  InvalidRequestError,
  PayloadTooLargeError,
  RouteNotFoundError,
  ShardlogError,
  ThrottledError,
  UnavailableError,
  type ErrorBody,
} from '../errors.js';
import { sleep as defaultSleep } from './clock.js';
import { backoffDelayMs, DEFAULT_MAX_ATTEMPTS, type RetryOptions } from './retry.js';
import { createSigV4Signer, shouldSignByDefault, type RequestSigner } from './signer.js';

/** The subset of the WHATWG `fetch` the client uses; inject a fake in tests. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:4000` or `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  url: string;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /**
   * Default: SigV4 (`execute-api`, standard AWS credential chain) for `https` non-loopback URLs, nothing for
   * the local stack. `null` never signs.
   */
  signer?: RequestSigner | null;
  retry?: RetryOptions;
  /** Per-attempt timeout (default 35,000 ms: API Gateway gives up after 30 s). Long polls add their wait. */
  timeoutMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** Serialized as JSON, unless it is {@link BinaryRequestBody}. */
  body?: unknown;
  /**
   * Ask for a response in this media type besides JSON (`Accept`); a response of that type comes back as its
   * bytes (a `Uint8Array`), any other as parsed JSON.
   */
  accept?: string;
  /** Media-type parameters sent after {@link accept} (e.g. `;urls=1`). */
  acceptParams?: string;
  headers?: Record<string, string>;
  /** Aborts the request and any backoff; never retried. */
  signal?: AbortSignal;
  /** Added to the per-attempt timeout, for long polls. */
  extraTimeoutMs?: number;
}

/** One path segment; names are `[A-Za-z0-9._-]` by contract, but a bad one must fail at the server, not here. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** A request body sent as bytes with its media type (docs/api.md, "Binary record batches"). */
export class BinaryRequestBody {
  constructor(
    readonly bytes: Uint8Array,
    readonly contentType: string,
  ) {}
}

const DEFAULT_TIMEOUT_MS = 35_000;

/**
 * The transport of the client SDK: one JSON request with signing, bounded retries of retriable failures, and
 * error bodies turned back into the server's error classes.
 *
 * Every retry sends exactly the same headers and body, so a produce request keeps its `Idempotency-Key` and a
 * retry never appends twice. Retried: 429 (after at least its `Retry-After`), 500, 502-504, network errors and
 * timeouts. Not retried: every other 4xx, and a request the caller aborted.
 *
 * @example
 * const http = new HttpClient({ url: 'http://127.0.0.1:4000' });
 * const health = await http.request<{ status: string }>('GET', '/v1/health');
 */
export class HttpClient {
  readonly baseUrl: URL;
  private readonly fetchFn: FetchLike;
  private readonly signer: RequestSigner | null;
  private readonly retry: RetryOptions;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(options: HttpClientOptions) {
    this.baseUrl = parseBaseUrl(options.url);
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
    this.signer =
      options.signer !== undefined ? options.signer : shouldSignByDefault(this.baseUrl) ? createSigV4Signer() : null;
    this.retry = options.retry ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /**
   * Sends one request, retrying retriable failures.
   * @returns the parsed JSON body, or `undefined` for 204.
   * @throws ShardlogError subclasses rebuilt from the error body (e.g. `FencedError`), `UnavailableError` for
   *   network failures after the last attempt, or the signal's reason when aborted.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.urlFor(path, options.query);
    const binary = options.body instanceof BinaryRequestBody ? options.body : undefined;
    const body = options.body === undefined ? undefined : binary ? binary.bytes : JSON.stringify(options.body);
    const accept = options.accept ? `${options.accept}${options.acceptParams ?? ''}, application/json` : 'application/json';
    const headers: Record<string, string> = { accept, ...lowerCaseKeys(options.headers ?? {}) };
    if (body !== undefined) headers['content-type'] = binary ? binary.contentType : 'application/json';
    const maxAttempts = Math.max(1, this.retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);

    for (let attempt = 1; ; attempt++) {
      let error: ShardlogError;
      let retryAfterMs: number | undefined;
      try {
        return (await this.attempt(method, url, headers, body, options)) as T;
      } catch (raw) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (!(raw instanceof AttemptError)) throw raw;
        error = raw.error;
        retryAfterMs = raw.retryAfterMs;
      }
      if (!error.retriable || attempt >= maxAttempts) throw error;
      await this.sleep(backoffDelayMs(attempt, this.retry, retryAfterMs, this.random), options.signal);
    }
  }

  private async attempt(
    method: string,
    url: URL,
    baseHeaders: Record<string, string>,
    body: string | Uint8Array | undefined,
    options: RequestOptions,
  ): Promise<unknown> {
    // Signed per attempt: a SigV4 signature carries a timestamp, and a long backoff must not outlive it.
    const headers = this.signer
      ? await this.signer.sign({ method, url, headers: { ...baseHeaders }, ...(body === undefined ? {} : { body }) })
      : baseHeaders;
    const timeout = AbortSignal.timeout(this.timeoutMs + (options.extraTimeoutMs ?? 0));
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    let bytes: Uint8Array | undefined;
    try {
      response = await this.fetchFn(url.toString(), { method, headers, ...(body === undefined ? {} : { body }), signal });
      const type = (response.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
      if (response.ok && options.accept !== undefined && type === options.accept) bytes = new Uint8Array(await response.arrayBuffer());
      text = bytes ? '' : await response.text();
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw new AttemptError(networkError(url, cause, timeout.aborted));
    }
    if (response.ok) {
      if (bytes) return bytes;
      return response.status === 204 || text === '' ? undefined : parseJson(text);
    }
    const error = errorFromResponse(response.status, text);
    throw new AttemptError(error, retryAfterMsOf(response, error));
  }

  private urlFor(path: string, query: RequestOptions['query']): URL {
    // Keep a stage prefix of the base URL (`https://…/prod`) in front of the route path.
    const url = new URL(this.baseUrl.pathname.replace(/\/+$/, '') + path, this.baseUrl);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url;
  }
}

/** Carries a failed attempt's error and its `Retry-After` to the retry loop. */
class AttemptError extends Error {
  constructor(
    readonly error: ShardlogError,
    readonly retryAfterMs?: number,
  ) {
    super(error.message);
  }
}

function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidRequestError(`'${raw}' is not a valid URL (expected e.g. http://127.0.0.1:4000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidRequestError(`'${raw}' is not an http(s) URL`);
  }
  return url;
}

/**
 * Rebuilds the server's error from a non-2xx response. Bodies that are not shardlog error bodies come from
 * API Gateway itself (`{"message":"Forbidden"}` for a missing or bad signature, 502/504 for a Lambda that
 * failed or timed out) or from a proxy, and map by status.
 */
export function errorFromResponse(status: number, text: string): ShardlogError {
  const body = tryParseJson(text);
  if (isErrorBody(body)) return errorFromBody(body);
  const message =
    typeof (body as { message?: unknown } | undefined)?.message === 'string'
      ? `HTTP ${status}: ${(body as { message: string }).message}`
      : `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (status === 400) return new InvalidRequestError(message);
  if (status === 401 || status === 403) return new ForbiddenError(message);
  if (status === 404) return new RouteNotFoundError(message);
  if (status === 413) return new PayloadTooLargeError(message);
  if (status === 429) return new ThrottledError(message);
  if (status === 502 || status === 503 || status === 504) return new UnavailableError(message);
  if (status >= 500) return new InternalError(message);
  return new InvalidRequestError(message);
}

function isErrorBody(body: unknown): body is ErrorBody {
  const error = (body as { error?: unknown } | undefined)?.error as { code?: unknown } | undefined;
  return typeof error === 'object' && error !== null && typeof error.code === 'string';
}

function retryAfterMsOf(response: Response, error: ShardlogError): number | undefined {
  const header = response.headers.get('retry-after');
  if (header !== null) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const fromBody = Number(error.details.retryAfterSeconds);
  return error instanceof ThrottledError && Number.isFinite(fromBody) ? fromBody * 1000 : undefined;
}

function networkError(url: URL, cause: unknown, timedOut: boolean): UnavailableError {
  if (timedOut) return new UnavailableError(`request to ${url.origin} timed out`, { cause });
  // undici's fetch throws `TypeError('fetch failed')`; the socket-level reason is in its `cause`.
  const inner = (cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const reasons: Record<string, string> = { ECONNREFUSED: 'connection refused', ENOTFOUND: 'host not found', ECONNRESET: 'connection reset' };
  const reason = (inner?.code && (reasons[inner.code] ?? inner.code)) || inner?.message || (cause as Error | undefined)?.message || 'network error';
  return new UnavailableError(`cannot reach ${url.origin} (${reason})`, { cause });
}

function parseJson(text: string): unknown {
  const value = tryParseJson(text);
  if (value === undefined) throw new InternalError(`the server sent a response that is not JSON: ${text.slice(0, 200)}`);
  return value;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
