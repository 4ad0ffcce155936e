import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ROUTES } from '../../functions/routes.js';
import { engineHandlerLoader, type HttpApiHandler } from '../../infra/local/handler-loader.js';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../infra/local/local-env.js';
import { API_GATEWAY_MAX_BODY_BYTES, createLocalServer, type LocalServer } from '../../infra/local/server.js';
import { startLocalStack } from '../../infra/local/stack.js';
import type { Shardlog } from '../../lib/shardlog.js';
import { rawRequest } from '../support/http.js';

/** True while a process with this pid exists (signal 0 only checks). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('local API Gateway (fake handlers)', () => {
  const events: APIGatewayProxyEventV2[] = [];
  const log = { error: vi.fn() };
  let server: LocalServer;
  let url: string;

  const handlers: Record<string, HttpApiHandler> = {
    topics: async (event): Promise<APIGatewayProxyResultV2> => {
      events.push(event);
      if (event.rawPath === '/v1/topics/boom') throw new Error('secret internal detail');
      if (event.rawPath === '/v1/topics/binary') {
        return { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255, 1]).toString('base64'), isBase64Encoded: true };
      }
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json', 'x-route': event.routeKey },
        cookies: ['session=abc; Path=/', 'theme=dark'],
        body: JSON.stringify({ echo: event.body ?? null }),
      };
    },
  };

  beforeAll(async () => {
    server = createLocalServer({
      routes: ROUTES,
      loadHandler: async (fn) => handlers[fn] ?? Promise.reject(new Error(`no fake for ${fn}`)),
      log,
    });
    url = await server.listen(0);
  });
  afterAll(() => server.close());

  it('calls the route function with a payload 2.0 event and writes its result back', async () => {
    const response = await fetch(`${url}/v1/topics/orders.v1?x=1&x=2`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', cookie: 'a=1; b=2' },
      body: '{"retentionHours":1}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-route')).toBe('PATCH /v1/topics/{topic}');
    expect(response.headers.get('apigw-requestid')).toBeTruthy();
    expect(response.headers.getSetCookie()).toEqual(['session=abc; Path=/', 'theme=dark']);
    expect(await response.json()).toEqual({ echo: '{"retentionHours":1}' });

    const event = events.at(-1) as APIGatewayProxyEventV2;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'PATCH /v1/topics/{topic}',
      rawPath: '/v1/topics/orders.v1',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      pathParameters: { topic: 'orders.v1' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: { stage: '$default', apiId: 'local', http: { method: 'PATCH', sourceIp: '127.0.0.1' } },
    });
    expect(event.headers['content-type']).toBe('application/json');
  });

  it('decodes a base64 result into bytes', async () => {
    const response = await fetch(`${url}/v1/topics/binary`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 255, 1]));
  });

  it('passes a non-UTF-8 request body base64-encoded', async () => {
    await fetch(`${url}/v1/topics/bytes`, { method: 'PATCH', body: new Uint8Array([0xff, 0x00, 0xfe]) });
    const event = events.at(-1) as APIGatewayProxyEventV2;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body as string, 'base64')).toEqual(Buffer.from([0xff, 0x00, 0xfe]));
  });

  it('answers 404 NOT_FOUND for an unknown path', async () => {
    const response = await fetch(`${url}/v1/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route for GET /v1/nope', retriable: false } });
  });

  it('answers 405 METHOD_NOT_ALLOWED with an Allow header for a known path', async () => {
    const response = await fetch(`${url}/v1/health`, { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(await response.json()).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED', retriable: false } });
  });

  it('refuses a path that is not in canonical form with a JSON 400, before calling any handler', async () => {
    const before = events.length;
    for (const path of [
      '/v1/topics/%6Frders',
      '/v1/topics/orders/',
      '/v1/topics//orders',
      '/v1//topics',
      '/v1/topics/./orders',
      '/v1/topics/x/../orders',
      '/v1/topics/orders/partitions/00/records',
      '/v1/topics/orders/partitions/01/records',
      '/v1/nope/',
    ]) {
      const response = await rawRequest(url, `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
      expect(response.status, path).toBe(400);
      expect(response.headers['content-type'], path).toBe('application/json');
      expect(JSON.parse(response.body).error, path).toMatchObject({ code: 'INVALID_REQUEST', retriable: false });
      expect(JSON.parse(response.body).error.message, path).toMatch(/not in canonical form/);
    }
    expect(events.length).toBe(before);
  });

  it('answers requests Node cannot parse with the JSON error of the contract, not a bare 400', async () => {
    const nonAscii = Buffer.concat([Buffer.from('GET /v1/topics/caf'), Buffer.from([0xe9]), Buffer.from(' HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n')]);
    for (const request of [nonAscii, Buffer.from('NOT HTTP AT ALL\r\n\r\n'), Buffer.from('GET /v1/health HTTP/1.1\r\nbad header\r\n\r\n')]) {
      const response = await rawRequest(url, request);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toBe('application/json');
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'INVALID_REQUEST', retriable: false } });
    }
  });

  it('answers headers over its limit with a JSON 413 that the client can read, not a reset connection', async () => {
    const response = await rawRequest(url, `GET /v1/health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: ${'a'.repeat(2 * 1024 * 1024)}\r\n\r\n`);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', retriable: false } });
  });

  it('passes a 100,000-character header and a 20,000-character path to the handlers, whose validation answers', async () => {
    const key = 'k'.repeat(100_000);
    const long = await fetch(`${url}/v1/topics/${'t'.repeat(20_000)}`, { headers: { 'idempotency-key': key } });
    expect(long.status).toBe(200);
    expect((events.at(-1) as APIGatewayProxyEventV2).headers['idempotency-key']).toBe(key);
  });

  it("answers 413 PAYLOAD_TOO_LARGE above API Gateway's 10 MB body limit", async () => {
    const before = events.length;
    const response = await fetch(`${url}/v1/topics`, { method: 'POST', body: new Uint8Array(API_GATEWAY_MAX_BODY_BYTES + 1) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', retriable: false } });
    expect(events.length).toBe(before);
  });

  it('answers a generic 500 INTERNAL when the handler throws, and logs the error', async () => {
    const response = await fetch(`${url}/v1/topics/boom`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL', message: 'internal error', retriable: true } });
    expect(text).not.toContain('secret');
    expect(log.error).toHaveBeenCalledWith(expect.stringContaining('GET /v1/topics/{topic}'), expect.any(Error));
  });
});

describe('engine handler loader', () => {
  it("serves each function's route handlers over the engine it is given", async () => {
    // Only what GET /v1/topics and GET /v1/groups call: the handlers reach the engine they were built with.
    const engine = { topics: { list: async () => [{ name: 'from-this-engine' }] }, groups: { list: async () => [] } };
    const server = createLocalServer({ routes: ROUTES, loadHandler: engineHandlerLoader(engine as unknown as Shardlog), log: { error: vi.fn() } });
    const url = await server.listen(0);
    try {
      expect(await (await fetch(`${url}/v1/health`)).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`${url}/v1/topics`)).json()).toEqual({ topics: [{ name: 'from-this-engine' }] });
      expect(await (await fetch(`${url}/v1/groups`)).json()).toEqual({ groups: [] });
    } finally {
      await server.close();
    }
  });
});

describe('local stack', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shardlog-stack-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps DynamoDB and S3 data across a stop and a restart on the same data dir, and leaves no java behind', async () => {
    const passes = vi.fn(async () => undefined);
    const options = {
      dataDir,
      inMemory: false,
      port: 0,
      maintenanceIntervalMs: 50,
      maintenancePass: passes,
      log: { warn: vi.fn(), error: vi.fn() },
    };

    const first = await startLocalStack(options);
    const firstPid = first.dynamoPid;
    try {
      const dynamo = new DynamoDBClient({ endpoint: first.dynamoEndpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
      const s3 = new S3Client({ endpoint: first.s3Endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, forcePathStyle: true });
      await dynamo.send(new PutItemCommand({ TableName: first.config.logTable, Item: { pk: { S: 'persist' }, sk: { S: 'check' }, v: { N: '42' } } }));
      await s3.send(new PutObjectCommand({ Bucket: first.config.segmentBucket, Key: 'persist/check', Body: 'segment bytes' }));
      dynamo.destroy();
      s3.destroy();
      await vi.waitFor(() => expect(passes).toHaveBeenCalled(), { timeout: 5_000 });
    } finally {
      await first.stop();
    }
    expect(isAlive(firstPid)).toBe(false);

    const second = await startLocalStack(options);
    const secondPid = second.dynamoPid;
    try {
      const dynamo = new DynamoDBClient({ endpoint: second.dynamoEndpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
      const s3 = new S3Client({ endpoint: second.s3Endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, forcePathStyle: true });
      const item = await dynamo.send(new GetItemCommand({ TableName: second.config.logTable, Key: { pk: { S: 'persist' }, sk: { S: 'check' } } }));
      expect(item.Item?.['v']).toEqual({ N: '42' });
      const object = await s3.send(new GetObjectCommand({ Bucket: second.config.segmentBucket, Key: 'persist/check' }));
      expect(await object.Body?.transformToString()).toBe('segment bytes');
      dynamo.destroy();
      s3.destroy();
    } finally {
      await second.stop();
    }
    expect(isAlive(secondPid)).toBe(false);
    expect(existsSync(join(dataDir, 'dynamodb', 'shared-local-instance.db'))).toBe(true);
  });

  it('serves the real handlers: a topic created over HTTP is still there after a restart', async () => {
    const options = { dataDir: join(dataDir, 'http'), inMemory: false, port: 0, maintenanceIntervalMs: 60_000 };
    const topic = `persist-${Date.now()}`;

    const first = await startLocalStack(options);
    try {
      expect(await (await fetch(`${first.url}/v1/health`)).json()).toEqual({ status: 'ok' });
      const created = await fetch(`${first.url}/v1/topics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: topic, partitions: 2 }),
      });
      expect(created.status).toBe(201);
    } finally {
      await first.stop();
    }

    // A new engine over the restarted emulators (on new ports): nothing of the first stack's is reused.
    const second = await startLocalStack(options);
    try {
      const read = await fetch(`${second.url}/v1/topics/${topic}`);
      expect(read.status).toBe(200);
      expect(await read.json()).toMatchObject({ name: topic, partitions: 2 });
    } finally {
      await second.stop();
    }
  });
});
