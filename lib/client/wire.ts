import { mapLimit } from '../concurrency.js';
import { InvalidRequestError } from '../errors.js';
import { encodeBatch, type LogRecord } from '../log/batch-format.js';
import { JsonDepthError, MAX_JSON_DEPTH, stringifyJson } from '../log/json-text.js';
import { murmur2, partitionFor, toPositive } from '../log/partitioner.js';
import {
  BATCHES_MEDIA_TYPE,
  CorruptEnvelopeError,
  decodeEnvelope,
  encodeEnvelope,
  recordsOfRead,
  type FetchBatchEntry,
  type FetchFrame,
  type GroupFetchFrame,
  type PartitionRead,
  type ProduceFrame,
} from '../log/wire-batches.js';
import { encodeWireRecord } from '../log/wire-record.js';
import type { ConsumedRecord, Encoding, FetchResponse, GroupFetchResponse, ProduceRecord, ProduceResponse, RecordMetadata } from './types.js';

/**
 * The SDK's side of the binary wire format (docs/api.md, "Binary record batches"): a produce's records are
 * encoded and compressed here, one stored batch per partition, and fetched batches are decoded here into the
 * records a JSON fetch would have returned (each through the server's own `encodeWireRecord`, so the two agree
 * byte for byte).
 */

export { BATCHES_MEDIA_TYPE };

const utf8 = new TextEncoder();
/** Lone UTF-16 surrogates have no UTF-8 form; the JSON path refuses them in keys and headers, so does this one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A produce request in the binary format: the body, and how to put the server's answer back in record order. */
export interface EncodedProduce {
  /** The envelope with every batch inline. */
  readonly body: Uint8Array;
  /** The batches, in frame order. */
  readonly batches: ReadonlyArray<{ readonly partition: number; readonly bytes: Uint8Array }>;
  /** The envelope with the batches of `uploads` (index → upload id) named by upload instead of inline. */
  envelope(uploads: ReadonlyMap<number, string>): Uint8Array;
  /** Maps the response (records batch by batch, in frame order) back to the order of the request's records. */
  readonly order: (response: ProduceResponse) => ProduceResponse;
}

/**
 * Encodes records for `POST /v1/topics/{topic}/records` as stored batches, one per partition: an explicit
 * `partition` wins, a key picks one as the server would (murmur2 of its bytes over `partitions`), and keyless
 * records all go to one partition chosen from `idempotencyKey` (so a retry of the request lands the same).
 * Records without a timestamp take `timestampOf(record)`.
 * @throws InvalidRequestError for a record the server would refuse as JSON too (a bad key, header or value).
 */
export function encodeProduce(
  records: readonly ProduceRecord[],
  options: { partitions: number; idempotencyKey: string; encoding?: Encoding; expectedOffsets?: Record<number, number>; timestampOf: (record: ProduceRecord) => number },
): EncodedProduce {
  const keyless = toPositive(murmur2(utf8.encode(options.idempotencyKey))) % options.partitions;
  const byPartition = new Map<number, Array<{ index: number; record: LogRecord }>>();
  records.forEach((record, index) => {
    const log = logRecord(record, index, options.encoding ?? 'json', options.timestampOf(record));
    const partition = record.partition ?? (log.key !== null ? partitionFor(log.key, options.partitions) : keyless);
    let list = byPartition.get(partition);
    if (!list) byPartition.set(partition, (list = []));
    list.push({ index, record: log });
  });
  const parts: Uint8Array[] = [];
  const entries: Array<{ partition: number; length: number }> = [];
  const indexes: number[] = [];
  for (const [partition, list] of byPartition) {
    const batch = encodeBatch(0, list.map((e) => e.record));
    parts.push(batch);
    entries.push({ partition, length: batch.length });
    indexes.push(...list.map((e) => e.index));
  }
  const placed = records.some((r) => r.partition === undefined);
  const envelope = (uploads: ReadonlyMap<number, string>): Uint8Array => {
    const frame: ProduceFrame = {
      recordBatches: entries.map((e, i) => (uploads.has(i) ? { ...e, upload: uploads.get(i)! } : e)),
      ...(placed ? { partitionCount: options.partitions } : {}),
      ...(options.expectedOffsets ? { expectedOffsets: options.expectedOffsets } : {}),
    };
    return encodeEnvelope(frame, parts.filter((_, i) => !uploads.has(i)));
  };
  return {
    body: envelope(new Map()),
    batches: entries.map((e, i) => ({ partition: e.partition, bytes: parts[i]! })),
    envelope,
    order: (response) => {
      const out: RecordMetadata[] = new Array(records.length);
      response.records.forEach((metadata, i) => (out[indexes[i]!] = metadata));
      return { records: out };
    },
  };
}

