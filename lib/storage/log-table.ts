import { gunzipSync, gzipSync } from 'node:zlib';
import type {
  HotBatch,
  IdempotencyRecord,
  PartitionMeta,
  PartitionTail,
  StoredCatalogEntry,
  StoredDeletedTopic,
  StoredSegment,
  StoredTopic,
} from './log-items.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from './tables.js';

/**
 * The log table's layout: every key, attribute name and item codec of the log table, and nothing else (the
 * decoded shapes the codecs produce are lib/storage/log-items.ts). The stores build their requests from these
 * names and read items only through these codecs, so changing how something is stored is an edit of this file
 * (and of docs/design.md, "Item layout", whose table a test holds equal to {@link LOG_TABLE_ITEMS}).
 *
 * Batches are keyed by the topic's `topicId` (not its name), so a deleted and re-created topic never sees the
 * old incarnation's records. Offsets are zero-padded to {@link OFFSET_DIGITS} digits so that string order is
 * offset order; `#meta` sorts before every digit, so a backward Query with Limit 1 returns the newest batch,
 * or the partition meta item when no batch exists. Batch attribute names are one or two letters: they are
 * stored, and paid for, in every item.
 */

// ------------------------------------------------------------------------------------------------------ keys

const OFFSET_DIGITS = 16;
/** The sort key of the batch (or segment index entry) whose base offset is `offset`. */
export const offsetSk = (offset: number): string => String(offset).padStart(OFFSET_DIGITS, '0');
const parseOffsetSk = (sk: string): number => Number(sk);
/** The largest sort key a batch can have: bounds backward queries from the end. */
export const MAX_OFFSET_SK = '9'.repeat(OFFSET_DIGITS);

export const topicPk = (name: string): string => `topic#${name}`;
export const TOPIC_SK = 'meta';
export const CATALOG_PK = 'catalog';
export const DELETED_PK = 'deleted';
/** A partition's batches and its meta item. */
export const partitionPk = (topicId: string, partition: number): string => `p#${topicId}#${partition}`;
export const PARTITION_META_SK = '#meta';
export const segmentPk = (topicId: string, partition: number): string => `seg#${topicId}#${partition}`;
export const idempotencyPk = (topicId: string, key: string): string => `idem#${topicId}#${key}`;
export const IDEMPOTENCY_SK = '-';

/** The key of an item, as DynamoDB requests name it. */
export const itemKey = (pk: string, sk: string): Record<string, string> => ({ [PARTITION_KEY]: pk, [SORT_KEY]: sk });
export const partitionMetaKey = (pk: string) => itemKey(pk, PARTITION_META_SK);

// ------------------------------------------------------------------------------------------ attribute names

/** The topic item (`topic#<name>` / `meta`): the topic's fields, as named in {@link StoredTopic}. */
export const TOPIC_ATTR = {
  name: 'name',
  topicId: 'topicId',
  partitions: 'partitions',
  retentionHours: 'retentionHours',
  createdAt: 'createdAt',
  maintainAfter: 'maintainAfter',
} as const;
/** A catalog entry (`catalog` / `<name>`), for listing topics. */
export const CATALOG_ATTR = { partitions: 'partitions' } as const;
/** A deleted topic (`deleted` / `<topicId>`), kept until maintenance has reclaimed its storage. */
export const DELETED_ATTR = { name: 'name', topicId: 'topicId', partitions: 'partitions', deletedAt: 'deletedAt' } as const;

/** A record batch (`p#…` / `<baseOffset>`). */
export const BATCH_ATTR = {
  count: 'n',
  /** Running maximum of record timestamps up to and including this batch. */
  maxTimestamp: 'mt',
  appendedAt: 'at',
  /** Encoded size in bytes, inline or spilled. */
  bytes: 'sz',
  /** The encoded batch, inline. */
  data: 'v',
  /** S3 key of the batch, when it was too large for an item. */
  spillKey: 'ref',
  /** A random id of the append that wrote the item: tells our own earlier write from a winner's. */
  writer: 'w',
  expiresAt: TTL_ATTRIBUTE,
} as const;

