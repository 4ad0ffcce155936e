import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ShardlogConfig } from './config.js';
import type { ColdTier } from './log/cold-tier.js';
import { DynamoLeaseStore } from './groups/dynamo-lease-store.js';
import { GroupService } from './groups/group-service.js';
import { DynamoLogStore } from './log/dynamo-log-store.js';
import { LogService } from './log/log-service.js';
import type { LogStore } from './log/log-store.js';
import { S3UploadStore } from './log/upload-store.js';
import { SILENT_LOGGER, withFields, type Logger } from './logger.js';
import { createMaintenance, createSegmentStore } from './maintenance/create-maintenance.js';
import type { MaintenanceService } from './maintenance/maintenance-service.js';
import type { TableRole } from './observability/metrics.js';
import { NO_METRICS, type MetricsSink } from './observability/metrics-sink.js';
import { DynamoShareStore } from './share-groups/dynamo-share-store.js';
import type { ShareStepHook } from './share-groups/share-context.js';
import { ShareGroupService } from './share-groups/share-group-service.js';
import { translateStorageErrors, type StorageErrorHooks } from './storage/aws-errors.js';
import { DynamoTopicStore } from './topics/dynamo-topic-store.js';
import type { TopicStore } from './topics/topic.js';

/**
 * The AWS clients the engine runs on; built once per process by the caller (never inside `lib`).
 * {@link createShardlog} adds the storage-error middleware to them (`translateStorageErrors`), so every part of
 * the engine sees SDK throttling and outages as `ThrottledError` / `UnavailableError`, whoever built the clients.
 */
export interface ShardlogClients {
  readonly doc: DynamoDBDocumentClient;
  readonly s3: S3Client;
}

export interface ShardlogOptions {
  readonly now?: () => number;
  /** How a long poll waits between probes (tests pass one that needs no real time). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Overrides for tests: cache lifetimes (0 disables a cache). */
  readonly topicCacheMs?: number;
  readonly metaCacheMs?: number;
  readonly tailCacheMs?: number;
  readonly cold?: ColdTier;
  /** Crash injection in tests: runs after each step of the share groups' dead-letter protocol. */
  readonly onShareStep?: ShareStepHook;
  /** Where the engine logs (default: nowhere). The Lambda entries pass Powertools Logger (functions/telemetry.ts). */
  readonly logger?: Logger;
  /** Where the engine's metrics go (default: nowhere). The Lambda entries pass an EMF sink (functions/telemetry.ts). */
  readonly metrics?: MetricsSink;
}

/** The engine, wired: what the Lambda handlers and the local stack call. */
export interface Shardlog {
  readonly config: ShardlogConfig;
  readonly clients: ShardlogClients;
  readonly topics: TopicStore;
  /** The hot tier of the log. */
  readonly store: LogStore;
  readonly log: LogService;
  /** Consumer groups over the lease table. */
  readonly groups: GroupService;
  /** Tiering to S3 segments, retention, reclaiming deleted topics and expiring idle groups (one pass per call). */
  readonly maintenance: MaintenanceService;
  /** Share groups over the lease table: queue semantics over the log (docs/api.md v1.1). */
  readonly shareGroups: ShareGroupService;
  /** The engine's logger; the HTTP handlers log through it too. */
  readonly logger: Logger;
  /** The engine's metrics sink; the HTTP handlers emit through it too (README, "Operating shardlog"). */
  readonly metrics: MetricsSink;
}

/**
 * Composes the engine from clients and configuration (the composition root; KafkaJS-style factories, so
 * tests drive the same wiring with their own clients).
 */
export function createShardlog(clients: ShardlogClients, config: ShardlogConfig, options: ShardlogOptions = {}): Shardlog {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? SILENT_LOGGER;
  const metrics = options.metrics ?? NO_METRICS;
  // The storage boundary: SDK errors become shardlog errors here, once, for every store built below. It is
  // also where DynamoDB throttling is seen, and counted by table.
  const tables = new Map<string | undefined, TableRole>([[config.logTable, 'log'], [config.leaseTable, 'lease']]);
  const hooks: StorageErrorHooks = {
    onThrottled: (table) => {
      const role = tables.get(table);
      if (role !== undefined) metrics.add('DynamoDbThrottles', 1, { Table: role });
    },
  };
  translateStorageErrors(clients.doc, hooks);
  translateStorageErrors(clients.s3, hooks);
  const topics = new DynamoTopicStore({
    doc: clients.doc,
    tableName: config.logTable,
    cacheMs: options.topicCacheMs ?? config.topicCacheMs,
    now,
  });
  const store = new DynamoLogStore({
    doc: clients.doc,
    tableName: config.logTable,
    s3: clients.s3,
    bucket: config.segmentBucket,
    now,
    ...(options.tailCacheMs !== undefined ? { tailCacheMs: options.tailCacheMs } : {}),
    ...(options.metaCacheMs !== undefined ? { metaCacheMs: options.metaCacheMs } : {}),
    spillThresholdBytes: config.spillThresholdBytes,
    metrics,
  });
  const segments = createSegmentStore(clients, config, now);
  const log = new LogService({
    store,
    now,
    cold: options.cold ?? segments,
    uploads: new S3UploadStore({ s3: clients.s3, bucket: config.segmentBucket, now }),
    hotRetentionLimitHours: config.hotRetentionLimitHours,
    ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
    metrics,
  });
  const groups = new GroupService({ store: new DynamoLeaseStore({ doc: clients.doc, tableName: config.leaseTable }), topics, log, now, metrics });
  const maintenance = createMaintenance({ clients, config, topics, store, segments, now, logger, metrics, expireGroups: () => groups.expireIdle() });
  const shareGroups = new ShareGroupService({
    store: new DynamoShareStore({ doc: clients.doc, tableName: config.leaseTable }),
    topics,
    log,
    now,
    logger: withFields(logger, { component: 'share-groups' }),
    metrics,
    ...(options.onShareStep ? { onStep: options.onShareStep } : {}),
  });
  return { config, clients, topics, store, log, maintenance, groups, shareGroups, logger, metrics };
}
