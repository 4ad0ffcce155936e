/**
 * The one error hierarchy of shardlog.
 *
 * Every error the engine raises on purpose is a {@link ShardlogError}: it carries the wire `code` of API.md,
 * whether a retry may succeed (`retriable`, as KafkaJS errors do), optional extra `details` that go into the
 * JSON error body (e.g. `startOffset`/`endOffset`), and the `cause` it wraps. The HTTP status of each code is
 * decided in exactly one place, `functions/http/error-table.ts`; the client SDK rebuilds these same classes
 * from the `code` of an error body with {@link errorFromBody}.
 */
export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'TOPIC_NOT_FOUND'
  | 'PARTITION_NOT_FOUND'
  | 'GROUP_NOT_FOUND'
  | 'MEMBER_NOT_FOUND'
  | 'TOPIC_EXISTS'
  | 'FENCED'
  | 'OFFSET_MISMATCH'
  | 'NOT_SUBSCRIBED'
  | 'GROUP_NOT_EMPTY'
  | 'CONCURRENT_UPDATE'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'PAYLOAD_TOO_LARGE'
  | 'OFFSET_OUT_OF_RANGE'
  | 'THROTTLED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export type ErrorDetails = Record<string, unknown>;

export interface ShardlogErrorOptions {
  cause?: unknown;
  details?: ErrorDetails;
}

/** Base class of every deliberate shardlog error. */
export class ShardlogError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, retriable: boolean, options: ShardlogErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = retriable;
    this.details = options.details ?? {};
  }
}

/** 400: the request is malformed or violates a documented rule. Nothing was changed. */
export class InvalidRequestError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('INVALID_REQUEST', message, false, options);
  }
}

/** 403: the caller may not do this. */
export class ForbiddenError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('FORBIDDEN', message, false, options);
  }
}

/** 404 for a path that matches no route. */
export class RouteNotFoundError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('NOT_FOUND', message, false, options);
  }
}

/** 405 for a known path with a method it does not serve. */
export class MethodNotAllowedError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('METHOD_NOT_ALLOWED', message, false, options);
  }
}

export class TopicNotFoundError extends ShardlogError {
  constructor(topic: string, options?: ShardlogErrorOptions) {
    super('TOPIC_NOT_FOUND', `topic '${topic}' does not exist`, false, {
      ...options,
      details: { topic, ...options?.details },
    });
  }
}

export class PartitionNotFoundError extends ShardlogError {
  constructor(topic: string, partition: number, partitions: number, options?: ShardlogErrorOptions) {
    super(
      'PARTITION_NOT_FOUND',
      `topic '${topic}' has ${partitions} partition(s); partition ${partition} does not exist`,
      false,
      { ...options, details: { topic, partition, partitions, ...options?.details } },
    );
  }
}

export class GroupNotFoundError extends ShardlogError {
  constructor(group: string, options?: ShardlogErrorOptions) {
    super('GROUP_NOT_FOUND', `group '${group}' does not exist`, false, {
      ...options,
      details: { group, ...options?.details },
    });
  }
}

export class MemberNotFoundError extends ShardlogError {
  constructor(group: string, memberId: string, options?: ShardlogErrorOptions) {
    super('MEMBER_NOT_FOUND', `member '${memberId}' is not in group '${group}' (its session may have expired; join again)`, false, {
      ...options,
      details: { group, memberId, ...options?.details },
    });
  }
}

export class TopicExistsError extends ShardlogError {
  constructor(topic: string, options?: ShardlogErrorOptions) {
    super('TOPIC_EXISTS', `topic '${topic}' already exists`, false, {
      ...options,
      details: { topic, ...options?.details },
    });
  }
}

/** 409: the lease was lost or the lease token is stale; the commit changed nothing. */
export class FencedError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('FENCED', message, false, options);
  }
}

/** 409: `expectedOffsets` did not match; `details.endOffsets` holds the current end offsets. */
export class OffsetMismatchError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('OFFSET_MISMATCH', message, false, options);
  }
}

