import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  decodeSegmentItem,
  encodeSegmentItem,
  itemKey,
  MAX_OFFSET_SK,
  offsetSk,
  SEGMENT_ATTR,
  segmentPk,
} from '../storage/log-table.js';
import { deleteSomeItems } from '../storage/partition-key.js';
import { decodeSegmentIndex, SEGMENT_VERSION } from './segment-format.js';
import type { SegmentIndex, SegmentInfo } from './segment-store.js';

/**
 * The segment index in the log table: one item per cold segment at `seg#<topicId>#<partition>` / 16-digit base
 * offset, carrying the segment's byte-position index (≤ 4096 × 40 bytes), so that a cold read costs this
 * item plus one ranged GET. An entry is written once, with `attribute_not_exists`: the first writer for a base
 * offset owns it, and a segment is readable exactly from the moment its entry exists.
 */
export class DynamoSegmentIndex implements SegmentIndex {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: { doc: DynamoDBDocumentClient; tableName: string; now?: () => number }) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now ?? Date.now;
  }

  /**
   * Indexes a segment unless an entry at its base offset exists already.
   * @returns true when this call created the entry, false when another writer's entry holds the base offset.
   */
  async put(info: SegmentInfo): Promise<boolean> {
    const item = encodeSegmentItem(info, SEGMENT_VERSION, this.now());
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(topicId: string, partition: number, baseOffset: number): Promise<SegmentInfo | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: itemKey(segmentPk(topicId, partition), offsetSk(baseOffset)), ConsistentRead: true }),
    );
    return Item ? toSegmentInfo(topicId, partition, Item) : undefined;
  }

  /** The segment whose range contains `offset`, if any (one Query, Limit 1). */
  async containing(topicId: string, partition: number, offset: number): Promise<SegmentInfo | undefined> {
    const segment = await this.atOrBelow(topicId, partition, offset);
    return segment && offset < segment.endOffset ? segment : undefined;
  }

  /** The segment with the greatest base offset ≤ `offset`. */
  async atOrBelow(topicId: string, partition: number, offset: number): Promise<SegmentInfo | undefined> {
    if (offset < 0) return undefined;
    return this.one(topicId, partition, false, offsetSk(offset));
  }

  /** The oldest (`forward`) or newest segment of the partition. */
  async edge(topicId: string, partition: number, forward: boolean): Promise<SegmentInfo | undefined> {
    return this.one(topicId, partition, forward, forward ? offsetSk(0) : MAX_OFFSET_SK);
  }

  /** A page of segments in offset order from `fromOffset`. */
  async list(
    topicId: string,
    partition: number,
    options: { fromOffset?: number; limit: number },
  ): Promise<{ segments: SegmentInfo[]; more: boolean }> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk >= :lo',
        ExpressionAttributeValues: { ':pk': segmentPk(topicId, partition), ':lo': offsetSk(options.fromOffset ?? 0) },
        Limit: options.limit,
        ConsistentRead: true,
      }),
    );
    return {
      segments: (page.Items ?? []).map((item) => toSegmentInfo(topicId, partition, item)),
      more: page.LastEvaluatedKey !== undefined,
    };
  }

  /** Removes an entry, only if it still names `key` (never a replacement written at the same base offset). */
  async delete(segment: Pick<SegmentInfo, 'topicId' | 'partition' | 'baseOffset' | 'key'>): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: itemKey(segmentPk(segment.topicId, segment.partition), offsetSk(segment.baseOffset)),
          ConditionExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': SEGMENT_ATTR.key },
          ExpressionAttributeValues: { ':key': segment.key },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Deletes up to `limit` entries of a partition (a deleted topic's); returns how many it deleted. */
  async deleteSome(topicId: string, partition: number, limit: number): Promise<number> {
    return deleteSomeItems(this.doc, this.table, segmentPk(topicId, partition), limit);
  }

  private async one(topicId: string, partition: number, forward: boolean, bound: string): Promise<SegmentInfo | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: forward ? 'pk = :pk AND sk >= :b' : 'pk = :pk AND sk <= :b',
        ExpressionAttributeValues: { ':pk': segmentPk(topicId, partition), ':b': bound },
        ScanIndexForward: forward,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = Items?.[0];
    return item ? toSegmentInfo(topicId, partition, item) : undefined;
  }
}

/** An index item, with its byte-position index decoded. */
function toSegmentInfo(topicId: string, partition: number, item: Record<string, unknown>): SegmentInfo {
  const stored = decodeSegmentItem(topicId, partition, item);
  return { ...stored, entries: decodeSegmentIndex(stored.index) };
}
