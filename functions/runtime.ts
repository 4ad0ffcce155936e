import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig, type ShardlogConfig } from '../lib/config.js';
import { createShardlog, type Shardlog, type ShardlogClients } from '../lib/shardlog.js';

/**
 * Process-wide state of a Lambda function: configuration read once at cold start, AWS clients created once and
 * reused across invocations. Endpoints come from the SDK's own configuration (`AWS_ENDPOINT_URL`, ...), so the
 * same bundle runs on AWS, LocalStack and the embedded local stack.
 */
let instance: Shardlog | undefined;

export function createAwsClients(config: ShardlogConfig): ShardlogClients {
  const dynamo = new DynamoDBClient({});
  return {
    doc: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    s3: new S3Client({ forcePathStyle: config.s3ForcePathStyle }),
  };
}

/** The engine of this process, created on first use. */
export function shardlog(): Shardlog {
  if (!instance) {
    const config = loadConfig();
    instance = createShardlog(createAwsClients(config), config);
  }
  return instance;
}
