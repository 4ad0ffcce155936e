import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { MAX_INLINE_BATCH_BYTES } from '../config.js';
import {
  IdempotencyKeyReusedError,
  OffsetMismatchError,
  PayloadTooLargeError,
  ThrottledError,
  UnavailableError,
} from '../errors.js';
import { SPILL_PREFIX } from '../storage/prefixes.js';
import { encodeBatch, withBaseOffset, type LogRecord } from './batch-format.js';
import {
  IDEMPOTENCY_SK,
  idempotencyPk,
  MAX_OFFSET_SK,
  offsetSk,
  PARTITION_META_SK,
  parseOffsetSk,
  partitionPk,
} from './keys.js';
import type {
  AppendOptions,
  AppendResult,
  HotBatch,
  PartitionAppend,
  PartitionMeta,
  PartitionTail,
} from './log-store.js';

export { MAX_INLINE_BATCH_BYTES };
/** TransactWriteItems carries at most 4 MB; keep the inline payload of one transaction below this. */
export const MAX_TRANSACTION_INLINE_BYTES = 3.5 * 1024 * 1024;
/** TransactWriteItems carries at most 100 items. */
export const MAX_TRANSACTION_ITEMS = 100;
/** Idempotency keys are remembered this long (API.md: 24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** After this many lost races on one request the caller gets a retriable 429. */
export const MAX_APPEND_ATTEMPTS = 64;
/** How long a process trusts the partition tail it learned from its own last append. */
export const TAIL_CACHE_MS = 5_000;

export interface DynamoLogStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Needed for batches too large for one item; without it they are refused with 413. */
  readonly s3?: S3Client;
  readonly bucket?: string;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly tailCacheMs?: number;
  /** How long the partition meta item (start offset, tiering state) may be served from memory. */
  readonly metaCacheMs?: number;
  /** Batches larger than this go to S3 behind a pointer item (default: only those too large for an item). */
  readonly spillThresholdBytes?: number;
}

/** The meta item changes only at maintenance passes; a short cache saves a read on every fetch. */
export const META_CACHE_MS = 2_000;

/** Attribute names of a batch item (short: they are stored, and paid for, in every item). */
const A = {
  count: 'n',
  maxTimestamp: 'mt',
  appendedAt: 'at',
  data: 'v',
  spillKey: 'ref',
  bytes: 'sz',
  expiresAt: 'expiresAt',
} as const;

interface PreparedBatch {
  readonly partition: number;
  readonly pk: string;
  readonly count: number;
  readonly batchMaxTimestamp: number;
  /** Encoded at the base offset of the first attempt; patched per attempt. */
  encoded: Uint8Array;
  readonly expiresAtSec?: number;
  spillKey?: string;
}

/**
 * The hot tier of the log in DynamoDB, and the append protocol.
 *
 * ## Append: one conditional write, no transaction, in the common case
 * A batch item's sort key is its base offset. An append reads the partition's end offset E (from the newest
 * item, or from this process's cache of its own last append) and writes the batch at sort key E with
 * `attribute_not_exists(pk)`:
 *
 * ```
 * producer A: tail → E=10 ─ Put sk=10 (n=5) ✔ ─────────────────────────────── acked [10..14]
 * producer B: tail → E=10 ───── Put sk=10 ✘ (ALL_OLD: n=5) → Put sk=15 (n=3) ✔ acked [15..17]
 * ```
 * Because an item is only ever written at a key that was observed to be the end of the log, batches tile
 * [0, end) with no gap and no overlap: a reader never sees a hole that is later filled, and a failed append
 * leaves nothing behind. The payload is paid once (a standard write), not twice as in a transaction. A lost
 * race is a return value: the conflicting item comes back with the failure (`ReturnValuesOnConditionCheckFailure`),
 * so the retry needs no extra read.
 *
 * Requests that span partitions, carry an `Idempotency-Key`, or name partitions in `expectedOffsets`
 * without writing to them, use one `TransactWriteItems` (all or nothing, at twice the write price).
 *
 * The tail cache is only trusted for {@link TAIL_CACHE_MS}: hot items are deleted (by TTL) only after they
 * are tiered and a grace period of at least an hour, so a key observed as the end a few seconds ago cannot
 * have been deleted and re-used.
 */
