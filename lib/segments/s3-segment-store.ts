import { randomBytes } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { decodeBatch } from '../log/batch-format.js';
import type { ColdTier, EncodedBatch } from '../log/cold-tier.js';
import { offsetSk } from '../storage/log-table.js';
import { partitionSegmentPrefix } from '../storage/prefixes.js';
import type { SegmentIndex, SegmentInfo, SegmentStore } from './segment-store.js';
import { entryContaining, firstEntryAtOrAfter, verifiedBatch, type EncodedSegment } from './segment-format.js';

/** A cold read follows at most this many segments (one index read + one ranged GET each). */
export const MAX_SEGMENTS_PER_READ = 4;

/**
 * The S3 side of cold storage: segment objects, and the {@link ColdTier} reads over them.
 *
 * A read looks up the segment that holds the offset in the segment index (one DynamoDB Query or GetItem) and
 * fetches exactly the batches it needs with ONE ranged GET per segment; the index entry carries every batch's
 * position, so no GET is spent on a footer. A segment object is written before its index entry and is
 * unreachable until then; an object whose entry is gone (retention) reads as absent, never as an error.
 */
export class S3SegmentStore implements ColdTier, SegmentStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly index: SegmentIndex;
  private readonly random: () => string;

  constructor(options: { s3: S3Client; bucket: string; index: SegmentIndex; random?: () => string }) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.index = options.index;
    this.random = options.random ?? (() => randomBytes(8).toString('hex'));
  }

  get segmentIndex(): SegmentIndex {
    return this.index;
  }

  // ------------------------------------------------------------------------------------------------ reads

  async readForward(topicId: string, partition: number, fromOffset: number, untilOffset: number, maxBytes: number): Promise<EncodedBatch[]> {
    const out: EncodedBatch[] = [];
    let bytes = 0;
    let next = fromOffset;
    let segment = await this.index.containing(topicId, partition, next);
    for (let hop = 0; segment && hop < MAX_SEGMENTS_PER_READ && next < untilOffset; hop++) {
      const entries = segment.entries;
      const first = entryContaining(entries, next);
      if (first < 0) break;
      let last = first;
      let size = entries[first]!.length;
      while (last + 1 < entries.length && bytes + size < maxBytes && entries[last + 1]!.baseOffset < untilOffset) {
        size += entries[++last]!.length;
      }
      const batches = await this.fetch(segment, first, last);
      if (!batches) break;
      out.push(...batches);
      bytes += size;
      next = segment.entries[last]!.baseOffset + segment.entries[last]!.count;
      if (bytes >= maxBytes || last < entries.length - 1) break;
      // Segments tile the offsets: the next one starts exactly where this one ends.
      segment = await this.index.get(topicId, partition, segment.endOffset);
    }
    return out;
  }

  async readBackward(topicId: string, partition: number, beforeOffset: number, maxBytes: number): Promise<EncodedBatch[]> {
    const out: EncodedBatch[] = [];
    let bytes = 0;
    let target = beforeOffset - 1;
    for (let hop = 0; hop < MAX_SEGMENTS_PER_READ && target >= 0 && bytes < maxBytes; hop++) {
      const segment = await this.index.containing(topicId, partition, target);
      if (!segment) break;
      const entries = segment.entries;
      const last = entryContaining(entries, target);
      if (last < 0) break;
      let first = last;
      let size = entries[last]!.length;
      while (first > 0 && bytes + size < maxBytes) size += entries[--first]!.length;
      const batches = await this.fetch(segment, first, last);
      if (!batches) break;
      out.push(...batches.reverse());
      bytes += size;
      if (first > 0) break;
      target = segment.baseOffset - 1;
    }
    return out;
  }

  /**
   * The first offset with a timestamp ≥ `timestamp`: a binary search over segments by their running max
   * timestamp (one Query per probe), then one ranged GET of the one batch that holds it.
   */
  async offsetForTimestamp(topicId: string, partition: number, timestamp: number): Promise<number | undefined> {
    const [oldest, newest] = await Promise.all([
      this.index.edge(topicId, partition, true),
      this.index.edge(topicId, partition, false),
    ]);
    if (!oldest || !newest || newest.maxTimestamp < timestamp) return undefined;
    let found: SegmentInfo = oldest.maxTimestamp >= timestamp ? oldest : newest;
    let lo = oldest.endOffset;
    let hi = found.baseOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const segment = await this.index.atOrBelow(topicId, partition, mid);
      if (!segment || segment.endOffset <= mid) {
        lo = mid + 1;
      } else if (segment.maxTimestamp >= timestamp) {
        found = segment;
        hi = segment.baseOffset;
      } else {
        lo = segment.endOffset;
      }
    }
    const at = firstEntryAtOrAfter(found.entries, timestamp);
    if (at < 0) return undefined;
    const entry = found.entries[at]!;
    const batch = (await this.fetch(found, at, at))?.[0];
    if (!batch) return undefined;
    return decodeBatch(batch.data, entry.baseOffset).find((r) => r.timestamp >= timestamp)?.offset ?? entry.baseOffset + entry.count;
  }

  /** Entries `first..last` of a segment with one ranged GET, each checked against its CRC; undefined when the object is gone. */
  private async fetch(segment: SegmentInfo, first: number, last: number): Promise<EncodedBatch[] | undefined> {
    const from = segment.entries[first]!.position;
    const to = segment.entries[last]!.position + segment.entries[last]!.length;
    let data: Uint8Array;
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: segment.key, Range: `bytes=${from}-${to - 1}` }),
      );
      data = await object.Body!.transformToByteArray();
    } catch (error) {
      // Retention removed the segment between the index lookup and the GET: those offsets are below the start.
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
    const out: EncodedBatch[] = [];
    for (let i = first; i <= last; i++) {
      const entry = segment.entries[i]!;
      const bytes = verifiedBatch(data.subarray(entry.position - from, entry.position - from + entry.length), entry);
      out.push({ baseOffset: entry.baseOffset, count: entry.count, data: bytes });
    }
    return out;
  }

  // ----------------------------------------------------------------------------------------------- writes

  /** Uploads a segment object under a fresh key; it is unreferenced (and unreadable) until indexed. */
  async putSegment(topicId: string, partition: number, segment: EncodedSegment): Promise<string> {
    const key = `${partitionSegmentPrefix(topicId, partition)}${offsetSk(segment.baseOffset)}-${this.random()}.seg`;
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: segment.bytes, ContentType: 'application/octet-stream' }),
    );
    return key;
  }

  /** Deletes objects (missing ones are fine), 1,000 per request. */
  async deleteObjects(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      if (chunk.length === 0) continue;
      await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
      );
    }
  }

  /** Keys under `prefix`, in key order, up to `limit`; `before` stops at the first key ≥ it. */
  async listKeys(prefix: string, options: { before?: string; limit?: number } = {}): Promise<string[]> {
    const keys: string[] = [];
    const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: Math.min(1000, limit - keys.length) }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        if (options.before !== undefined && object.Key >= options.before) return keys;
        keys.push(object.Key);
        if (keys.length >= limit) return keys;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}
