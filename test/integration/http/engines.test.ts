import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStorage } from '../../support/storage.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * Engines are values, not process state: two local servers in one process, over different storage and a
 * different configuration, each serve their own (no test file needs a process of its own).
 */
let small: TestLocalServer;
let large: TestLocalServer;

beforeAll(async () => {
  // Spill threshold 0: every batch goes to S3; the other server keeps the default (8 KiB) and writes inline.
  [small, large] = await Promise.all([
    startTestLocalServer({ storage: await createTestStorage({ spillThresholdBytes: 0 }) }),
    startTestLocalServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([small?.stop(), large?.stop()]);
  await small?.storage.cleanup();
});

async function call(server: TestLocalServer, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

describe('two engines in one process', () => {
  it('serve their own tables and their own configuration', async () => {
    expect((await call(small, 'POST', '/v1/topics', { name: 'orders', partitions: 1 })).status).toBe(201);
    expect((await call(large, 'POST', '/v1/topics', { name: 'orders', partitions: 3 })).status).toBe(201);
    expect((await call(small, 'GET', '/v1/topics/orders')).body.partitions).toBe(1);
    expect((await call(large, 'GET', '/v1/topics/orders')).body.partitions).toBe(3);

    for (const server of [small, large]) {
      const produced = await call(server, 'POST', '/v1/topics/orders/records', { records: [{ value: { n: 1 }, partition: 0 }] });
      expect(produced.status).toBe(200);
    }
    expect((await call(small, 'GET', '/v1/topics/orders/partitions/0/records?offset=0')).body.records).toHaveLength(1);
    expect((await call(large, 'GET', '/v1/topics/orders/partitions/0/records?offset=0')).body.records).toHaveLength(1);
    // Each engine spilled (or not) by its own threshold: only the first wrote an object to its bucket.
    expect(await spilledObjects(small)).toBe(1);
    expect(await spilledObjects(large)).toBe(0);
  });
});

async function spilledObjects(server: TestLocalServer): Promise<number> {
  const page = await server.storage.s3.send(new ListObjectsV2Command({ Bucket: server.storage.config.segmentBucket }));
  return page.KeyCount ?? 0;
}