/**
 * The partition meta item (`p#…` / `#meta`), written by maintenance only (lib/maintenance/partition-meta-writer.ts).
 * Tiering writes `endOffset`/`maxTimestamp` together with `tieredOffset` (always equal to it); hot retention writes
 * `floorOffset`/`floorMaxTimestamp`. Each is an end-offset floor that outlives the hot items; readers take the
 * larger ({@link PartitionMeta.endFloor}).
 */
export const META_ATTR = {
  startOffset: 'startOffset',
  tieredOffset: 'tieredOffset',
  tieredEndOffset: 'endOffset',
  tieredMaxTimestamp: 'maxTimestamp',
  releasedOffset: 'releasedOffset',
  hotFloorOffset: 'floorOffset',
  hotFloorMaxTimestamp: 'floorMaxTimestamp',
} as const;

/** An idempotency record (`idem#…` / `-`): the response of the request that first used the key. */
export const IDEMPOTENCY_ATTR = { response: 'r', digest: 'd', createdAt: 'createdAt', expiresAt: TTL_ATTRIBUTE } as const;

/** A segment index entry (`seg#…` / `<baseOffset>`). */
export const SEGMENT_ATTR = {
  endOffset: 'end',
  key: 'key',
  size: 'size',
  maxTimestamp: 'mt',
  lastAppendedAt: 'at',
  spillKeys: 'spills',
  index: 'idx',
  version: 'v',
  createdAt: 'createdAt',
} as const;

/**
 * Every item of the log table, as docs/design.md lists them ("Item layout"); `<…>` stands for a value. A unit
 * test holds the key functions above and the document to these rows.
 */
export const LOG_TABLE_ITEMS = [
  { item: 'topic', pk: 'topic#<name>', sk: TOPIC_SK, attributes: Object.values(TOPIC_ATTR) },
  { item: 'catalog entry', pk: CATALOG_PK, sk: '<name>', attributes: Object.values(CATALOG_ATTR) },
  { item: 'deleted topic', pk: DELETED_PK, sk: '<topicId>', attributes: Object.values(DELETED_ATTR) },
  { item: 'partition meta', pk: 'p#<topicId>#<partition>', sk: PARTITION_META_SK, attributes: Object.values(META_ATTR) },
  { item: 'record batch', pk: 'p#<topicId>#<partition>', sk: '<baseOffset>', attributes: Object.values(BATCH_ATTR) },
  { item: 'idempotency record', pk: 'idem#<topicId>#<key>', sk: IDEMPOTENCY_SK, attributes: Object.values(IDEMPOTENCY_ATTR) },
  { item: 'segment index entry', pk: 'seg#<topicId>#<partition>', sk: '<baseOffset>', attributes: Object.values(SEGMENT_ATTR) },
] as const;

type Item = Record<string, unknown>;

// ----------------------------------------------------------------------------------------- topic items

export function encodeTopicItem(topic: StoredTopic): Item {
  const item: Item = {
    ...itemKey(topicPk(topic.name), TOPIC_SK),
    [TOPIC_ATTR.name]: topic.name,
    [TOPIC_ATTR.topicId]: topic.topicId,
    [TOPIC_ATTR.partitions]: topic.partitions,
    [TOPIC_ATTR.retentionHours]: topic.retentionHours,
    [TOPIC_ATTR.createdAt]: topic.createdAt,
  };
  if (topic.maintainAfter !== undefined) item[TOPIC_ATTR.maintainAfter] = topic.maintainAfter;
  return item;
}

export function decodeTopicItem(item: Item): StoredTopic {
  const maintainAfter = item[TOPIC_ATTR.maintainAfter];
  return {
    name: String(item[TOPIC_ATTR.name]),
    topicId: String(item[TOPIC_ATTR.topicId]),
    partitions: Number(item[TOPIC_ATTR.partitions]),
    retentionHours: Number(item[TOPIC_ATTR.retentionHours]),
    createdAt: Number(item[TOPIC_ATTR.createdAt]),
    ...(typeof maintainAfter === 'number' ? { maintainAfter } : {}),
  };
}

export const encodeCatalogItem = (entry: StoredCatalogEntry): Item => ({
  ...itemKey(CATALOG_PK, entry.name),
  [CATALOG_ATTR.partitions]: entry.partitions,
});

export const decodeCatalogItem = (item: Item): StoredCatalogEntry => ({
  name: String(item[SORT_KEY]),
  partitions: Number(item[CATALOG_ATTR.partitions]),
});

