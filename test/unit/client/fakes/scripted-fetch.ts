import type { FetchLike } from '../../../../lib/client/http-client.js';

/** One answer of the script: a response, or a network failure as undici's `fetch` reports one. */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'network';

export interface SentRequest {
  method: string;
  url: string;
  /** `METHOD /path?query`, as the route table spells a request. */
  line: string;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * A `fetch` for testing the HTTP layer of the client (signing, retries, error bodies, routes): it answers from
 * a script, in order, then with `otherwise`, and records every request it was sent. Not a server.
 */
export class ScriptedFetch {
  readonly requests: SentRequest[] = [];
  /** Called as a request arrives, before it is answered. */
  onRequest: ((request: SentRequest) => void) | undefined;
  private readonly script: Reply[] = [];

  constructor(private readonly otherwise: Reply = { status: 200, body: {} }) {}

  /** Queues replies for the next requests. */
  reply(...replies: Reply[]): this {
    this.script.push(...replies);
    return this;
  }

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const request: SentRequest = {
      method: init.method ?? 'GET',
      url: input,
      line: `${init.method ?? 'GET'} ${url.pathname}${url.search}`,
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
    };
    this.requests.push(request);
    this.onRequest?.(request);
    if (init.signal?.aborted) throw init.signal.reason;
    const reply = this.script.shift() ?? this.otherwise;
    if (reply === 'network') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    if (reply.status === 204 || reply.body === undefined) return new Response(null, { status: reply.status, headers: reply.headers ?? {} });
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(text, { status: reply.status, headers: { 'content-type': 'application/json', ...reply.headers } });
  };
}
