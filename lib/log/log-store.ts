import type { HotBatch, PartitionMeta, PartitionTail } from '../storage/log-items.js';
import type { LogRecord } from './batch-format.js';

/**
 * One append touches at most this many items: its batches, the partitions it only checks (`expectedOffsets`)
 * and its idempotency record are the items of one DynamoDB transaction, which holds at most 100.
 */
export const MAX_TRANSACTION_ITEMS = 100;

/**
 * One partition's part of an append: records to encode as one batch, or a batch already encoded and checked
 * (a client's batch sent as stored, lib/log/batch-validation.ts), stored as it is with its base offset patched.
 */
export type PartitionAppend =
  | { readonly partition: number; readonly records: readonly LogRecord[] }
  | { readonly partition: number; readonly batch: EncodedAppend };

/** A batch in the stored format (header base offset 0), with what its item needs to know of it. */
export interface EncodedAppend {
  readonly bytes: Uint8Array;
  readonly count: number;
  /** The largest record timestamp of the batch. */
  readonly maxTimestamp: number;
}

/** How many records a partition's append holds. */
export const appendCount = (append: PartitionAppend): number => ('batch' in append ? append.batch.count : append.records.length);

export interface AppendOptions {
  /** TTL (epoch seconds) to write with every batch of this append (hot-retention topics). */
  readonly expiresAtSec?: number;
  /** Append only if each named partition's end offset equals the number. */
  readonly expectedOffsets?: ReadonlyMap<number, number>;
  /** Idempotency: the key, and the response to remember, built from the base offsets that were assigned. */
  readonly idempotency?: {
    readonly key: string;
    readonly response: (baseOffsets: ReadonlyMap<number, number>) => unknown;
    /**
     * Digest of the request (`request-digest.ts`), kept with the key: a later request under the same key with
     * another digest is refused with `IdempotencyKeyReusedError` instead of replaying this one's response.
     */
    readonly digest?: string;
  };
}

export type AppendResult =
  | { readonly kind: 'appended'; readonly baseOffsets: ReadonlyMap<number, number>; readonly response?: unknown }
  | { readonly kind: 'replayed'; readonly response: unknown };

/** A range of batches to query, by base offset. */
export interface BatchQuery {
  /** Offset order, or reverse offset order. */
  readonly forward: boolean;
  /** The lowest base offset (inclusive; default 0). */
  readonly fromOffset?: number;
  /** The highest base offset (inclusive; default: no bound). */
  readonly toOffset?: number;
  /** Items to examine at most (DynamoDB's `Limit`: counted before expired items are skipped). */
  readonly limit: number;
  /** Continue after this sort key (the `lastSk` of the previous page). */
  readonly exclusiveStartSk?: string;
}

export interface BatchPage {
  readonly batches: HotBatch[];
  /** The sort key of the last item examined, when the range holds more. */
  readonly lastSk?: string;
  /** Whether the range holds items past this page. */
  readonly more: boolean;
}

/**
 * The hot tier of the log: batches of one partition under its key `pk` (lib/storage/log-table.ts,
 * `partitionPk`), appended at the partition's end and read by base offset. {@link DynamoLogStore} is the
 * implementation; tests drive the log service with an in-memory one (test/support/memory-log-store.ts).
 *
 * The protocol (docs/design.md, "Append" and "Read"): a batch is written only at the partition's end offset,
 * so batches tile [0, end) with no gap and no overlap; a failed append leaves nothing readable; batches whose
 * TTL has passed are tiered copies and are skipped by queries.
 */
export interface LogStore {
  /**
   * Appends each partition's records as one batch, all or nothing.
   * @throws OffsetMismatchError when `expectedOffsets` does not hold, IdempotencyKeyReusedError, ThrottledError,
   *   UnavailableError (retriable: nothing was appended), PayloadTooLargeError
   */
  append(topicId: string, appends: readonly PartitionAppend[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Where the partition ends: from its newest batch, or the meta item's end floor when no batch is left.
   * `consistent: false` may lag (half the price), never run ahead.
   */
  readTail(pk: string, consistent: boolean): Promise<PartitionTail>;
  /** The partition meta item, possibly from a short-lived cache unless `fresh`. */
  readMeta(pk: string, fresh?: boolean): Promise<PartitionMeta>;
  /** Drops the cached meta item of a partition (after maintenance changed it). */
  forgetMeta(pk: string): void;
  /** One page of batches in the range, expired ones skipped. */
  queryBatches(pk: string, query: BatchQuery): Promise<BatchPage>;
  /**
   * The encoded bytes of a batch, inline or from its spill object.
   * @throws UnavailableError when retention removed the batch while it was being read (retriable).
   */
  loadBatch(batch: HotBatch): Promise<Uint8Array>;
  /**
   * A presigned GET URL of a spilled batch's object (docs/api.md, "Binary record batches"), signed with this
   * process's credentials, and when it expires (epoch ms).
   */
  batchUrl(spillKey: string): Promise<{ url: string; expiresAt: number }>;
}
