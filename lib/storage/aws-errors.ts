import type { MiddlewareStack } from '@smithy/types';
import { ShardlogError, ThrottledError, UnavailableError } from '../errors.js';

/**
 * Translates an AWS SDK failure into the shardlog hierarchy, by the SDK's own predicates
 * (`$retryable.throttling`, `$fault`) and error names and Node's network error codes, never by message text:
 * - throttling (after the SDK's own retries) → {@link ThrottledError} (429, retriable);
 * - a server fault, a timeout or a network error → {@link UnavailableError} (503, retriable);
 * - anything else is returned as is: condition failures (`ConditionalCheckFailedException`,
 *   `TransactionCanceledException`) are outcomes the stores read as return values (a lost race), and any other
 *   client error is a bug that becomes a generic 500.
 * The original error is the `cause` of the translated one.
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

/**
 * Whether `error` is the storage layer refusing a request for throughput: SDK throttling (after the SDK's own
 * retries), or a cancelled transaction one of whose items was throttled (the SDK does not retry those; the
 * append path turns them into `ThrottledError` itself, lib/log/dynamo-append.ts).
 */
export function isThrottling(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; $retryable?: { throttling?: boolean }; CancellationReasons?: Array<{ Code?: string }> };
  if (e.$retryable?.throttling || THROTTLING_NAMES.has(e.name ?? '')) return true;
  return e.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => THROTTLED_REASONS.has(r.Code ?? ''));
}

/** Cancellation reasons of a transaction item that DynamoDB refused for throughput. */
const THROTTLED_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/** What the storage boundary reports besides translating errors. */
export interface StorageErrorHooks {
  /**
   * A request was refused for throughput (see {@link isThrottling}): `table` is the DynamoDB table it named
   * (`TableName`, the first item's of a transaction, the first of a batch), undefined for S3. Must not throw.
   */
  readonly onThrottled?: (table: string | undefined) => void;
}

/** The table a DynamoDB command names, from its input. */
function tableOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const i = input as { TableName?: string; TransactItems?: Array<Record<string, { TableName?: string } | undefined>>; RequestItems?: object };
  if (typeof i.TableName === 'string') return i.TableName;
  const first = i.TransactItems?.[0];
  if (first) return Object.values(first).find((op) => typeof op?.TableName === 'string')?.TableName;
  return i.RequestItems ? Object.keys(i.RequestItems)[0] : undefined;
}

/** The name of the middleware {@link translateStorageErrors} adds (also how it recognises itself). */
export const STORAGE_ERRORS_MIDDLEWARE = 'shardlogStorageErrors';

/** What {@link translateStorageErrors} needs of a client: DynamoDB, the document client and S3 all have it. */
export interface ClientWithMiddleware {
  readonly middlewareStack: MiddlewareStack<any, any>;
}

/**
 * The storage boundary: adds to `client` (once; calling again is a no-op) a middleware that rethrows every
 * failure of every command through {@link translateAwsError}. It sits at the top of the `initialize` step, so it
 * sees the error after the SDK's own retries, and every caller of the client, engine code, the maintenance
 * schedule and the HTTP edge alike, sees `ThrottledError` / `UnavailableError` (with `retriable`) instead of
 * an SDK exception. A document client shares its base client's middleware stack, so either may be passed.
 * `hooks.onThrottled` hears of every throttled request (the `DynamoDbThrottles` metric); the hooks of the first
 * call stay, as the middleware does.
 *
 * @example
 * const doc = translateStorageErrors(DynamoDBDocumentClient.from(new DynamoDBClient({})));
 */
export function translateStorageErrors<C extends ClientWithMiddleware>(client: C, hooks: StorageErrorHooks = {}): C {
  const stack = client.middlewareStack;
  if (stack.identify().some((entry) => entry.startsWith(STORAGE_ERRORS_MIDDLEWARE))) return client;
  stack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (hooks.onThrottled && isThrottling(error)) hooks.onThrottled(tableOf((args as { input?: unknown }).input));
        throw translateAwsError(error);
      }
    },
    { step: 'initialize', priority: 'high', name: STORAGE_ERRORS_MIDDLEWARE },
  );
  return client;
}
