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
import { createMaintenance, createSegmentStore } from './maintenance/create-maintenance.js';
import type { MaintenanceService } from './maintenance/maintenance-service.js';
import { translateStorageErrors } from './storage/aws-errors.js';
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
  /** Tiering to S3 segments, retention and reclaiming deleted topics (one pass per call). */
  readonly maintenance: MaintenanceService;
}

/**
 * Composes the engine from clients and configuration (the composition root; KafkaJS-style factories, so
 * tests drive the same wiring with their own clients).
 */
export function createShardlog(clients: ShardlogClients, config: ShardlogConfig, options: ShardlogOptions = {}): Shardlog {
  const now = options.now ?? Date.now;
  // The storage boundary: SDK errors become shardlog errors here, once, for every store built below.
  translateStorageErrors(clients.doc);
  translateStorageErrors(clients.s3);
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
  });
  const segments = createSegmentStore(clients, config, now);
  const log = new LogService({
    store,
    now,
    cold: options.cold ?? segments,
    uploads: new S3UploadStore({ s3: clients.s3, bucket: config.segmentBucket, now }),
    hotRetentionLimitHours: config.hotRetentionLimitHours,
    ...(options.sleep !== undefined ? { sleep: options.sleep } : {}),
  });
  const maintenance = createMaintenance({ clients, config, topics, store, segments, now });
  const groups = new GroupService({ store: new DynamoLeaseStore({ doc: clients.doc, tableName: config.leaseTable }), topics, log, now });
  return { config, clients, topics, store, log, maintenance, groups };
}
