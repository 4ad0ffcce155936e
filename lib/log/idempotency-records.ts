import { GetCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { IdempotencyKeyReusedError } from '../errors.js';
import {
  decodeIdempotencyItem,
  encodeIdempotencyItem,
  IDEMPOTENCY_ATTR,
  IDEMPOTENCY_SK,
  itemKey,
} from '../storage/log-table.js';

/** Idempotency keys are remembered this long (docs/api.md: 24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * Idempotency records: the response of the first request under an `Idempotency-Key`, written in the same
 * transaction as its batches, so that a retry of the request gets that response instead of a second append.
 * A record lives {@link IDEMPOTENCY_WINDOW_MS}; one whose TTL has passed counts as absent even while DynamoDB
 * has not deleted it yet (TTL may lag by days).
 */
export class IdempotencyRecords {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: { readonly doc: DynamoDBDocumentClient; readonly tableName: string; readonly now: () => number }) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now;
  }

  /** The transaction item that records `response` under `pk`; its condition fails while a live record holds the key. */
  putItem(pk: string, response: unknown, digest: string | undefined): TransactItem {
    const nowMs = this.now();
    const record = { response, ...(digest !== undefined ? { digest } : {}), expiresAt: Math.ceil((nowMs + IDEMPOTENCY_WINDOW_MS) / 1000) };
    return {
      Put: {
        TableName: this.table,
        Item: encodeIdempotencyItem(pk, record, nowMs),
        ConditionExpression: `attribute_not_exists(pk) OR ${IDEMPOTENCY_ATTR.expiresAt} < :nowSec`,
        ExpressionAttributeValues: { ':nowSec': Math.floor(nowMs / 1000) },
      },
    };
  }

  /**
   * The remembered response of a live idempotency record, or `undefined` when there is none.
   * @throws IdempotencyKeyReusedError when the record was written for a request with another digest (a record
   *   written before digests were kept has none, and replays as before).
   */
  async replay(pk: string, digest: string | undefined): Promise<unknown | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: itemKey(pk, IDEMPOTENCY_SK), ConsistentRead: true }));
    if (!Item) return undefined;
    const record = decodeIdempotencyItem(Item);
    if (record.expiresAt * 1000 <= this.now()) return undefined;
    if (digest !== undefined && record.digest !== undefined && record.digest !== digest) {
      throw new IdempotencyKeyReusedError(
        'this Idempotency-Key was already used with a different request body on this topic within 24 hours; ' +
          'nothing was appended (use a new key for a new request)',
      );
    }
    return record.response;
  }
}
