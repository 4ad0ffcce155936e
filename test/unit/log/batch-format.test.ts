import { crc32 } from 'node:zlib';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BATCH_HEADER_BYTES,
  BATCH_VERSION,
  Codec,
  CorruptBatchError,
  decodeBatch,
  decodeBatchHeader,
  encodeBatch,
  withBaseOffset,
  type LogRecord,
} from '../../../lib/log/batch-format.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

const SAMPLE: LogRecord[] = [
  { key: utf8('order-1'), value: utf8('{"total":42}'), valueIsJson: true, headers: { source: 'web' }, timestamp: 1_700_000_000_000 },
  { key: null, value: new Uint8Array([0, 255, 1]), valueIsJson: false, headers: {}, timestamp: 1_699_999_999_990 },
];

/** The largest timestamp docs/api.md accepts (a JavaScript Date's maximum). */
const MAX_TIMESTAMP = 8_640_000_000_000_000;

const fixture = (name: string) => new Uint8Array(Buffer.from(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim(), 'hex'));

describe('batch format', () => {
  it('decodes the golden v1 fixture (written by the v1 encoder) to the records it was made from', () => {
    // The fixture pins the v1 wire format: items and segments written before v2 must stay readable.
    const golden = fixture('batch-v1.hex');
    expect(decodeBatchHeader(golden).version).toBe(1);
    const records = decodeBatch(golden);
    expect(records.map((r) => r.offset)).toEqual([7, 8]);
    expect(records[0]).toMatchObject({ valueIsJson: true, headers: { source: 'web' }, timestamp: 1_700_000_000_000 });
    expect(Buffer.from(records[0]!.key!).toString()).toBe('order-1');
    expect(records[1]!.key).toBeNull();
    expect([...records[1]!.value]).toEqual([0, 255, 1]);
    expect(records[1]!.timestamp).toBe(1_699_999_999_990);
  });

  it('writes v2, byte for byte as the golden v2 fixture, and decodes it', () => {
    // The fixture pins the v2 wire format, timestamps at both ends of the accepted range included.
    const records: LogRecord[] = [
      ...SAMPLE,
      { key: null, value: utf8('1'), valueIsJson: true, headers: {}, timestamp: MAX_TIMESTAMP },
      { key: null, value: utf8('2'), valueIsJson: true, headers: {}, timestamp: 0 },
    ];
    const golden = fixture('batch-v2.hex');
    expect(BATCH_VERSION).toBe(2);
    expect(Buffer.from(encodeBatch(7, records, false)).toString('hex')).toBe(Buffer.from(golden).toString('hex'));
    const decoded = decodeBatch(golden);
    expect(decoded.map((r) => r.timestamp)).toEqual([1_700_000_000_000, 1_699_999_999_990, MAX_TIMESTAMP, 0]);
    expect(decoded.map((r) => r.offset)).toEqual([7, 8, 9, 10]);
    expect(decodeBatchHeader(golden)).toMatchObject({ version: 2, baseTimestamp: 0, count: 4 });
  });

  it('round-trips a later timestamp followed by a much earlier one (4.6e15 then 0)', () => {
    // v1 wrote the zigzag of -4.6e15 in floating point: the record came back at 9.2e15.
    const records: LogRecord[] = [4.6e15, 0].map((timestamp) => ({ key: null, value: utf8('{}'), valueIsJson: true, headers: {}, timestamp }));
    expect(decodeBatch(encodeBatch(0, records)).map((r) => r.timestamp)).toEqual([4.6e15, 0]);
  });

  it('round-trips every accepted timestamp exactly, in any order within a batch', () => {
    const timestamp = fc.oneof(
      fc.integer({ min: 0, max: MAX_TIMESTAMP }),
      fc.constantFrom(0, 1, 2 ** 52, 2 ** 52 + 1, 2 ** 53 - 1, MAX_TIMESTAMP - 1, MAX_TIMESTAMP),
    );
    fc.assert(
      fc.property(fc.array(timestamp, { minLength: 1, maxLength: 20 }), fc.boolean(), (timestamps, compress) => {
        const records: LogRecord[] = timestamps.map((t) => ({ key: null, value: new Uint8Array(0), valueIsJson: false, headers: {}, timestamp: t }));
        expect(decodeBatch(encodeBatch(0, records, compress)).map((r) => r.timestamp)).toEqual(timestamps);
      }),
    );
  });

  it('keeps a header named __proto__', () => {
    const headers = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
    const [record] = decodeBatch(encodeBatch(0, [{ key: null, value: utf8('1'), valueIsJson: true, headers, timestamp: 1 }]));
    expect(Object.entries(record!.headers)).toEqual([['__proto__', 'x'], ['a', 'b']]);
  });

  it('round-trips records byte for byte, with and without compression', () => {
    const many: LogRecord[] = Array.from({ length: 500 }, (_, i) => ({
      key: utf8(`key-${i % 7}`),
      value: utf8(JSON.stringify({ i, text: 'the same words compress well '.repeat(4) })),
      valueIsJson: true,
      headers: (i % 2 ? { 'trace-id': `t${i}` } : {}) as Record<string, string>,
      timestamp: 1_700_000_000_000 + i,
    }));
    for (const compress of [false, true]) {
      const encoded = encodeBatch(1000, many, compress);
      expect(decodeBatchHeader(encoded).codec).toBe(compress ? Codec.Gzip : Codec.None);
      const decoded = decodeBatch(encoded);
      expect(decoded).toHaveLength(500);
      decoded.forEach((r, i) => {
        expect(r.offset).toBe(1000 + i);
        expect(Buffer.from(r.value).equals(Buffer.from(many[i]!.value))).toBe(true);
        expect(r.headers).toEqual(many[i]!.headers);
        expect(r.timestamp).toBe(many[i]!.timestamp);
      });
    }
  });

  it('keeps a header named __proto__ through encode and decode', () => {
    const headers = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
    const [decoded] = decodeBatch(encodeBatch(0, [{ key: null, value: utf8('1'), valueIsJson: true, headers, timestamp: 1 }]));
    expect(Object.keys(decoded!.headers)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(decoded!.headers, '__proto__')?.value).toBe('p');
    expect(JSON.parse(JSON.stringify({ ...decoded!.headers }))).toEqual(headers);
  });

  it('keeps a header value that begins with a byte-order mark (U+FEFF) byte for byte', () => {
    const headers = { bom: '\ufeffv', '\ufeffname': 'x' };
    const [decoded] = decodeBatch(encodeBatch(0, [{ key: null, value: utf8('1'), valueIsJson: true, headers, timestamp: 1 }]));
    expect({ ...decoded!.headers }).toEqual(headers);
  });

  it('refuses in strict mode a header that is not UTF-8 or repeats a name, and a body that inflates past the bound', () => {
    const bad = encodeBatch(0, [{ key: null, value: utf8('1'), valueIsJson: true, headers: { a: 'é' }, timestamp: 1 }], false);
    bad[bad.indexOf(0xa9)] = 0x28; // é (C3 A9) becomes C3 28, not UTF-8; the checksum made right again
    new DataView(bad.buffer).setUint32(28, crc32(bad.subarray(BATCH_HEADER_BYTES)));
    expect(decodeBatch(bad)[0]!.headers.a).toBe('\ufffd('); // the log's own batches are read leniently
    const twice = encodeBatch(0, [{ key: null, value: utf8('1'), valueIsJson: true, headers: { a: 'x', b: 'y' }, timestamp: 1 }], false);
    twice[twice.lastIndexOf(0x62)] = 0x61; // the name b becomes a
    new DataView(twice.buffer).setUint32(28, crc32(twice.subarray(BATCH_HEADER_BYTES)));
    expect(() => decodeBatch(twice, 0, { strict: true })).toThrow(/repeats the header name 'a'/);
    expect(() => decodeBatch(bad, 0, { strict: true })).toThrow(/not valid UTF-8/);
    const big = encodeBatch(0, [{ key: null, value: new Uint8Array(100_000), valueIsJson: false, headers: {}, timestamp: 1 }]);
    expect(decodeBatchHeader(big).codec).toBe(Codec.Gzip);
    expect(() => decodeBatch(big, 0, { maxBodyBytes: 50_000 })).toThrow(RangeError);
    expect(decodeBatch(big, 0, { maxBodyBytes: 200_000 })).toHaveLength(1);
  });

  it('keeps incompressible bodies uncompressed', () => {
    const random = new Uint8Array(4096).map(() => Math.floor(Math.random() * 256));
    const encoded = encodeBatch(0, [{ key: null, value: random, valueIsJson: false, headers: {}, timestamp: 1 }]);
    expect(decodeBatchHeader(encoded).codec).toBe(Codec.None);
  });

  it('moves a batch to another base offset without touching its body', () => {
    const encoded = encodeBatch(0, SAMPLE);
    const moved = withBaseOffset(encoded, 2 ** 40);
    expect(decodeBatch(moved).map((r) => r.offset)).toEqual([2 ** 40, 2 ** 40 + 1]);
    expect(decodeBatch(encoded)[0]!.offset).toBe(0);
  });

  it('rejects a batch whose body was altered', () => {
    const encoded = encodeBatch(0, SAMPLE, false);
    encoded[BATCH_HEADER_BYTES + 3]! ^= 0xff;
    expect(() => decodeBatch(encoded)).toThrow(CorruptBatchError);
  });

  it('rejects truncated input and unknown versions', () => {
    const encoded = encodeBatch(0, SAMPLE, false);
    expect(() => decodeBatch(encoded.subarray(0, 10))).toThrow(CorruptBatchError);
    expect(() => decodeBatch(encoded.subarray(0, encoded.length - 1))).toThrow(CorruptBatchError);
    const future = encoded.slice();
    future[2] = 9;
    expect(() => decodeBatchHeader(future)).toThrow(/version 9/);
  });
});
