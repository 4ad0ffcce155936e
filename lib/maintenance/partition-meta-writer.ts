import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { offsetSk, PARTITION_META_SK } from '../log/keys.js';
import type { PartitionMeta } from '../log/log-store.js';
import { deleteSomeItems } from '../storage/partition-key.js';

/** The partition meta item as maintenance sees it: {@link PartitionMeta} plus its own progress mark. */
export interface MaintenanceMeta extends PartitionMeta {
  /**
   * Hot copies of offsets below this have their TTL set. Between `releasedOffset` and `tieredOffset` a pass
   * was interrupted after indexing and before (or while) setting TTLs; the next pass finishes the job.
   */
  readonly releasedOffset: number;
  /** The end-offset floor recorded by the hot-retention pass (hot topics are not tiered, so no `tieredOffset`). */
  readonly floorOffset: number;
}

/**
 * The only writer of the partition meta item (`p#<topicId>#<partition>` / `#meta`), and of `expiresAt` on hot
 * batch items. Every write is conditional on the state it advances from, so two overlapping passes never
 * move a mark backwards, and a lost race is a `false`, not an exception (KCL's rule).
 *
 * ```
 * offsets:  0 ── startOffset ──── releasedOffset ──── tieredOffset = endOffset ──── hot end
 *           gone  │ cold (hot copies on TTL) │ cold + hot (TTL pending) │ hot only
 * ```
 * `endOffset` (with `maxTimestamp`) always equals `tieredOffset`: it is the floor of the log end once TTL has
 * removed every hot item, and it is written BEFORE any hot item gets a TTL (invariant 1 of DESIGN.md).
 */
export class PartitionMetaWriter {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: { doc: DynamoDBDocumentClient; tableName: string }) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  async read(pk: string): Promise<MaintenanceMeta> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk, sk: PARTITION_META_SK }, ConsistentRead: true }),
    );
    const tieredOffset = Number(Item?.tieredOffset ?? 0);
    return {
      startOffset: Number(Item?.startOffset ?? 0),
      endOffset: Number(Item?.endOffset ?? 0),
      maxTimestamp: Number(Item?.maxTimestamp ?? -Infinity),
      tieredOffset,
      releasedOffset: Number(Item?.releasedOffset ?? tieredOffset),
      floorOffset: Number(Item?.floorOffset ?? 0),
    };
  }

  /**
   * Moves `tieredOffset` (and with it `endOffset`/`maxTimestamp`) from `from` to `to`, only if it is still
   * `from`: the segment covering [from, to) is indexed, and this write makes it the partition's cold range.
   */
  async advanceTiered(pk: string, from: number, to: number, maxTimestamp: number): Promise<boolean> {
    return this.conditional({
      Key: { pk, sk: PARTITION_META_SK },
      UpdateExpression:
        'SET tieredOffset = :to, endOffset = :to, maxTimestamp = :mt, ' +
        'startOffset = if_not_exists(startOffset, :zero), releasedOffset = if_not_exists(releasedOffset, :from)',
      ConditionExpression: from === 0 ? 'attribute_not_exists(tieredOffset) OR tieredOffset = :from' : 'tieredOffset = :from',
      ExpressionAttributeValues: { ':to': to, ':from': from, ':mt': maxTimestamp, ':zero': 0 },
    });
  }

  /** Records that every hot copy below `to` has its TTL (never moves back, never past `tieredOffset`). */
  async advanceReleased(pk: string, to: number): Promise<boolean> {
    return this.conditional({
      Key: { pk, sk: PARTITION_META_SK },
      UpdateExpression: 'SET releasedOffset = :to',
      ConditionExpression: 'tieredOffset >= :to AND (attribute_not_exists(releasedOffset) OR releasedOffset < :to)',
      ExpressionAttributeValues: { ':to': to },
    });
  }

  /** Retention: moves `startOffset` up to `to` (never back, never past `tieredOffset`). */
  async advanceStart(pk: string, to: number): Promise<boolean> {
    return this.conditional({
      Key: { pk, sk: PARTITION_META_SK },
      UpdateExpression: 'SET startOffset = :to',
      ConditionExpression: 'tieredOffset >= :to AND (attribute_not_exists(startOffset) OR startOffset < :to)',
      ExpressionAttributeValues: { ':to': to },
    });
  }

  /**
   * Hot retention: records the partition's end offset (and running max timestamp) as a floor that outlives
   * every hot item, before any of them can expire. Never moves back.
   */
  async advanceFloor(pk: string, to: number, maxTimestamp: number): Promise<boolean> {
    return this.conditional({
      Key: { pk, sk: PARTITION_META_SK },
      UpdateExpression: 'SET floorOffset = :to, floorMaxTimestamp = :mt',
      ConditionExpression: 'attribute_not_exists(floorOffset) OR floorOffset < :to',
      ExpressionAttributeValues: { ':to': to, ':mt': maxTimestamp },
    });
  }

  /**
   * Hot retention: moves `startOffset` from `meta.startOffset` to `to` over hot batches past their retention.
   * Offsets below the new start need no tiering, so the tiering marks move up with it (keeping
   * `endOffset = tieredOffset`, and `to` is never above the floor, which was recorded first). Conditional on the
   * marks read, so a concurrent tiering or retention step makes this a lost race (`false`).
   */
  async advanceHotStart(pk: string, meta: MaintenanceMeta, to: number): Promise<boolean> {
    const tiered = Math.max(meta.tieredOffset, to);
    return this.conditional({
      Key: { pk, sk: PARTITION_META_SK },
      UpdateExpression: 'SET startOffset = :to, tieredOffset = :t, endOffset = :e, releasedOffset = :r',
      ConditionExpression:
        '(attribute_not_exists(startOffset) OR startOffset = :oldStart) AND ' +
        '(attribute_not_exists(tieredOffset) OR tieredOffset = :oldTiered) AND floorOffset >= :to',
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
   * Gives a tiered hot batch item its TTL (`expiresAt`, epoch seconds). Never creates an item (it may be gone
   * already) and never replaces an earlier expiry.
   */
  async setExpiry(pk: string, baseOffset: number, expiresAtSec: number): Promise<boolean> {
    return this.conditional({
      Key: { pk, sk: offsetSk(baseOffset) },
      UpdateExpression: 'SET expiresAt = :e',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(expiresAt)',
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
