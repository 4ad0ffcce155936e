import { describe, expect, it } from 'vitest';
import {
  encodeWireRecord,
  MAX_HEADER_NAME_BYTES,
  MAX_HEADERS_PER_RECORD,
  parseFetchQuery,
  parseProduceRequest,
} from '../../../../functions/http/records.js';
import { MAX_RECORD_BYTES } from '../../../../lib/contract/limits.js';
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

  it('refuses an expectedOffsets key with leading zeros instead of reading it as another partition', () => {
    for (const key of ['01', '00', '+1', ' 1', '1.0']) {
      expect(() => parseProduceRequest({ records: [{ value: 1 }], expectedOffsets: { [key]: 3 } }, {}), key).toThrow(InvalidRequestError);
    }
  });

  it('counts header bytes as stored (UTF-8), not in UTF-16 units', () => {
    // 349,526 '€' are 349,526 UTF-16 units (under 1 MiB) but 1,048,578 bytes of UTF-8 (over it).
    const value = '€'.repeat(Math.ceil(MAX_RECORD_BYTES / 3) + 1);
    expect(value.length).toBeLessThan(MAX_RECORD_BYTES);
    expect(() => parseProduceRequest({ records: [{ value: null, headers: { h: value } }] }, {})).toThrow(PayloadTooLargeError);
  });

  it('accepts a record of exactly 1 MiB counting key, value and headers in UTF-8', () => {
    const headers = { 'é': '€' }; // 2 + 3 bytes
    const value = Buffer.alloc(MAX_RECORD_BYTES - 5 - 3).toString('base64'); // minus headers and a 3-byte key
    const ok = parseProduceRequest({ encoding: 'base64', records: [{ key: 'AAAA', value, headers }] }, {});
    expect(ok.records[0]!.value.length).toBe(MAX_RECORD_BYTES - 8);
    const over = Buffer.alloc(MAX_RECORD_BYTES - 7).toString('base64');
    expect(() => parseProduceRequest({ encoding: 'base64', records: [{ key: 'AAAA', value: over, headers }] }, {})).toThrow(PayloadTooLargeError);
  });

  it('limits the number of headers and the length of a header name', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_HEADERS_PER_RECORD + 1 }, (_, i) => [`h${i}`, '']));
    expect(() => parseProduceRequest({ records: [{ value: 1, headers: many }] }, {})).toThrow(PayloadTooLargeError);
    delete many[`h${MAX_HEADERS_PER_RECORD}`];
    expect(parseProduceRequest({ records: [{ value: 1, headers: many }] }, {}).records[0]!.headers).toEqual(many);
    const longName = { ['n'.repeat(MAX_HEADER_NAME_BYTES + 1)]: 'v' };
    expect(() => parseProduceRequest({ records: [{ value: 1, headers: longName }] }, {})).toThrow(PayloadTooLargeError);
  });

  it('keeps a header named __proto__ as data', () => {
    const body = JSON.parse('{"records":[{"value":1,"headers":{"__proto__":"kept","a":"b"}}]}');
    const headers = parseProduceRequest(body, {}).records[0]!.headers;
    expect(Object.keys(headers)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('kept');
  });

  it('refuses lone UTF-16 surrogates in keys and headers, which have no UTF-8 form, and keeps them in JSON values', () => {
    for (const record of [{ key: 'a\ud800', value: 1 }, { value: 1, headers: { h: '\udc00' } }, { value: 1, headers: { ['\ud83d']: 'v' } }]) {
      expect(() => parseProduceRequest({ records: [record] }, {}), JSON.stringify(record)).toThrow(/lone UTF-16 surrogate/);
    }
    const kept = parseProduceRequest({ records: [{ key: '😀', value: { ['\ud800']: 'x\udfff' }, headers: { '😀': '😀' } }] }, {});
    expect(JSON.parse(text.decode(kept.records[0]!.value))).toEqual({ ['\ud800']: 'x\udfff' });
  });

  it('quotes at most a bounded part of an unknown field name in its error', () => {
    const name = 'f'.repeat(100_000);
    let message = '';
    try {
      parseProduceRequest({ records: [{ value: 1, [name]: 1 }] }, {});
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/unknown field 'f+…\(99936 more characters\)'/);
    expect(message.length).toBeLessThan(300);
  });

  it('checks the Idempotency-Key before parsing the records', () => {
    expect(() => parseProduceRequest({ records: 'not even an array' }, { 'idempotency-key': 'k'.repeat(100_000) })).toThrow(
      /Idempotency-Key must be 1 to 128/,
    );
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
    [{ offset: '01' }, /without leading zeros/],
    [{ offset: '' }, /offset must be a non-negative integer/],
    [{ limit: '' }, /limit must be a non-negative integer/],
    [JSON.parse('{"__proto__":"1"}'), /unknown query parameter '__proto__'/],
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
