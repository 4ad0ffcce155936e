import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  BATCH_ATTR,
  decodePartitionMeta,
  itemKey,
  META_ATTR,
  offsetSk,
  partitionMetaKey,
  type PartitionMeta,
} from '../storage/log-table.js';
import { deleteSomeItems } from '../storage/partition-key.js';

const M = META_ATTR;

/**
 * The only writer of the partition meta item (`p#<topicId>#<partition>` / `#meta`), and of the TTL on hot
 * batch items (lib/storage/log-table.ts names their attributes). Every write is conditional on the state it advances from, so two overlapping passes never
 * move a mark backwards, and a lost race is a `false`, not an exception (KCL's rule).
 *
 * ```
 * offsets:  0 ── startOffset ──── releasedOffset ──── tieredOffset = endOffset ──── hot end
 *           gone  │ cold (hot copies on TTL) │ cold + hot (TTL pending) │ hot only
 * ```
 * The tiering end floor (attribute `endOffset`, with its `maxTimestamp`) always equals `tieredOffset`: it is the
 * floor of the log end once TTL has removed every hot item, and it is written BEFORE any hot item gets a TTL
 * (docs/design.md, invariant 1: offsets are never reused).
 */
export class PartitionMetaWriter {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: { doc: DynamoDBDocumentClient; tableName: string }) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  /** The marks as stored now (a strongly consistent read), decoded as readers decode them. */
  async read(pk: string): Promise<PartitionMeta> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: partitionMetaKey(pk), ConsistentRead: true }));
    return decodePartitionMeta(Item);
  }

  /**
   * Moves `tieredOffset` (and with it the tiering end floor) from `from` to `to`, only if it is still `from`:
   * the segment covering [from, to) is indexed, and this write makes it the partition's cold range.
   */
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

  /** Records that every hot copy below `to` has its TTL (never moves back, never past `tieredOffset`). */
  async advanceReleased(pk: string, to: number): Promise<boolean> {
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression: `SET ${M.releasedOffset} = :to`,
      ConditionExpression: `${M.tieredOffset} >= :to AND (attribute_not_exists(${M.releasedOffset}) OR ${M.releasedOffset} < :to)`,
      ExpressionAttributeValues: { ':to': to },
    });
  }

  /** Retention: moves `startOffset` up to `to` (never back, never past `tieredOffset`). */
  async advanceStart(pk: string, to: number): Promise<boolean> {
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression: `SET ${M.startOffset} = :to`,
      ConditionExpression: `${M.tieredOffset} >= :to AND (attribute_not_exists(${M.startOffset}) OR ${M.startOffset} < :to)`,
      ExpressionAttributeValues: { ':to': to },
    });
  }

  /**
   * Hot retention: records the partition's end offset (and running max timestamp) as a floor that outlives
   * every hot item, before any of them can expire. Never moves back.
   */
  async advanceFloor(pk: string, to: number, maxTimestamp: number): Promise<boolean> {
    return this.conditional({
      Key: partitionMetaKey(pk),
      UpdateExpression: `SET ${M.hotFloorOffset} = :to, ${M.hotFloorMaxTimestamp} = :mt`,
      ConditionExpression: `attribute_not_exists(${M.hotFloorOffset}) OR ${M.hotFloorOffset} < :to`,
      ExpressionAttributeValues: { ':to': to, ':mt': maxTimestamp },
    });
  }

  /**
   * Hot retention: moves `startOffset` from `meta.startOffset` to `to` over hot batches past their retention.
   * Offsets below the new start need no tiering, so the tiering marks move up with it (keeping the tiering end
   * floor equal to `tieredOffset`, and `to` is never above the hot floor, which was recorded first). Conditional
   * on the marks read, so a concurrent tiering or retention step makes this a lost race (`false`).
   */
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

  /**
   * Gives a tiered hot batch item its TTL (epoch seconds). Never creates an item (it may be gone already) and
   * never replaces an earlier expiry.
   */
  async setExpiry(pk: string, baseOffset: number, expiresAtSec: number): Promise<boolean> {
    return this.conditional({
      Key: itemKey(pk, offsetSk(baseOffset)),
      UpdateExpression: `SET ${BATCH_ATTR.expiresAt} = :e`,
      ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(${BATCH_ATTR.expiresAt})`,
      ExpressionAttributeValues: { ':e': expiresAtSec },
    });
  }

  /** Deletes up to `limit` items under `pk` (a deleted topic's partition); returns how many. */
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
