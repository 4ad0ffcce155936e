import { describe, expect, it } from 'vitest';
import { encodeWireRecord, parseFetchQuery, parseProduceRequest } from '../../../../functions/http/records.js';
import { InvalidRequestError, PayloadTooLargeError } from '../../../../lib/errors.js';

const text = new TextDecoder();

describe('parseProduceRequest', () => {
  it('encodes JSON values as compact UTF-8 JSON and keeps keys, headers, partitions and timestamps', () => {
    const input = parseProduceRequest(
      { records: [{ key: 'k', value: { a: [1, 2] }, headers: { h: 'v' }, partition: 2, timestamp: 5 }, { value: null }] },
      {},
    );
    expect(text.decode(input.records[0]!.value)).toBe('{"a":[1,2]}');
    expect(input.records[0]).toMatchObject({ valueIsJson: true, headers: { h: 'v' }, partition: 2, timestamp: 5 });
    expect(text.decode(input.records[0]!.key!)).toBe('k');
    expect(input.records[1]!.key).toBeNull();
    expect(text.decode(input.records[1]!.value)).toBe('null');
  });

  it('decodes base64 keys and values to raw bytes', () => {
    const input = parseProduceRequest({ encoding: 'base64', records: [{ key: 'AAE=', value: '/wA=' }] }, {});
    expect([...input.records[0]!.key!]).toEqual([0, 1]);
    expect([...input.records[0]!.value]).toEqual([255, 0]);
    expect(input.records[0]!.valueIsJson).toBe(false);
  });

  it('reads expectedOffsets and the Idempotency-Key header', () => {
    const input = parseProduceRequest({ records: [{ value: 1 }], expectedOffsets: { '0': 5, '3': 0 } }, { 'idempotency-key': 'abc-1' });
    expect(input.expectedOffsets).toEqual(new Map([[0, 5], [3, 0]]));
    expect(input.idempotencyKey).toBe('abc-1');
  });

  it.each([
    ['a missing body', undefined, /required/],
    ['no records', { records: [] }, /non-empty/],
    ['a record without value', { records: [{ key: 'k' }] }, /records\[0\]\.value is required/],
    ['a misspelt field', { records: [{ value: 1, partiton: 1 }] }, /unknown field 'partiton'/],
    ['a numeric key', { records: [{ key: 1, value: 1 }] }, /key must be a string/],
    ['a negative partition', { records: [{ value: 1, partition: -1 }] }, /partition must be an integer/],
    ['a fractional timestamp', { records: [{ value: 1, timestamp: 1.5 }] }, /timestamp must be an integer/],
    ['a non-string header', { records: [{ value: 1, headers: { h: 1 } }] }, /headers\.h must be a string/],
    ['bad base64', { encoding: 'base64', records: [{ value: 'not base64!' }] }, /not valid base64/],
    ['an unknown encoding', { encoding: 'avro', records: [{ value: 1 }] }, /encoding must be one of/],
    ['a bad expectedOffsets key', { records: [{ value: 1 }], expectedOffsets: { x: 1 } }, /expectedOffsets key/],
  ])('rejects %s with a 400 that names the problem', (_name, body, message) => {
    expect(() => parseProduceRequest(body, {})).toThrow(InvalidRequestError);
    expect(() => parseProduceRequest(body, {})).toThrow(message);
  });

  it('rejects an over-long Idempotency-Key', () => {
    expect(() => parseProduceRequest({ records: [{ value: 1 }] }, { 'idempotency-key': 'k'.repeat(129) })).toThrow(InvalidRequestError);
  });

  it('refuses more than 10,000 records and records over 1 MB with 413', () => {
    expect(() => parseProduceRequest({ records: Array.from({ length: 10_001 }, () => ({ value: 1 })) }, {})).toThrow(PayloadTooLargeError);
    expect(() => parseProduceRequest({ records: [{ value: 'x'.repeat(1024 * 1024) }] }, {})).toThrow(PayloadTooLargeError);
  });
});

describe('parseFetchQuery', () => {
  it('defaults to earliest, forward, 1000 records, 1 MB, no wait, JSON', () => {
    expect(parseFetchQuery({})).toEqual({
      start: { kind: 'earliest' },
      limit: 1000,
      maxBytes: 1024 * 1024,
      waitMs: 0,
      direction: 'forward',
      encoding: 'json',
    });
  });

  it('defaults a backward read to the end of the partition', () => {
    expect(parseFetchQuery({ direction: 'backward' }).start).toEqual({ kind: 'latest' });
  });

  it.each([
    [{ offset: '-1' }, /offset must be a non-negative integer/],
    [{ offset: '1e3' }, /offset must be a non-negative integer/],
    [{ offset: '1', from: 'latest' }, /at most one of/],
    [{ limit: '0' }, /limit must be an integer from 1 to 10000/],
    [{ limit: '10001' }, /limit/],
    [{ maxBytes: String(7 * 1024 * 1024) }, /maxBytes/],
    [{ waitMs: '20001' }, /waitMs/],
    [{ direction: 'sideways' }, /direction/],
    [{ from: 'middle' }, /from must be one of/],
    [{ ofset: '3' }, /unknown query parameter 'ofset'/],
  ])('rejects %j', (query, message) => {
    expect(() => parseFetchQuery(query as Record<string, string>)).toThrow(message);
  });
});

const toWireRecord = (...args: Parameters<typeof encodeWireRecord>) => JSON.parse(encodeWireRecord(...args));

describe('encodeWireRecord', () => {
  const record = (value: Uint8Array, valueIsJson: boolean) => ({
    offset: 7,
    timestamp: 9,
    key: new TextEncoder().encode('k'),
    value,
    valueIsJson,
    headers: { h: 'v' },
  });

  it('returns JSON values as JSON and base64 on request', () => {
    const r = record(new TextEncoder().encode('{"a":1}'), true);
    expect(toWireRecord(r, 'json')).toEqual({ offset: 7, timestamp: 9, key: 'k', value: { a: 1 }, headers: { h: 'v' } });
    expect(toWireRecord(r, 'base64')).toMatchObject({ key: 'aw==', value: Buffer.from('{"a":1}').toString('base64') });
  });

  it('marks raw bytes that are not JSON as base64 in a JSON fetch', () => {
    expect(toWireRecord(record(new Uint8Array([0xff, 0]), false), 'json')).toMatchObject({ value: '/wA=', valueEncoding: 'base64' });
  });
});
