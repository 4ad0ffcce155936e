import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_HOT_RETENTION_LIMIT_HOURS,
  DEFAULT_SPILL_THRESHOLD_BYTES,
  DEFAULT_TIER_AFTER_MS,
  type ShardlogConfig,
} from '../../../lib/config.js';
import { UnavailableError } from '../../../lib/errors.js';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/local-env.js';
import { findFreePort } from '../../../infra/local/free-port.js';

/**
 * SDK errors are translated where the engine meets its clients, not at the HTTP edge: code that runs without an
 * HTTP request (the scheduled maintenance pass) and engine code that branches on `retriable` see shardlog
 * errors too. Storage here is a port nobody listens on: every call fails with ECONNREFUSED.
 */
let engine: Shardlog;
let clients: { dynamo: DynamoDBClient; s3: S3Client };

beforeAll(async () => {
  const endpoint = `http://127.0.0.1:${await findFreePort()}`;
  // One attempt: the SDK's retries would only make the test slower.
  clients = {
    dynamo: new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, maxAttempts: 1 }),
    s3: new S3Client({ endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, forcePathStyle: true, maxAttempts: 1 }),
  };
  const config: ShardlogConfig = {
    logTable: 'unreachable-log',
    leaseTable: 'unreachable-leases',
    segmentBucket: 'unreachable-segments',
    tierAfterMs: DEFAULT_TIER_AFTER_MS,
    topicCacheMs: 0,
    s3ForcePathStyle: true,
    hotRetentionLimitHours: DEFAULT_HOT_RETENTION_LIMIT_HOURS,
    spillThresholdBytes: DEFAULT_SPILL_THRESHOLD_BYTES,
  };
  engine = createShardlog({ doc: DynamoDBDocumentClient.from(clients.dynamo), s3: clients.s3 }, config);
});

afterAll(() => {
  clients.dynamo.destroy();
  clients.s3.destroy();
});

describe('errors translated at the storage boundary', () => {
  it('gives the scheduled maintenance pass a retriable UnavailableError when DynamoDB is unreachable', async () => {
    const error = await engine.maintenance.runOnce().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).retriable).toBe(true);
    expect((error as UnavailableError).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('gives engine reads and group calls an UnavailableError, not an SDK error', async () => {
    await expect(engine.topics.get('orders')).rejects.toBeInstanceOf(UnavailableError);
    await expect(engine.groups.list()).rejects.toBeInstanceOf(UnavailableError);
  });
});
