import { describe, expect, it } from 'vitest';
import { groupBatchEnvelopeSize, trim, type GroupBatch } from '../../../lib/groups/group-batch.js';
import type { StoredRecord } from '../../../lib/log/batch-format.js';
import { MAX_RESPONSE_RECORD_BYTES, wireSize } from '../../../lib/log/wire-size.js';

const record = (offset: number, bytes: number): StoredRecord => ({
  offset,
  timestamp: 1,
  key: null,
  value: new Uint8Array(bytes).fill(0x61),
  valueIsJson: false,
  headers: {},
});

const batch = (partition: number, records: StoredRecord[], topic = 't'): GroupBatch => ({
  topic,
  partition,
  leaseToken: 'token-'.repeat(6),
  records,
  nextOffset: (records.at(-1)?.offset ?? -1) + 1,
  endOffset: 1_000_000,
});

/** What a trimmed response measures: envelopes and records, as the HTTP boundary will write them. */
const measure = (batches: GroupBatch[]) =>
  batches.reduce((n, b) => n + groupBatchEnvelopeSize(b) + b.records.reduce((m, r) => m + wireSize(r, 'json'), 0), 0);

describe('trim (group fetch)', () => {
  it('keeps records and envelopes within a Lambda response even for a member holding thousands of partitions', () => {
    // 32 topics x 1024 partitions with 200-character names: the envelopes alone would be ~13 MB.
    const batches = Array.from({ length: 32 * 1024 }, (_, i) => batch(i % 1024, [], `${'t'.repeat(190)}-${Math.floor(i / 1024)}`));
    batches[20_000] = batch(20_000 % 1024, [record(0, 1000), record(1, 1000)], batches[20_000]!.topic);
    const kept = trim(batches, 10_000, 6 * 1024 * 1024, 'json');
    expect(measure(kept)).toBeLessThanOrEqual(MAX_RESPONSE_RECORD_BYTES);
    expect(kept.length).toBeLessThan(batches.length);
    // The partition with records is served first, whatever its place.
    expect(kept.find((b) => b.records.length > 0)?.records.map((r) => r.offset)).toEqual([0, 1]);
  });

  it('returns at least one record, however large, and stops the others at maxBytes by encoded size', () => {
    const big = record(5, 900_000);
    const kept = trim([batch(0, []), batch(1, [big, record(6, 10)]), batch(2, [record(0, 10)])], 100, 1, 'base64');
    expect(kept.map((b) => b.records.map((r) => r.offset))).toEqual([[], [5], []]);
    expect(kept[1]!.nextOffset).toBe(6);
    expect(kept[2]!.nextOffset).toBe(0);
  });
});
