import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BATCH_ATTR, decodePartitionMeta, itemKey, META_ATTR, offsetSk, partitionMetaKey } from '../storage/log-table.js';
import type { PartitionMeta } from '../storage/log-items.js';
import { deleteSomeItems } from '../storage/partition-key.js';
import type { PartitionMetaWriter } from './partition-meta-writer.js';

const M = META_ATTR;

/**
 * The {@link PartitionMetaWriter} over the log table: the only writer of the partition meta item
 * (`p#<topicId>#<partition>` / `#meta`) and of the TTL on hot batch items; lib/storage/log-table.ts names
 * their attributes. Each advance is one conditional UpdateItem.
 */
export class DynamoPartitionMetaWriter implements PartitionMetaWriter {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: { doc: DynamoDBDocumentClient; tableName: string }) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  async read(pk: string): Promise<PartitionMeta> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: partitionMetaKey(pk), ConsistentRead: true }));
    return decodePartitionMeta(Item);
  }

  async advanceTiered(pk: string, from: number, to: number, maxTimestamp: number): Promise<boolean> {
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression:
        `SET ${M.tieredOffset} = :to, ${M.tieredEndOffset} = :to, ${M.tieredMaxTimestamp} = :mt, ` +
        `${M.startOffset} = if_not_exists(${M.startOffset}, :zero), ${M.releasedOffset} = if_not_exists(${M.releasedOffset}, :from)`,
      ConditionExpression:
        from === 0 ? `attribute_not_exists(${M.tieredOffset}) OR ${M.tieredOffset} = :from` : `${M.tieredOffset} = :from`,
      ExpressionAttributeValues: { ':to': to, ':from': from, ':mt': maxTimestamp, ':zero': 0 },
    });
  }

  async advanceReleased(pk: string, to: number): Promise<boolean> {
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression: `SET ${M.releasedOffset} = :to`,
      ConditionExpression: `${M.tieredOffset} >= :to AND (attribute_not_exists(${M.releasedOffset}) OR ${M.releasedOffset} < :to)`,
      ExpressionAttributeValues: { ':to': to },
    });
  }

  async advanceStart(pk: string, to: number): Promise<boolean> {
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression: `SET ${M.startOffset} = :to`,
      ConditionExpression: `${M.tieredOffset} >= :to AND (attribute_not_exists(${M.startOffset}) OR ${M.startOffset} < :to)`,
      ExpressionAttributeValues: { ':to': to },
    });
  }

  async advanceHotFloor(pk: string, to: number, maxTimestamp: number): Promise<boolean> {
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression: `SET ${M.hotFloorOffset} = :to, ${M.hotFloorMaxTimestamp} = :mt`,
      ConditionExpression: `attribute_not_exists(${M.hotFloorOffset}) OR ${M.hotFloorOffset} < :to`,
      ExpressionAttributeValues: { ':to': to, ':mt': maxTimestamp },
    });
  }

  async advanceHotStart(pk: string, meta: PartitionMeta, to: number): Promise<boolean> {
    const tiered = Math.max(meta.tieredOffset, to);
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression: `SET ${M.startOffset} = :to, ${M.tieredOffset} = :t, ${M.tieredEndOffset} = :e, ${M.releasedOffset} = :r`,
      ConditionExpression:
        `(attribute_not_exists(${M.startOffset}) OR ${M.startOffset} = :oldStart) AND ` +
        `(attribute_not_exists(${M.tieredOffset}) OR ${M.tieredOffset} = :oldTiered) AND ${M.hotFloorOffset} >= :to`,
      ExpressionAttributeValues: {
        ':to': to,
        ':t': tiered,
        ':e': tiered,
        ':r': Math.max(meta.releasedOffset, tiered),
        ':oldStart': meta.startOffset,
        ':oldTiered': meta.tieredOffset,
      },
    });
  }

  async setExpiry(pk: string, baseOffset: number, expiresAtSec: number): Promise<boolean> {
    return this.conditional({
      Key: itemKey(pk, offsetSk(baseOffset)),
      UpdateExpression: `SET ${BATCH_ATTR.expiresAt} = :e`,
      ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(${BATCH_ATTR.expiresAt})`,
      ExpressionAttributeValues: { ':e': expiresAtSec },
    });
  }

  async deleteSome(pk: string, limit: number): Promise<number> {
    return deleteSomeItems(this.doc, this.table, pk, limit);
  }

  private async conditional(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.table, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
