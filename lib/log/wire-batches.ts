import { decodeBatch, type StoredRecord } from './batch-format.js';

/**
 * The binary wire format, version 1 (docs/api.md, "Binary record batches"): record batches travel between the
 * SDK and the functions exactly as the log stores them (lib/log/batch-format.ts), compressed by the producer
 * and decoded by the consumer; the functions check them once and never re-encode them. Shared by the server
 * (functions/http/batches.ts) and the client SDK (lib/client/), so it imports nothing but the batch format.
 *
 * ```
 * envelope := magic:"SLB" version:u8(=1) frameLength:u32 frame:utf8-JSON payload      (big-endian)
 * payload  := the bytes of each entry of the frame's `recordBatches` that has a `length` and no `url` or
 *             `upload`, concatenated in frame order
 * ```
 * The frame is a small JSON object (its fields below: {@link ProduceFrame}, {@link FetchFrame},
 * {@link GroupFetchFrame}), so that it can grow by additive fields as JSON bodies do; the payload carries the
 * batches without any copy or escape. Offsets in a batch's header are not authoritative: a fetch frame gives
 * each batch's true `baseOffset` (a spilled batch's object keeps the header of its first append attempt).
 */
export const BATCHES_MEDIA_TYPE = 'application/vnd.shardlog.batches+v1';
const MAGIC = [0x53, 0x4c, 0x42]; // "SLB"
const VERSION = 1;
const PRELUDE_BYTES = 8;

/** A batch in a produce request: inline (its bytes in the payload) or uploaded to S3 first (`upload`). */
export type ProduceBatchEntry =
  | { readonly partition: number; readonly length: number }
  | { readonly partition: number; readonly length: number; readonly upload: string };

/** The frame of a produce request (content type {@link BATCHES_MEDIA_TYPE}). */
export interface ProduceFrame {
  readonly recordBatches: readonly ProduceBatchEntry[];
  /**
   * The partition count the client placed keyed records by: an append is refused (400, `details.partitions`
   * the topic's count) when the topic has another, so that a client with a stale count reads it again instead
   * of storing keyed records where the server would not have put them.
   */
  readonly partitionCount?: number;
  readonly expectedOffsets?: Readonly<Record<string, number>>;
}

/** A stored batch in a fetch response: inline in the payload, or a presigned GET `url` valid until `expiresAt` (ms). */
export type FetchBatchEntry =
  | { readonly baseOffset: number; readonly count: number; readonly length: number }
  | { readonly baseOffset: number; readonly count: number; readonly length: number; readonly url: string; readonly expiresAt: number };

/**
 * One partition's part of a fetch response: the records of `recordBatches` with offsets in
 * [`firstOffset`, `nextOffset`), in order. A batch may begin before `firstOffset` (a read that starts inside a
 * batch) or end after `nextOffset` (a read cut by `limit`): the client skips those records.
 */
export interface PartitionRead {
  readonly firstOffset: number;
  readonly nextOffset: number;
  readonly endOffset: number;
  readonly recordBatches: readonly FetchBatchEntry[];
}

/** The frame of a partition fetch response (`GET …/records`). */
export interface FetchFrame extends PartitionRead {
  readonly startOffset: number;
}

/** The frame of a group fetch response (`POST …/members/{memberId}/fetch`), one entry per partition as in JSON. */
export interface GroupFetchFrame {
  readonly batches: ReadonlyArray<PartitionRead & { readonly topic: string; readonly partition: number; readonly leaseToken: string }>;
}

export class CorruptEnvelopeError extends Error {
  constructor(message: string) {
    super(`not a ${BATCHES_MEDIA_TYPE} body: ${message}`);
    this.name = 'CorruptEnvelopeError';
  }
}

const utf8 = new TextEncoder();
const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Writes an envelope: the frame (any JSON value) and the payload parts in order. */
export function encodeEnvelope(frame: unknown, parts: readonly Uint8Array[]): Uint8Array {
  const frameBytes = utf8.encode(JSON.stringify(frame));
  let size = PRELUDE_BYTES + frameBytes.length;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  out.set(MAGIC, 0);
  out[3] = VERSION;
  new DataView(out.buffer).setUint32(4, frameBytes.length);
  out.set(frameBytes, PRELUDE_BYTES);
  let at = PRELUDE_BYTES + frameBytes.length;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Reads an envelope's frame text and payload (the frame is left to the caller to parse and check).
 * @throws CorruptEnvelopeError
 */
export function decodeEnvelope(bytes: Uint8Array, maxFrameBytes = bytes.length): { frameText: string; payload: Uint8Array } {
  if (bytes.length < PRELUDE_BYTES) throw new CorruptEnvelopeError(`${bytes.length} bytes is shorter than its prelude`);
  if (bytes[0] !== MAGIC[0] || bytes[1] !== MAGIC[1] || bytes[2] !== MAGIC[2]) throw new CorruptEnvelopeError('bad magic');
  if (bytes[3] !== VERSION) throw new CorruptEnvelopeError(`unsupported version ${bytes[3]}`);
  const frameLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4);
  if (frameLength > maxFrameBytes) throw new CorruptEnvelopeError(`its frame of ${frameLength} bytes is over ${maxFrameBytes}`);
  if (PRELUDE_BYTES + frameLength > bytes.length) throw new CorruptEnvelopeError('its frame runs past the end');
  let frameText: string;
  try {
    frameText = utf8Fatal.decode(bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + frameLength));
  } catch {
    throw new CorruptEnvelopeError('its frame is not UTF-8');
  }
  return { frameText, payload: bytes.subarray(PRELUDE_BYTES + frameLength) };
}

/**
 * The records a partition's part of a fetch response carries, in offset order, once each URL entry's bytes
 * were fetched (`bytesOf`): each batch decoded at its `baseOffset`, records outside [`firstOffset`,
 * `nextOffset`) skipped. `payload` is the envelope's payload, positioned at this part's first inline batch;
 * returns the records and how many payload bytes the part used.
 * @throws CorruptBatchError / CorruptEnvelopeError for bytes that do not add up.
 */
export async function recordsOfRead(
  read: PartitionRead,
  payload: Uint8Array,
  bytesOf: (entry: Extract<FetchBatchEntry, { url: string }>) => Promise<Uint8Array>,
): Promise<{ records: StoredRecord[]; used: number }> {
  const records: StoredRecord[] = [];
  let at = 0;
  const loaded = await Promise.all(
    read.recordBatches.map((entry) => {
      if ('url' in entry) return bytesOf(entry);
      const bytes = payload.subarray(at, at + entry.length);
      if (bytes.length !== entry.length) throw new CorruptEnvelopeError('a batch runs past the end of the payload');
      at += entry.length;
      return bytes;
    }),
  );
  read.recordBatches.forEach((entry, i) => {
    for (const record of decodeBatch(loaded[i]!, entry.baseOffset)) {
      if (record.offset >= read.firstOffset && record.offset < read.nextOffset) records.push(record);
    }
  });
  return { records, used: at };
}
