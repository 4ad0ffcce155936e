import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, HeadBucketCommand, NoSuchBucket, NotFound, type S3Client } from '@aws-sdk/client-s3';
import type { ShardlogConfig } from '../config.js';
import { translateAwsError } from './aws-errors.js';
import { createTableInput, TTL_ATTRIBUTE } from './tables.js';

/**
 * Creates the two tables (with TTL) and the segment bucket when they do not exist yet. Used by the embedded
 * local stack and by the integration tests; in the cloud the CDK stateful stack owns these resources.
 * Idempotent: safe to call at every start. Only a real "does not exist" answer leads to a create; any other
 * failure of the check surfaces, translated (e.g. `UnavailableError` for an emulator's 500), instead of a
 * create that would fail with a misleading "already exists".
 * @throws UnavailableError, ThrottledError, or the SDK's error when the storage cannot be checked or created.
 */
export async function ensureStorage(
  clients: { dynamo: DynamoDBClient; s3: S3Client },
  config: Pick<ShardlogConfig, 'logTable' | 'leaseTable' | 'segmentBucket'>,
): Promise<void> {
  await Promise.all([
    ensureTable(clients.dynamo, config.logTable),
    ensureTable(clients.dynamo, config.leaseTable),
    ensureBucket(clients.s3, config.segmentBucket),
  ]);
}

async function ensureTable(dynamo: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw translateAwsError(error);
  }
  try {
    await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    // A concurrent starter created it first: that is what we wanted.
    if (!(error instanceof ResourceInUseException)) throw translateAwsError(error);
  }
  await dynamo
    .send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }))
    .catch((error: unknown) => {
      throw translateAwsError(error);
    });
}

/*
 * HeadBucket has no body, so the SDK names a 404 `NotFound` (S3's `NoSuchBucket` where a body says so). Only
 * that means "create it". Anything else — a 403, or s3rver's 500 when it cannot parse an object's metadata
 * file (it answers HeadBucket by listing objects) — is not "missing": creating would answer 409
 * `BucketAlreadyExists` and hide the real failure.
 */
async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (error) {
    if (!isMissingBucket(error)) throw translateAwsError(error);
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    // A concurrent starter created it first: that is what we wanted.
    if (!(error instanceof BucketAlreadyOwnedByYou)) throw translateAwsError(error);
  }
}

function isMissingBucket(error: unknown): boolean {
  if (error instanceof NotFound || error instanceof NoSuchBucket) return true;
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode === 404;
}
