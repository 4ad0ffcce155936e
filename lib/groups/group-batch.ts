import type { StoredRecord } from '../log/batch-format.js';
import { ResponseCut } from '../log/response-cut.js';
import { bodyTextSize, digits, jsonStringSize, MAX_DIGITS, type RecordEncoding } from '../log/wire-size.js';
import type { TopicPartition } from './assignment.js';

/** One held partition's part of a group fetch response (docs/api.md, "Consumer groups"). */
export interface GroupBatch extends TopicPartition {
  readonly leaseToken: string;
  readonly records: StoredRecord[];
  readonly nextOffset: number;
  readonly endOffset: number;
}

/**
 * Cuts batches so that the whole response respects `limit` and `maxBytes` (records by `wireSize`, through the
 * one {@link ResponseCut}; at least one record overall when there is one), and so that records plus each
 * batch's envelope stay within `MAX_RESPONSE_RECORD_BYTES`: a member holding thousands of partitions would otherwise overflow a
 * Lambda response with envelopes alone. Batches with records are served first; a batch whose envelope no
 * longer fits is left out of this response (its partition is read again by the next fetch).
 */
export function trim(batches: readonly GroupBatch[], limit: number, maxBytes: number, encoding: RecordEncoding): GroupBatch[] {
  // One cut for the whole response: a record one batch could not take does not stop a smaller one of a later
  // batch (`take` is asked per record; `full` is for single reads only).
  const cut = new ResponseCut({ limit, maxBytes, encoding });
  const kept: Array<GroupBatch | undefined> = new Array(batches.length);
  const order = [...batches.keys()].sort((a, b) => Number(batches[a]!.records.length === 0) - Number(batches[b]!.records.length === 0));
  for (const i of order) {
    const batch = batches[i]!;
    if (!cut.reserve(groupBatchEnvelopeSize(batch))) continue;
    const records: StoredRecord[] = [];
    for (const record of batch.records) {
      if (!cut.take(record)) break;
      records.push(record);
    }
    if (records.length === batch.records.length) kept[i] = batch;
    else {
      const nextOffset = records.length > 0 ? records[records.length - 1]!.offset + 1 : (batch.records[0]?.offset ?? batch.nextOffset);
      kept[i] = { ...batch, records, nextOffset };
    }
  }
  return kept.filter((b): b is GroupBatch => b !== undefined);
}

/**
 * Bytes a batch adds to a group fetch response besides its records, as {@link wireSize} counts: the JSON
 * `{"topic":…,"partition":…,"leaseToken":…,"records":[],"nextOffset":…,"endOffset":…}` and a comma, with room
 * for the largest offsets.
 */
export function groupBatchEnvelopeSize(batch: Pick<GroupBatch, 'topic' | 'partition' | 'leaseToken'>): number {
  return BATCH_FRAMING + jsonStringSize(batch.topic) + digits(batch.partition) + jsonStringSize(batch.leaseToken) + 2 * MAX_DIGITS;
}

const BATCH_FRAMING = bodyTextSize('{"topic":,"partition":,"leaseToken":,"records":[],"nextOffset":,"endOffset":},');
