import { crc32 } from 'node:zlib';

/**
 * The cold segment format, version 1: a run of contiguous batches of one partition, moved from DynamoDB to
 * one S3 object by the maintenance pass.
 *
 * ```
 * segment  := header batch{batchCount} index trailer
 * header   := magic:"SLSG" version:u8(=1) flags:u8(=0) reserved:u16(=0)
 *             baseOffset:f64 endOffset:f64 batchCount:u32 headerCrc32:u32          (32 bytes, big-endian)
 * batch    := the batch exactly as it was stored in the hot tier (batch-format.ts; for a spilled batch, the
 *             bytes of its spill object, whose header may carry a stale base offset: the index is the truth)
 * index    := entry{batchCount}
 * entry    := baseOffset:f64 count:u32 maxTimestamp:f64 appendedAt:f64 position:u32 length:u32 crc32:u32
 *                                                                                   (40 bytes, big-endian)
 * trailer  := indexPosition:u32 indexLength:u32 indexCrc32:u32 magic:"SLSG"          (16 bytes)
 * ```
 * `headerCrc32` covers the header's first 28 bytes; `crc32` of an entry covers that batch's bytes as stored;
 * `indexCrc32` covers the index. `position` is the byte offset of the batch from the start of the object, so a
 * read of any batch run is ONE ranged GET of `[position(first), position(last) + length(last))`, checked batch
 * by batch. `maxTimestamp` is the running maximum at the end of the batch (Kafka's time-index rule), so it is
 * monotone and a timestamp lookup is a binary search. The index bytes are also stored in the DynamoDB segment
 * index item, so a reader never needs a GET to find them; the copy in the object (found from the trailer)
 * makes a segment self-describing for repair and audit.
 */
export const SEGMENT_MAGIC = 0x534c5347; // "SLSG"
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 32;
export const SEGMENT_INDEX_ENTRY_BYTES = 40;
export const SEGMENT_TRAILER_BYTES = 16;
/** Bounds a segment so that its index (40 B per batch) stays far below DynamoDB's 400 KB item limit. */
export const MAX_SEGMENT_BATCHES = 4096;
/** Bounds the object a tiering step builds in memory (a single larger batch still gets a segment of its own). */
export const MAX_SEGMENT_BYTES = 8 * 1024 * 1024;

/** One batch of a segment, as its index describes it. */
export interface SegmentIndexEntry {
  /** The batch's true base offset (the hot item's sort key). */
  readonly baseOffset: number;
  readonly count: number;
  /** Running maximum timestamp at the end of this batch. */
  readonly maxTimestamp: number;
  /** When the batch was appended to the hot tier (ms). */
  readonly appendedAt: number;
  /** Byte offset of the batch from the start of the segment object. */
  readonly position: number;
  readonly length: number;
  /** CRC-32 (IEEE) of the batch bytes as stored. */
  readonly crc32: number;
}

/** A batch to put into a segment. */
export interface SegmentBatchInput {
  readonly baseOffset: number;
  readonly count: number;
  readonly maxTimestamp: number;
  readonly appendedAt: number;
  readonly data: Uint8Array;
}

export interface EncodedSegment {
  readonly bytes: Uint8Array;
  readonly baseOffset: number;
  readonly endOffset: number;
  readonly entries: readonly SegmentIndexEntry[];
  /** The index as stored in the object (and in the DynamoDB index item). */
  readonly index: Uint8Array;
}

export class CorruptSegmentError extends Error {
  constructor(message: string) {
    super(`corrupt segment: ${message}`);
    this.name = 'CorruptSegmentError';
  }
}

/**
 * Encodes contiguous batches (at least one; each starts where the previous ends) into a segment.
 * @throws RangeError when the batches are empty, not contiguous, or too many.
 */
export function encodeSegment(batches: readonly SegmentBatchInput[]): EncodedSegment {
  if (batches.length === 0) throw new RangeError('a segment holds at least one batch');
  if (batches.length > MAX_SEGMENT_BATCHES) throw new RangeError(`a segment holds at most ${MAX_SEGMENT_BATCHES} batches`);
  const first = batches[0]!;
  let expected = first.baseOffset;
  let position = SEGMENT_HEADER_BYTES;
  const entries: SegmentIndexEntry[] = [];
  for (const b of batches) {
    if (b.baseOffset !== expected) throw new RangeError(`batches are not contiguous: expected ${expected}, got ${b.baseOffset}`);
    entries.push({
      baseOffset: b.baseOffset,
      count: b.count,
      maxTimestamp: b.maxTimestamp,
      appendedAt: b.appendedAt,
      position,
      length: b.data.length,
      crc32: crc32(b.data),
    });
    position += b.data.length;
    expected = b.baseOffset + b.count;
  }
  const index = encodeSegmentIndex(entries);
  const bytes = new Uint8Array(position + index.length + SEGMENT_TRAILER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SEGMENT_MAGIC);
  view.setUint8(4, SEGMENT_VERSION);
  view.setFloat64(8, first.baseOffset);
  view.setFloat64(16, expected);
  view.setUint32(24, batches.length);
  view.setUint32(28, crc32(bytes.subarray(0, 28)));
  batches.forEach((b, i) => bytes.set(b.data, entries[i]!.position));
  bytes.set(index, position);
  const trailer = position + index.length;
  view.setUint32(trailer, position);
  view.setUint32(trailer + 4, index.length);
  view.setUint32(trailer + 8, crc32(index));
  view.setUint32(trailer + 12, SEGMENT_MAGIC);
  return { bytes, baseOffset: first.baseOffset, endOffset: expected, entries, index };
}

