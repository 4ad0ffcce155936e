import { PayloadTooLargeError } from '../errors.js';
import type { StoredRecord } from './batch-format.js';
import { jsonTextOf } from './json-text.js';

/**
 * The size of a record in a fetch response, as Lambda counts it, computed without building the response.
 *
 * Lambda's 6 MB limit applies to the invocation result serialised as JSON, in which the HTTP body is itself a
 * JSON string: every `"` and `\` of the body costs two bytes there, a newline two, a control character escaped
 * in the body (`\u0001`) seven. So a record's cost is the length of its JSON text in the body (docs/api.md's
 * record shape) after that second escaping, plus one for the comma that separates it from the next. The HTTP
 * boundary (`functions/http/records.ts`) writes exactly this text; a property test holds the two together.
 *
 * Reads cut by this measure (`maxBytes`, and the Lambda limit) and a produce refuses a record whose measure
 * would not fit in any response ({@link MAX_RECORD_WIRE_BYTES}), so every accepted record is readable.
 */

/** How a fetch writes keys and values (docs/api.md: `encoding=json|base64`). */
export type RecordEncoding = 'json' | 'base64';

/** Lambda's synchronous invocation payload limit, which applies to the serialised response: 6 MiB. */
export const MAX_RESPONSE_PAYLOAD_BYTES = 6 * 1024 * 1024;
/**
 * Kept free in every response for what is not a record (or a group fetch's per-partition envelope): the
 * invocation result's status code and headers, and the body's own framing (`{"records":[…],"nextOffset":…}`),
 * a few hundred bytes today.
 */
export const RESPONSE_RESERVE_BYTES = 16 * 1024;
/** What the records of one response (and a group fetch's per-partition envelopes) may add up to, by wireSize. */
export const MAX_RESPONSE_RECORD_BYTES = MAX_RESPONSE_PAYLOAD_BYTES - RESPONSE_RESERVE_BYTES;
/**
 * A produced record's measure, in its worse encoding, may not exceed this (413 at produce), so that a response
 * always has room for one record. A 1 MB record (docs/api.md's limit) measures about 1.4 MB in base64 and at most
 * 2 MB as JSON text full of quotes; only keys and headers made of control characters (7 bytes each once
 * escaped twice) come near the limit.
 */
export const MAX_RECORD_WIRE_BYTES = 4 * 1024 * 1024;

/**
 * Bytes `record` adds to a fetch response's invocation payload in `encoding` (its JSON text, escaped again as
 * part of the body string, and a separating comma).
 */
export function wireSize(record: StoredRecord, encoding: RecordEncoding): number {
  let size = RECORD_FRAMING + digits(record.offset) + digits(record.timestamp);
  if (record.key === null) size += NULL;
  else if (encoding === 'base64' || !isUtf8(record.key)) size += base64StringSize(record.key.length) + (encoding === 'json' ? KEY_ENCODING_MARK : 0);
  else size += utf8StringSize(record.key);
  if (encoding === 'base64') size += base64StringSize(record.value.length);
  else if (record.valueIsJson) size += jsonTextBytesSize(record.value);
  else {
    const text = jsonTextOf(record.value);
    size += text === undefined ? base64StringSize(record.value.length) + VALUE_ENCODING_MARK : bodyTextSize(text);
  }
  let first = true;
  for (const name of Object.keys(record.headers)) {
    size += (first ? 0 : COMMA) + jsonStringSize(name) + COLON + jsonStringSize(record.headers[name]!);
    first = false;
  }
  return size;
}

/**
 * An upper bound of {@link wireSize} in either encoding, for any offset, from lengths alone (no scan): a byte
 * of a JSON string costs at most 7 (a control character), of JSON text 2, base64 4/3.
 */
export function wireSizeBound(record: Pick<StoredRecord, 'key' | 'value' | 'headers'>): number {
  let size = RECORD_FRAMING + 2 * MAX_DIGITS + KEY_ENCODING_MARK + VALUE_ENCODING_MARK;
  const key = record.key?.length ?? 0;
  size += Math.max(7 * key, base64StringSize(key)) + QUOTES;
  size += Math.max(2 * record.value.length, base64StringSize(record.value.length));
  for (const name of Object.keys(record.headers)) size += COMMA + COLON + 2 * QUOTES + 7 * (name.length + record.headers[name]!.length);
  return size;
}