export const encodeDeletedTopicItem = (deleted: StoredDeletedTopic): Item => ({
  ...itemKey(DELETED_PK, deleted.topicId),
  [DELETED_ATTR.name]: deleted.name,
  [DELETED_ATTR.topicId]: deleted.topicId,
  [DELETED_ATTR.partitions]: deleted.partitions,
  [DELETED_ATTR.deletedAt]: deleted.deletedAt,
});

export const decodeDeletedTopicItem = (item: Item): StoredDeletedTopic => ({
  name: String(item[DELETED_ATTR.name]),
  topicId: String(item[DELETED_ATTR.topicId]),
  partitions: Number(item[DELETED_ATTR.partitions]),
  deletedAt: Number(item[DELETED_ATTR.deletedAt]),
});

// ------------------------------------------------------------------------------------ partition items

/** A batch item to write: a {@link HotBatch} with its partition key and the id of the append writing it. */
export interface BatchItemInput extends HotBatch {
  readonly pk: string;
  readonly writer: string;
}

export function encodeBatchItem(batch: BatchItemInput): Item {
  const item: Item = {
    ...itemKey(batch.pk, offsetSk(batch.baseOffset)),
    [BATCH_ATTR.count]: batch.count,
    [BATCH_ATTR.maxTimestamp]: batch.maxTimestamp,
    [BATCH_ATTR.appendedAt]: batch.appendedAt,
    [BATCH_ATTR.bytes]: batch.bytes,
    [BATCH_ATTR.writer]: batch.writer,
  };
  if (batch.expiresAt !== undefined) item[BATCH_ATTR.expiresAt] = batch.expiresAt;
  if (batch.spillKey !== undefined) item[BATCH_ATTR.spillKey] = batch.spillKey;
  else if (batch.data !== undefined) item[BATCH_ATTR.data] = batch.data;
  return item;
}

export function decodeBatchItem(item: Item): HotBatch {
  const data = item[BATCH_ATTR.data];
  const spillKey = item[BATCH_ATTR.spillKey];
  const expiresAt = item[BATCH_ATTR.expiresAt];
  return {
    baseOffset: parseOffsetSk(String(item[SORT_KEY])),
    count: Number(item[BATCH_ATTR.count]),
    maxTimestamp: Number(item[BATCH_ATTR.maxTimestamp]),
    appendedAt: Number(item[BATCH_ATTR.appendedAt]),
    bytes: Number(item[BATCH_ATTR.bytes]),
    ...(data ? { data: data as Uint8Array } : {}),
    ...(spillKey ? { spillKey: String(spillKey) } : {}),
    ...(typeof expiresAt === 'number' ? { expiresAt } : {}),
  };
}

/** The id of the append that wrote a batch item (absent in items written before appends carried one). */
export function batchWriter(item: Item): string | undefined {
  const writer = item[BATCH_ATTR.writer];
  return typeof writer === 'string' ? writer : undefined;
}

/**
 * True when DynamoDB may delete the item at any moment: its TTL (epoch seconds) has passed. TTL deletes lag
 * (up to days), so such items are still returned; readers skip them.
 */
export const isExpired = (batch: Pick<HotBatch, 'expiresAt'>, nowMs: number): boolean =>
  batch.expiresAt !== undefined && batch.expiresAt <= nowMs / 1000;

/** The end of the batch whose item `item` is found at `baseOffset`, if it is a batch item. */
export function batchEnd(item: Item, baseOffset: number): PartitionTail | undefined {
  const count = item[BATCH_ATTR.count];
  if (typeof count !== 'number') return undefined;
  return { endOffset: baseOffset + count, maxTimestamp: Number(item[BATCH_ATTR.maxTimestamp]) };
}

export function decodePartitionMeta(item: Item | undefined): PartitionMeta {
  const num = (name: string, fallback: number) => Number(item?.[name] ?? fallback);
  const tieredOffset = num(META_ATTR.tieredOffset, 0);
  const hotFloorOffset = num(META_ATTR.hotFloorOffset, 0);
  return {
    startOffset: num(META_ATTR.startOffset, 0),
    tieredOffset,
    releasedOffset: num(META_ATTR.releasedOffset, tieredOffset),
    hotFloorOffset,
    endFloor: {
      endOffset: Math.max(num(META_ATTR.tieredEndOffset, 0), hotFloorOffset),
      maxTimestamp: Math.max(num(META_ATTR.tieredMaxTimestamp, -Infinity), num(META_ATTR.hotFloorMaxTimestamp, -Infinity)),
    },
  };
}

