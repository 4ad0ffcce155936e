import { ENV } from '../../lib/config.js';

/**
 * The process environment that points the Lambda handlers at the embedded emulators.
 *
 * The handlers read their configuration from `process.env` at module load (the {@link ENV} names) and build
 * their AWS clients from the SDK's standard variables, so the local stack and the test harness only have to
 * set these variables before the first handler module is imported.
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
 * Applies `vars` to `env` and returns a function that restores the previous values (for tests, which share
 * one process per test file).
 */
export function applyEnv(
  vars: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): () => void {
  const previous = Object.fromEntries(Object.keys(vars).map((name) => [name, env[name]]));
  setAll(env, vars);
  return () => setAll(env, previous);
}

function setAll(env: NodeJS.ProcessEnv, vars: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
}
