import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { FUNCTIONS, ROUTES } from '../../functions/routes.js';
import { loadConfig, type ShardlogConfig } from '../../lib/config.js';
import { ensureStorage } from '../../lib/storage/bootstrap.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { createModuleHandlerLoader, loadExport, REPO_ROOT, type HandlerLoader } from './handler-loader.js';
import { applyEnv, FAKE_CREDENTIALS, LOCAL_REGION, LOCAL_RESOURCE_NAMES, localHandlerEnv } from './local-env.js';
import { startMaintenanceTimer, type MaintenancePass } from './maintenance-timer.js';
import { startS3Local, type S3Local } from './s3-local.js';
import { createLocalServer } from './server.js';

/** Default pause between two scheduled maintenance passes (API.md, "Local server"). */
export const DEFAULT_MAINTENANCE_INTERVAL_MS = 5_000;

export interface LocalStackOptions {
  /** Where DynamoDB Local (`dynamodb/`) and s3rver (`s3/`) keep their data; required unless `inMemory`. */
  readonly dataDir?: string;
  /** Keep nothing: DynamoDB Local in memory, s3rver in a temp directory deleted at stop. */
  readonly inMemory: boolean;
  /** HTTP port; 0 picks a free one (the chosen one is in `url`). */
  readonly port: number;
  readonly host?: string;
  /** Emulator ports; free ones are picked when omitted. */
  readonly dynamoPort?: number;
  readonly s3Port?: number;
  readonly maintenanceIntervalMs: number;
  readonly log?: Pick<Console, 'warn' | 'error'>;
  /** Replaces the real handler modules (tests). */
  readonly loadHandler?: HandlerLoader;
  /** Replaces `scheduledHandler` of the maintenance entry (tests). */
  readonly loadMaintenancePass?: () => Promise<MaintenancePass>;
}

/** A running local stack. */
export interface LocalStack {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  /** The configuration the handlers see. */
  readonly config: ShardlogConfig;
  /** PID of the DynamoDB Local java process (for checks that it is gone after `stop()`). */
  readonly dynamoPid: number;
  /**
   * Stops in dependency order: the HTTP server (in-flight requests finish), then the maintenance timer
   * (a running pass finishes), then s3rver and DynamoDB Local; restores the process environment. Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts the embedded local stack (DESIGN.md, "The local stack"): DynamoDB Local and s3rver, the storage
 * they need, the local API Gateway on `host:port` in front of the real handlers, and the maintenance timer.
 *
 * It sets `process.env` for the handlers (see {@link localHandlerEnv}) before any handler module loads, so a
 * process runs at most one local stack at a time.
 *
 * @throws JavaNotFoundError (from DynamoDB Local) when `java` is missing; any start error after stopping
 *   whatever had already started.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  if (!options.inMemory && options.dataDir === undefined) throw new Error('startLocalStack: dataDir is required unless inMemory');
  const log = options.log ?? console;
  const dataDir = options.inMemory ? undefined : options.dataDir;

  // In parallel: DynamoDB Local's JVM start dominates (seconds); s3rver is ready in milliseconds.
  const [dynamoResult, s3Result] = await Promise.allSettled([
    startDynamoDbLocal({
      ...(dataDir === undefined ? {} : { dataDir: join(dataDir, 'dynamodb') }),
      ...(options.dynamoPort === undefined ? {} : { port: options.dynamoPort }),
    }),
    startS3Local({
      ...(dataDir === undefined ? {} : { dataDir: join(dataDir, 's3') }),
      ...(options.s3Port === undefined ? {} : { port: options.s3Port }),
    }),
  ]);
  if (dynamoResult.status === 'rejected' || s3Result.status === 'rejected') {
    await Promise.all([
      dynamoResult.status === 'fulfilled' ? dynamoResult.value.stop() : undefined,
      s3Result.status === 'fulfilled' ? s3Result.value.stop() : undefined,
    ]);
    throw dynamoResult.status === 'rejected' ? dynamoResult.reason : (s3Result as PromiseRejectedResult).reason;
  }
  const dynamo = dynamoResult.value;
  const s3 = s3Result.value;

  const restoreEnv = applyEnv(
    localHandlerEnv({ dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, ...LOCAL_RESOURCE_NAMES }),
  );
  const stopStorage = async () => {
    await Promise.all([s3.stop(), dynamo.stop()]);
    restoreEnv();
  };

  let config: ShardlogConfig;
  let url: string;
  let server: ReturnType<typeof createLocalServer>;
  try {
    config = loadConfig(process.env);
    await bootstrapStorage(dynamo, s3, config);
    server = createLocalServer({ routes: ROUTES, loadHandler: options.loadHandler ?? createModuleHandlerLoader(), log });
    url = await server.listen(options.port, options.host ?? '127.0.0.1');
  } catch (error) {
    await stopStorage();
    throw error;
  }

  const timer = startMaintenanceTimer({
    intervalMs: options.maintenanceIntervalMs,
    loadPass:
      options.loadMaintenancePass ??
      (() => loadExport<MaintenancePass>(REPO_ROOT, FUNCTIONS.maintenance.entry, 'scheduledHandler')),
    log,
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: s3.endpoint,
    config,
    dynamoPid: dynamo.pid,
    stop() {
      stopping ??= (async () => {
        try {
          await server.close();
          await timer.stop();
        } finally {
          await stopStorage();
        }
      })();
      return stopping;
    },
  };
}

/** Creates the tables and the bucket (idempotent) with short-lived clients of its own. */
async function bootstrapStorage(dynamo: DynamoDbLocal, s3: S3Local, config: ShardlogConfig): Promise<void> {
  const clients = {
    dynamo: new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS }),
    s3: new S3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, forcePathStyle: true }),
  };
  try {
    await ensureStorage(clients, config);
  } finally {
    clients.dynamo.destroy();
    clients.s3.destroy();
  }
}