/** The index entries as bytes (the `index` part of the grammar). */
export function encodeSegmentIndex(entries: readonly SegmentIndexEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * SEGMENT_INDEX_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => {
    const at = i * SEGMENT_INDEX_ENTRY_BYTES;
    view.setFloat64(at, e.baseOffset);
    view.setUint32(at + 8, e.count);
    view.setFloat64(at + 12, e.maxTimestamp);
    view.setFloat64(at + 20, e.appendedAt);
    view.setUint32(at + 28, e.position);
    view.setUint32(at + 32, e.length);
    view.setUint32(at + 36, e.crc32);
  });
  return out;
}

/** Parses index bytes (from the DynamoDB index item or the object). */
export function decodeSegmentIndex(index: Uint8Array): SegmentIndexEntry[] {
  if (index.length % SEGMENT_INDEX_ENTRY_BYTES !== 0) throw new CorruptSegmentError(`index of ${index.length} bytes`);
  const view = new DataView(index.buffer, index.byteOffset, index.byteLength);
  const entries: SegmentIndexEntry[] = [];
  for (let at = 0; at < index.length; at += SEGMENT_INDEX_ENTRY_BYTES) {
    entries.push({
      baseOffset: view.getFloat64(at),
      count: view.getUint32(at + 8),
      maxTimestamp: view.getFloat64(at + 12),
      appendedAt: view.getFloat64(at + 20),
      position: view.getUint32(at + 28),
      length: view.getUint32(at + 32),
      crc32: view.getUint32(at + 36),
    });
  }
  return entries;
}

/** A whole segment object, checked: header, trailer, index and every batch's checksum. */
export interface DecodedSegment {
  readonly version: number;
  readonly baseOffset: number;
  readonly endOffset: number;
  readonly entries: SegmentIndexEntry[];
  /** The batches as stored, in offset order. */
  readonly batches: Uint8Array[];
}

/** Decodes and verifies a whole segment object (for audits and tests; readers use ranged GETs instead). */
export function decodeSegment(bytes: Uint8Array): DecodedSegment {
  if (bytes.length < SEGMENT_HEADER_BYTES + SEGMENT_TRAILER_BYTES) throw new CorruptSegmentError('too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== SEGMENT_MAGIC) throw new CorruptSegmentError('bad magic');
  const version = view.getUint8(4);
  if (version !== SEGMENT_VERSION) throw new CorruptSegmentError(`unsupported version ${version}`);
  if (view.getUint32(28) !== crc32(bytes.subarray(0, 28))) throw new CorruptSegmentError('header checksum mismatch');
  const trailer = bytes.length - SEGMENT_TRAILER_BYTES;
  if (view.getUint32(trailer + 12) !== SEGMENT_MAGIC) throw new CorruptSegmentError('bad trailer magic');
  const indexPosition = view.getUint32(trailer);
  const indexLength = view.getUint32(trailer + 4);
  if (indexPosition + indexLength !== trailer) throw new CorruptSegmentError('index does not end at the trailer');
  const index = bytes.subarray(indexPosition, trailer);
  if (crc32(index) !== view.getUint32(trailer + 8)) throw new CorruptSegmentError('index checksum mismatch');
  const entries = decodeSegmentIndex(index);
  if (entries.length !== view.getUint32(24)) throw new CorruptSegmentError('batch count does not match the index');
  const batches = entries.map((e) => verifiedBatch(bytes.subarray(e.position, e.position + e.length), e));
  return { version, baseOffset: view.getFloat64(8), endOffset: view.getFloat64(16), entries, batches };
}

/** Checks a batch's bytes (e.g. cut from a ranged GET) against its index entry. */
export function verifiedBatch(data: Uint8Array, entry: SegmentIndexEntry): Uint8Array {
  if (data.length !== entry.length) throw new CorruptSegmentError(`batch at ${entry.baseOffset} is truncated`);
  if (crc32(data) !== entry.crc32) throw new CorruptSegmentError(`checksum mismatch in the batch at ${entry.baseOffset}`);
  return data;
}

/** Index of the entry containing `offset`, or -1 (binary search; entries are contiguous). */
export function entryContaining(entries: readonly SegmentIndexEntry[], offset: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = entries[mid]!;
    if (offset < e.baseOffset) hi = mid - 1;
    else if (offset >= e.baseOffset + e.count) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Index of the first entry whose running max timestamp is ≥ `timestamp`, or -1. */
export function firstEntryAtOrAfter(entries: readonly SegmentIndexEntry[], timestamp: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid]!.maxTimestamp >= timestamp) hi = mid;
    else lo = mid + 1;
  }
  return lo < entries.length ? lo : -1;
}
