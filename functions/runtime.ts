import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig, type ShardlogConfig } from '../lib/config.js';
import { createShardlog, type Shardlog, type ShardlogClients, type ShardlogOptions } from '../lib/shardlog.js';
import { instrument, lambdaTelemetry, type LambdaTelemetry } from './telemetry.js';

/**
 * How a function gets its engine: built once, when its entry module loads (the Lambda cold start), from the
 * configuration in the environment, then passed to the route handlers (`functions/lambda/*.ts`). A missing or
 * malformed variable throws while the module loads, so a misconfigured function fails its cold start with the
 * variable's name instead of answering 500 to every request. The local stack and the tests build engines the
 * same way from a configuration they hold, as many as they like in one process.
 */

/** Client settings that do not come from the environment: the local stack's endpoints and credentials. */
export interface AwsClientOptions {
  readonly dynamo?: DynamoDBClientConfig;
  readonly s3?: S3ClientConfig;
}

/** The engine's AWS clients and how to close them (the document client leaves its wrapped client open). */
export interface AwsClients extends ShardlogClients {
  destroy(): void;
}

/**
 * The engine's AWS clients. Without `options`, endpoints, region and credentials come from the SDK's own
 * configuration (`AWS_ENDPOINT_URL`, ...), so the same bundle runs on AWS, LocalStack and the local stack.
 */
export function createAwsClients(config: ShardlogConfig, options: AwsClientOptions = {}): AwsClients {
  const dynamo = new DynamoDBClient({ ...options.dynamo });
  const s3 = new S3Client({ ...options.s3, forcePathStyle: config.s3ForcePathStyle });
  return {
    doc: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    s3,
    destroy() {
      dynamo.destroy();
      s3.destroy();
    },
  };
}

/**
 * An engine from `env` (its configuration) and `options` (a logger, a metrics sink).
 * @throws Error naming the variable when a required one is missing or a number is malformed (see `loadConfig`).
 */
export function engineFromEnv(env: Record<string, string | undefined> = process.env, options: ShardlogOptions = {}): Shardlog {
  const config = loadConfig(env);
  return createShardlog(createAwsClients(config), config, options);
}

/** What a Lambda entry builds at cold start: its engine, and how to wrap a handler around it. */
export interface LambdaRuntime {
  readonly engine: Shardlog;
  readonly telemetry: LambdaTelemetry;
  /** `handler` as Lambda calls it: log context and sampling per invocation, metrics flushed when it ends. */
  instrument<E, R>(handler: (event: E) => Promise<R>): ReturnType<typeof instrument<E, R>>;
}

/**
 * The engine of a Lambda function, with Powertools logs and metrics (functions/telemetry.ts): call it at module
 * level, once per cold start.
 * @throws Error naming the variable when a required one is missing or a number is malformed (see `loadConfig`).
 */
export function lambdaRuntime(env: Record<string, string | undefined> = process.env): LambdaRuntime {
  const telemetry = lambdaTelemetry(env);
  const engine = engineFromEnv(env, { logger: telemetry.logger, metrics: telemetry.metrics });
  return { engine, telemetry, instrument: (handler) => instrument(telemetry, handler) };
}
