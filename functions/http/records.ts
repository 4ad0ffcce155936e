import {
  DEFAULT_FETCH_LIMIT,
  DEFAULT_MAX_BYTES,
  MAX_FETCH_LIMIT,
  MAX_HEADER_NAME_BYTES,
  MAX_HEADERS_PER_RECORD,
  MAX_MAX_BYTES,
  MAX_RECORDS_PER_REQUEST,
  MAX_TIMESTAMP,
  MAX_WAIT_MS,
} from '../../lib/contract/limits.js';
import { echo, InvalidRequestError, PayloadTooLargeError } from '../../lib/errors.js';
import type { GroupBatch } from '../../lib/groups/group-service.js';
import type { SharedRecord } from '../../lib/share-groups/share-group-service.js';
import { JsonDepthError, MAX_JSON_DEPTH, stringifyJson } from '../../lib/log/json-text.js';
import type { ProduceInput, ProduceRecord, ReadResult, StartPosition } from '../../lib/log/log-types.js';
import { checkHeaderCount, checkHeaderName, checkRecordSize } from '../../lib/log/record-rules.js';
import { checkFitsResponse, type RecordEncoding } from '../../lib/log/wire-size.js';
import { encodeWireRecord } from '../../lib/log/wire-record.js';
import { MAX_PARTITIONS } from '../../lib/topics/topic.js';
import { JsonText } from './body.js';
import { dictionary, int, intParam, isObject, knownParams, oneOf, requiredObjectBody, strictObject } from './validate.js';

/** `Idempotency-Key`: 1..128 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export { MAX_HEADER_NAME_BYTES, MAX_HEADERS_PER_RECORD, MAX_TIMESTAMP };

export type Encoding = RecordEncoding;
export { encodeWireRecord };

const utf8 = new TextEncoder();

/** Turns a produce request (body + headers) into a typed {@link ProduceInput}, or throws a 400/413. */
export function parseProduceRequest(body: unknown, headers: Readonly<Record<string, string>>): ProduceInput {
  const idempotencyKey = idempotencyKeyOf(headers);
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
  const input = {
    records,
    ...(request.expectedOffsets !== undefined ? { expectedOffsets: parseExpectedOffsets(request.expectedOffsets) } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  };
  records.forEach(checkFitsResponse);
  return input;
}

/** The request's `Idempotency-Key`, if any. @throws InvalidRequestError for a malformed one. */
export function idempotencyKeyOf(headers: Readonly<Record<string, string>>): string | undefined {
  const idempotencyKey = headers['idempotency-key'];
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new InvalidRequestError(
      `Idempotency-Key must be 1 to 128 visible ASCII characters (got ${idempotencyKey.length} characters)`,
    );
  }
  return idempotencyKey;
}

/**
 * One record of a produce request. Sizes count bytes as stored: key and value bytes plus every header name and
 * value in UTF-8. Keys and headers are text stored as UTF-8, so a lone UTF-16 surrogate (which has no UTF-8
 * form) is refused rather than silently replaced by U+FFFD; JSON values keep them, escaped as JSON allows.
 */