/** What a tail Query projects: enough of a batch item, or of the meta item, to say where the partition ends. */
export const TAIL_PROJECTION = {
  ProjectionExpression: [
    SORT_KEY,
    '#n',
    BATCH_ATTR.maxTimestamp,
    META_ATTR.tieredEndOffset,
    META_ATTR.tieredMaxTimestamp,
    META_ATTR.hotFloorOffset,
    META_ATTR.hotFloorMaxTimestamp,
  ].join(', '),
  ExpressionAttributeNames: { '#n': BATCH_ATTR.count },
} as const;

/** Where the partition ends, from its newest item (the newest batch, or the meta item when no batch is left). */
export function decodeTailItem(item: Item | undefined): PartitionTail {
  if (!item) return { endOffset: 0, maxTimestamp: -Infinity };
  const sk = String(item[SORT_KEY]);
  if (sk === PARTITION_META_SK) return decodePartitionMeta(item).endFloor;
  return { endOffset: parseOffsetSk(sk) + Number(item[BATCH_ATTR.count]), maxTimestamp: Number(item[BATCH_ATTR.maxTimestamp]) };
}

// ------------------------------------------------------------------------------------ idempotency records

export function encodeIdempotencyItem(pk: string, record: IdempotencyRecord, createdAt: number): Item {
  return {
    ...itemKey(pk, IDEMPOTENCY_SK),
    [IDEMPOTENCY_ATTR.response]: gzipSync(JSON.stringify(record.response)),
    ...(record.digest !== undefined ? { [IDEMPOTENCY_ATTR.digest]: record.digest } : {}),
    [IDEMPOTENCY_ATTR.createdAt]: createdAt,
    [IDEMPOTENCY_ATTR.expiresAt]: record.expiresAt,
  };
}

export function decodeIdempotencyItem(item: Item): IdempotencyRecord {
  const digest = item[IDEMPOTENCY_ATTR.digest];
  return {
    response: JSON.parse(gunzipSync(item[IDEMPOTENCY_ATTR.response] as Uint8Array).toString('utf8')),
    ...(typeof digest === 'string' ? { digest } : {}),
    expiresAt: Number(item[IDEMPOTENCY_ATTR.expiresAt]),
  };
}

// ------------------------------------------------------------------------------------ segment index entries

export function encodeSegmentItem(segment: StoredSegment, version: number, createdAt: number): Item {
  const item: Item = {
    ...itemKey(segmentPk(segment.topicId, segment.partition), offsetSk(segment.baseOffset)),
    [SEGMENT_ATTR.endOffset]: segment.endOffset,
    [SEGMENT_ATTR.key]: segment.key,
    [SEGMENT_ATTR.size]: segment.size,
    [SEGMENT_ATTR.maxTimestamp]: segment.maxTimestamp,
    [SEGMENT_ATTR.lastAppendedAt]: segment.lastAppendedAt,
    [SEGMENT_ATTR.index]: segment.index,
    [SEGMENT_ATTR.version]: version,
    [SEGMENT_ATTR.createdAt]: createdAt,
  };
  if (segment.spillKeys.length > 0) item[SEGMENT_ATTR.spillKeys] = [...segment.spillKeys];
  return item;
}

export function decodeSegmentItem(topicId: string, partition: number, item: Item): StoredSegment {
  const spills = item[SEGMENT_ATTR.spillKeys];
  return {
    topicId,
    partition,
    baseOffset: parseOffsetSk(String(item[SORT_KEY])),
    endOffset: Number(item[SEGMENT_ATTR.endOffset]),
    key: String(item[SEGMENT_ATTR.key]),
    size: Number(item[SEGMENT_ATTR.size]),
    maxTimestamp: Number(item[SEGMENT_ATTR.maxTimestamp]),
    lastAppendedAt: Number(item[SEGMENT_ATTR.lastAppendedAt]),
    spillKeys: Array.isArray(spills) ? spills.map(String) : [],
    index: item[SEGMENT_ATTR.index] as Uint8Array,
  };
}
