import type { StoredSegment } from '../storage/log-items.js';
import type { EncodedSegment, SegmentIndexEntry } from './segment-format.js';

/** A cold segment as the segment index describes it: the stored entry and its decoded byte-position index. */
export interface SegmentInfo extends StoredSegment {
  readonly entries: readonly SegmentIndexEntry[];
}

/**
 * The segment index: one entry per cold segment of a partition, keyed by its base offset. Segments tile a
 * partition's tiered offsets; an entry is written once (the first writer for a base offset owns it), and a
 * segment is readable exactly from the moment its entry exists. The implementation keeps it in the log table
 * (lib/segments/dynamo-segment-index.ts).
 */
export interface SegmentIndex {
  /** Indexes a segment unless an entry at its base offset exists already; false when another writer's does. */
  put(info: SegmentInfo): Promise<boolean>;
  get(topicId: string, partition: number, baseOffset: number): Promise<SegmentInfo | undefined>;
  /** The segment whose range contains `offset`, if any. */
  containing(topicId: string, partition: number, offset: number): Promise<SegmentInfo | undefined>;
  /** The segment with the greatest base offset ≤ `offset`. */
  atOrBelow(topicId: string, partition: number, offset: number): Promise<SegmentInfo | undefined>;
  /** The oldest (`forward`) or newest segment of the partition. */
  edge(topicId: string, partition: number, forward: boolean): Promise<SegmentInfo | undefined>;
  /** A page of segments in offset order from `fromOffset`. */
  list(topicId: string, partition: number, options: { fromOffset?: number; limit: number }): Promise<{ segments: SegmentInfo[]; more: boolean }>;
  /** Removes an entry, only if it still names `key` (never a replacement written at the same base offset). */
  delete(segment: Pick<SegmentInfo, 'topicId' | 'partition' | 'baseOffset' | 'key'>): Promise<void>;
  /** Deletes up to `limit` entries of a partition (a deleted topic's); returns how many it deleted. */
  deleteSome(topicId: string, partition: number, limit: number): Promise<number>;
}

/** The objects of the segment bucket, as maintenance writes and removes them (lib/segments/s3-segment-store.ts). */
export interface SegmentStore {
  /** Uploads a segment object under a fresh key; it is unreferenced (and unreadable) until indexed. */
  putSegment(topicId: string, partition: number, segment: EncodedSegment): Promise<string>;
  /** Deletes objects (missing ones are fine). */
  deleteObjects(keys: readonly string[]): Promise<void>;
  /** Keys under `prefix`, in key order, up to `limit`; `before` stops at the first key ≥ it. */
  listKeys(prefix: string, options?: { before?: string; limit?: number }): Promise<string[]>;
}
