import { encodeBatchItem, partitionPk } from '../storage/log-table.js';
import type { PartitionTail } from '../storage/log-items.js';
import { encodeBatch, withBaseOffset, type LogRecord } from './batch-format.js';
import type { PartitionAppend } from './log-store.js';

/** One partition's records of an append, encoded once; each attempt writes them at its own tail. */
export interface PreparedBatch {
  /** The id of the append, written with each of its batch items (lib/log/dynamo-append.ts, `putBatch`). */
  readonly writer: string;
  readonly topicId: string;
  readonly partition: number;
  readonly pk: string;
  readonly count: number;
  /** The largest record timestamp of the batch. */
  readonly batchMaxTimestamp: number;
  /** Encoded at base offset 0. */
  readonly encoded: Uint8Array;
  readonly expiresAtSec?: number;
  /** Set once the bytes are in S3 (lib/log/spill-store.ts): the item then only points at them. */
  spillKey?: string;
}

/** Encodes the append's records once (a batch sent as stored is taken as it is: no re-encoding). */
export function prepareBatch(writer: string, topicId: string, append: PartitionAppend, expiresAtSec: number | undefined): PreparedBatch {
  let batchMaxTimestamp = -Infinity;
  let count: number;
  let encoded: Uint8Array;
  if ('batch' in append) {
    ({ count, bytes: encoded, maxTimestamp: batchMaxTimestamp } = append.batch);
  } else {
    for (const r of append.records) batchMaxTimestamp = Math.max(batchMaxTimestamp, r.timestamp);
    count = append.records.length;
    encoded = encodeBatch(0, append.records as LogRecord[]);
  }
  return {
    writer,
    topicId,
    partition: append.partition,
    pk: partitionPk(topicId, append.partition),
    count,
    batchMaxTimestamp,
    encoded,
    ...(expiresAtSec !== undefined ? { expiresAtSec } : {}),
  };
}

/** The batch's item when written at `tail` (its base offset; the running max timestamp carries on from there). */
export function batchItem(batch: PreparedBatch, tail: PartitionTail, nowMs: number): Record<string, unknown> {
  const base = tail.endOffset;
  return encodeBatchItem({
    pk: batch.pk,
    writer: batch.writer,
    baseOffset: base,
    count: batch.count,
    maxTimestamp: Math.max(tail.maxTimestamp, batch.batchMaxTimestamp),
    appendedAt: nowMs,
    bytes: batch.encoded.length,
    ...(batch.expiresAtSec !== undefined ? { expiresAt: batch.expiresAtSec } : {}),
    ...(batch.spillKey ? { spillKey: batch.spillKey } : { data: withBaseOffset(batch.encoded, base) }),
  });
}

/** Where the partition ends once `batch` is appended at `tail`. */
export function endAfter(tail: PartitionTail, batch: PreparedBatch): PartitionTail {
  return { endOffset: tail.endOffset + batch.count, maxTimestamp: Math.max(tail.maxTimestamp, batch.batchMaxTimestamp) };
}
