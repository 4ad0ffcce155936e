import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConcurrentUpdateError, InvalidRequestError, TopicExistsError, TopicNotFoundError } from '../errors.js';
import {
  CATALOG_PK,
  decodeCatalogItem,
  decodeDeletedTopicItem,
  decodeTopicItem,
  DELETED_PK,
  encodeCatalogItem,
  encodeDeletedTopicItem,
  encodeTopicItem,
  itemKey,
  TOPIC_ATTR,
  TOPIC_SK,
  topicPk,
} from '../storage/log-table.js';
import { queryAllItems } from '../storage/partition-key.js';
import type { CreateTopicInput, DeletedTopic, Topic, TopicStore, TopicSummary, UpdateTopicInput } from './topic.js';

/** Lost races a topic update re-applies itself after (each one means another update of the topic landed). */
export const MAX_TOPIC_UPDATE_ATTEMPTS = 8;

export interface DynamoTopicStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long `get` may serve a cached topic; 0 disables the cache. Writes through this store invalidate it. */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/**
 * Topics in the log table: the authoritative item `topic#<name> / meta` (read on every produce and fetch,
 * one item per topic, so no hot key is shared between topics) and a catalog entry `catalog / <name>` for
 * listing, written together in one transaction. Topic administration is rare, so the transactional price is
 * irrelevant here.
 */