function logRecord(record: ProduceRecord, index: number, encoding: Encoding, timestamp: number): LogRecord {
  const where = `records[${index}]`;
  const text = (value: string, field: string): Uint8Array => {
    if (LONE_SURROGATE.test(value)) throw new InvalidRequestError(`${field} contains a lone UTF-16 surrogate, which has no UTF-8 form`);
    return utf8.encode(value);
  };
  const base64 = (value: unknown, field: string): Uint8Array => {
    if (typeof value !== 'string') throw new InvalidRequestError(`${field} must be a base64 string with encoding=base64`);
    return new Uint8Array(Buffer.from(value, 'base64'));
  };
  const key = record.key === undefined || record.key === null ? null : encoding === 'base64' ? base64(record.key, `${where}.key`) : text(record.key, `${where}.key`);
  let value: Uint8Array;
  if (encoding === 'base64') value = base64(record.value, `${where}.value`);
  else {
    try {
      value = utf8.encode(stringifyJson(record.value, MAX_JSON_DEPTH));
    } catch (error) {
      if (!(error instanceof JsonDepthError)) throw error;
      throw new InvalidRequestError(`${where}.value nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
    }
  }
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, v] of Object.entries(record.headers ?? {})) {
    text(name, `${where} header name`);
    text(v, `${where}.headers`);
    headers[name] = v;
  }
  return { key, value, valueIsJson: encoding === 'json', headers, timestamp };
}

/**
 * Presigned GETs a response's decoding runs at once: a response holds up to ~6 MB of frame, hundreds of URLs of
 * spilled batches of 8 KiB and up (docs/design.md, "Batches as stored, end to end").
 */
export const URL_LOADS_IN_FLIGHT = 16;

type UrlEntry = Extract<FetchBatchEntry, { url: string }>;

/**
 * Reads a binary response's bytes; the `url` entries of every part are fetched with `load` first, at most
 * {@link URL_LOADS_IN_FLIGHT} at a time.
 */
async function readParts<T extends PartitionRead>(
  parts: readonly T[],
  payload: Uint8Array,
  load: (entry: UrlEntry) => Promise<Uint8Array>,
): Promise<Array<{ part: T; records: ConsumedRecord[] }>> {
  const urlEntries = parts.flatMap((part) => part.recordBatches.filter((entry): entry is UrlEntry => 'url' in entry));
  const loaded = await mapLimit(urlEntries, URL_LOADS_IN_FLIGHT, load);
  const bytesOf = new Map<UrlEntry, Uint8Array>(urlEntries.map((entry, i) => [entry, loaded[i]!]));
  const out: Array<{ part: T; records: ConsumedRecord[] }> = [];
  let at = 0;
  for (const part of parts) {
    const { records, used } = await recordsOfRead(part, payload.subarray(at), async (entry) => bytesOf.get(entry)!);
    at += used;
    // The record a JSON fetch returns, through the same encoder: the two agree byte for byte.
    out.push({ part, records: records.map((r) => JSON.parse(encodeWireRecord(r, 'json')) as ConsumedRecord) });
  }
  if (at !== payload.length) throw new CorruptEnvelopeError(`${payload.length - at} payload bytes after the last batch`);
  return out;
}

function frameOf(bytes: Uint8Array): { frame: Record<string, unknown>; payload: Uint8Array } {
  const { frameText, payload } = decodeEnvelope(bytes);
  const frame = JSON.parse(frameText) as unknown;
  if (typeof frame !== 'object' || frame === null) throw new CorruptEnvelopeError('its frame is not an object');
  return { frame: frame as Record<string, unknown>, payload };
}

/** A binary partition fetch response as the JSON one (`encoding=json`). */
export async function decodeFetch(bytes: Uint8Array, load: (url: string) => Promise<Uint8Array>): Promise<FetchResponse> {
  const { frame, payload } = frameOf(bytes);
  const read = frame as unknown as FetchFrame;
  const [part] = await readParts([read], payload, (e) => load(e.url));
  return { records: part!.records, nextOffset: read.nextOffset, startOffset: read.startOffset, endOffset: read.endOffset };
}

/** A binary group fetch response as the JSON one (`encoding=json`). */
export async function decodeGroupFetch(bytes: Uint8Array, load: (url: string) => Promise<Uint8Array>): Promise<GroupFetchResponse> {
  const { frame, payload } = frameOf(bytes);
  const parts = await readParts((frame as unknown as GroupFetchFrame).batches, payload, (e) => load(e.url));
  return {
    batches: parts.map(({ part, records }) => ({
      topic: part.topic,
      partition: part.partition,
      leaseToken: part.leaseToken,
      records,
      nextOffset: part.nextOffset,
      endOffset: part.endOffset,
    })),
  };
}
