import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../../lib/log/batch-format.js';
import { ResponseCut } from '../../../lib/log/response-cut.js';
import { MAX_RESPONSE_RECORD_BYTES, wireSize } from '../../../lib/log/wire-size.js';
import { storedRecord } from '../../support/stored-record.js';

const record = (offset: number, bytes: number): StoredRecord => storedRecord(offset, bytes, 0x22);

/** What a cut keeps of `sizes`, taking records in order until the first refusal. */
function kept(sizes: readonly number[], limit: number, maxBytes: number): StoredRecord[] {
  const cut = new ResponseCut({ limit, maxBytes, encoding: 'json' });
  const out: StoredRecord[] = [];
  for (const [i, size] of sizes.entries()) {
    const r = record(i, size);
    if (!cut.take(r)) break;
    out.push(r);
  }
  return out;
}

describe('ResponseCut', () => {
  it('keeps at least one record, at most limit, and within maxBytes after the first', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 5000 }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 50 }), fc.nat({ max: 40_000 }), (sizes, limit, maxBytes) => {
        const out = kept(sizes, limit, maxBytes);
        const bytes = out.reduce((n, r) => n + wireSize(r, 'json'), 0);
        expect(out.length).toBeGreaterThanOrEqual(1);
        expect(out.length).toBeLessThanOrEqual(limit);
        if (out.length > 1) expect(bytes).toBeLessThanOrEqual(maxBytes);
        // It stops only where the next record would not fit.
        if (out.length < Math.min(limit, sizes.length)) expect(bytes + wireSize(record(out.length, sizes[out.length]!), 'json')).toBeGreaterThan(maxBytes);
      }),
    );
  });

  it('never lets records pass what a Lambda response can carry, whatever maxBytes asks', () => {
    const out = kept(Array.from({ length: 10 }, () => 1024 * 1024), 100, Number.MAX_SAFE_INTEGER);
    expect(out.reduce((n, r) => n + wireSize(r, 'json'), 0)).toBeLessThanOrEqual(MAX_RESPONSE_RECORD_BYTES);
    expect(out.length).toBe(Math.floor(MAX_RESPONSE_RECORD_BYTES / wireSize(record(0, 1024 * 1024), 'json')));
  });

  it('is full once a record was refused, even if a smaller one would fit', () => {
    const cut = new ResponseCut({ limit: 10, maxBytes: 3000, encoding: 'json' });
    expect(cut.take(record(0, 1000))).toBe(true);
    expect(cut.take(record(1, 2000))).toBe(false);
    expect(cut.full).toBe(true);
    expect(cut.count).toBe(1);
  });

  it('counts reserved envelopes against the response limit, not against maxBytes', () => {
    const cut = new ResponseCut({ limit: 10, maxBytes: 100, encoding: 'json' });
    expect(cut.reserve(MAX_RESPONSE_RECORD_BYTES - 10)).toBe(true);
    expect(cut.reserve(11)).toBe(false);
    expect(cut.take(record(0, 50))).toBe(true); // the first record is always taken
    expect(cut.take(record(1, 1))).toBe(false); // the response is full
  });
});