/**
 * 409: a join, fetch, commit or offsets reset named a topic the group is not subscribed to (docs/api.md v1.1,
 * "Subscriptions"), or a join without topics found no subscription at all (`topic` null). The message names
 * the `PUT` that subscribes the group; `details` has `group` and `topic`. Nothing was changed. `subscribePath`
 * is the path of the group kind's routes (`/v1/groups` by default), so that every kind of group with
 * subscriptions names its own `PUT`.
 */
export class NotSubscribedError extends ShardlogError {
  constructor(group: string, topic: string | null, options?: ShardlogErrorOptions & { readonly subscribePath?: string }) {
    const path = `${options?.subscribePath ?? '/v1/groups'}/${group}/subscriptions/${topic ?? '{topic}'}`;
    const what = topic === null ? 'any topic' : `topic '${topic}'`;
    super('NOT_SUBSCRIBED', `group '${group}' is not subscribed to ${what}: subscribe it first with PUT ${path}`, false, {
      ...(options?.cause !== undefined ? { cause: options.cause } : {}),
      details: { group, topic, ...options?.details },
    });
  }
}

/**
 * 409: `DELETE /v1/groups/{group}` while a member's session is live (as Kafka's DeleteGroups answers
 * NON_EMPTY_GROUP); `details.members` is how many. Nothing was deleted: stop the members (or let their sessions
 * end) first.
 */
export class GroupNotEmptyError extends ShardlogError {
  constructor(group: string, members: number, options?: ShardlogErrorOptions) {
    super('GROUP_NOT_EMPTY', `group '${group}' has ${members} live member(s): stop them (or let their sessions end) before deleting it`, false, {
      ...options,
      details: { group, members, ...options?.details },
    });
  }
}

/**
 * 409, retriable: the thing kept changing under this request (a topic update lost its race again and again).
 * Each lost race means another change landed, so a retry soon succeeds; nothing of this request was applied.
 */
export class ConcurrentUpdateError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('CONCURRENT_UPDATE', message, true, options);
  }
}

/**
 * 409: an `Idempotency-Key` still remembered for this topic was first used with a different request body
 * (docs/api.md v1.1, as Stripe answers a reused key). Nothing was appended; the first request's result stands.
 */
export class IdempotencyKeyReusedError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('IDEMPOTENCY_KEY_REUSED', message, false, options);
  }
}

/** 413: a request, record or batch exceeds a documented limit. */
export class PayloadTooLargeError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('PAYLOAD_TOO_LARGE', message, false, options);
  }
}

/** 416: the offset is outside [startOffset, endOffset]; both bounds are in `details`. */
export class OffsetOutOfRangeError extends ShardlogError {
  constructor(offset: number, startOffset: number, endOffset: number, options?: ShardlogErrorOptions) {
    super(
      'OFFSET_OUT_OF_RANGE',
      `offset ${offset} is outside the readable range [${startOffset}, ${endOffset}]`,
      false,
      { ...options, details: { offset, startOffset, endOffset, ...options?.details } },
    );
  }
}

/** 429: slow down; `details.retryAfterSeconds` becomes the `Retry-After` header. */
export class ThrottledError extends ShardlogError {
  constructor(message: string, retryAfterSeconds = 1, options?: ShardlogErrorOptions) {
    super('THROTTLED', message, true, { ...options, details: { retryAfterSeconds, ...options?.details } });
  }
}

/** 503: a dependency (DynamoDB, S3) failed or is unreachable; the request may be retried. */
export class UnavailableError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('UNAVAILABLE', message, true, options);
  }
}

/** 500 as seen by a client: the server failed in a way it did not expect. Never built by the server. */
export class InternalError extends ShardlogError {
  constructor(message: string, options?: ShardlogErrorOptions) {
    super('INTERNAL', message, true, options);
  }
}

/** How many characters of a caller's input an error message repeats at most (see {@link echo}). */
export const MAX_ECHOED_CHARS = 64;

