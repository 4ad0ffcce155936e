import type { StoredRecord } from '../log/batch-format.js';
import { bodyTextSize, digits, jsonStringSize, MAX_DIGITS, MAX_RESPONSE_RECORD_BYTES, wireSize, type RecordEncoding } from '../log/wire-size.js';
import type { TopicPartition } from './assignment.js';

/** One held partition's part of a group fetch response (docs/api.md, "Consumer groups"). */
export interface GroupBatch extends TopicPartition {
  readonly leaseToken: string;
  readonly records: StoredRecord[];
  readonly nextOffset: number;
  readonly endOffset: number;
}

/**
 * Cuts batches so that the whole response respects `limit` and `maxBytes` (records by {@link wireSize}; at least
 * one record overall when there is one), and so that records plus each batch's envelope stay within
 * {@link MAX_RESPONSE_RECORD_BYTES}: a member holding thousands of partitions would otherwise overflow a
 * Lambda response with envelopes alone. Batches with records are served first; a batch whose envelope no
 * longer fits is left out of this response (its partition is read again by the next fetch).
 */
export function trim(batches: readonly GroupBatch[], limit: number, maxBytes: number, encoding: RecordEncoding): GroupBatch[] {
  const budget: ResponseBudget = { limit, maxBytes, count: 0, recordBytes: 0, total: 0 };
  const kept: Array<GroupBatch | undefined> = new Array(batches.length);
  const order = [...batches.keys()].sort((a, b) => Number(batches[a]!.records.length === 0) - Number(batches[b]!.records.length === 0));
  for (const i of order) {
    const batch = batches[i]!;
    const envelope = groupBatchEnvelopeSize(batch);
    if (budget.total + envelope > MAX_RESPONSE_RECORD_BYTES) continue;
    budget.total += envelope;
    const records = cut(batch.records, budget, encoding);
    if (records.length === batch.records.length) kept[i] = batch;
    else {
      const nextOffset = records.length > 0 ? records[records.length - 1]!.offset + 1 : (batch.records[0]?.offset ?? batch.nextOffset);
      kept[i] = { ...batch, records, nextOffset };
    }
  }
  return kept.filter((b): b is GroupBatch => b !== undefined);
}

/** What is left of a response as {@link trim} fills it, batch after batch. */
interface ResponseBudget {
  readonly limit: number;
  readonly maxBytes: number;
  /** Records, and their wire size, taken so far in the whole response. */
  count: number;
  recordBytes: number;
  /** Records and envelopes so far, against {@link MAX_RESPONSE_RECORD_BYTES}. */
  total: number;
}

/**
 * The leading records of one batch that still fit `budget`, which it spends: the first record of the whole
 * response always fits (as in the plain fetch, a single record may exceed `maxBytes`).
 */
function cut(records: readonly StoredRecord[], budget: ResponseBudget, encoding: RecordEncoding): StoredRecord[] {
  const kept: StoredRecord[] = [];
  for (const record of records) {
    const size = wireSize(record, encoding);
    const full = budget.recordBytes + size > budget.maxBytes || budget.total + size > MAX_RESPONSE_RECORD_BYTES;
    if (budget.count >= budget.limit || (budget.count > 0 && full)) break;
    kept.push(record);
    budget.count++;
    budget.recordBytes += size;
    budget.total += size;
  }
  return kept;
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
