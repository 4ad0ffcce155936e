import { MAX_TIMESTAMP } from '../contract/limits.js';
import { InvalidRequestError, PayloadTooLargeError } from '../errors.js';
import { BATCH_HEADER_BYTES, BATCH_VERSION, CorruptBatchError, decodeBatch, decodeBatchHeader } from './batch-format.js';
import { jsonTextOf, MAX_JSON_DEPTH } from './json-text.js';
import { checkHeaderCount, checkHeaderName, checkRecordSize } from './record-rules.js';
import { checkFitsResponse } from './wire-size.js';

/** A batch from a client that passed {@link validateBatch}: stored as it came, only its base offset patched. */
export interface ValidatedBatch {
  /** The batch as sent (header `baseOffset` 0). */
  readonly bytes: Uint8Array;
  readonly count: number;
  /** Each record's timestamp, in order (the produce response lists them). */
  readonly timestamps: readonly number[];
  /** The largest of them. */
  readonly maxTimestamp: number;
  /** Bytes of its records as stored (keys, values, header names and values): what a request's bound counts. */
  readonly recordBytes: number;
}

const utf8 = new TextEncoder();

/**
 * Checks a record batch a client sent in the stored format (docs/api.md, "Binary record batches"), decoding it
 * once, so that it can be stored as it is: every rule a JSON produce applies to its records holds for it, and
 * every reader (JSON, base64 or binary; hot, spilled or cold) reads it back the same.
 *
 * - Structure: the current version (2), header `baseOffset` 0, a known codec, the body exactly `bodyLength`
 *   bytes with its CRC-32, at least one record, every record well-formed and nothing after the last.
 * - Bounds: the body inflates to at most `maxBodyBytes` (a decompression bomb stops there: 413); each record
 *   within the limits of docs/api.md and README (size, header count and names, its size in a fetch response).
 * - Values flagged as JSON are UTF-8 JSON text nested at most {@link MAX_JSON_DEPTH} deep: a JSON fetch splices
 *   them as stored. Header names and values are valid UTF-8, each name once per record.
 * - Timestamps are integers from 0 to {@link MAX_TIMESTAMP}.
 *
 * @param where names the batch in errors, e.g. `recordBatches[2]`.
 * @param firstIndex the request-wide index of its first record (errors name records by it).
 * @throws InvalidRequestError (400) or PayloadTooLargeError (413); nothing is stored.
 */
export function validateBatch(bytes: Uint8Array, where: string, firstIndex: number, maxBodyBytes: number): ValidatedBatch {
  const corrupt = (why: string) => new InvalidRequestError(`${where} is not a valid record batch: ${why}`, { details: { field: where } });
  let header;
  try {
    header = decodeBatchHeader(bytes);
  } catch (error) {
    throw corrupt(error instanceof CorruptBatchError ? error.message : 'unreadable header');
  }
  if (header.version !== BATCH_VERSION) throw corrupt(`version ${header.version}; batches are sent as version ${BATCH_VERSION}`);
  if (header.baseOffset !== 0) throw corrupt('its header baseOffset must be 0 (the log assigns offsets)');
  if (bytes.length !== BATCH_HEADER_BYTES + header.bodyLength) throw corrupt(`${bytes.length} bytes, but its header says ${BATCH_HEADER_BYTES + header.bodyLength}`);
  if (header.count === 0) throw corrupt('it holds no record');
  if (!Number.isSafeInteger(header.baseTimestamp) || header.baseTimestamp < 0) throw corrupt('its baseTimestamp is not a non-negative integer');
  let records;
  try {
    records = decodeBatch(bytes, 0, { strict: true, maxBodyBytes });
  } catch (error) {
    if (error instanceof CorruptBatchError) throw corrupt(error.message);
    if (error instanceof RangeError) {
      throw new PayloadTooLargeError(`${where} inflates to more than ${maxBodyBytes} bytes`, { details: { limitBytes: maxBodyBytes } });
    }
    throw corrupt('its body does not inflate'); // zlib: not gzip data
  }
  let recordBytes = 0;
  let maxTimestamp = 0;
  const timestamps: number[] = new Array(records.length);
  records.forEach((record, i) => {
    const index = firstIndex + i;
    const at = `${where} record ${i}`;
    if (record.timestamp > MAX_TIMESTAMP) throw corrupt(`record ${i} has a timestamp above ${MAX_TIMESTAMP}`);
    if (record.valueIsJson && jsonTextOf(record.value) === undefined) {
      throw new InvalidRequestError(`${at}: a value flagged as JSON must be UTF-8 JSON text nested at most ${MAX_JSON_DEPTH} deep`, {
        details: { limitDepth: MAX_JSON_DEPTH, index },
      });
    }
    const names = Object.keys(record.headers);
    checkHeaderCount(names.length, at, index);
    let size = (record.key?.length ?? 0) + record.value.length;
    for (const name of names) {
      const nameBytes = utf8.encode(name).length;
      checkHeaderName(nameBytes, at, index);
      size += nameBytes + utf8.encode(record.headers[name]!).length;
    }
    checkRecordSize(size, at, index);
    checkFitsResponse(record, index);
    recordBytes += size;
    timestamps[i] = record.timestamp;
    maxTimestamp = Math.max(maxTimestamp, record.timestamp);
  });
  return { bytes, count: records.length, timestamps, maxTimestamp, recordBytes };
}
