/**
 * The log table's items as the code that reads them sees them: the decoded shapes. How each is stored (keys,
 * attribute names, encodings) is lib/storage/log-table.ts, whose codecs produce and take these.
 */

/** A topic as stored (lib/topics/topic.ts names it `Topic`): `topicId` names this incarnation. */
export interface StoredTopic {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
  readonly retentionHours: number;
  readonly createdAt: number;
  /**
   * Scheduled maintenance passes skip this topic until then (ms): the earliest moment a batch can need tiering
   * or expiring, as the last pass computed it. Absent: maintain at the next pass.
   */
  readonly maintainAfter?: number;
}

export interface StoredCatalogEntry {
  readonly name: string;
  readonly partitions: number;
}

export interface StoredDeletedTopic {
  readonly name: string;
  readonly topicId: string;
  readonly partitions: number;
  readonly deletedAt: number;
}

/** Where a partition ends: the end offset and the running maximum timestamp there. */
export interface PartitionTail {
  readonly endOffset: number;
  readonly maxTimestamp: number;
}

/** A batch item as the hot tier stores it. */
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
  /** TTL (epoch seconds): a hot-retention batch's expiry, or set once the batch is safely in a cold segment. */
  readonly expiresAt?: number;
}

/**
 * The partition meta item, decoded: each mark under its own name. The one decoder for readers
 * (lib/log/dynamo-log-store.ts) and for maintenance, which writes the marks.
 */
export interface PartitionMeta {
  /** The first offset still readable (Kafka's log-start offset); 0 until retention removes something. */
  readonly startOffset: number;
  /** Offsets below this are in cold segments (and their hot copies may be gone). */
  readonly tieredOffset: number;
  /**
   * Hot copies of offsets below this have their TTL set. Between `releasedOffset` and `tieredOffset` a pass
   * was interrupted after indexing and before (or while) setting TTLs; the next pass finishes the job.
   */
  readonly releasedOffset: number;
  /** The end offset the hot-retention pass recorded (hot topics are not tiered, so `tieredOffset` stays behind). */
  readonly hotFloorOffset: number;
  /**
   * The end the partition has at least, however many hot items TTL removed: the larger of the floors tiering and
   * hot retention record before any hot item may expire, with the running maximum timestamp there. Offsets
   * continue from here once every batch is gone (they are never reused).
   */
  readonly endFloor: PartitionTail;
}

export interface IdempotencyRecord {
  /** The response the first request under the key got, replayed to its retries. */
  readonly response: unknown;
  /** Digest of that request (lib/log/request-digest.ts); absent in records written before digests were kept. */
  readonly digest?: string;
  /** TTL, epoch seconds. */
  readonly expiresAt: number;
}

/** A segment index entry's fields (lib/segments adds the decoded byte-position index). */
export interface StoredSegment {
  readonly topicId: string;
  readonly partition: number;
  readonly baseOffset: number;
  /** Exclusive. */
  readonly endOffset: number;
  /** S3 key of the segment object. */
  readonly key: string;
  /** Object size in bytes. */
  readonly size: number;
  /** Running maximum timestamp at `endOffset`. */
  readonly maxTimestamp: number;
  /** When the segment's newest batch was appended (ms): retention counts from here. */
  readonly lastAppendedAt: number;
  /** Spill objects whose bytes this segment holds (deleted with the segment). */
  readonly spillKeys: readonly string[];
  /** The segment's byte-position index, as stored in the object (lib/segments/segment-format.ts). */
  readonly index: Uint8Array;
}
