import type { ErrorCode } from '../../lib/errors.js';

/**
 * The one table from error code to HTTP status (API.md, "Conventions"). Nothing else in the code base decides
 * a status for an error.
 */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  INVALID_REQUEST: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOPIC_NOT_FOUND: 404,
  PARTITION_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  MEMBER_NOT_FOUND: 404,
  TOPIC_EXISTS: 409,
  FENCED: 409,
  OFFSET_MISMATCH: 409,
  NOT_SUBSCRIBED: 409,
  GROUP_NOT_EMPTY: 409,
  CONCURRENT_UPDATE: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  THROTTLED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};
