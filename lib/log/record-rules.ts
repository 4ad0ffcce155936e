import { MAX_HEADER_NAME_BYTES, MAX_HEADERS_PER_RECORD, MAX_RECORD_BYTES } from '../contract/limits.js';
import { InvalidRequestError, PayloadTooLargeError } from '../errors.js';

/**
 * The per-record limits of docs/api.md ("Produce") and README ("Behaviour where the contract is silent"), in
 * one place for both produce formats: a JSON request (functions/http/records.ts, `parseRecord`) and a record
 * batch sent as stored (lib/log/batch-validation.ts). Each check names the record as `where` (e.g.
 * `records[3]`) and its `index` in the request.
 */

/** @throws PayloadTooLargeError when a record has more than {@link MAX_HEADERS_PER_RECORD} headers. */
export function checkHeaderCount(count: number, where: string, index: number): void {
  if (count > MAX_HEADERS_PER_RECORD) {
    throw new PayloadTooLargeError(`${where} has ${count} headers; a record may have at most ${MAX_HEADERS_PER_RECORD}`, {
      details: { limitHeaders: MAX_HEADERS_PER_RECORD, index },
    });
  }
}

/** @throws InvalidRequestError for an empty name, PayloadTooLargeError for one over {@link MAX_HEADER_NAME_BYTES}. */
export function checkHeaderName(nameBytes: number, where: string, index: number): void {
  if (nameBytes === 0) throw new InvalidRequestError(`${where}.headers has an empty name`);
  if (nameBytes > MAX_HEADER_NAME_BYTES) {
    throw new PayloadTooLargeError(`${where} has a header name of ${nameBytes} bytes; at most ${MAX_HEADER_NAME_BYTES} are allowed`, {
      details: { limitBytes: MAX_HEADER_NAME_BYTES, index },
    });
  }
}

/**
 * @param size bytes as stored: key and value bytes plus every header name and value in UTF-8.
 * @throws PayloadTooLargeError over {@link MAX_RECORD_BYTES}.
 */
export function checkRecordSize(size: number, where: string, index: number): void {
  if (size > MAX_RECORD_BYTES) {
    throw new PayloadTooLargeError(`${where} is ${size} bytes; one record may be at most ${MAX_RECORD_BYTES} bytes`, {
      details: { limitBytes: MAX_RECORD_BYTES, index },
    });
  }
}
