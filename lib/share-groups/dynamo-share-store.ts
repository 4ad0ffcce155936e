import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { TopicPartition } from '../groups/assignment.js';
import { expressionNames, registryUpdate } from '../groups/lease-table.js';
import { deleteSomeItems, queryAllItems } from '../storage/partition-key.js';
import { PARTITION_KEY, SORT_KEY } from '../storage/tables.js';
import {
  CONFIG,
  configKey,
  decodeConfig,
  decodeGroupItems,
  decodePartition,
  decodeRegistryEntry,
  decodeSubscription,
  decodeWriters,
  encodePartition,
  encodeSubscription,
  PARTITION,
  PARTITION_PREFIX,
  partitionKey,
  SHARE_REGISTRY_PK,
  shareRegistryKey,
  sharePk,
  subscriptionKey,
  topicPartitionsPrefix,
} from './share-table.js';
import type { ConfigPatch, ShareConfig, ShareGroupRecords, SharePartitionRecord, ShareStore, Subscription } from './share-store.js';
import { DEFAULT_MAX_DELIVERIES } from './share-window.js';

/** Items one group deletion removes per round (a Query page, then BatchWriteItem in 25s). */
const DELETE_PAGE = 100;

/**
 * {@link ShareStore} on DynamoDB: the lease table's share items (share-table.ts). Every share-partition write
 * is a whole-item Put conditional on the version read, so the window logic (share-window.ts) runs on exactly
 * the state it replaces.
 */
export class DynamoShareStore implements ShareStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: { readonly doc: DynamoDBDocumentClient; readonly tableName: string }) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  async loadGroup(group: string): Promise<ShareGroupRecords | null> {
    // `cfg` and `sub#…` sort below `win#`: the configuration and subscriptions without any window.
    const items = await this.query(group, '#sk < :prefix', PARTITION_PREFIX);
    if (items.length === 0) return null;
    return decodeGroupItems(items);
  }

  async loadPartitions(group: string, topic?: string): Promise<SharePartitionRecord[]> {
    const prefix = topic === undefined ? PARTITION_PREFIX : topicPartitionsPrefix(topic);
    return (await this.query(group, 'begins_with(#sk, :prefix)', prefix)).map(decodePartition);
  }

  async getPartition(group: string, partition: TopicPartition): Promise<SharePartitionRecord | null> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: partitionKey(group, partition), ConsistentRead: true }));
    return Item ? decodePartition(Item) : null;
  }

  /*
   * THE share-partition write: the whole item, conditional on the version this step read.
   *
   *   fetch A: reads v=7 ─ acquires 10..19 ─ Put v=8 IF v=7 ✔ ─ returns 10..19 to A
   *   fetch B: reads v=7 ─ acquires 10..19 ─ Put v=8 IF v=7 ✘ → 'lost': B reads again (v=8) and acquires 20..
   *
   * The SDK retries a write whose response was lost; the retry then fails the condition although the first
   * attempt won. So each write carries a random id, and the item remembers the last few (`ws`): a failed write
   * whose id is among them was ours (the append protocol's `w`, docs/design.md "Append").
   */
  async writePartition(group: string, next: SharePartitionRecord, expectedVersion: number | null, writer: string): Promise<'ok' | 'lost'> {
    const version = (expectedVersion ?? 0) + 1;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: encodePartition(group, next, version, writer),
          ConditionExpression: expectedVersion === null ? 'attribute_not_exists(#sk)' : '#version = :expected',
          ExpressionAttributeNames: expectedVersion === null ? { '#sk': SORT_KEY } : expressionNames(PARTITION, 'version'),
          ...(expectedVersion === null ? {} : { ExpressionAttributeValues: { ':expected': expectedVersion } }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'ok';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The exception's item is in the low-level format: the document client converts responses, not errors.
      return error.Item && decodeWriters(unmarshall(error.Item)).includes(writer) ? 'ok' : 'lost';
    }
  }

  async putSubscription(group: string, subscription: Subscription): Promise<Subscription> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: encodeSubscription(group, subscription),
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': SORT_KEY },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return subscription;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || !error.Item) throw error;
      return decodeSubscription(unmarshall(error.Item));
    }
  }

  async deleteSubscription(group: string, topic: string): Promise<boolean> {
    // The subscription first: fetches stop reading the topic; its windows are then removed (a crash in between
    // leaves windows of an ended subscription, which a new one replaces: their subscription id differs).
    const { Attributes } = await this.doc.send(new DeleteCommand({ TableName: this.table, Key: subscriptionKey(group, topic), ReturnValues: 'ALL_OLD' }));
    const windows = await this.loadPartitions(group, topic);
    await Promise.all(windows.map((w) => this.doc.send(new DeleteCommand({ TableName: this.table, Key: partitionKey(group, w) }))));
    return Attributes !== undefined;
  }

  async putConfig(group: string, patch: ConfigPatch, now: number): Promise<ShareConfig> {
    const sets = [`#updatedAt = :now`, `#maxDeliveries = ${patch.maxDeliveries === undefined ? 'if_not_exists(#maxDeliveries, :defaultMax)' : ':max'}`];
    const removes: string[] = [];
    if (typeof patch.deadLetterTopic === 'string') sets.push('#deadLetterTopic = :dlq');
    else if (patch.deadLetterTopic === null) removes.push('#deadLetterTopic');
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: configKey(group),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ExpressionAttributeNames: expressionNames(CONFIG, 'updatedAt', 'maxDeliveries', ...(patch.deadLetterTopic !== undefined ? (['deadLetterTopic'] as const) : [])),
        ExpressionAttributeValues: {
          ':now': now,
          ...(patch.maxDeliveries === undefined ? { ':defaultMax': DEFAULT_MAX_DELIVERIES } : { ':max': patch.maxDeliveries }),
          ...(typeof patch.deadLetterTopic === 'string' ? { ':dlq': patch.deadLetterTopic } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return decodeConfig(Attributes ?? {});
  }

  async registerGroup(group: string, now: number): Promise<void> {
    await this.doc.send(new UpdateCommand({ TableName: this.table, ...registryUpdate(shareRegistryKey(group), group, now) }));
  }

  async listGroups(): Promise<string[]> {
    return (await queryAllItems(this.doc, this.table, SHARE_REGISTRY_PK)).map(decodeRegistryEntry);
  }

  async deleteGroup(group: string): Promise<boolean> {
    let deleted = 0;
    for (let n = await deleteSomeItems(this.doc, this.table, sharePk(group), DELETE_PAGE); n > 0; n = await deleteSomeItems(this.doc, this.table, sharePk(group), DELETE_PAGE)) {
      deleted += n;
    }
    const { Attributes } = await this.doc.send(new DeleteCommand({ TableName: this.table, Key: shareRegistryKey(group), ReturnValues: 'ALL_OLD' }));
    return deleted > 0 || Attributes !== undefined;
  }

  /** Every item of the group whose sort key satisfies `condition` on `:prefix`, strongly consistent. */
  private async query(group: string, condition: string, prefix: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: `#pk = :pk AND ${condition}`,
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY },
          ExpressionAttributeValues: { ':pk': sharePk(group), ':prefix': prefix },
          ConsistentRead: true,
          ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}
