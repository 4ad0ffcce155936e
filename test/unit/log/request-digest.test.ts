import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProduceRecord } from '../../../lib/log/log-types.js';
import { requestDigest } from '../../../lib/log/request-digest.js';

const bytes = fc.uint8Array({ maxLength: 16 });
const record: fc.Arbitrary<ProduceRecord> = fc.record(
  {
    key: fc.option(bytes, { nil: null }),
    value: bytes,
    valueIsJson: fc.boolean(),
    headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
    partition: fc.nat(1023),
    timestamp: fc.nat(),
  },
  { requiredKeys: ['key', 'value', 'valueIsJson', 'headers'] },
);
const input = fc.record(
  { records: fc.array(record, { minLength: 1, maxLength: 4 }), expectedOffsets: fc.array(fc.tuple(fc.nat(1023), fc.nat())).map((e) => new Map(e)) },
  { requiredKeys: ['records'] },
);

describe('requestDigest', () => {
  it('is the same for the same parsed request, whatever the order of header names and expectedOffsets', () => {
    fc.assert(
      fc.property(input, (request) => {
        const reordered = {
          records: request.records.map((r) => ({ ...r, headers: Object.fromEntries(Object.entries(r.headers).reverse()) })),
          ...(request.expectedOffsets ? { expectedOffsets: new Map([...request.expectedOffsets].reverse()) } : {}),
        };
        expect(requestDigest(reordered)).toBe(requestDigest(request));
      }),
    );
  });

  it('differs when anything that would be stored differs', () => {
    fc.assert(
      fc.property(input, input, (a, b) => {
        fc.pre(JSON.stringify(canonical(a)) !== JSON.stringify(canonical(b)));
        expect(requestDigest(a)).not.toBe(requestDigest(b));
      }),
    );
  });

  it('tells a JSON string from the same bytes sent as base64, and a missing key from an empty one', () => {
    const value = new TextEncoder().encode('"x"');
    const base = { key: null, value, valueIsJson: true, headers: {} };
    expect(requestDigest({ records: [base] })).not.toBe(requestDigest({ records: [{ ...base, valueIsJson: false }] }));
    expect(requestDigest({ records: [base] })).not.toBe(requestDigest({ records: [{ ...base, key: new Uint8Array() }] }));
  });
});

/** What the digest must distinguish, in a form plain equality can compare. */
function canonical(request: { records: readonly ProduceRecord[]; expectedOffsets?: ReadonlyMap<number, number> }) {
  return {
    records: request.records.map((r) => ({
      key: r.key === null ? null : [...r.key],
      value: [...r.value],
      json: r.valueIsJson,
      headers: Object.entries(r.headers).sort(([x], [y]) => (x < y ? -1 : 1)),
      partition: r.partition ?? null,
      timestamp: r.timestamp ?? null,
    })),
    expected: [...(request.expectedOffsets ?? [])].sort(([x], [y]) => x - y),
  };
}
