/**
 * The numeric limits of the HTTP contract (docs/api.md, "Produce" and "Fetch"), in one place for both sides:
 * the handlers refuse what exceeds them, and the client SDK (compiled to `dist/` with what it imports) stays
 * within them. This module imports nothing, so the client carries no server code for it.
 */

/** A produce request holds up to 10,000 records (docs/api.md, "Produce"). */
export const MAX_RECORDS_PER_REQUEST = 10_000;
/** One record up to 1 MB (docs/api.md, "Produce"), counted in bytes as stored: key, value and headers. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Records per fetch: default 1,000, max 10,000 (docs/api.md, "Fetch"). */
export const DEFAULT_FETCH_LIMIT = 1000;
export const MAX_FETCH_LIMIT = 10_000;
/** Bytes per fetch: default 1 MB, max 6 MB (docs/api.md, "Fetch"). */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const MAX_MAX_BYTES = 6 * 1024 * 1024;
/** The longest long poll a fetch may ask for, in milliseconds (docs/api.md, "Fetch"). */
export const MAX_WAIT_MS = 20_000;

/** A produce request body up to 6 MB (docs/api.md, "Produce"): Lambda's synchronous invocation payload limit. */
export const MAX_REQUEST_BODY_BYTES = 6 * 1024 * 1024;
/**
 * Headers per record. Kafka sets no count of its own (only the record size); SQS allows 10 message attributes,
 * Pub/Sub 100. 64 leaves room for tracing and routing headers while keeping one record's header map small
 * enough to scan; a record over it is refused with 413 like any other limit.
 */
export const MAX_HEADERS_PER_RECORD = 64;
/** Bytes (UTF-8) of one header name: 256, as Kinesis partition keys and SQS attribute names. */
export const MAX_HEADER_NAME_BYTES = 256;
/** The largest record timestamp: the largest a JavaScript Date can hold (ms). */
export const MAX_TIMESTAMP = 8_640_000_000_000_000;
/**
 * A record batch uploaded straight to S3 (docs/api.md, "Binary record batches"): at most this many bytes as
 * uploaded, and at most this many once its body is inflated. An addition of this implementation: the produce
 * function reads and checks the whole batch, so the bound keeps that within a second of Lambda time and a
 * small part of its memory, while a batch still holds many times what one request body can.
 */
export const MAX_UPLOAD_BATCH_BYTES = 16 * 1024 * 1024;
