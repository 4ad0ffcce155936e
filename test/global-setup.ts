import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type DynamoDbLocal } from '../infra/local/dynamodb-local.js';
import { startS3Local, type S3Local } from '../infra/local/s3-local.js';
import { quietSdkNodeVersionWarning } from '../infra/local/local-env.js';

/**
 * Starts ONE in-memory DynamoDB Local and ONE s3rver (temp dir) for the whole test run, on ports picked at
 * run time, and provides their endpoints to the test files (`test/support/storage.ts` reads them). Every
 * integration test then creates tables and a bucket with unique names, so files can run in parallel.
 *
 * Unit tests do not need the emulators: if they cannot start (no Java), the run goes on, the reason is
 * provided instead, and only tests that ask for storage fail, with that reason.
 * Set SHARDLOG_TEST_EMULATORS=off to skip starting them (a quick unit-only run saves the JVM start).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let dynamo: DynamoDbLocal | undefined;
  let s3: S3Local | undefined;
  let unavailable = '';
  // Before the first client of this process (the workers get it from vitest.config.ts's `env`).
  quietSdkNodeVersionWarning();

  if (process.env['SHARDLOG_TEST_EMULATORS'] === 'off') {
    unavailable = 'the emulators were not started (SHARDLOG_TEST_EMULATORS=off)';
  } else {
    const [dynamoResult, s3Result] = await Promise.allSettled([startDynamoDbLocal(), startS3Local()]);
    if (dynamoResult.status === 'fulfilled') dynamo = dynamoResult.value;
    if (s3Result.status === 'fulfilled') s3 = s3Result.value;
    const failure = [dynamoResult, s3Result].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      unavailable = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
      console.warn(`[global-setup] test emulators unavailable; integration tests will fail:\n${unavailable}`);
      await Promise.all([dynamo?.stop(), s3?.stop()]);
      dynamo = undefined;
      s3 = undefined;
    }
  }

  project.provide('dynamoEndpoint', dynamo?.endpoint ?? '');
  project.provide('s3Endpoint', s3?.endpoint ?? '');
  project.provide('emulatorsUnavailable', unavailable);

  return async () => {
    await Promise.all([dynamo?.stop(), s3?.stop()]);
  };
}
