import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { InvalidRequestError, TopicExistsError, TopicNotFoundError } from '../errors.js';
import { CATALOG_PK, DELETED_PK, TOPIC_SK, topicPk } from '../log/keys.js';
import { queryAllItems } from '../storage/partition-key.js';
import type { CreateTopicInput, DeletedTopic, Topic, TopicStore, TopicSummary, UpdateTopicInput } from './topic.js';

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
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { pk: topicPk(topic.name), sk: TOPIC_SK, ...topic },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.table, Item: { pk: CATALOG_PK, sk: topic.name, partitions: topic.partitions } } },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error, 0)) throw new TopicExistsError(topic.name);
      throw error;
    }
    this.cache.delete(topic.name);
    return topic;
  }

  async get(name: string): Promise<Topic> {
    const cached = this.cache.get(name);
    if (cached && cached.until > this.now()) return cached.topic;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: topicPk(name), sk: TOPIC_SK }, ConsistentRead: true }),
    );
    if (!Item) {
      this.cache.delete(name);
      throw new TopicNotFoundError(name);
    }
    const topic = toTopic(Item);
    if (this.cacheMs > 0) this.cache.set(name, { topic, until: this.now() + this.cacheMs });
    return topic;
  }

  async list(): Promise<TopicSummary[]> {
    const items = await queryAllItems(this.doc, this.table, CATALOG_PK);
    return items.map((item) => ({ name: String(item.sk), partitions: Number(item.partitions) }));
  }

  async update(name: string, input: UpdateTopicInput): Promise<Topic> {
    this.cache.delete(name);
    const current = await this.get(name);
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
    try {
      // Conditional on the incarnation we read: a concurrent delete/re-create makes this a clean 404, and a
      // concurrent grow can only be replaced by a value at least as large (checked by the condition).
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { pk: topicPk(name), sk: TOPIC_SK },
                // `partitions` is a DynamoDB reserved word. A changed retention or partition count changes what
                // maintenance has to do: the next pass looks at the topic again.
                UpdateExpression: 'SET #partitions = :p, retentionHours = :r REMOVE maintainAfter',
                ConditionExpression: 'topicId = :id AND #partitions <= :p',
                ExpressionAttributeNames: { '#partitions': 'partitions' },
                ExpressionAttributeValues: { ':p': next.partitions, ':r': next.retentionHours, ':id': current.topicId },
              },
            },
            { Put: { TableName: this.table, Item: { pk: CATALOG_PK, sk: name, partitions: next.partitions } } },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error, 0)) {
        this.cache.delete(name);
        const latest = await this.get(name); // 404 when it was deleted meanwhile
        throw new InvalidRequestError(`topic '${name}' changed concurrently (now ${latest.partitions} partitions); retry`, {
          details: { partitions: latest.partitions },
        });
      }
      throw error;
    }
    this.cache.delete(name);
    return next;
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
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: { pk: topicPk(name), sk: TOPIC_SK },
                ConditionExpression: 'topicId = :id',
                ExpressionAttributeValues: { ':id': topic.topicId },
              },
            },
            { Delete: { TableName: this.table, Key: { pk: CATALOG_PK, sk: name } } },
            // Remembered until the maintenance pass has reclaimed this incarnation's storage.
            { Put: { TableName: this.table, Item: { pk: DELETED_PK, sk: topic.topicId, ...deleted } } },
          ],
        }),
      );
    } catch (error) {
      if (isConditionFailure(error, 0)) throw new TopicNotFoundError(name);
      throw error;
    }
    this.cache.delete(name);
    return deleted;
  }

  async scheduleMaintenance(topic: Topic, maintainAfter: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: topicPk(topic.name), sk: TOPIC_SK },
          UpdateExpression: 'SET maintainAfter = :t',
          // Only this incarnation, and never over a PATCH that cleared the schedule since the pass read it.
          ConditionExpression: 'topicId = :id AND retentionHours = :r AND #partitions = :p',
          ExpressionAttributeNames: { '#partitions': 'partitions' },
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
    return items.map((item) => ({
      name: String(item.name),
      topicId: String(item.topicId),
      partitions: Number(item.partitions),
      deletedAt: Number(item.deletedAt),
    }));
  }

  async forgetDeleted(topicId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: DELETED_PK, sk: topicId } }));
  }
}

function toTopic(item: Record<string, unknown>): Topic {
  return {
    name: String(item.name),
    topicId: String(item.topicId),
    partitions: Number(item.partitions),
    retentionHours: Number(item.retentionHours),
    createdAt: Number(item.createdAt),
    ...(typeof item.maintainAfter === 'number' ? { maintainAfter: item.maintainAfter } : {}),
  };
}

/** True when a transaction was cancelled because the condition of item `index` failed. */
export function isConditionFailure(error: unknown, index: number): boolean {
  return (
    error instanceof TransactionCanceledException &&
    error.CancellationReasons?.[index]?.Code === 'ConditionalCheckFailed'
  );
}
