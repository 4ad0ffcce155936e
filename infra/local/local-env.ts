import type { AwsClientOptions } from '../../functions/runtime.js';
import { ENV, loadConfig, type ShardlogConfig } from '../../lib/config.js';

/**
 * How the engine of the local stack (and of the tests) is pointed at the embedded emulators.
 *
 * A Lambda entry reads its configuration from `process.env` at cold start (the {@link ENV} names) and builds
 * its AWS clients from the SDK's standard variables. Locally the same settings are given explicitly: the
 * configuration is what {@link localHandlerEnv} would make a Lambda read ({@link localConfig}), the clients get
 * the endpoints and fake credentials ({@link localClientOptions}), and `process.env` is left alone, so one
 * process may run several engines.
 */

/** Region used for every local client; with `-sharedDb` DynamoDB Local ignores it, but the SDK requires one. */
export const LOCAL_REGION = 'us-east-1';

/**
 * Credentials for the emulators. Always these, never the user's: a real key must not be sent to (or be
 * needed by) a local process. s3rver knows exactly one key pair, `S3RVER`/`S3RVER` (its models/account.js),
 * and rejects any other with InvalidAccessKeyId; DynamoDB Local with `-sharedDb` takes any alphanumeric key.
 */
export const FAKE_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Resource names of the local stack (the cloud names come from the CDK stateful stack). */
export const LOCAL_RESOURCE_NAMES = {
  logTable: 'shardlog-log',
  leaseTable: 'shardlog-leases',
  segmentBucket: 'shardlog-segments',
} as const;

export interface LocalEnvOptions {
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  readonly logTable: string;
  readonly leaseTable: string;
  readonly segmentBucket: string;
}

/**
 * The variables to set; `undefined` means "delete". `AWS_SESSION_TOKEN` and `AWS_PROFILE` are removed so a
 * developer's real session cannot leak into (or confuse) the local credential chain.
 */
export function localHandlerEnv(options: LocalEnvOptions): Record<string, string | undefined> {
  return {
    [ENV.logTable]: options.logTable,
    [ENV.leaseTable]: options.leaseTable,
    [ENV.segmentBucket]: options.segmentBucket,
    [ENV.s3ForcePathStyle]: 'true',
    // Per-service endpoints: the two emulators listen on different ports, so one AWS_ENDPOINT_URL cannot serve both.
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint,
    AWS_ENDPOINT_URL_S3: options.s3Endpoint,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
  };
}

/**
 * The configuration a Lambda entry would read from `env` with {@link localHandlerEnv} applied: the local
 * resource names, path-style S3, and the user's own `SHARDLOG_*` settings (tiering, spill threshold, ...).
 * @throws Error naming the variable when a `SHARDLOG_*` number in `env` is malformed.
 */
export function localConfig(options: LocalEnvOptions, env: Readonly<Record<string, string | undefined>> = process.env): ShardlogConfig {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [name, value] of Object.entries(localHandlerEnv(options))) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return loadConfig(merged);
}

/** Client settings for the emulators: their endpoints, {@link LOCAL_REGION} and {@link FAKE_CREDENTIALS}. */
export function localClientOptions(endpoints: { readonly dynamoEndpoint: string; readonly s3Endpoint: string }): AwsClientOptions {
  const common = { region: LOCAL_REGION, credentials: FAKE_CREDENTIALS };
  return { dynamo: { ...common, endpoint: endpoints.dynamoEndpoint }, s3: { ...common, endpoint: endpoints.s3Endpoint } };
}

/**
 * The AWS SDK's own switch for its Node.js version notice (`NodeVersionSupportWarning`, from @aws-sdk/core's
 * `emitWarningIfUnsupportedVersion`: SDK releases after the first week of January 2027 require Node 22). Local
 * runs (npm start, the bench, the tests) run on the developer's Node, where the notice would open every run
 * and every test file; README's quickstart recommends Node 22 LTS or newer instead. Only that notice goes: any
 * other warning is still printed, and a value the user set is kept.
 */
export const SDK_NODE_VERSION_WARNING_OFF = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } as const;

/** Applies {@link SDK_NODE_VERSION_WARNING_OFF} to `env` (before the first AWS client is built). */
export function quietSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(SDK_NODE_VERSION_WARNING_OFF)) env[name] ??= value;
}
