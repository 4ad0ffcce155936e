import type { StoredRecord } from '../log/batch-format.js';
import type { ReadBatch } from '../log/log-types.js';
import { batchEntryBytes, MAX_RESPONSE_BATCH_BYTES } from '../log/read-sinks.js';
import { ResponseCut } from '../log/response-cut.js';
import { bodyTextSize, digits, jsonStringSize, MAX_DIGITS, type RecordEncoding } from '../log/wire-size.js';
import type { TopicPartition } from './assignment.js';

/** One held partition's part of a group fetch response (docs/api.md, "Consumer groups"). */
export interface GroupBatch extends TopicPartition {
  readonly leaseToken: string;
  /** Empty when the fetch asked for stored batches (`batches`). */
  readonly records: StoredRecord[];
  /** The stored batches holding the records [`firstOffset`, `nextOffset`), for a binary response. */
  readonly batches?: ReadBatch[];
  readonly firstOffset?: number;
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

/**
 * {@link trim} for a binary response (stored batches, docs/api.md "Binary record batches"): whole batches are
 * kept while the records they add (counted in [`firstOffset`, `nextOffset`)) stay within `limit`, their stored
 * bytes within `maxBytes`, and the response within {@link MAX_RESPONSE_BATCH_BYTES}; the first batch is
 * always kept. A partition whose batches were cut reads on from the end of its last kept batch; one whose
 * envelope no longer fits is left out (read again by the next fetch).
 */
export function trimBatches(parts: readonly GroupBatch[], limit: number, maxBytes: number): GroupBatch[] {
  let records = 0;
  let bytes = 0;
  let response = 0;
  let full = false;
  const kept: Array<GroupBatch | undefined> = new Array(parts.length);
  const order = [...parts.keys()].sort((a, b) => Number((parts[a]!.batches ?? []).length === 0) - Number((parts[b]!.batches ?? []).length === 0));
  for (const i of order) {
    const part = parts[i]!;
    const envelope = groupBatchEnvelopeSize(part) + 2 * BATCH_ENVELOPE_EXTRA;
    if (response + envelope > MAX_RESPONSE_BATCH_BYTES) continue;
    response += envelope;
    const first = part.firstOffset ?? part.nextOffset;
    const batches: ReadBatch[] = [];
    let next = first;
    for (const batch of part.batches ?? []) {
      const size = batchEntryBytes(batch);
      const taken = Math.min(part.nextOffset, batch.baseOffset + batch.count) - Math.max(next, batch.baseOffset);
      const any = records > 0;
      if (full || (any && (records + taken > limit || bytes + batch.length > maxBytes || response + size > MAX_RESPONSE_BATCH_BYTES))) {
        full = true;
        break;
      }
      batches.push(batch);
      records += taken;
      bytes += batch.length;
      response += size;
      next = Math.min(part.nextOffset, batch.baseOffset + batch.count);
    }
    kept[i] = batches.length === (part.batches ?? []).length ? part : { ...part, batches, nextOffset: next };
  }
  return kept.filter((b): b is GroupBatch => b !== undefined);
}

/** `,"firstOffset":…,"recordBatches":[]` beside the JSON envelope's fields, with room for the offset. */
const BATCH_ENVELOPE_EXTRA = 64;