export class DynamoTopicStore implements TopicStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { topic: Topic; until: number }>();

  constructor(options: DynamoTopicStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.cacheMs = options.cacheMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  async create(input: CreateTopicInput): Promise<Topic> {
    const topic: Topic = {
      name: input.name,
      topicId: randomUUID().replace(/-/g, '').slice(0, 16),
      partitions: input.partitions,
      retentionHours: input.retentionHours,
      createdAt: this.now(),
    };
    // A transaction conflict (a concurrent create or delete of the same name in flight) decides nothing: try
    // again, and the condition then tells whether the topic exists.
    await retryOnConflict(`topic '${topic.name}'`, async () => {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: { TableName: this.table, Item: encodeTopicItem(topic), ConditionExpression: 'attribute_not_exists(pk)' },
              },
              { Put: { TableName: this.table, Item: encodeCatalogItem(topic) } },
            ],
          }),
        );
      } catch (error) {
        if (isConditionFailure(error, 0)) throw new TopicExistsError(topic.name);
        throw error;
      }
    });
    this.cache.delete(topic.name);
    return topic;
  }

  async get(name: string, options: { readonly fresh?: boolean } = {}): Promise<Topic> {
    const cached = options.fresh ? undefined : this.cache.get(name);
    if (cached && cached.until > this.now()) return cached.topic;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: itemKey(topicPk(name), TOPIC_SK), ConsistentRead: true }),
    );
    if (!Item) {
      this.cache.delete(name);
      throw new TopicNotFoundError(name);
    }
    const topic = decodeTopicItem(Item);
    if (this.cacheMs > 0) this.cache.set(name, { topic, until: this.now() + this.cacheMs });
    return topic;
  }

  async list(): Promise<TopicSummary[]> {
    const items = await queryAllItems(this.doc, this.table, CATALOG_PK);
    return items.map(decodeCatalogItem);
  }

  /**
   * Applies `input` to the topic's current state. A lost race (another update of the partition count landed
   * between our read and our write, or DynamoDB cancelled our transaction for a concurrent one) is not the
   * caller's fault: the update is re-read and re-applied, as if it had arrived just after the winner. Each
   * lost race means another update succeeded, so this ends; after {@link MAX_TOPIC_UPDATE_ATTEMPTS} it gives up
   * with a retriable 409.
   * @throws TopicNotFoundError (also when the topic was deleted or re-created meanwhile), InvalidRequestError
   *   (partitions may only grow, checked against the state the update is applied to), ConcurrentUpdateError
   */
  async update(name: string, input: UpdateTopicInput): Promise<Topic> {
    let incarnation: string | undefined;
    for (let attempt = 1; attempt <= MAX_TOPIC_UPDATE_ATTEMPTS; attempt++) {
      this.cache.delete(name);
      const current = await this.get(name);
      // A retry applies to the topic the request first found, never to a re-created one.
      if (incarnation !== undefined && current.topicId !== incarnation) throw new TopicNotFoundError(name);
      incarnation = current.topicId;
      if (input.partitions !== undefined && input.partitions < current.partitions) {
        throw new InvalidRequestError(
          `partitions can only grow: topic '${name}' has ${current.partitions}, asked for ${input.partitions}`,
          { details: { partitions: current.partitions } },
        );
      }
      const { maintainAfter: _previousSchedule, ...unscheduled } = current;
      const next: Topic = {
        ...unscheduled,
        partitions: input.partitions ?? current.partitions,
        retentionHours: input.retentionHours ?? current.retentionHours,
      };
      if (await this.writeUpdate(current, next)) {
        this.cache.delete(name);
        return next;
      }
    }
    this.cache.delete(name);
    throw new ConcurrentUpdateError(`topic '${name}' kept changing concurrently; retry`, { details: { topic: name } });
  }

  /**
   * One conditional write of an update; false when it lost a race.
   *
   * ```
   * PATCH A (retention): get → p=2 ──────────────────────── write if p ≤ 2 ✘ (p=5) → get → p=5 → write ✔
   * PATCH B (p=5):         get → p=2 ─ write if p ≤ 5 ✔
   * ```
   * Conditional on the incarnation read (a delete or re-create in between fails it) and on the partition count
   * not having grown past the value written (a concurrent grow is never undone).
   */
  private async writeUpdate(current: Topic, next: Topic): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: itemKey(topicPk(current.name), TOPIC_SK),
                // `partitions` is a DynamoDB reserved word. A changed retention or partition count changes what
                // maintenance has to do: the next pass looks at the topic again.
                UpdateExpression: `SET #partitions = :p, ${TOPIC_ATTR.retentionHours} = :r REMOVE ${TOPIC_ATTR.maintainAfter}`,
                ConditionExpression: `${TOPIC_ATTR.topicId} = :id AND #partitions <= :p`,
                ExpressionAttributeNames: { '#partitions': TOPIC_ATTR.partitions },
                ExpressionAttributeValues: { ':p': next.partitions, ':r': next.retentionHours, ':id': current.topicId },
              },
            },
            { Put: { TableName: this.table, Item: encodeCatalogItem(next) } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error, 0) || isTransactionConflict(error)) return false;
      throw error;
    }
  }

  async delete(name: string): Promise<DeletedTopic> {
    this.cache.delete(name);
    const topic = await this.get(name);
    const deleted: DeletedTopic = {
      name,
      topicId: topic.topicId,
      partitions: topic.partitions,
      deletedAt: this.now(),
    };
    await retryOnConflict(`topic '${name}'`, async () => {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Delete: {
                  TableName: this.table,
                  Key: itemKey(topicPk(name), TOPIC_SK),
                  ConditionExpression: `${TOPIC_ATTR.topicId} = :id`,
                  ExpressionAttributeValues: { ':id': topic.topicId },
                },
              },
              { Delete: { TableName: this.table, Key: itemKey(CATALOG_PK, name) } },
              // Remembered until the maintenance pass has reclaimed this incarnation's storage.
              { Put: { TableName: this.table, Item: encodeDeletedTopicItem(deleted) } },
            ],
          }),
        );
      } catch (error) {
        if (isConditionFailure(error, 0)) throw new TopicNotFoundError(name);
        throw error;
      }
    });
    this.cache.delete(name);
    return deleted;
  }

  async scheduleMaintenance(topic: Topic, maintainAfter: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: itemKey(topicPk(topic.name), TOPIC_SK),
          UpdateExpression: `SET ${TOPIC_ATTR.maintainAfter} = :t`,
          // Only this incarnation, and never over a PATCH that cleared the schedule since the pass read it.
          ConditionExpression: `${TOPIC_ATTR.topicId} = :id AND ${TOPIC_ATTR.retentionHours} = :r AND #partitions = :p`,
          ExpressionAttributeNames: { '#partitions': TOPIC_ATTR.partitions },
          ExpressionAttributeValues: { ':t': maintainAfter, ':id': topic.topicId, ':r': topic.retentionHours, ':p': topic.partitions },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    this.cache.delete(topic.name);
  }

  async listDeleted(): Promise<DeletedTopic[]> {
    const items = await queryAllItems(this.doc, this.table, DELETED_PK);
    return items.map(decodeDeletedTopicItem);
  }

  async forgetDeleted(topicId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: itemKey(DELETED_PK, topicId) }));
  }
}

/**
 * Runs `write` again while DynamoDB cancels it for a concurrent transaction on the same items (at most
 * {@link MAX_TOPIC_UPDATE_ATTEMPTS} times), then gives up with a retriable 409.
 */
async function retryOnConflict(what: string, write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; attempt <= MAX_TOPIC_UPDATE_ATTEMPTS; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isTransactionConflict(error)) throw error;
    }
  }
  throw new ConcurrentUpdateError(`${what} kept changing concurrently; retry`);
}

/**
 * True when DynamoDB cancelled a transaction because another transaction was changing one of its items at the
 * same moment: a lost race like a failed condition, and worth the same re-read and retry.
 */
function isTransactionConflict(error: unknown): boolean {
  return error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
}

/** True when a transaction was cancelled because the condition of item `index` failed. */
function isConditionFailure(error: unknown, index: number): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed'
  );
}
