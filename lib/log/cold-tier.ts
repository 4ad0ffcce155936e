/**
 * The read side of cold storage, as the log reader needs it. `lib/segments/` implements it over S3 segment
 * objects and the segment index; the log reader falls back to it only for offsets that the hot tier no longer
 * holds, so a log that was never tiered never calls it.
 */
export interface EncodedBatch {
  readonly baseOffset: number;
  readonly count: number;
  /** The batch exactly as it was appended (see `batch-format.ts`). */
  readonly data: Uint8Array;
}

export interface ColdTier {
  /**
   * Batches in offset order, the first one containing `fromOffset`, stopping once `maxBytes` of encoded data or
   * `untilOffset` (exclusive) is reached. Empty when no segment holds `fromOffset`.
   */
  readForward(topicId: string, partition: number, fromOffset: number, untilOffset: number, maxBytes: number): Promise<EncodedBatch[]>;
  /** Batches in reverse offset order, the first one containing `beforeOffset - 1`, down to `maxBytes`. */
  readBackward(topicId: string, partition: number, beforeOffset: number, maxBytes: number): Promise<EncodedBatch[]>;
  /** The first offset whose record has a timestamp ≥ `timestamp` among cold segments, if any. */
  offsetForTimestamp(topicId: string, partition: number, timestamp: number): Promise<number | undefined>;
}
