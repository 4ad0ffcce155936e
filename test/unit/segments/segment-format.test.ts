import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, withBaseOffset, type LogRecord } from '../../../lib/log/batch-format.js';
import {
  CorruptSegmentError,
  decodeSegment,
  decodeSegmentIndex,
  encodeSegment,
  entryContaining,
  firstEntryAtOrAfter,
  MAX_SEGMENT_BATCHES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_INDEX_ENTRY_BYTES,
  SEGMENT_TRAILER_BYTES,
  verifiedBatch,
  type SegmentBatchInput,
} from '../../../lib/segments/segment-format.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const T0 = 1_700_000_000_000;

const RECORDS_A: LogRecord[] = [
  { key: utf8('order-1'), value: utf8('{"total":42}'), valueIsJson: true, headers: { source: 'web' }, timestamp: T0 },
  { key: null, value: new Uint8Array([0, 255, 1]), valueIsJson: false, headers: {}, timestamp: T0 - 10 },
];
const RECORDS_B: LogRecord[] = [{ key: utf8('k'), value: utf8('"b"'), valueIsJson: true, headers: {}, timestamp: T0 + 5 }];

const GOLDEN_HEX = readFileSync(new URL('./fixtures/segment-v1.hex', import.meta.url), 'utf8').trim();

/**
 * Two batches at offsets 10..11 and 12; the second was spilled, so its header still says base 0. `version`
 * picks the batches inside: those of the golden segment (batch format v1, as segments written before batch v2
 * hold them) or batches as this code writes them. A segment stores batches as opaque bytes either way.
 */
function sample(version: 'golden' | 'current' = 'current'): SegmentBatchInput[] {
  const golden = version === 'golden' ? decodeSegment(new Uint8Array(Buffer.from(GOLDEN_HEX, 'hex'))).batches : undefined;
  return [
    { baseOffset: 10, count: 2, maxTimestamp: T0, appendedAt: T0 + 1, data: golden?.[0] ?? encodeBatch(10, RECORDS_A, false) },
    { baseOffset: 12, count: 1, maxTimestamp: T0 + 5, appendedAt: T0 + 2, data: golden?.[1] ?? encodeBatch(0, RECORDS_B, false) },
  ];
}

describe('segment format v1', () => {
  it('matches the golden v1 fixture byte for byte, and decodes it', () => {
    // The fixture pins the format: if this fails, segments already in S3 would no longer be readable.
    expect(Buffer.from(encodeSegment(sample('golden')).bytes).toString('hex')).toBe(GOLDEN_HEX);
    const segment = decodeSegment(new Uint8Array(Buffer.from(GOLDEN_HEX, 'hex')));
    expect(segment).toMatchObject({ version: 1, baseOffset: 10, endOffset: 13 });
    expect(segment.entries.map((e) => [e.baseOffset, e.count, e.maxTimestamp, e.appendedAt])).toEqual([
      [10, 2, T0, T0 + 1],
      [12, 1, T0 + 5, T0 + 2],
    ]);
    // The index, not the batch header, gives a spilled batch its offsets.
    const records = segment.entries.flatMap((e, i) => decodeBatch(segment.batches[i]!, e.baseOffset));
    expect(records.map((r) => [r.offset, r.timestamp])).toEqual([
      [10, T0],
      [11, T0 - 10],
      [12, T0 + 5],
    ]);
  });

  it('carries batches of the current batch format the same way', () => {
    const segment = decodeSegment(encodeSegment(sample()).bytes);
    const records = segment.entries.flatMap((e, i) => decodeBatch(segment.batches[i]!, e.baseOffset));
    expect(records.map((r) => [r.offset, r.timestamp])).toEqual([
      [10, T0],
      [11, T0 - 10],
      [12, T0 + 5],
    ]);
  });

  it('lays out header, batches as stored, index and trailer, so one range covers any batch run', () => {
    const batches = sample();
    const encoded = encodeSegment(batches);
    const indexBytes = batches.length * SEGMENT_INDEX_ENTRY_BYTES;
    expect(encoded.bytes.length).toBe(SEGMENT_HEADER_BYTES + batches[0]!.data.length + batches[1]!.data.length + indexBytes + SEGMENT_TRAILER_BYTES);
    expect(encoded.index.length).toBe(indexBytes);
    expect(decodeSegmentIndex(encoded.index)).toEqual(encoded.entries);
    for (const [i, entry] of encoded.entries.entries()) {
      const slice = encoded.bytes.subarray(entry.position, entry.position + entry.length);
      expect(Buffer.from(verifiedBatch(slice, entry)).equals(Buffer.from(batches[i]!.data))).toBe(true);
    }
  });

  it('detects corruption in a batch, the index, the header and the trailer', () => {
    const encoded = encodeSegment(sample());
    const flip = (at: number) => {
      const copy = encoded.bytes.slice();
      copy[at]! ^= 0x01;
      return copy;
    };
    const entry = encoded.entries[1]!;
    expect(() => decodeSegment(flip(entry.position + 40))).toThrow(CorruptSegmentError);
    expect(() => verifiedBatch(flip(entry.position + 40).subarray(entry.position, entry.position + entry.length), entry)).toThrow(/checksum/);
    expect(() => decodeSegment(flip(encoded.bytes.length - SEGMENT_TRAILER_BYTES - 3))).toThrow(/index checksum/);
    expect(() => decodeSegment(flip(9))).toThrow(/header checksum/);
    expect(() => decodeSegment(flip(encoded.bytes.length - 1))).toThrow(/trailer magic/);
    const v2 = encoded.bytes.slice();
    v2[4] = 2;
    expect(() => decodeSegment(v2)).toThrow(/unsupported version 2/);
    expect(() => verifiedBatch(encoded.bytes.subarray(entry.position, entry.position + entry.length - 1), entry)).toThrow(/truncated/);
  });

  it('refuses empty, non-contiguous and oversized batch lists', () => {
    const [a, b] = sample();
    expect(() => encodeSegment([])).toThrow(RangeError);
    expect(() => encodeSegment([a!, { ...b!, baseOffset: 13 }])).toThrow(/not contiguous/);
    const many = Array.from({ length: MAX_SEGMENT_BATCHES + 1 }, (_, i) => ({
      baseOffset: i,
      count: 1,
      maxTimestamp: T0,
      appendedAt: T0,
      data: withBaseOffset(b!.data, i),
    }));
    expect(() => encodeSegment(many)).toThrow(/at most/);
  });

  it('finds the batch holding an offset and the first batch reaching a timestamp', () => {
    const batches: SegmentBatchInput[] = [0, 3, 5, 9].map((base, i, all) => ({
      baseOffset: base,
      count: (all[i + 1] ?? 12) - base,
      maxTimestamp: [100, 100, 250, 400][i]!,
      appendedAt: T0,
      data: encodeBatch(base, RECORDS_B, false),
    }));
    const { entries } = encodeSegment(batches);
    expect([0, 2, 3, 4, 5, 8, 9, 11, 12, -1].map((o) => entryContaining(entries, o))).toEqual([0, 0, 1, 1, 2, 2, 3, 3, -1, -1]);
    expect([0, 100, 101, 250, 300, 400, 401].map((t) => firstEntryAtOrAfter(entries, t))).toEqual([0, 0, 2, 2, 3, 3, -1]);
  });
});
