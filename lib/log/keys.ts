/**
 * The item layout of the log table (pk / sk are strings; see lib/storage/tables.ts).
 *
 * | item                | pk                          | sk                         |
 * |---------------------|-----------------------------|----------------------------|
 * | topic               | `topic#<name>`              | `meta`                     |
 * | catalog entry       | `catalog`                   | `<name>`                   |
 * | deleted topic       | `deleted`                   | `<topicId>`                |
 * | partition meta      | `p#<topicId>#<partition>`   | `#meta`                    |
 * | record batch        | `p#<topicId>#<partition>`   | `<baseOffset, 16 digits>`  |
 * | idempotency record  | `idem#<topicId>#<key>`      | `-`                        |
 * | segment index entry | `seg#<topicId>#<partition>` | `<baseOffset, 16 digits>`  |
 *
 * Batches are keyed by the topic's `topicId` (not its name), so a deleted and re-created topic never sees
 * the old incarnation's records. Offsets are zero-padded so that string order is offset order; `#meta`
 * sorts before every digit, so a backward Query with Limit 1 returns the newest batch, or the partition meta
 * item when no batch exists.
 */
export const OFFSET_DIGITS = 16;
export const PARTITION_META_SK = '#meta';

export const topicPk = (name: string) => `topic#${name}`;
export const TOPIC_SK = 'meta';
export const CATALOG_PK = 'catalog';
export const DELETED_PK = 'deleted';
export const partitionPk = (topicId: string, partition: number) => `p#${topicId}#${partition}`;
export const segmentPk = (topicId: string, partition: number) => `seg#${topicId}#${partition}`;
export const idempotencyPk = (topicId: string, key: string) => `idem#${topicId}#${key}`;
export const IDEMPOTENCY_SK = '-';

export function offsetSk(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0');
}

export function parseOffsetSk(sk: string): number {
  return Number(sk);
}

/** The largest sort key a batch can have: bounds backward queries from the end. */
export const MAX_OFFSET_SK = '9'.repeat(OFFSET_DIGITS);
