import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ACTIVITY,
  activityKey,
  decodeExpiryCursor,
  decodeRegistryEntry,
  decodeSubscription,
  EXPIRY_CURSOR,
  EXPIRY_CURSOR_KEY,
  expressionNames,
  groupItemPrefix,
  groupPk,
  REGISTRY_PK,
  registryKey,
  registryUpdate,
  SUBSCRIPTION,
  SUBSCRIPTIONS_PREFIX,
  subscriptionKey,
} from './lease-table.js';
import type { ExpiryCursor, GroupItemKind, RegistryEntry, SubscriptionRecord } from './lease-store.js';
import { deleteSomeItems, queryAllItems } from '../storage/partition-key.js';
import { PARTITION_KEY, SORT_KEY } from '../storage/tables.js';

export interface DynamoLeaseStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * The group-level items of the lease table on DynamoDB: the registry, subscriptions, the activity item and the
 * expiry cursor (docs/design.md, "Lease table"). {@link DynamoLeaseStore} extends it with members and leases;
 * the two files are one `LeaseStore`, split so that each stays readable. Layout: lib/groups/lease-table.ts.
 */
export abstract class DynamoGroupItems {
  protected readonly doc: DynamoDBDocumentClient;
  protected readonly table: string;

  constructor(options: DynamoLeaseStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  /** Sends a conditional write. @returns false when its condition failed (a lost race, as a return value). */
  protected async writeIf(command: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.doc.send(command as UpdateCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async registerGroup(group: string, now: number): Promise<void> {
    await this.doc.send(new UpdateCommand({ TableName: this.table, ...registryUpdate(registryKey(group), group, now) }));
  }

  async listGroups(): Promise<string[]> {
    return (await queryAllItems(this.doc, this.table, REGISTRY_PK)).map((item) => decodeRegistryEntry(item).group);
  }

  async getRegistryEntry(group: string): Promise<RegistryEntry | null> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: registryKey(group), ConsistentRead: true }));
    return result.Item ? decodeRegistryEntry(result.Item) : null;
  }

  async unregisterGroup(group: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: registryKey(group) }));
  }

  /* One page of the registry, in sort-key (= group-name) order: `sk > group#<after>`, so a pass resumes there. */
  async listRegistry(after: string | null, limit: number): Promise<{ entries: RegistryEntry[]; more: boolean }> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: after === null ? '#pk = :pk' : '#pk = :pk AND #sk > :after',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...(after === null ? {} : { '#sk': SORT_KEY }) },
        ExpressionAttributeValues: { ':pk': REGISTRY_PK, ...(after === null ? {} : { ':after': registryKey(after)[SORT_KEY] }) },
        Limit: limit,
      }),
    );
    return { entries: (page.Items ?? []).map(decodeRegistryEntry), more: page.LastEvaluatedKey !== undefined };
  }

  async loadSubscriptions(group: string): Promise<SubscriptionRecord[]> {
    const items = await queryAllItems(this.doc, this.table, groupPk(group), { consistent: true, skPrefix: SUBSCRIPTIONS_PREFIX });
    return items.map(decodeSubscription);
  }

  async putSubscription(group: string, topic: string, now: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: subscriptionKey(group, topic),
        UpdateExpression: 'SET #topic = :topic, #subscribedAt = if_not_exists(#subscribedAt, :now)',
        ExpressionAttributeNames: expressionNames(SUBSCRIPTION, 'topic', 'subscribedAt'),
        ExpressionAttributeValues: { ':topic': topic, ':now': now },
      }),
    );
  }

  async deleteSubscription(group: string, topic: string): Promise<boolean> {
    const result = await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: subscriptionKey(group, topic), ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes !== undefined;
  }

  /*
   * The activity item only moves forward. A refresh (a heartbeat) requires the item to exist, so a heartbeat
   * that read the group just before a DELETE cannot write it back afterwards:
   *
   *   H loads group (activeAt 2 h old) ─ DELETE group removes every item ─ H: SET activeAt IF exists → fails
   */
  async recordActivity(group: string, now: number, options: { readonly create: boolean }): Promise<boolean> {
    return this.writeIf(
      new UpdateCommand({
        TableName: this.table,
        Key: activityKey(group),
        UpdateExpression: 'SET #activeAt = :now',
        ConditionExpression: options.create ? 'attribute_not_exists(#activeAt) OR #activeAt < :now' : 'attribute_exists(#sk) AND #activeAt < :now',
        ExpressionAttributeNames: expressionNames(ACTIVITY, 'activeAt', ...(options.create ? [] : (['sk'] as const))),
        ExpressionAttributeValues: { ':now': now },
      }),
    );
  }

  async deleteGroupItems(group: string, kind: GroupItemKind, limit: number): Promise<number> {
    return deleteSomeItems(this.doc, this.table, groupPk(group), limit, groupItemPrefix(kind));
  }

  async getExpiryCursor(): Promise<ExpiryCursor> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: EXPIRY_CURSOR_KEY }));
    return decodeExpiryCursor(result.Item);
  }

  async putExpiryCursor(cursor: ExpiryCursor): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: EXPIRY_CURSOR_KEY,
        UpdateExpression: cursor.after === null ? 'SET #restUntil = :restUntil REMOVE #after' : 'SET #restUntil = :restUntil, #after = :after',
        ExpressionAttributeNames: expressionNames(EXPIRY_CURSOR, 'restUntil', 'after'),
        ExpressionAttributeValues: { ':restUntil': cursor.restUntil, ...(cursor.after === null ? {} : { ':after': cursor.after }) },
      }),
    );
  }
}
