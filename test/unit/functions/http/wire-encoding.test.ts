import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFetchResponse, encodeGroupBatch, encodeWireRecord } from '../../../../functions/http/records.js';
import { groupBatchEnvelopeSize, type GroupBatch } from '../../../../lib/groups/group-batch.js';
import type { StoredRecord } from '../../../../lib/log/batch-format.js';
import { MAX_JSON_DEPTH } from '../../../../lib/log/json-text.js';
import { wireSize, wireSizeBound, type RecordEncoding } from '../../../../lib/log/wire-size.js';

/**
 * The HTTP boundary writes records (functions/http/records.ts); the engine cuts reads by `wireSize`
 * (lib/log/wire-size.ts) without writing them. These properties hold the two together: for any record, the
 * measure is exactly what the record adds to a Lambda invocation payload (its JSON text escaped once more as
 * part of the body string, plus a separating comma), hence never less than its bytes in the HTTP body.
 */

const utf8 = new TextEncoder();
/** Bytes `text` takes inside the serialised invocation result, where the body is a JSON string. */
const payloadBytes = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;

/** Any UTF-16 string: control characters, quotes, backslashes, astral characters and lone surrogates. */
const anyString = fc.string({ unit: fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom('"', '\\', '\n', '😀', 'é')) });
const jsonText = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('12345678901234567890', '{"__proto__":{"a":1}}', ' [1, 2]\n', '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1)),
);
const value = fc.oneof(
  jsonText.map((text) => ({ value: utf8.encode(text), valueIsJson: true })),
  jsonText.map((text) => ({ value: utf8.encode(text), valueIsJson: false })), // raw bytes that are JSON
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ value: bytes, valueIsJson: false })),
);
const key = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 32 }), anyString.map((s) => utf8.encode(s)));
const record: fc.Arbitrary<StoredRecord> = fc
  .record({
    offset: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
    timestamp: fc.integer({ min: 0, max: 8_640_000_000_000_000 }),
    key,
    value,
    headers: fc.dictionary(anyString, anyString, { maxKeys: 4 }),
  })
  .map(({ value: v, ...rest }) => ({ ...rest, ...v }));
const encoding = fc.constantFrom<RecordEncoding>('json', 'base64');

describe('wireSize against the records the HTTP boundary writes', () => {
  it('is exactly the bytes a record adds to the invocation payload, and never less than its body bytes', () => {
    fc.assert(
      fc.property(record, encoding, (r, e) => {
        const text = encodeWireRecord(r, e);
        expect(() => JSON.parse(text)).not.toThrow();
        expect(wireSize(r, e)).toBe(payloadBytes(text) + 1);
        expect(wireSize(r, e)).toBeGreaterThanOrEqual(Buffer.byteLength(text));
        expect(wireSizeBound(r)).toBeGreaterThanOrEqual(wireSize(r, e));
      }),
      { numRuns: 500 },
    );
  });

  it('adds up, with the envelope, to no less than a whole fetch response', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 5 }), encoding, (records, e) => {
        const body = encodeFetchResponse({ records, nextOffset: Number.MAX_SAFE_INTEGER, startOffset: 0, endOffset: Number.MAX_SAFE_INTEGER }, e).text;
        const measured = records.reduce((n, r) => n + wireSize(r, e), 0);
        expect(payloadBytes(body)).toBeLessThanOrEqual(measured + 200);
      }),
    );
  });

  it('bounds a group batch by its envelope and its records', () => {
    const batch: fc.Arbitrary<GroupBatch> = fc.record({
      topic: fc.stringMatching(/^[A-Za-z0-9._-]{1,200}$/),
      partition: fc.integer({ min: 0, max: 1023 }),
      leaseToken: anyString,
      records: fc.array(record, { maxLength: 3 }),
      nextOffset: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
      endOffset: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
    });
    fc.assert(
      fc.property(batch, encoding, (b, e) => {
        const measured = groupBatchEnvelopeSize(b) + b.records.reduce((n, r) => n + wireSize(r, e), 0);
        const actual = payloadBytes(encodeGroupBatch(b, e)) + 1;
        expect(measured).toBeGreaterThanOrEqual(actual);
        expect(measured - actual).toBeLessThanOrEqual(2 * 16 + 1);
      }),
    );
  });
});

describe('encodeWireRecord', () => {
  const record = (v: Uint8Array, valueIsJson: boolean, key: Uint8Array | null = utf8.encode('k')): StoredRecord => ({
    offset: 7,
    timestamp: 9,
    key,
    value: v,
    valueIsJson,
    headers: { h: 'v' },
  });

  it('splices a stored JSON value as it is: digits beyond 2^53 and __proto__ keys come back unchanged', () => {
    const text = '{"__proto__":{"id":12345678901234567890}}';
    expect(encodeWireRecord(record(utf8.encode(text), true), 'json')).toBe(
      `{"offset":7,"timestamp":9,"key":"k","value":${text},"headers":{"h":"v"}}`,
    );
  });

  it('returns raw bytes nested deeper than the limit as base64 with valueEncoding, never parsing them', () => {
    const deep = utf8.encode('['.repeat(10_000) + ']'.repeat(10_000));
    const wire = JSON.parse(encodeWireRecord(record(deep, false), 'json'));
    expect(wire.valueEncoding).toBe('base64');
    expect(Buffer.from(wire.value, 'base64').equals(Buffer.from(deep))).toBe(true);
  });

  it('returns a key that begins with a byte-order mark (U+FEFF) with it, and measures it as written', () => {
    const record: StoredRecord = { offset: 1, timestamp: 2, key: utf8.encode('\ufeffk'), value: utf8.encode('\ufeff1'), valueIsJson: false, headers: {} };
    const text = encodeWireRecord(record, 'json');
    const parsed = JSON.parse(text) as { key: string; value: string; valueEncoding?: string };
    expect(parsed.key).toBe('\ufeffk');
    // Raw bytes that begin with U+FEFF are not JSON text: they come back as base64, exactly.
    expect(parsed.valueEncoding).toBe('base64');
    expect(Buffer.from(parsed.value, 'base64').toString('utf8')).toBe('\ufeff1');
    expect(wireSize(record, 'json')).toBe(payloadBytes(text) + 1);
  });

  it('returns a key that is not UTF-8 as base64 with keyEncoding in a JSON fetch, instead of replacement characters', () => {
    const wire = JSON.parse(encodeWireRecord(record(utf8.encode('1'), true, new Uint8Array([0xff, 0xfe])), 'json'));
    expect(wire).toMatchObject({ key: '//4=', keyEncoding: 'base64', value: 1 });
  });
});