export class DynamoLogStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly s3: S3Client | undefined;
  private readonly bucket: string | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly tailCacheMs: number;
  private readonly tails = new Map<string, PartitionTail & { until: number }>();
  private readonly metaCacheMs: number;
  private readonly spillThresholdBytes: number;
  private readonly metas = new Map<string, { meta: PartitionMeta; until: number }>();

  constructor(options: DynamoLogStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.tailCacheMs = options.tailCacheMs ?? TAIL_CACHE_MS;
    this.metaCacheMs = options.metaCacheMs ?? META_CACHE_MS;
    this.spillThresholdBytes = Math.min(MAX_INLINE_BATCH_BYTES, options.spillThresholdBytes ?? MAX_INLINE_BATCH_BYTES);
  }

  // ---------------------------------------------------------------------------------------------- append

  /**
   * Appends each partition's records as one batch, all or nothing.
   * @throws OffsetMismatchError when `expectedOffsets` does not match; ThrottledError after too many lost races.
   */
  async append(topicId: string, appends: readonly PartitionAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    const expected = options.expectedOffsets ?? new Map<number, number>();
    const touched = new Set(appends.map((a) => a.partition));
    const checkOnly = [...expected.keys()].filter((p) => !touched.has(p));
    const prepared = await Promise.all(appends.map((a) => this.prepare(topicId, a, options.expiresAtSec)));
    if (prepared.length === 1 && checkOnly.length === 0 && !options.idempotency) {
      return this.appendOne(prepared[0]!, expected.get(prepared[0]!.partition));
    }
    return this.appendTransaction(topicId, prepared, expected, checkOnly, options.idempotency);
  }

  private async prepare(topicId: string, append: PartitionAppend, expiresAtSec: number | undefined): Promise<PreparedBatch> {
    let batchMaxTimestamp = -Infinity;
    for (const r of append.records) batchMaxTimestamp = Math.max(batchMaxTimestamp, r.timestamp);
    const encoded = encodeBatch(0, append.records as LogRecord[]);
    return {
      partition: append.partition,
      pk: partitionPk(topicId, append.partition),
      count: append.records.length,
      batchMaxTimestamp,
      encoded,
      ...(expiresAtSec !== undefined ? { expiresAtSec } : {}),
    };
  }

  private async appendOne(batch: PreparedBatch, expected: number | undefined): Promise<AppendResult> {
    if (batch.encoded.length > this.spillThresholdBytes) await this.spill(batch);
    let tail = await this.tailForAppend(batch.pk, expected);
    let conflicts = 0;
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      if (expected !== undefined && tail.endOffset !== expected) throw await this.mismatch(batch.pk, batch.partition, expected);
      const item = this.batchItem(batch, tail);
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        this.remember(batch.pk, { endOffset: tail.endOffset + batch.count, maxTimestamp: item[A.maxTimestamp] as number });
        return { kind: 'appended', baseOffsets: new Map([[batch.partition, tail.endOffset]]) };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Lost the race for this offset. The winner's item came back with the failure: continue after it,
        // unless we have been walking a stale tail for a while, then read the real one.
        conflicts++;
        const winner = error.Item ? unmarshall(error.Item) : undefined;
        tail =
          winner && conflicts <= 2 && typeof winner[A.count] === 'number'
            ? { endOffset: tail.endOffset + (winner[A.count] as number), maxTimestamp: winner[A.maxTimestamp] as number }
            : await this.readTail(batch.pk, true);
        this.tails.delete(batch.pk);
        if (attempt > 3) await this.sleep(this.backoffMs(attempt));
      }
    }
    throw new ThrottledError('too much contention on this partition; retry the request', 1);
  }

  private async appendTransaction(
    topicId: string,
    batches: PreparedBatch[],
    expected: ReadonlyMap<number, number>,
    checkOnly: readonly number[],
    idempotency: AppendOptions['idempotency'],
  ): Promise<AppendResult> {
    if (batches.length + checkOnly.length + (idempotency ? 1 : 0) > MAX_TRANSACTION_ITEMS) {
      // Validated at the boundary already; this guards the invariant for other callers.
      throw new PayloadTooLargeError(`one request may touch at most ${MAX_TRANSACTION_ITEMS - 1} partitions`);
    }
    await this.spillToFitTransaction(batches);
    const tails = new Map<number, PartitionTail>();
    await Promise.all(
      [...batches.map((b) => b.partition), ...checkOnly].map(async (p) => {
        tails.set(p, await this.tailForAppend(partitionPk(topicId, p), expected.get(p)));
      }),
    );
    const idemPk = idempotency ? idempotencyPk(topicId, idempotency.key) : undefined;
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      for (const [p, want] of expected) {
        if (tails.get(p)!.endOffset !== want) {
          const replay = idemPk ? await this.readIdempotent(idemPk, idempotency?.digest) : undefined;
          if (replay !== undefined) return { kind: 'replayed', response: replay };
          throw await this.mismatch(partitionPk(topicId, p), p, want);
        }
      }
      const baseOffsets = new Map(batches.map((b) => [b.partition, tails.get(b.partition)!.endOffset]));
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = batches.map((b) => ({
        Put: {
          TableName: this.table,
          Item: this.batchItem(b, tails.get(b.partition)!),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      }));
      for (const p of checkOnly) {
        items.push({
          ConditionCheck: {
            TableName: this.table,
            Key: { pk: partitionPk(topicId, p), sk: offsetSk(expected.get(p)!) },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      let response: unknown;
      if (idempotency && idemPk) {
        response = idempotency.response(baseOffsets);
        const nowMs = this.now();
        items.push({
          Put: {
            TableName: this.table,
            Item: {
              pk: idemPk,
              sk: IDEMPOTENCY_SK,
              r: gzipSync(JSON.stringify(response)),
              ...(idempotency.digest !== undefined ? { d: idempotency.digest } : {}),
              createdAt: nowMs,
              expiresAt: Math.ceil((nowMs + IDEMPOTENCY_WINDOW_MS) / 1000),
            },
            // An expired record that TTL has not deleted yet does not count (TTL may lag by days).
            ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :nowSec',
            ExpressionAttributeValues: { ':nowSec': Math.floor(nowMs / 1000) },
          },
        });
      }
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
        batches.forEach((b) => {
          const t = tails.get(b.partition)!;
          this.remember(b.pk, { endOffset: t.endOffset + b.count, maxTimestamp: Math.max(t.maxTimestamp, b.batchMaxTimestamp) });
        });
        return { kind: 'appended', baseOffsets, response };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        if (idemPk && reasons[items.length - 1]?.Code === 'ConditionalCheckFailed') {
          const replay = await this.readIdempotent(idemPk, idempotency?.digest);
          if (replay !== undefined) return { kind: 'replayed', response: replay };
        }
        // Re-read the tail of every partition whose condition failed (or all, for a transaction conflict).
        const conflicted = reasons.some((r) => r.Code === 'TransactionConflict');
        const refresh = [...batches.map((b) => b.partition), ...checkOnly].filter(
          (p, i) => conflicted || reasons[i]?.Code === 'ConditionalCheckFailed',
        );
        await Promise.all(
          refresh.map(async (p) => {
            const pk = partitionPk(topicId, p);
            this.tails.delete(pk);
            tails.set(p, await this.readTail(pk, true));
          }),
        );
        if (attempt > 2 || conflicted) await this.sleep(this.backoffMs(attempt));
      }
    }
    throw new ThrottledError('too much contention on these partitions; retry the request', 1);
  }

  private batchItem(batch: PreparedBatch, tail: PartitionTail): Record<string, unknown> {
    const base = tail.endOffset;
    const item: Record<string, unknown> = {
      pk: batch.pk,
      sk: offsetSk(base),
      [A.count]: batch.count,
      [A.maxTimestamp]: Math.max(tail.maxTimestamp, batch.batchMaxTimestamp),
      [A.appendedAt]: this.now(),
      [A.bytes]: batch.encoded.length,
    };
    if (batch.expiresAtSec !== undefined) item[A.expiresAt] = batch.expiresAtSec;
    if (batch.spillKey) item[A.spillKey] = batch.spillKey;
    else item[A.data] = withBaseOffset(batch.encoded, base);
    return item;
  }

  /** Writes a batch too large for an item to S3; the item then only points at it. */
  private async spill(batch: PreparedBatch): Promise<void> {
    if (!this.s3 || !this.bucket) {
      throw new PayloadTooLargeError(`a batch of ${batch.encoded.length} bytes needs S3 spill storage, which is not configured`);
    }
    // Not readable until an item points at it; a failed append leaves an orphan object, never a record.
    const key = `${SPILL_PREFIX}${batch.pk.replace(/#/g, '/')}/${randomUUID()}.batch`;
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: batch.encoded }));
    batch.spillKey = key;
  }

  private async spillToFitTransaction(batches: PreparedBatch[]): Promise<void> {
    await Promise.all(batches.filter((b) => b.encoded.length > this.spillThresholdBytes).map((b) => this.spill(b)));
    let inline = batches.filter((b) => !b.spillKey).reduce((sum, b) => sum + b.encoded.length, 0);
    for (const b of [...batches].sort((x, y) => y.encoded.length - x.encoded.length)) {
      if (inline <= MAX_TRANSACTION_INLINE_BYTES) break;
      if (b.spillKey) continue;
      inline -= b.encoded.length;
      await this.spill(b);
    }
  }

  private async tailForAppend(pk: string, expected: number | undefined): Promise<PartitionTail> {
    const cached = this.tails.get(pk);
    if (cached && cached.until > this.now() && (expected === undefined || cached.endOffset === expected)) return cached;
    return this.readTail(pk, true);
  }

  private remember(pk: string, tail: PartitionTail): void {
    if (this.tailCacheMs > 0) this.tails.set(pk, { ...tail, until: this.now() + this.tailCacheMs });
  }

  private async mismatch(pk: string, partition: number, expected: number): Promise<OffsetMismatchError> {
    const actual = (await this.readTail(pk, true)).endOffset;
    return new OffsetMismatchError(
      `partition ${partition} ends at offset ${actual}, not at the expected ${expected}; nothing was appended`,
      { details: { partition, expectedOffset: expected, endOffset: actual, endOffsets: { [partition]: actual } } },
    );
  }

  /**
   * The remembered response of a live idempotency record, or `undefined` when there is none.
   * @throws IdempotencyKeyReusedError when the record was written for a request with another digest (a record
   *   written before digests were kept has none, and replays as before).
   */
  private async readIdempotent(pk: string, digest: string | undefined): Promise<unknown | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk: IDEMPOTENCY_SK }, ConsistentRead: true }),
    );
    if (!Item || Number(Item.expiresAt) * 1000 <= this.now()) return undefined;
    if (digest !== undefined && typeof Item.d === 'string' && Item.d !== digest) {
      throw new IdempotencyKeyReusedError(
        'this Idempotency-Key was already used with a different request body on this topic within 24 hours; ' +
          'nothing was appended (use a new key for a new request)',
      );
    }
    return JSON.parse(gunzipSync(Item.r as Uint8Array).toString('utf8'));
  }

  private backoffMs(attempt: number): number {
    return Math.floor(this.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
  }

  // ----------------------------------------------------------------------------------------------- reads

  /**
   * The partition's end offset and running max timestamp, from its newest item: the newest batch, or the
   * partition meta item when every batch is gone (a backward Query with Limit 1; `#meta` sorts first).
   */
  async readTail(pk: string, consistent: boolean): Promise<PartitionTail> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: consistent,
        ProjectionExpression: 'sk, #n, mt, endOffset, maxTimestamp, floorOffset, floorMaxTimestamp',
        ExpressionAttributeNames: { '#n': A.count },
      }),
    );
    const item = Items?.[0];
    if (!item) return { endOffset: 0, maxTimestamp: -Infinity };
    if (item.sk === PARTITION_META_SK) {
      const meta = metaFromItem(item);
      return { endOffset: meta.endOffset, maxTimestamp: meta.maxTimestamp };
    }
    return { endOffset: parseOffsetSk(String(item.sk)) + Number(item[A.count]), maxTimestamp: Number(item[A.maxTimestamp]) };
  }

  /** The partition meta item (written by maintenance), or the defaults of a partition never maintained. */
  async readMeta(pk: string, fresh = false): Promise<PartitionMeta> {
    const cached = this.metas.get(pk);
    if (!fresh && cached && cached.until > this.now()) return cached.meta;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk: PARTITION_META_SK }, ConsistentRead: true }),
    );
    const meta = metaFromItem(Item);
    if (this.metaCacheMs > 0) this.metas.set(pk, { meta, until: this.now() + this.metaCacheMs });
    return meta;
  }

  /** Drops the cached meta item of a partition (after maintenance changed it). */
  forgetMeta(pk: string): void {
    this.metas.delete(pk);
  }

  /**
   * Hot batches in offset order (or reverse), starting at the batch whose base offset is ≥ `fromOffset`
   * (forward) or ≤ `toOffset` (backward). Items whose TTL has passed are skipped: they are tiered copies
   * DynamoDB has not deleted yet, and the cold tier is their source of truth.
   */
  async queryBatches(
    pk: string,
    range: { forward: boolean; fromOffset?: number; toOffset?: number; limit: number; exclusiveStartSk?: string },
  ): Promise<{ batches: HotBatch[]; lastSk?: string; more: boolean }> {
    const lower = offsetSk(range.fromOffset ?? 0);
    const upper = range.toOffset === undefined ? MAX_OFFSET_SK : offsetSk(range.toOffset);
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': pk, ':lo': lower, ':hi': upper },
        ScanIndexForward: range.forward,
        Limit: range.limit,
        ConsistentRead: true,
        ...(range.exclusiveStartSk ? { ExclusiveStartKey: { pk, sk: range.exclusiveStartSk } } : {}),
      }),
    );
    const nowSec = this.now() / 1000;
    const batches: HotBatch[] = [];
    for (const item of page.Items ?? []) {
      if (typeof item.expiresAt === 'number' && item.expiresAt <= nowSec) continue;
      batches.push(toHotBatch(item));
    }
    const lastSk = page.LastEvaluatedKey ? String(page.LastEvaluatedKey.sk) : undefined;
    return { batches, more: lastSk !== undefined, ...(lastSk ? { lastSk } : {}) };
  }

  /** The encoded bytes of a hot batch, inline or from its spill object. */
  async loadBatch(batch: HotBatch): Promise<Uint8Array> {
    if (batch.data) return batch.data;
    if (!batch.spillKey || !this.s3 || !this.bucket) throw new Error(`batch at ${batch.baseOffset} has no data`);
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: batch.spillKey }));
      return await object.Body!.transformToByteArray();
    } catch (error) {
      // Retention deletes a spilled batch's object once the batch is below the start offset; a read that
      // found the item just before that races it. A retry answers 416 (or reads the cold copy).
      if (error instanceof NoSuchKey) {
        throw new UnavailableError('a batch was removed by retention while it was being read; retry', { cause: error });
      }
      throw error;
    }
  }
}