export function parseRecord(raw: unknown, i: number, encoding: Encoding): ProduceRecord {
  const where = `records[${i}]`;
  const record = strictObject(raw, ['key', 'value', 'headers', 'partition', 'timestamp'], where);
  if (!Object.hasOwn(record, 'value')) throw new InvalidRequestError(`${where}.value is required`);
  let key: Uint8Array | null = null;
  if (record.key !== undefined && record.key !== null) {
    if (typeof record.key !== 'string') throw new InvalidRequestError(`${where}.key must be a string or null`);
    if (encoding === 'base64') key = decodeBase64(record.key, `${where}.key`);
    else key = utf8.encode(wellFormed(record.key, `${where}.key`));
  }
  let value: Uint8Array;
  if (encoding === 'base64') {
    if (typeof record.value !== 'string') throw new InvalidRequestError(`${where}.value must be a base64 string with encoding=base64`);
    value = decodeBase64(record.value, `${where}.value`);
  } else {
    value = jsonValueBytes(record.value, `${where}.value`);
  }
  let size = (key?.length ?? 0) + value.length;
  // Null prototype: a header named `__proto__` is data like any other, not the object's prototype.
  const headers = dictionary<string>();
  if (record.headers !== undefined) {
    if (!isObject(record.headers)) throw new InvalidRequestError(`${where}.headers must be an object of strings`);
    const entries = Object.entries(record.headers);
    checkHeaderCount(entries.length, where, i);
    for (const [name, v] of entries) {
      if (name.length === 0) checkHeaderName(0, where, i);
      const shown = `${where}.headers.${echo(name)}`;
      if (typeof v !== 'string') throw new InvalidRequestError(`${shown} must be a string`);
      const nameBytes = Buffer.byteLength(wellFormed(name, `${where} header name '${echo(name)}'`), 'utf8');
      checkHeaderName(nameBytes, where, i);
      size += nameBytes + Buffer.byteLength(wellFormed(v, shown), 'utf8');
      headers[name] = v;
    }
  }
  checkRecordSize(size, where, i);
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

/** Lone surrogates: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** `text`, if it has a UTF-8 form (no lone UTF-16 surrogate); else a 400 naming `field`. */
function wellFormed(text: string, field: string): string {
  if (LONE_SURROGATE.test(text)) {
    throw new InvalidRequestError(`${field} contains a lone UTF-16 surrogate, which has no UTF-8 form`, { details: { field } });
  }
  return text;
}

export function parseExpectedOffsets(raw: unknown): Map<number, number> {
  if (!isObject(raw)) throw new InvalidRequestError('expectedOffsets must be an object of "<partition>": <offset>');
  const out = new Map<number, number>();
  for (const [p, offset] of Object.entries(raw)) {
    const partition = intParam(p, `expectedOffsets key '${echo(p)}'`, { min: 0, max: MAX_PARTITIONS - 1 });
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

/** The query parameters of a partition fetch (docs/api.md, "Fetch"). */
export const FETCH_QUERY_PARAMS = ['offset', 'from', 'timestamp', 'limit', 'maxBytes', 'waitMs', 'direction', 'encoding'] as const;

/** Parses the query string of a partition fetch (API.md, "Fetch"). */
export function parseFetchQuery(query: Readonly<Record<string, string>>): FetchQuery {
  knownParams(query, FETCH_QUERY_PARAMS);
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

/** The body of a partition fetch (API.md, "Fetch"), as JSON text. */
export function encodeFetchResponse(result: ReadResult, encoding: Encoding): JsonText {
  const records = result.records.map((r) => encodeWireRecord(r, encoding)).join(',');
  return new JsonText(
    `{"records":[${records}],"nextOffset":${result.nextOffset},"startOffset":${result.startOffset},"endOffset":${result.endOffset}}`,
  );
}

/**
 * The body of a group fetch (API.md, "Consumer groups"), as JSON text; `groupBatchEnvelopeSize`
 * (lib/groups/group-batch.ts) measures each batch's part of it besides the records.
 */
export function encodeGroupFetchResponse(batches: readonly GroupBatch[], encoding: Encoding): JsonText {
  return new JsonText(`{"batches":[${batches.map((b) => encodeGroupBatch(b, encoding)).join(',')}]}`);
}

/** One batch of a group fetch, as JSON text. */
export function encodeGroupBatch(batch: GroupBatch, encoding: Encoding): string {
  const records = batch.records.map((r) => encodeWireRecord(r, encoding)).join(',');
  return (
    `{"topic":${JSON.stringify(batch.topic)},"partition":${batch.partition},"leaseToken":${JSON.stringify(batch.leaseToken)},` +
    `"records":[${records}],"nextOffset":${batch.nextOffset},"endOffset":${batch.endOffset}}`
  );
}

/**
 * The body of a share-group fetch (docs/api.md, "Share groups"), as JSON text: each record is the fetch record
 * with its `topic`, `partition`, `deliveryCount` and `receipt` in front, which `shareRecordEnvelopeSize`
 * (lib/share-groups/share-fetch.ts) measures besides the record's `wireSize`.
 */
export function encodeShareFetchResponse(records: readonly SharedRecord[], encoding: Encoding): JsonText {
  return new JsonText(`{"records":[${records.map((r) => encodeSharedRecord(r, encoding)).join(',')}]}`);
}

/** One record of a share-group fetch, as JSON text. */
export function encodeSharedRecord(shared: SharedRecord, encoding: Encoding): string {
  const fields =
    `"topic":${JSON.stringify(shared.topic)},"partition":${shared.partition},` +
    `"deliveryCount":${shared.deliveryCount},"receipt":${JSON.stringify(shared.receipt)},`;
  return `{${fields}${encodeWireRecord(shared.record, encoding).slice(1)}`;
}

/**
 * A JSON record value as the UTF-8 text to store: numbers kept as written where a double cannot hold them
 * (see `parseJson`), and nesting limited to {@link MAX_JSON_DEPTH}.
 * @throws InvalidRequestError for a value nested deeper.
 */
export function jsonValueBytes(value: unknown, field: string): Uint8Array {
  try {
    return utf8.encode(stringifyJson(value, MAX_JSON_DEPTH));
  } catch (error) {
    if (!(error instanceof JsonDepthError)) throw error;
    throw new InvalidRequestError(`${field} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep; the limit is ${MAX_JSON_DEPTH}`, {
      details: { limitDepth: MAX_JSON_DEPTH },
    });
  }
}