/**
 * A caller's input as an error message may quote it: at most {@link MAX_ECHOED_CHARS} characters, then how
 * much was left out, so that a 100 KB field name cannot come back whole in every error body. Control
 * characters and lone surrogates are shown as `\uXXXX` escapes, so the message stays readable and its UTF-8
 * form well formed.
 *
 * @example
 * throw new InvalidRequestError(`unknown field '${echo(key)}'`);
 */
export function echo(input: string, maxChars = MAX_ECHOED_CHARS): string {
  const cut = input.length > maxChars ? input.slice(0, maxChars) : input;
  const shown = cut.replace(/[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return input.length > maxChars ? `${shown}…(${input.length - maxChars} more characters)` : shown;
}

/** The JSON body of every error response (API.md, "Conventions"). */
export interface ErrorBody {
  error: { code: string; message: string; retriable: boolean; [extra: string]: unknown };
}

export function errorToBody(error: ShardlogError): ErrorBody {
  return { error: { ...error.details, code: error.code, message: error.message, retriable: error.retriable } };
}

/**
 * Rebuilds the server's error class from an error body, so a client can `catch (e) { if (e instanceof FencedError) … }`.
 */
export function errorFromBody(body: ErrorBody): ShardlogError {
  const { code, message, retriable, ...details } = body.error;
  const options = { details };
  switch (code) {
    case 'INVALID_REQUEST':
      return new InvalidRequestError(message, options);
    case 'FORBIDDEN':
      return new ForbiddenError(message, options);
    case 'NOT_FOUND':
      return new RouteNotFoundError(message, options);
    case 'METHOD_NOT_ALLOWED':
      return new MethodNotAllowedError(message, options);
    case 'TOPIC_NOT_FOUND':
      return withMessage(new TopicNotFoundError(String(details.topic ?? ''), options), message);
    case 'PARTITION_NOT_FOUND':
      return withMessage(
        new PartitionNotFoundError(String(details.topic ?? ''), Number(details.partition), Number(details.partitions), options),
        message,
      );
    case 'GROUP_NOT_FOUND':
      return withMessage(new GroupNotFoundError(String(details.group ?? ''), options), message);
    case 'MEMBER_NOT_FOUND':
      return withMessage(new MemberNotFoundError(String(details.group ?? ''), String(details.memberId ?? ''), options), message);
    case 'TOPIC_EXISTS':
      return withMessage(new TopicExistsError(String(details.topic ?? ''), options), message);
    case 'FENCED':
      return new FencedError(message, options);
    case 'OFFSET_MISMATCH':
      return new OffsetMismatchError(message, options);
    case 'NOT_SUBSCRIBED':
      return withMessage(
        new NotSubscribedError(String(details.group ?? ''), typeof details.topic === 'string' ? details.topic : null, options),
        message,
      );
    case 'GROUP_NOT_EMPTY':
      return withMessage(new GroupNotEmptyError(String(details.group ?? ''), Number(details.members ?? 0), options), message);
    case 'CONCURRENT_UPDATE':
      return new ConcurrentUpdateError(message, options);
    case 'IDEMPOTENCY_KEY_REUSED':
      return new IdempotencyKeyReusedError(message, options);
    case 'PAYLOAD_TOO_LARGE':
      return new PayloadTooLargeError(message, options);
    case 'OFFSET_OUT_OF_RANGE':
      return withMessage(
        new OffsetOutOfRangeError(Number(details.offset), Number(details.startOffset), Number(details.endOffset), options),
        message,
      );
    case 'THROTTLED':
      return new ThrottledError(message, Number(details.retryAfterSeconds ?? 1), options);
    case 'UNAVAILABLE':
      return new UnavailableError(message, options);
    default:
      return new InternalError(message, options);
  }
  // `retriable` is fixed per class; the server's value is the same by construction.
  void retriable;
}

function withMessage<E extends ShardlogError>(error: E, message: string): E {
  error.message = message;
  return error;
}

/** True for errors worth retrying with the same request (and the same Idempotency-Key). */
export function isRetriable(error: unknown): boolean {
  return error instanceof ShardlogError && error.retriable;
}
