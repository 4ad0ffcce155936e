import type { S3Client } from '@aws-sdk/client-s3';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_INLINE_BATCH_BYTES } from '../config.js';
import {
  decodeBatchItem,
  decodePartitionMeta,
  decodeTailItem,
  isExpired,
  itemKey,
  MAX_OFFSET_SK,
  offsetSk,
  partitionMetaKey,
  TAIL_PROJECTION,
} from '../storage/log-table.js';
import type { HotBatch, PartitionMeta, PartitionTail } from '../storage/log-items.js';
import type { MetricsSink } from '../observability/metrics-sink.js';
import { AppendRaces, TAIL_CACHE_MS } from './append-races.js';
import { DEFAULT_APPEND_BACKOFF, type AppendBackoffPolicy } from './append-retry.js';
import { DynamoAppend } from './dynamo-append.js';
import { IdempotencyRecords } from './idempotency-records.js';
import type { AppendOptions, AppendResult, BatchPage, BatchQuery, LogStore, PartitionAppend } from './log-store.js';
import { SpillStore } from './spill-store.js';

/** The meta item changes only at maintenance passes; a short cache saves a read on every fetch. */
export const META_CACHE_MS = 2_000;

export interface DynamoLogStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Needed for batches too large for one item; without it they are refused with 413. */
  readonly s3?: S3Client;
  readonly bucket?: string;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** How an append backs off after lost races (default {@link DEFAULT_APPEND_BACKOFF}). */
  readonly backoff?: AppendBackoffPolicy;
  /** How long an end offset this process saw is trusted by its next append (default {@link TAIL_CACHE_MS}). */
  readonly tailCacheMs?: number;
  /** How long the partition meta item (start offset, tiering state) may be served from memory. */
  readonly metaCacheMs?: number;
  /** Batches larger than this go to S3 behind a pointer item (default: only those too large for an item). */
  readonly spillThresholdBytes?: number;
  /** Where lost append races and their retries are counted (`AppendRacesLost`, `AppendRetries`). */
  readonly metrics?: MetricsSink;
}

/**
 * The hot tier of the log in DynamoDB ({@link LogStore}): the items of lib/storage/log-table.ts, appended by
 * the protocol of {@link DynamoAppend} (one conditional put at the end offset, a transaction where a request
 * spans partitions or carries an idempotency key), with spilled batches in S3 ({@link SpillStore}).
 */
export class DynamoLogStore implements LogStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;
  private readonly spills: SpillStore;
  private readonly appender: DynamoAppend;
  private readonly metaCacheMs: number;
  private readonly metas = new Map<string, { meta: PartitionMeta; until: number }>();

  constructor(options: DynamoLogStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
    this.metaCacheMs = options.metaCacheMs ?? META_CACHE_MS;
    this.spills = new SpillStore({ ...(options.s3 ? { s3: options.s3 } : {}), ...(options.bucket ? { bucket: options.bucket } : {}), now: this.now });
    const readTail = (pk: string) => this.readTail(pk, true);
    const races = new AppendRaces({
      now: this.now,
      random: options.random ?? Math.random,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      backoff: options.backoff ?? DEFAULT_APPEND_BACKOFF,
      tailCacheMs: options.tailCacheMs ?? TAIL_CACHE_MS,
      readTail,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
    this.appender = new DynamoAppend({
      doc: this.doc,
      tableName: this.table,
      now: this.now,
      races,
      spills: this.spills,
      idempotency: new IdempotencyRecords({ doc: this.doc, tableName: this.table, now: this.now }),
      spillThresholdBytes: Math.min(MAX_INLINE_BATCH_BYTES, options.spillThresholdBytes ?? MAX_INLINE_BATCH_BYTES),
      readTail,
    });
  }

  append(topicId: string, appends: readonly PartitionAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    return this.appender.append(topicId, appends, options);
  }

  /** The newest item is the newest batch, or the meta item when every batch is gone (`#meta` sorts first). */
  async readTail(pk: string, consistent: boolean): Promise<PartitionTail> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: consistent,
        ...TAIL_PROJECTION,
      }),
    );
    return decodeTailItem(Items?.[0]);
  }

  /** The partition meta item (written by maintenance), or the defaults of a partition never maintained. */
  async readMeta(pk: string, fresh = false): Promise<PartitionMeta> {
    const cached = this.metas.get(pk);
    if (!fresh && cached && cached.until > this.now()) return cached.meta;
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: partitionMetaKey(pk), ConsistentRead: true }));
    const meta = decodePartitionMeta(Item);
    if (this.metaCacheMs > 0) this.metas.set(pk, { meta, until: this.now() + this.metaCacheMs });
    return meta;
  }

  forgetMeta(pk: string): void {
    this.metas.delete(pk);
  }

  /**
   * Hot batches in offset order (or reverse), starting at the batch whose base offset is ≥ `fromOffset`
   * (forward) or ≤ `toOffset` (backward). Items whose TTL has passed are skipped: they are tiered copies
   * DynamoDB has not deleted yet, and the cold tier is their source of truth.
   */
  async queryBatches(pk: string, query: BatchQuery): Promise<BatchPage> {
    const lower = offsetSk(query.fromOffset ?? 0);
    const upper = query.toOffset === undefined ? MAX_OFFSET_SK : offsetSk(query.toOffset);
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': pk, ':lo': lower, ':hi': upper },
        ScanIndexForward: query.forward,
        Limit: query.limit,
        ConsistentRead: true,
        ...(query.exclusiveStartSk ? { ExclusiveStartKey: itemKey(pk, query.exclusiveStartSk) } : {}),
      }),
    );
    const now = this.now();
    const batches = (page.Items ?? []).map(decodeBatchItem).filter((batch) => !isExpired(batch, now));
    const lastSk = page.LastEvaluatedKey ? String(page.LastEvaluatedKey.sk) : undefined;
    return { batches, more: lastSk !== undefined, ...(lastSk ? { lastSk } : {}) };
  }

  async loadBatch(batch: HotBatch): Promise<Uint8Array> {
    if (batch.data) return batch.data;
    if (!batch.spillKey) throw new Error(`batch at ${batch.baseOffset} has no data`);
    return this.spills.load(batch.spillKey);
  }

  batchUrl(spillKey: string): Promise<{ url: string; expiresAt: number }> {
    return this.spills.presignGet(spillKey);
  }
}
