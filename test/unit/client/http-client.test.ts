import { describe, expect, it, vi } from 'vitest';
import {
  errorToBody,
  FencedError,
  ForbiddenError,
  InvalidRequestError,
  OffsetOutOfRangeError,
  ThrottledError,
  TopicNotFoundError,
  UnavailableError,
  type ShardlogError,
} from '../../../lib/errors.js';
import { ShardlogClient } from '../../../lib/client/client.js';
import { HttpClient, type FetchLike } from '../../../lib/client/http-client.js';
import type { RequestSigner } from '../../../lib/client/signer.js';
import { ScriptedFetch, type Reply } from './fakes/scripted-fetch.js';

const noSleep = vi.fn(async (_ms: number) => undefined);

function clientWith(api: ScriptedFetch, extra: Partial<ConstructorParameters<typeof ShardlogClient>[0]> = {}) {
  return new ShardlogClient({ url: 'http://127.0.0.1:4000', fetch: api.fetch, sleep: noSleep, random: () => 0.5, ...extra });
}

/** The response the server sends for `error`: its status and its error body. */
function failure(status: number, error: ShardlogError, headers?: Record<string, string>): Reply {
  return { status, body: errorToBody(error), ...(headers ? { headers } : {}) };
}

describe('HttpClient', () => {
  it('rebuilds the server error class with its details', async () => {
    const api = new ScriptedFetch().reply(failure(416, new OffsetOutOfRangeError(5, 0, 0)), failure(404, new TopicNotFoundError('missing')));
    const client = clientWith(api);

    const error = await client.fetch('orders', 0, { offset: 5 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OffsetOutOfRangeError);
    expect((error as OffsetOutOfRangeError).details).toMatchObject({ offset: 5, startOffset: 0, endOffset: 0 });
    expect((error as OffsetOutOfRangeError).retriable).toBe(false);
    await expect(client.describeTopic('missing')).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  it('maps a FENCED body to FencedError and does not retry it', async () => {
    const api = new ScriptedFetch().reply(failure(409, new FencedError('stale lease token')));
    const client = clientWith(api);

    await expect(client.commit('g', 'm', [{ topic: 't', partition: 0, offset: 1, leaseToken: 'x' }])).rejects.toBeInstanceOf(FencedError);
    expect(api.requests).toHaveLength(1);
  });

  it('retries 503, 500 and network errors, then succeeds', async () => {
    const api = new ScriptedFetch({ status: 200, body: { status: 'ok' } }).reply(
      failure(503, new UnavailableError('dynamodb down')),
      { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error', retriable: true } } },
      'network',
    );
    const client = clientWith(api);

    await expect(client.health()).resolves.toEqual({ status: 'ok' });
    expect(api.requests).toHaveLength(4);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const api = new ScriptedFetch().reply('network', 'network', 'network');
    const client = clientWith(api, { retry: { maxAttempts: 3 } });

    const error = await client.health().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe('cannot reach http://127.0.0.1:4000 (connection refused)');
    expect(api.requests).toHaveLength(3);
  });

  it('waits at least Retry-After on 429', async () => {
    const api = new ScriptedFetch({ status: 200, body: { topics: [] } }).reply(failure(429, new ThrottledError('slow down', 2), { 'retry-after': '2' }));
    const sleeps: number[] = [];
    const client = clientWith(api, { sleep: async (ms: number) => void sleeps.push(ms) });

    await expect(client.listTopics()).resolves.toEqual([]);
    expect(sleeps).toEqual([2000]);
  });

  it('uses exponential backoff with jitter between attempts', async () => {
    const api = new ScriptedFetch().reply('network', 'network', 'network');
    const sleeps: number[] = [];
    const client = clientWith(api, { sleep: async (ms: number) => void sleeps.push(ms), random: () => 0.5 });

    await client.health();

    // random 0.5 × min(5,000, 100 · 2^attempt)
    expect(sleeps).toEqual([100, 200, 400]);
  });

  it('keeps the same Idempotency-Key on every retry of a produce', async () => {
    const acks = { records: [{ partition: 0, offset: 0, timestamp: 1 }] };
    const api = new ScriptedFetch({ status: 200, body: acks }).reply(failure(503, new UnavailableError('x')), 'network');
    const client = clientWith(api);

    await expect(client.produce('orders', [{ value: 1 }])).resolves.toEqual(acks);

    const keys = api.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('maps API Gateway bodies that are not shardlog errors by status', async () => {
    const cases: Array<[number, string, unknown]> = [
      [403, '{"message":"Forbidden"}', ForbiddenError],
      [400, 'bad', InvalidRequestError],
      [504, '{"message":"Endpoint request timed out"}', UnavailableError],
    ];
    for (const [status, text, type] of cases) {
      const fetch: FetchLike = async () => new Response(text, { status });
      const http = new HttpClient({ url: 'http://localhost:1', fetch, sleep: noSleep, retry: { maxAttempts: 1 } });
      const error = await http.request('GET', '/v1/health').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type as new () => Error);
    }
  });

  it('returns undefined for 204 and sends JSON bodies with a content type', async () => {
    const api = new ScriptedFetch().reply({ status: 204 }, { status: 201, body: { name: 'new', partitions: 3 } });
    const client = clientWith(api);

    await expect(client.deleteTopic('old')).resolves.toBeUndefined();
    await client.createTopic({ name: 'new', partitions: 3 });

    const create = api.requests[1]!;
    expect(create.headers['content-type']).toBe('application/json');
    expect(create.body).toEqual({ name: 'new', partitions: 3 });
    expect(api.requests[0]!.headers['content-type']).toBeUndefined();
  });

  it('builds query strings and keeps a stage prefix of the base URL', async () => {
    const api = new ScriptedFetch({ status: 200, body: { records: [], nextOffset: 0, startOffset: 0, endOffset: 0 } });
    const client = new ShardlogClient({ url: 'http://localhost:9/prod/', fetch: api.fetch, signer: null });

    await client.fetch('a.b', 2, { offset: 7, limit: 10, direction: 'backward' });

    expect(api.requests[0]!.url).toBe('http://localhost:9/prod/v1/topics/a.b/partitions/2/records?offset=7&limit=10&direction=backward');
  });

  it('does not retry when the caller aborts', async () => {
    const api = new ScriptedFetch().reply('network');
    const controller = new AbortController();
    api.onRequest = () => controller.abort(new Error('stopped'));
    const client = clientWith(api);

    await expect(client.groupFetch('g', 'm', {}, controller.signal)).rejects.toThrow('stopped');
    expect(api.requests).toHaveLength(1);
  });

  it('signs every attempt with the injected signer, and not at all for the local stack by default', async () => {
    const api = new ScriptedFetch().reply('network');
    const signer: RequestSigner = {
      sign: vi.fn(async ({ headers }) => ({ ...headers, authorization: 'AWS4-HMAC-SHA256 test' })),
    };
    const signed = clientWith(api, { url: 'https://abc.execute-api.eu-west-1.amazonaws.com', signer });

    await signed.health();

    expect(signer.sign).toHaveBeenCalledTimes(2);
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['AWS4-HMAC-SHA256 test', 'AWS4-HMAC-SHA256 test']);

    const local = new ScriptedFetch();
    await clientWith(local).health();
    expect(local.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('rejects a base URL that is not http(s)', () => {
    expect(() => new ShardlogClient({ url: 'ftp://x' })).toThrow(InvalidRequestError);
    expect(() => new ShardlogClient({ url: 'not a url' })).toThrow(/not a valid URL/);
  });

  it('reports a 429 as ThrottledError once attempts are exhausted', async () => {
    const api = new ScriptedFetch().reply(failure(429, new ThrottledError('slow')));
    const client = clientWith(api, { retry: { maxAttempts: 1 } });

    await expect(client.health()).rejects.toBeInstanceOf(ThrottledError);
  });
});