/**
 * Refuses a record to produce that no fetch response could carry (its key or headers escape to more than
 * {@link MAX_RECORD_WIRE_BYTES}), so that every accepted record stays readable in both encodings. The HTTP
 * boundary calls it on every produced record (functions/http/records.ts).
 * @throws PayloadTooLargeError naming the record by its `index` in the request.
 */
export function checkFitsResponse(record: Omit<StoredRecord, 'offset' | 'timestamp'> & { readonly timestamp?: number }, index: number): void {
  if (wireSizeBound(record) <= MAX_RECORD_WIRE_BYTES) return; // lengths alone decide: the common case
  const stored = { ...record, offset: 10 ** (MAX_DIGITS - 1), timestamp: record.timestamp ?? 10 ** (MAX_DIGITS - 1) };
  const size = Math.max(wireSize(stored, 'json'), wireSize(stored, 'base64'));
  if (size > MAX_RECORD_WIRE_BYTES) {
    throw new PayloadTooLargeError(
      `records[${index}] would take ${size} bytes in a fetch response (its key and headers are escaped there, ` +
        `a control character as 7 bytes); one record may take at most ${MAX_RECORD_WIRE_BYTES}`,
      { details: { limitBytes: MAX_RECORD_WIRE_BYTES, index } },
    );
  }
}

/** Bytes of JSON text written raw into the body (framing, or a value's JSON text), in the payload. */
export function bodyTextSize(text: string): number {
  let size = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) size += BODY_ASCII[c]!;
    else if (c < 0x800) size += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      size += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) size += 6; // a lone surrogate: \udXXX
    else size += 3;
  }
  return size;
}

/** Bytes of a string written into the body as a JSON string literal (quotes included), in the payload. */
export function jsonStringSize(s: string): number {
  let size = QUOTES;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) size += STRING_ASCII[c]!;
    else if (c < 0x800) size += 2;
    else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(s.charCodeAt(i + 1))) {
      size += 4;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) size += 7; // a lone surrogate: \udXXX, then its backslash escaped
    else size += 3;
  }
  return size;
}

/** Payload bytes of a JSON number written into the body (integers: no escaping). */
export const digits = (n: number): number => String(n).length;

/** The most digits an offset or timestamp has (2^53 − 1 has 16). */
export const MAX_DIGITS = 16;

/** Bytes of valid UTF-8 text written as a JSON string literal, in the payload. */
function utf8StringSize(bytes: Uint8Array): number {
  let size = QUOTES;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    size += b < 0x80 ? STRING_ASCII[b]! : 1;
  }
  return size;
}

/** Bytes of UTF-8 JSON text spliced into the body, in the payload. */
function jsonTextBytesSize(bytes: Uint8Array): number {
  let size = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    size += b < 0x80 ? BODY_ASCII[b]! : 1;
  }
  return size;
}

const base64StringSize = (bytes: number): number => QUOTES + 4 * Math.ceil(bytes / 3);
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
/** True when the bytes are valid UTF-8 (a JSON fetch then returns a key as text, else as base64). */
export function isUtf8(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        fatalUtf8.decode(bytes);
        return true;
      } catch {
        return false;
      }
    }
  }
  return true; // ASCII
}

/**
 * Payload bytes of each ASCII character written raw into the body: JSON.stringify of the body escapes `"` and
 * `\` and the control characters (two bytes for \b \t \n \f \r, six for the others as \u00XX).
 */
const BODY_ASCII = Uint8Array.from({ length: 128 }, (_, c) =>
  c === 0x22 || c === 0x5c ? 2 : c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : c < 0x20 ? 6 : 1,
);
/** The same for a character inside a JSON string literal of the body: escaped once in the body, once more. */
const STRING_ASCII = Uint8Array.from({ length: 128 }, (_, c) =>
  c === 0x22 || c === 0x5c ? 4 : c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 3 : c < 0x20 ? 7 : 1,
);

/** A string's two quotes: `\"` each in the payload. */
const QUOTES = 4;
const COMMA = bodyTextSize(',');
const COLON = bodyTextSize(':');
const NULL = bodyTextSize('null');
/** `{"offset":…,"timestamp":…,"key":…,"value":…,"headers":{…}}` and the comma after it. */
const RECORD_FRAMING = bodyTextSize('{"offset":,"timestamp":,"key":,"value":,"headers":{}},');
const KEY_ENCODING_MARK = bodyTextSize(',"keyEncoding":"base64"');
const VALUE_ENCODING_MARK = bodyTextSize(',"valueEncoding":"base64"');