/**
 * The meta item as readers see it. The end-offset floor is the larger of the tiering mark (`endOffset`) and
 * the floor the hot-retention pass records (`floorOffset`): either may be the one that survives every hot item.
 */
function metaFromItem(item: Record<string, unknown> | undefined): PartitionMeta {
  const tieredEnd = Number(item?.endOffset ?? 0);
  const floor = Number(item?.floorOffset ?? 0);
  return {
    startOffset: Number(item?.startOffset ?? 0),
    endOffset: Math.max(tieredEnd, floor),
    maxTimestamp: Math.max(Number(item?.maxTimestamp ?? -Infinity), Number(item?.floorMaxTimestamp ?? -Infinity)),
    tieredOffset: Number(item?.tieredOffset ?? 0),
  };
}

function toHotBatch(item: Record<string, unknown>): HotBatch {
  return {
    baseOffset: parseOffsetSk(String(item.sk)),
    count: Number(item[A.count]),
    maxTimestamp: Number(item[A.maxTimestamp]),
    appendedAt: Number(item[A.appendedAt]),
    bytes: Number(item[A.bytes]),
    ...(item[A.data] ? { data: item[A.data] as Uint8Array } : {}),
    ...(item[A.spillKey] ? { spillKey: String(item[A.spillKey]) } : {}),
    ...(typeof item[A.expiresAt] === 'number' ? { expiresAt: item[A.expiresAt] as number } : {}),
  };
}
