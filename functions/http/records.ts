import { InvalidRequestError, PayloadTooLargeError } from '../../lib/errors.js';
import type { StoredRecord } from '../../lib/log/batch-format.js';
import type { ProduceInput, ProduceRecord, StartPosition } from '../../lib/log/log-service.js';
import { MAX_PARTITIONS } from '../../lib/topics/topic.js';
import { int, intParam, isObject, knownParams, oneOf, requiredObjectBody, strictObject } from './validate.js';

/** API.md produce limits. */
export const MAX_RECORDS_PER_REQUEST = 10_000;
export const MAX_RECORD_BYTES = 1024 * 1024;
/** API.md fetch limits. */
export const DEFAULT_FETCH_LIMIT = 1000;
export const MAX_FETCH_LIMIT = 10_000;
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const MAX_MAX_BYTES = 6 * 1024 * 1024;
export const MAX_WAIT_MS = 20_000;
/** `Idempotency-Key`: 1..128 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The largest timestamp a JavaScript Date can hold (ms). */
export const MAX_TIMESTAMP = 8_640_000_000_000_000;

export type Encoding = 'json' | 'base64';

const utf8 = new TextEncoder();

/** Turns a produce request (body + headers) into a typed {@link ProduceInput}, or throws a 400/413. */
export function parseProduceRequest(body: unknown, headers: Readonly<Record<string, string>>): ProduceInput {
  const request = requiredObjectBody(body, ['records', 'encoding', 'expectedOffsets']);
  const encoding = oneOf<Encoding>(request.encoding, 'encoding', ['json', 'base64'], 'json');
  if (!Array.isArray(request.records) || request.records.length === 0) {
    throw new InvalidRequestError('records must be a non-empty array');
  }
  if (request.records.length > MAX_RECORDS_PER_REQUEST) {
    throw new PayloadTooLargeError(`a request holds at most ${MAX_RECORDS_PER_REQUEST} records, got ${request.records.length}`, {
      details: { limitRecords: MAX_RECORDS_PER_REQUEST },
    });
  }
  const records = request.records.map((raw, i) => parseRecord(raw, i, encoding));
  const idempotencyKey = headers['idempotency-key'];
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new InvalidRequestError('Idempotency-Key must be 1 to 128 visible ASCII characters');
  }
  return {
    records,
    ...(request.expectedOffsets !== undefined ? { expectedOffsets: parseExpectedOffsets(request.expectedOffsets) } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  };
}

