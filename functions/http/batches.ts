import { MAX_REQUEST_BODY_BYTES } from '../../lib/contract/limits.js';
import { InvalidRequestError } from '../../lib/errors.js';
import type { GroupBatch } from '../../lib/groups/group-service.js';
import { validateBatch } from '../../lib/log/batch-validation.js';
import type { BatchesProduceInput, BatchToProduce, ReadBatch, ReadResult } from '../../lib/log/log-types.js';
import { checkUploadLength, UPLOAD_ID } from '../../lib/log/upload-store.js';
import {
  BATCHES_MEDIA_TYPE,
  CorruptEnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  type FetchBatchEntry,
  type FetchFrame,
  type GroupFetchFrame,
} from '../../lib/log/wire-batches.js';
import { MAX_PARTITIONS } from '../../lib/topics/topic.js';
import { BinaryBody, mediaType } from './body.js';
import type { HttpRequest } from './handler.js';
import { idempotencyKeyOf, parseExpectedOffsets } from './records.js';
import { int, requiredObjectBody, strictObject } from './validate.js';

/**
 * The binary wire format at the HTTP boundary (docs/api.md, "Binary record batches"): a produce whose body is
 * an envelope of stored batches, and fetch responses of stored batches for a client whose `Accept` names
 * {@link BATCHES_MEDIA_TYPE}. The envelope itself is lib/log/wire-batches.ts, shared with the SDK.
 */

/** A frame is a few hundred bytes per batch; anything larger is not a frame. */
const MAX_FRAME_BYTES = 1024 * 1024;

/** Whether the request's `Content-Type` is the binary batches format (the body is in `rawBody`). */
export const isBatchesRequest = (req: HttpRequest): boolean => req.rawBody !== undefined;

/**
 * The read options for stored batches when `Accept` lists {@link BATCHES_MEDIA_TYPE}, else undefined: with the
 * media-type parameter `urls=1`, spilled batches come as presigned GET URLs instead of their bytes.
 */
export function acceptsBatches(req: HttpRequest): { urls: boolean } | undefined {
  const entry = (req.headers.accept ?? '').split(',').find((e) => mediaType(e) === BATCHES_MEDIA_TYPE);
  if (entry === undefined) return undefined;
  return { urls: entry.split(';').slice(1).some((p) => p.replace(/\s+/g, '').toLowerCase() === 'urls=1') };
}

/**
 * Turns a binary produce request into a typed {@link BatchesProduceInput}: the envelope, its frame (strict, as
 * a JSON body is), and every inline batch checked by `validateBatch` (structure, CRC, per-record rules).
 * @throws InvalidRequestError (400) or PayloadTooLargeError (413); nothing is stored.
 */
export function parseBatchesProduce(req: HttpRequest): BatchesProduceInput {
  const idempotencyKey = idempotencyKeyOf(req.headers);
  let frameText: string;
  let payload: Uint8Array;
  try {
    ({ frameText, payload } = decodeEnvelope(req.rawBody ?? new Uint8Array(), MAX_FRAME_BYTES));
  } catch (error) {
    if (!(error instanceof CorruptEnvelopeError)) throw error;
    throw new InvalidRequestError(error.message, { cause: error });
  }
  let frame: unknown;
  try {
    frame = JSON.parse(frameText);
  } catch (cause) {
    throw new InvalidRequestError('the frame of a batches body is not valid JSON', { cause });
  }
  const body = requiredObjectBody(frame, ['recordBatches', 'expectedOffsets', 'partitionCount'], 'frame');
  if (!Array.isArray(body.recordBatches) || body.recordBatches.length === 0 || body.recordBatches.length > MAX_PARTITIONS) {
    throw new InvalidRequestError(`recordBatches must be an array of 1 to ${MAX_PARTITIONS} batches`);
  }
  let at = 0;
  let firstIndex = 0;
  const batches: BatchToProduce[] = body.recordBatches.map((raw, i) => {
    const where = `recordBatches[${i}]`;
    const entry = strictObject(raw, ['partition', 'length', 'upload'], where);
    const partition = int(entry.partition, `${where}.partition`, { min: 0, max: MAX_PARTITIONS - 1 });
    const length = checkUploadLength(entry.length, `${where}.length`);
    if (entry.upload !== undefined) {
      if (typeof entry.upload !== 'string' || !UPLOAD_ID.test(entry.upload)) {
        throw new InvalidRequestError(`${where}.upload must be the id of an upload`, { details: { field: `${where}.upload` } });
      }
      return { partition, upload: { id: entry.upload, length } };
    }
    if (at + length > payload.length) {
      throw new InvalidRequestError(`${where} runs past the end of the payload (${payload.length} bytes)`, { details: { field: where } });
    }
    const batch = validateBatch(payload.subarray(at, at + length), where, firstIndex, MAX_REQUEST_BODY_BYTES);
    at += length;
    firstIndex += batch.count;
    return { partition, batch };
  });
  if (at !== payload.length) {
    throw new InvalidRequestError(`the payload holds ${payload.length - at} bytes after its last batch`);
  }
  const partitionCount = body.partitionCount === undefined ? undefined : int(body.partitionCount, 'partitionCount', { min: 1, max: MAX_PARTITIONS });
  return {
    batches,
    ...(partitionCount !== undefined ? { partitionCount } : {}),
    ...(body.expectedOffsets !== undefined ? { expectedOffsets: parseExpectedOffsets(body.expectedOffsets) } : {}),
    ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  };
}

/** A read's batches as frame entries and the payload parts (the inline ones' bytes, in order). */
function entriesOf(batches: readonly ReadBatch[]): { entries: FetchBatchEntry[]; parts: Uint8Array[] } {
  const entries: FetchBatchEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const { baseOffset, count, length, data, url, expiresAt } of batches) {
    if (url !== undefined) entries.push({ baseOffset, count, length, url, expiresAt: expiresAt! });
    else {
      entries.push({ baseOffset, count, length: data!.length });
      parts.push(data!);
    }
  }
  return { entries, parts };
}

/** The binary body of a partition fetch: the stored batches verbatim, their offsets in the frame. */
export function encodeBatchesFetch(result: ReadResult): BinaryBody {
  const { entries, parts } = entriesOf(result.batches ?? []);
  const frame: FetchFrame = {
    firstOffset: result.firstOffset ?? result.nextOffset,
    nextOffset: result.nextOffset,
    startOffset: result.startOffset,
    endOffset: result.endOffset,
    recordBatches: entries,
  };
  return new BinaryBody(encodeEnvelope(frame, parts), BATCHES_MEDIA_TYPE);
}

/** The binary body of a group fetch: per held partition as in JSON, its stored batches verbatim. */
export function encodeBatchesGroupFetch(batches: readonly GroupBatch[]): BinaryBody {
  const parts: Uint8Array[] = [];
  const frame: GroupFetchFrame = {
    batches: batches.map((b) => {
      const { entries, parts: own } = entriesOf(b.batches ?? []);
      parts.push(...own);
      const { topic, partition, leaseToken, nextOffset, endOffset } = b;
      return { topic, partition, leaseToken, firstOffset: b.firstOffset ?? nextOffset, nextOffset, endOffset, recordBatches: entries };
    }),
  };
  return new BinaryBody(encodeEnvelope(frame, parts), BATCHES_MEDIA_TYPE);
}
