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
