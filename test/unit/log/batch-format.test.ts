import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BATCH_HEADER_BYTES,
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

describe('batch format v1', () => {
  it('decodes the golden v1 fixture to the records it was made from', () => {
    // The fixture pins the wire format: if this fails, old items and segments would no longer be readable.
    const golden = Buffer.from(readFileSync(new URL('./fixtures/batch-v1.hex', import.meta.url), 'utf8').trim(), 'hex');
    expect(Buffer.from(encodeBatch(7, SAMPLE, false)).toString('hex')).toBe(golden.toString('hex'));
    const records = decodeBatch(new Uint8Array(golden));
    expect(records.map((r) => r.offset)).toEqual([7, 8]);
    expect(records[0]).toMatchObject({ valueIsJson: true, headers: { source: 'web' }, timestamp: 1_700_000_000_000 });
    expect(Buffer.from(records[0]!.key!).toString()).toBe('order-1');
    expect(records[1]!.key).toBeNull();
    expect([...records[1]!.value]).toEqual([0, 255, 1]);
    expect(records[1]!.timestamp).toBe(1_699_999_999_990);
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
