import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildHttpApiEvent } from '../../../infra/local/apigw-event.js';
import { localHandlerEnv } from '../../../infra/local/local-env.js';
import { ENV } from '../../../lib/config.js';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { indexItems, sampleRecord } from './harness.js';
import { produceTo } from '../../support/by-name.js';

/**
 * The Lambda entry of maintenance (functions/lambda/maintenance.ts) against the emulators, configured through
 * the environment as a deployed function is: its engine is built when the module loads, from these variables
 * and the SDK's own (endpoints, region, credentials). The scheduled entry point (EventBridge / the local timer)
 * runs a real pass, and the HTTP route validates its body and returns the pass's report.
 */
let storage: TestStorage;
let engine: Shardlog;
let maintenance: typeof import('../../../functions/lambda/maintenance.js');

beforeAll(async () => {
  // These tests pin the tiered regime (every topic tiered to S3); hot-retention.test.ts covers the other.
  storage = await createTestStorage({ hotRetentionLimitHours: 0 });
  engine = createShardlog(storage, storage.config);
  const env = {
    ...localHandlerEnv({
      dynamoEndpoint: storage.endpoints.dynamo,
      s3Endpoint: storage.endpoints.s3,
      logTable: storage.config.logTable,
      leaseTable: storage.config.leaseTable,
      segmentBucket: storage.config.segmentBucket,
    }),
    [ENV.tierAfterMs]: '0',
    [ENV.hotRetentionLimitHours]: '0',
  };
  // The SDK reads its variables when a client first sends, so they stay set for the whole file.
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  maintenance = await import('../../../functions/lambda/maintenance.js');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await storage?.cleanup();
});

function post(body: unknown) {
  const text = body === undefined ? '' : JSON.stringify(body);
  return buildHttpApiEvent(
    {
      method: 'POST',
      target: '/v1/admin/maintenance',
      rawHeaders: ['content-type', 'application/json'],
      body: Buffer.from(text),
      sourceIp: '127.0.0.1',
      httpVersion: '1.1',
      localPort: 4000,
    },
    { routeKey: 'POST /v1/admin/maintenance', pathParameters: {}, requestId: `req-${Math.random()}`, now: new Date() },
  );
}

describe('maintenance entry points', () => {
  it('scheduledHandler runs a real pass with the configured threshold', async () => {
    const name = `sched-${Date.now()}`;
    const topic = await engine.topics.create({ name, partitions: 2, retentionHours: 168 });
    await produceTo(engine, name, { records: [0, 1, 2].map((i) => ({ ...sampleRecord(i, Date.now()), partition: 1 })) });
    const report = await maintenance.scheduledHandler();
    expect(report.tiered).toMatchObject({ segments: 1, records: 3 });
    expect((await indexItems(storage, topic.topicId, 1)).map((i) => i.end)).toEqual([3]);
    expect(await maintenance.scheduledHandler()).toEqual({ tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 0, segments: 0 } });
  });

  it('POST /v1/admin/maintenance runs a pass for one topic and returns its report', async () => {
    const name = `http-${Date.now()}`;
    await engine.topics.create({ name, partitions: 1, retentionHours: 168 });
    await produceTo(engine, name, { records: [sampleRecord(1, Date.now())] });
    const held = await maintenance.handler(post({ topic: name, tierOlderThanMs: 3_600_000 }));
    expect(held.statusCode).toBe(200);
    expect(JSON.parse(held.body!)).toEqual({ tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 0, segments: 0 } });
    const moved = await maintenance.handler(post({ topic: name, tierOlderThanMs: 0 }));
    expect(JSON.parse(moved.body!).tiered).toMatchObject({ segments: 1, records: 1 });
  });

  it('rejects a bad body with 400 and an unknown topic with 404', async () => {
    for (const body of [{ tierOlderThanMs: -1 }, { tierOlderThanMs: 1.5 }, { topic: '..' }, { extra: 1 }, [1]]) {
      const response = await maintenance.handler(post(body));
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body!).error.code).toBe('INVALID_REQUEST');
    }
    const missing = await maintenance.handler(post({ topic: 'no-such-topic' }));
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body!).error.code).toBe('TOPIC_NOT_FOUND');
  });
});
