import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ShardlogConfig } from '../config.js';
import { createTableInput, TTL_ATTRIBUTE } from './tables.js';

/**
 * Creates the two tables (with TTL) and the segment bucket when they do not exist yet. Used by the embedded
 * local stack and by the integration tests; in the cloud the CDK stateful stack owns these resources.
 * Idempotent: safe to call at every start.
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
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  try {
    await dynamo.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    // A concurrent starter created it first: that is what we wanted.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await dynamo.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch {
    // Not there (or not visible): create it below; a real error surfaces from CreateBucket.
  }
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}
