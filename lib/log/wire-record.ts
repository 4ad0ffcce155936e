import type { StoredRecord } from './batch-format.js';
import { jsonTextOf, MAX_JSON_DEPTH } from './json-text.js';
import { isUtf8, type RecordEncoding } from './wire-size.js';

/**
 * A stored record as the API returns it (API.md: `{ "offset", "timestamp", "key", "value", "headers" }`), as
 * JSON text. With `encoding=base64`, key and value are base64 of the exact bytes that were produced. With
 * `encoding=json`, a key is UTF-8 text and a value is JSON: a value produced as JSON is its stored JSON text,
 * spliced in without being parsed again (so its digits, `__proto__` keys and depth come back as accepted); raw
 * bytes that are UTF-8 JSON text within {@link MAX_JSON_DEPTH} are spliced the same way; anything else comes
 * back as base64 marked `"valueEncoding": "base64"` (a key that is not UTF-8: `"keyEncoding": "base64"`).
 *
 * `wireSize` (lib/log/wire-size.ts) measures exactly this text as Lambda carries it; reads cut by that measure.
 */
export function encodeWireRecord(record: StoredRecord, encoding: RecordEncoding): string {
  let key = 'null';
  let keyEncoding = '';
  if (record.key !== null) {
    if (encoding === 'json' && isUtf8(record.key)) key = JSON.stringify(utf8Decoder.decode(record.key));
    else {
      key = base64String(record.key);
      if (encoding === 'json') keyEncoding = ',"keyEncoding":"base64"';
    }
  }
  let value: string;
  let valueEncoding = '';
  if (encoding === 'base64') value = base64String(record.value);
  else if (record.valueIsJson) value = utf8Decoder.decode(record.value);
  else {
    const text = jsonTextOf(record.value);
    if (text !== undefined) value = text;
    else {
      value = base64String(record.value);
      valueEncoding = ',"valueEncoding":"base64"';
    }
  }
  const headers = Object.keys(record.headers)
    .map((name) => `${JSON.stringify(name)}:${JSON.stringify(record.headers[name])}`)
    .join(',');
  return `{"offset":${record.offset},"timestamp":${record.timestamp},"key":${key},"value":${value},"headers":{${headers}}${keyEncoding}${valueEncoding}}`;
}

const base64String = (bytes: Uint8Array): string => `"${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}"`;
// ignoreBOM: a key that begins with U+FEFF comes back with it, as wireSize counts it.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
