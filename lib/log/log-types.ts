import type { StoredRecord } from './batch-format.js';
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
}

export interface ReadResult {
  readonly records: StoredRecord[];
  readonly nextOffset: number;
  readonly startOffset: number;
  readonly endOffset: number;
}

/** The readable range of a partition: offsets [startOffset, endOffset); a read may start at either end. */
export interface PartitionBounds {
  readonly startOffset: number;
  readonly endOffset: number;
}
