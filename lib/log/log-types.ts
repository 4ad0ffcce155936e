import type { StoredRecord } from './batch-format.js';
import type { ValidatedBatch } from './batch-validation.js';
import type { RecordEncoding } from './wire-size.js';

/**
 * What the log service takes and gives (lib/log/log-service.ts). Inputs arrive validated: the HTTP boundary
 * (functions/http/records.ts) parses requests into these.
 */

/** A record to produce, already decoded from the wire into bytes. */
export interface ProduceRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly valueIsJson: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp?: number;
  readonly partition?: number;
}

export interface ProduceInput {
  readonly records: readonly ProduceRecord[];
  readonly expectedOffsets?: ReadonlyMap<number, number>;
  readonly idempotencyKey?: string;
}

/**
 * A produce of record batches sent as stored (docs/api.md, "Binary record batches"): each names its partition
 * and is either checked already (its bytes came in the request) or an upload to S3 that the log reads and
 * checks before the append. At most one batch per partition.
 */
export interface BatchesProduceInput {
  readonly batches: readonly BatchToProduce[];
  /** The partition count the client placed keyed records by (`ProduceFrame.partitionCount`). */
  readonly partitionCount?: number;
  readonly expectedOffsets?: ReadonlyMap<number, number>;
  readonly idempotencyKey?: string;
}

export type BatchToProduce =
  | { readonly partition: number; readonly batch: ValidatedBatch }
  | { readonly partition: number; readonly upload: { readonly id: string; readonly length: number } };

export interface ProducedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
}

export interface ProduceOutput {
  readonly records: ProducedRecord[];
}

export type StartPosition =
  | { readonly kind: 'offset'; readonly offset: number }
  | { readonly kind: 'earliest' }
  | { readonly kind: 'latest' }
  | { readonly kind: 'timestamp'; readonly timestamp: number };

export interface ReadOptions {
  readonly start: StartPosition;
  readonly limit: number;
  /**
   * Records stop before their total `wireSize` in `encoding` would pass this (never below one record).
   * Whatever is asked, a read stays within `MAX_RESPONSE_RECORD_BYTES`, so its response fits Lambda
   * (lib/log/wire-size.ts).
   */
  readonly maxBytes: number;
  /** The encoding the response will use: it decides each record's size. */
  readonly encoding: RecordEncoding;
  readonly waitMs: number;
  readonly direction: 'forward' | 'backward';
  /** Called once if the read finds nothing and starts to long-poll (the handler leaves such reads out of `FetchLatency`). */
  readonly onWait?: () => void;
  /**
   * Hand back the stored batches instead of records (docs/api.md, "Binary record batches"; forward reads only):
   * `limit` counts records from the start offset, `maxBytes` the batches' stored bytes; with `urls`, spilled
   * batches come as presigned GET URLs instead of their bytes.
   */
  readonly batches?: { readonly urls: boolean };
}

/** A stored batch a read hands back (`ReadOptions.batches`): its bytes, or a presigned URL of its spill object. */
export interface ReadBatch {
  readonly baseOffset: number;
  readonly count: number;
  /** Bytes as stored. */
  readonly length: number;
  readonly data?: Uint8Array;
  readonly url?: string;
  /** When `url` stops working (epoch ms). */
  readonly expiresAt?: number;
}

export interface ReadResult {
  /** The records read; empty when the read handed back `batches`. */
  readonly records: StoredRecord[];
  /**
   * With `ReadOptions.batches`: the stored batches holding the records [`firstOffset`, `nextOffset`); the
   * first may begin before `firstOffset`, the last end after `nextOffset`.
   */
  readonly batches?: ReadBatch[];
  readonly firstOffset?: number;
  readonly nextOffset: number;
  readonly startOffset: number;
  readonly endOffset: number;
}

/** The readable range of a partition: offsets [startOffset, endOffset); a read may start at either end. */
export interface PartitionBounds {
  readonly startOffset: number;
  readonly endOffset: number;
}
