import { join } from 'node:path';
import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { maintenancePass } from '../../functions/maintenance.js';
import { ROUTES } from '../../functions/routes.js';
import { createAwsClients } from '../../functions/runtime.js';
import type { ShardlogConfig } from '../../lib/config.js';
import { UnavailableError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { createShardlog, type Shardlog } from '../../lib/shardlog.js';
import { ensureStorage } from '../../lib/storage/bootstrap.js';
import { awaitDynamoDbLocalCommits } from './commit-barrier.js';
import {
  DynamoDbLocalCorruptDatabaseError,
  startDynamoDbLocal,
  stopOrphanedDynamoDbLocal,
  type DynamoDbLocal,
  type DynamoDbLocalOptions,
} from './dynamodb-local.js';
import { engineHandlerLoader, type HandlerLoader } from './handler-loader.js';
import { FAKE_CREDENTIALS, LOCAL_REGION, LOCAL_RESOURCE_NAMES, localClientOptions, localConfig } from './local-env.js';
import { startMaintenanceTimer, type MaintenancePass } from './maintenance-timer.js';
import { describeRecovery, Quarantine, quarantineDatabase, repairDynamoDbStore, repairS3Store } from './recovery.js';
import { localLogger } from './local-log.js';
import { startS3Local, type S3Local } from './s3-local.js';
import { createConsoleHandler } from './console/serve.js';
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
  /** The engine's and the handlers' logger (default: readable lines, `localLogger` in infra/local/local-log.ts). */
  readonly logger?: Logger;
  /** Replaces the real handlers (tests). */
  readonly loadHandler?: HandlerLoader;
  /** Replaces the scheduled maintenance pass over the stack's engine (tests). */
  readonly maintenancePass?: MaintenancePass;
}

