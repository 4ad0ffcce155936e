import type { LogRecord } from './batch-format.js';

/** A batch item as the hot tier stores it (attribute names in {@link DynamoLogStore}). */
export interface HotBatch {
  readonly baseOffset: number;
  readonly count: number;
  /** Running maximum of record timestamps up to and including this batch (Kafka's time-index rule). */
  readonly maxTimestamp: number;
  /** Milliseconds since the epoch when the batch was appended. */
  readonly appendedAt: number;
  /** The encoded batch, inline; absent when the batch was spilled to S3 (`spillKey`). */
  readonly data?: Uint8Array;
  readonly spillKey?: string;
  /** Encoded size in bytes (inline or spilled). */
  readonly bytes: number;
  /** Set once the batch is safely in a cold segment; the item is then only a TTL-bound copy. */
  readonly expiresAt?: number;
}

/** The partition meta item, written by maintenance only. */
export interface PartitionMeta {
  /** The first offset still readable (Kafka's log-start offset); 0 until retention removes something. */
  readonly startOffset: number;
  /** The end offset as of the last maintenance pass: the floor for `endOffset` once every hot item is gone. */
  readonly endOffset: number;
  /** The running maximum timestamp at `endOffset`. */
  readonly maxTimestamp: number;
  /** Offsets below this are in cold segments (and hot copies may be gone). */
  readonly tieredOffset: number;
}

export interface PartitionTail {
  readonly endOffset: number;
  readonly maxTimestamp: number;
}

export interface PartitionAppend {
  readonly partition: number;
  readonly records: readonly LogRecord[];
}

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
