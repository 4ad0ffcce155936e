import { ThrottledError, UnavailableError, ShardlogError } from '../errors.js';

/**
 * Translates an AWS SDK failure at the storage boundary into the shardlog hierarchy, by the SDK's own
 * predicates (`$retryable.throttling`, `$fault`), never by message text. Anything else is returned as is
 * (and becomes a generic 500).
 */
export function translateAwsError(error: unknown): unknown {
  if (error instanceof ShardlogError) return error;
  if (typeof error !== 'object' || error === null) return error;
  const e = error as { name?: string; $fault?: string; $retryable?: { throttling?: boolean }; code?: string };
  if (e.$retryable?.throttling || THROTTLING_NAMES.has(e.name ?? '')) {
    return new ThrottledError('the storage layer is throttling requests; retry after a short pause', 1, { cause: error });
  }
  if (e.$fault === 'server' || NETWORK_CODES.has(e.code ?? '') || e.name === 'TimeoutError') {
    return new UnavailableError('a storage dependency is unavailable; retry shortly', { cause: error });
  }
  return error;
}

const THROTTLING_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
]);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
