import { randomBytes } from 'node:crypto';
import {
  DeleteTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import {
  DEFAULT_HOT_RETENTION_LIMIT_HOURS,
  DEFAULT_SPILL_THRESHOLD_BYTES,
  DEFAULT_TIER_AFTER_MS,
  DEFAULT_TOPIC_CACHE_MS,
  type ShardlogConfig,
} from '../../lib/config.js';
import { ensureStorage } from '../../lib/storage/bootstrap.js';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../infra/local/local-env.js';

/** Endpoints of the run's emulators (started by `test/global-setup.ts`). */
export interface EmulatorEndpoints {
  readonly dynamo: string;
  readonly s3: string;
}

/** Clients and a fresh, uniquely named set of tables and bucket for one test (or one test file). */
export interface TestStorage {
  readonly dynamo: DynamoDBClient;
  /** Document client with `removeUndefinedValues`, as the handlers build theirs. */
  readonly doc: DynamoDBDocumentClient;
  /** Path-style S3 client (s3rver has no virtual-host buckets). */
  readonly s3: S3Client;
  /** Shaped like the handlers' configuration, defaults filled; override fields via `createTestStorage()`. */
  readonly config: ShardlogConfig;
  readonly endpoints: EmulatorEndpoints;
  /** Deletes the tables and the bucket (with its objects) and destroys the clients. */
  cleanup(): Promise<void>;
}

/**
 * The emulators' endpoints.
 * @throws Error naming the reason when the global setup could not start them (e.g. no Java).
 */
export function emulatorEndpoints(): EmulatorEndpoints {
  const unavailable = inject('emulatorsUnavailable');
  const dynamo = inject('dynamoEndpoint');
  const s3 = inject('s3Endpoint');
  if (unavailable !== '' || dynamo === '' || s3 === '') {
    throw new Error(`integration test needs DynamoDB Local and s3rver, which are not running: ${unavailable || 'no endpoints provided'}`);
  }
  return { dynamo, s3 };
}

/**
 * Creates clients pointed at the run's emulators and, through the same `ensureStorage` the local stack uses,
 * two tables (with TTL) and a bucket whose names carry a random suffix, so tests never share state.
 *
 * @example
 * let storage: TestStorage;
 * beforeAll(async () => { storage = await createTestStorage(); });
 * afterAll(() => storage.cleanup());
 */
export async function createTestStorage(overrides: Partial<ShardlogConfig> = {}): Promise<TestStorage> {
  const endpoints = emulatorEndpoints();
  const suffix = randomBytes(5).toString('hex');
  const config: ShardlogConfig = {
    logTable: `shardlog-test-${suffix}-log`,
    leaseTable: `shardlog-test-${suffix}-leases`,
    segmentBucket: `shardlog-test-${suffix}-segments`,
    tierAfterMs: DEFAULT_TIER_AFTER_MS,
    topicCacheMs: DEFAULT_TOPIC_CACHE_MS,
    s3ForcePathStyle: true,
    hotRetentionLimitHours: DEFAULT_HOT_RETENTION_LIMIT_HOURS,
    spillThresholdBytes: DEFAULT_SPILL_THRESHOLD_BYTES,
    ...overrides,
  };
  const dynamo = new DynamoDBClient({ endpoint: endpoints.dynamo, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  const s3 = new S3Client({ endpoint: endpoints.s3, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, forcePathStyle: true });
  await ensureStorage({ dynamo, s3 }, config);

  return {
    dynamo,
    doc,
    s3,
    config,
    endpoints,
    async cleanup() {
      try {
        await Promise.all([
          deleteTable(dynamo, config.logTable),
          deleteTable(dynamo, config.leaseTable),
          deleteBucket(s3, config.segmentBucket),
        ]);
      } finally {
        // DynamoDBDocumentClient.destroy() leaves the wrapped client alone; destroy that one.
        dynamo.destroy();
        s3.destroy();
      }
    },
  };
}

async function deleteTable(dynamo: DynamoDBClient, name: string): Promise<void> {
  try {
    await dynamo.send(new DeleteTableCommand({ TableName: name }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}

async function deleteBucket(s3: S3Client, bucket: string): Promise<void> {
  // S3 refuses to delete a non-empty bucket.
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