/** A running local stack. */
export interface LocalStack {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:4000`. */
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  /** The configuration the handlers see. */
  readonly config: ShardlogConfig;
  /**
   * The engine behind the handlers and the maintenance timer, built by the stack (one per stack, as one
   * Lambda container has one): the bench instruments its clients.
   */
  readonly engine: Shardlog;
  /** PID of the DynamoDB Local java process (for checks that it is gone after `stop()`). */
  readonly dynamoPid: number;
  /**
   * Stops in dependency order: the HTTP server (in-flight requests finish), then the maintenance timer
   * (a running pass finishes), then the engine's clients, s3rver and DynamoDB Local. Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts the embedded local stack (docs/api.md, "Local server"): DynamoDB Local and s3rver, the storage they
 * need, an engine over them, the local API Gateway on `host:port` in front of the real handlers, and the
 * maintenance timer.
 *
 * The configuration is what a Lambda would read with the local resource names (`localConfig`: the user's own
 * `SHARDLOG_*` settings apply); `process.env` is not changed.
 *
 * With a data directory, it first recovers what a crash of the previous run may have left (see
 * `infra/local/recovery.ts`): it stops an orphaned DynamoDB Local, moves torn emulator files to
 * `<dataDir>/quarantine/`, and says so in one `log.warn` line.
 *
 * @throws JavaNotFoundError (from DynamoDB Local) when `java` is missing; DataDirInUseError when another
 *   local stack runs on the same data directory; any start error after stopping whatever had already started.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  if (!options.inMemory && options.dataDir === undefined) throw new Error('startLocalStack: dataDir is required unless inMemory');
  const log = options.log ?? console;
  const dataDir = options.inMemory ? undefined : options.dataDir;

  // Recovery first: an orphaned DynamoDB Local still holds the database file the checks look at.
  const recovery = dataDir === undefined ? undefined : await recoverDataDir(dataDir);
  const dynamoOptions: DynamoDbLocalOptions = {
    ...(dataDir === undefined ? {} : { dataDir: join(dataDir, 'dynamodb') }),
    ...(options.dynamoPort === undefined ? {} : { port: options.dynamoPort }),
  };
  const startDynamo = async (): Promise<DynamoDbLocal> => {
    try {
      return await startDynamoDbLocal(dynamoOptions);
    } catch (error) {
      // A database the header check could not see as torn: DynamoDB Local said so; start it on a fresh one.
      if (!(error instanceof DynamoDbLocalCorruptDatabaseError) || recovery === undefined) throw error;
      await quarantineDatabase(join(recovery.dataDir, 'dynamodb'), recovery.quarantine, 'malformed database (DynamoDB Local)');
      return startDynamoDbLocal(dynamoOptions);
    }
  };

  // In parallel: DynamoDB Local's JVM start dominates (seconds); s3rver is ready in milliseconds.
  const [dynamoResult, s3Result] = await Promise.allSettled([
    startDynamo(),
    startS3Local({
      ...(dataDir === undefined ? {} : { dataDir: join(dataDir, 's3') }),
      ...(options.s3Port === undefined ? {} : { port: options.s3Port }),
    }),
  ]);
  // One line, whether or not the rest of the start succeeds.
  let reported = false;
  const reportRecovery = () => {
    const line = reported || recovery === undefined ? undefined : describeRecovery(recovery.dataDir, recovery.quarantine, recovery.notes);
    reported = true;
    if (line !== undefined) log.warn(line);
  };
  if (dynamoResult.status === 'rejected' || s3Result.status === 'rejected') {
    reportRecovery();
    await Promise.all([
      dynamoResult.status === 'fulfilled' ? dynamoResult.value.stop() : undefined,
      s3Result.status === 'fulfilled' ? s3Result.value.stop() : undefined,
    ]);
    throw dynamoResult.status === 'rejected' ? dynamoResult.reason : (s3Result as PromiseRejectedResult).reason;
  }
  let dynamo = dynamoResult.value;
  const s3 = s3Result.value;

  const stopStorage = () => Promise.all([s3.stop(), dynamo.stop()]);

  let config: ShardlogConfig;
  let clients: ReturnType<typeof createAwsClients> | undefined;
  let engine: Shardlog;
  let url: string;
  let server: ReturnType<typeof createLocalServer>;
  try {
    config = localConfig({ dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, ...LOCAL_RESOURCE_NAMES });
    try {
      await bootstrapStorage(dynamo, s3, config);
    } catch (error) {
      // DynamoDB Local failing its very first requests with a 500 (InternalFailure) has a database that is
      // malformed past what its header shows (e.g. a journal rolled back into a damaged file). Same port, so
      // the endpoint the handlers were given stays right.
      if (recovery === undefined || !isDynamoDbServerFault(error)) throw error;
      await dynamo.stop();
      await quarantineDatabase(join(recovery.dataDir, 'dynamodb'), recovery.quarantine, 'malformed database (DynamoDB Local fails)');
      dynamo = await startDynamoDbLocal({ ...dynamoOptions, port: dynamo.port });
      await bootstrapStorage(dynamo, s3, config);
    }
    // The endpoints of the emulators as they run now (a restart after quarantine keeps the port).
    const aws = createAwsClients(config, localClientOptions({ dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint }));
    // DynamoDB Local answers a write before committing it: acknowledge only what a power cut cannot undo. An
    // in-memory stack (the bench, tests) has nothing on disk to lose, so it skips the extra round trip.
    const stopBarrier = options.inMemory ? () => {} : awaitDynamoDbLocalCommits(aws.doc, dynamo.endpoint);
    clients = {
      ...aws,
      destroy() {
        aws.destroy();
        stopBarrier();
      },
    };
    // Metrics go nowhere locally: no CloudWatch to read them (`shardlog top` and the console show lag).
    engine = createShardlog(clients, config, { logger: options.logger ?? localLogger() });
    server = createLocalServer({
      routes: ROUTES,
      loadHandler: options.loadHandler ?? engineHandlerLoader(engine),
      log,
      // The read-only web console at `/` (local only: not in the route table, not deployed).
      beforeRouting: createConsoleHandler(),
    });
    url = await server.listen(options.port, options.host ?? '127.0.0.1');
  } catch (error) {
    reportRecovery();
    clients?.destroy();
    await stopStorage();
    throw error;
  }
  reportRecovery();

  const timer = startMaintenanceTimer({
    intervalMs: options.maintenanceIntervalMs,
    // No lag sweep: it only emits metrics, and the local engine's go nowhere.
    pass: options.maintenancePass ?? maintenancePass(engine, { reportLag: false }),
    log,
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: s3.endpoint,
    config,
    engine,
    dynamoPid: dynamo.pid,
    stop() {
      stopping ??= (async () => {
        try {
          await server.close();
          await timer.stop();
        } finally {
          clients?.destroy();
          await stopStorage();
        }
      })();
      return stopping;
    },
  };
}

/** A 5xx from DynamoDB (translated at the storage boundary into `UnavailableError`). */
function isDynamoDbServerFault(error: unknown): boolean {
  return error instanceof UnavailableError && error.cause instanceof DynamoDBServiceException;
}

/** What a crash of the previous run left, recovered before the emulators start (see `recovery.ts`). */
async function recoverDataDir(dataDir: string): Promise<{ dataDir: string; quarantine: Quarantine; notes: string[] }> {
  const quarantine = new Quarantine(dataDir);
  const notes: string[] = [];
  // First: an orphaned DynamoDB Local still holds the database file the next check reads.
  for (const pid of await stopOrphanedDynamoDbLocal(join(dataDir, 'dynamodb'))) notes.push(`stopped an orphaned DynamoDB Local (pid ${pid})`);
  await repairDynamoDbStore(join(dataDir, 'dynamodb'), quarantine);
  await repairS3Store(join(dataDir, 's3'), quarantine);
  return { dataDir, quarantine, notes };
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
