import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ShardlogConfig } from '../config.js';
import type { LogStore } from '../log/log-store.js';
import { withFields, type Logger } from '../logger.js';
import type { MetricsSink } from '../observability/metrics-sink.js';
import { DynamoSegmentIndex } from '../segments/dynamo-segment-index.js';
import { S3SegmentStore } from '../segments/s3-segment-store.js';
import type { TopicStore } from '../topics/topic.js';
import { MaintenanceService, type MaintenanceServiceOptions } from './maintenance-service.js';
import { DynamoPartitionMetaWriter } from './dynamo-partition-meta-writer.js';

/** The cold tier over the configured bucket and the log table's segment index. */
export function createSegmentStore(
  clients: { readonly doc: DynamoDBDocumentClient; readonly s3: S3Client },
  config: Pick<ShardlogConfig, 'logTable' | 'segmentBucket'>,
  now: () => number = Date.now,
): S3SegmentStore {
  const index = new DynamoSegmentIndex({ doc: clients.doc, tableName: config.logTable, now });
  return new S3SegmentStore({ s3: clients.s3, bucket: config.segmentBucket, index });
}

export interface CreateMaintenanceInput {
  readonly clients: { readonly doc: DynamoDBDocumentClient; readonly s3: S3Client };
  readonly config: Pick<ShardlogConfig, 'logTable' | 'segmentBucket' | 'tierAfterMs' | 'hotRetentionLimitHours'>;
  readonly topics: TopicStore;
  readonly store: LogStore;
  readonly segments?: S3SegmentStore;
  readonly now?: () => number;
  readonly onStep?: MaintenanceServiceOptions['onStep'];
  readonly maxSegmentBatches?: number;
  readonly maxSegmentBytes?: number;
  readonly logger?: Logger;
  /** Where each pass's metrics go (README "Operating shardlog"); default: nowhere. */
  readonly metrics?: MetricsSink;
  readonly expireGroups?: MaintenanceServiceOptions['expireGroups'];
}

/** Wires a {@link MaintenanceService} (the composition root calls this; tests add `onStep` for crash injection). */
export function createMaintenance(input: CreateMaintenanceInput): MaintenanceService {
  const now = input.now ?? Date.now;
  const segments = input.segments ?? createSegmentStore(input.clients, input.config, now);
  return new MaintenanceService({
    topics: input.topics,
    store: input.store,
    segments,
    index: segments.segmentIndex,
    meta: new DynamoPartitionMetaWriter({ doc: input.clients.doc, tableName: input.config.logTable }),
    tierAfterMs: input.config.tierAfterMs,
    hotRetentionLimitHours: input.config.hotRetentionLimitHours,
    now,
    ...(input.logger ? { log: withFields(input.logger, { component: 'maintenance' }) } : {}),
    ...(input.metrics ? { metrics: input.metrics } : {}),
    ...(input.onStep ? { onStep: input.onStep } : {}),
    ...(input.maxSegmentBatches !== undefined ? { maxSegmentBatches: input.maxSegmentBatches } : {}),
    ...(input.maxSegmentBytes !== undefined ? { maxSegmentBytes: input.maxSegmentBytes } : {}),
    ...(input.expireGroups ? { expireGroups: input.expireGroups } : {}),
  });
}