function parseRecord(raw: unknown, i: number, encoding: Encoding): ProduceRecord {
  const where = `records[${i}]`;
  const record = strictObject(raw, ['key', 'value', 'headers', 'partition', 'timestamp'], where);
  if (!('value' in record)) throw new InvalidRequestError(`${where}.value is required`);
  let key: Uint8Array | null = null;
  if (record.key !== undefined && record.key !== null) {
    if (typeof record.key !== 'string') throw new InvalidRequestError(`${where}.key must be a string or null`);
    key = encoding === 'base64' ? decodeBase64(record.key, `${where}.key`) : utf8.encode(record.key);
  }
  let value: Uint8Array;
  if (encoding === 'base64') {
    if (typeof record.value !== 'string') throw new InvalidRequestError(`${where}.value must be a base64 string with encoding=base64`);
    value = decodeBase64(record.value, `${where}.value`);
  } else {
    value = utf8.encode(JSON.stringify(record.value));
  }
  const headers: Record<string, string> = {};
  if (record.headers !== undefined) {
    if (!isObject(record.headers)) throw new InvalidRequestError(`${where}.headers must be an object of strings`);
    for (const [name, v] of Object.entries(record.headers)) {
      if (typeof v !== 'string') throw new InvalidRequestError(`${where}.headers.${name} must be a string`);
      if (name.length === 0) throw new InvalidRequestError(`${where}.headers has an empty name`);
      headers[name] = v;
    }
  }
  const size = (key?.length ?? 0) + value.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
  if (size > MAX_RECORD_BYTES) {
    throw new PayloadTooLargeError(`${where} is ${size} bytes; one record may be at most ${MAX_RECORD_BYTES} bytes`, {
      details: { limitBytes: MAX_RECORD_BYTES, index: i },
    });
  }
  const partition = record.partition === undefined ? undefined : int(record.partition, `${where}.partition`, { min: 0, max: MAX_PARTITIONS - 1 });
  const timestamp = record.timestamp === undefined ? undefined : int(record.timestamp, `${where}.timestamp`, { min: 0, max: MAX_TIMESTAMP });
  return {
    key,
    value,
    valueIsJson: encoding === 'json',
    headers,
    ...(partition !== undefined ? { partition } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
  };
}

function parseExpectedOffsets(raw: unknown): Map<number, number> {
  if (!isObject(raw)) throw new InvalidRequestError('expectedOffsets must be an object of "<partition>": <offset>');
  const out = new Map<number, number>();
  for (const [p, offset] of Object.entries(raw)) {
    const partition = intParam(p, `expectedOffsets key '${p}'`, { min: 0, max: MAX_PARTITIONS - 1 });
    out.set(partition, int(offset, `expectedOffsets.${p}`, { min: 0, max: Number.MAX_SAFE_INTEGER }));
  }
  return out;
}

function decodeBase64(text: string, field: string): Uint8Array {
  if (!BASE64.test(text)) throw new InvalidRequestError(`${field} is not valid base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export interface FetchQuery {
  readonly start: StartPosition;
  readonly limit: number;
  readonly maxBytes: number;
  readonly waitMs: number;
  readonly direction: 'forward' | 'backward';
  readonly encoding: Encoding;
}

/** Parses the query string of a partition fetch (API.md, "Fetch"). */
export function parseFetchQuery(query: Readonly<Record<string, string>>): FetchQuery {
  knownParams(query, ['offset', 'from', 'timestamp', 'limit', 'maxBytes', 'waitMs', 'direction', 'encoding']);
  const starts = ['offset', 'from', 'timestamp'].filter((k) => query[k] !== undefined);
  if (starts.length > 1) throw new InvalidRequestError(`give at most one of offset, from and timestamp (got ${starts.join(', ')})`);
  const direction = oneOf(query.direction, 'direction', ['forward', 'backward'] as const, 'forward');
  let start: StartPosition;
  if (query.offset !== undefined) {
    start = { kind: 'offset', offset: intParam(query.offset, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }) };
  } else if (query.timestamp !== undefined) {
    start = { kind: 'timestamp', timestamp: intParam(query.timestamp, 'timestamp', { min: 0, max: MAX_TIMESTAMP }) };
  } else {
    // Backward reads walk from the end by default: "the latest N records" is what a backward read is for.
    const from = oneOf(query.from, 'from', ['earliest', 'latest'] as const, direction === 'backward' ? 'latest' : 'earliest');
    start = { kind: from };
  }
  return {
    start,
    limit: intParam(query.limit, 'limit', { min: 1, max: MAX_FETCH_LIMIT }, DEFAULT_FETCH_LIMIT),
    maxBytes: intParam(query.maxBytes, 'maxBytes', { min: 1, max: MAX_MAX_BYTES }, DEFAULT_MAX_BYTES),
    waitMs: intParam(query.waitMs, 'waitMs', { min: 0, max: MAX_WAIT_MS }, 0),
    direction,
    encoding: oneOf<Encoding>(query.encoding, 'encoding', ['json', 'base64'], 'json'),
  };
}

export interface WireRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
  /** Present only on a JSON fetch of a record whose value is not JSON (produced with base64): the value is base64. */
  valueEncoding?: 'base64';
}

const utf8Decoder = new TextDecoder();

/**
 * A stored record as the API returns it. With `encoding=base64`, key and value are base64 of the exact bytes
 * that were produced. With `encoding=json`, keys are UTF-8 text and values are JSON; a value that was produced
 * as raw bytes and is not valid JSON comes back as base64 with `valueEncoding: "base64"`.
 */
export function toWireRecord(record: StoredRecord, encoding: Encoding): WireRecord {
  const wire: WireRecord = {
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key === null ? null : encoding === 'base64' ? Buffer.from(record.key).toString('base64') : utf8Decoder.decode(record.key),
    value: null,
    headers: { ...record.headers },
  };
  if (encoding === 'base64') {
    wire.value = Buffer.from(record.value).toString('base64');
  } else if (record.valueIsJson) {
    wire.value = JSON.parse(utf8Decoder.decode(record.value));
  } else {
    try {
      wire.value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(record.value));
    } catch {
      wire.value = Buffer.from(record.value).toString('base64');
      wire.valueEncoding = 'base64';
    }
  }
  return wire;
}
