import { crc32, gunzipSync, gzipSync } from 'node:zlib';

/**
 * The record-batch format: how a batch of records is stored, byte for byte, in a DynamoDB batch item
 * (attribute `v`), in a spilled S3 object, and inside cold S3 segments. Version 2 is written; versions 1 and 2
 * are read.
 *
 * ```
 * batch    := header body
 * header   := magic:"SL" version:u8(=1|2) codec:u8 baseOffset:f64 count:u32 baseTimestamp:f64
 *             bodyLength:u32 bodyCrc32:u32                      (32 bytes, big-endian)
 * body     := records, compressed as `codec` says (0 = none, 1 = gzip)
 * records  := record{count}
 * record   := attributes:u8 timestampDelta
 *             keyLength:varint key:bytes            (present only when attributes & KEY_PRESENT)
 *             valueLength:varint value:bytes
 *             headerCount:varint (nameLength:varint name:utf8 valueLength:varint value:utf8){headerCount}
 * timestampDelta := v1: zigzag-varint, the signed difference from baseTimestamp, the FIRST record's timestamp
 *                   v2: varint, the difference from baseTimestamp, the SMALLEST timestamp of the batch
 * attributes: bit 0 VALUE_JSON — the value bytes are UTF-8 JSON text (produced with `encoding: json`);
 *             bit 1 KEY_PRESENT — the key is not null.
 * varint   := unsigned LEB128, at most 8 bytes (values below 2^53)
 * ```
 * Record `i` has offset `baseOffset + i`; offsets are implicit, so a batch is dense by construction.
 * `bodyCrc32` (CRC-32, IEEE) covers the body as stored, so corruption is caught before decompression.
 * The header stays uncompressed so that a retried append can move a batch to a new base offset by
 * patching eight bytes ({@link withBaseOffset}) instead of re-encoding.
 *
 * Why v2: timestamps run from 0 to 8.64e15 ms (docs/api.md), so a delta spans ±8.64e15 and its zigzag up to
 * 1.7e16, beyond the 2^53 that a JavaScript number holds exactly. v1 writers computed `-n*2-1` in floating
 * point, so a batch whose timestamps fell by more than 2^52 ms decoded with a different timestamp (issue 9).
 * v2 measures every delta from the batch's smallest timestamp: deltas are never negative and stay below
 * 8.64e15 < 2^53, exact in any arithmetic (Kafka's v2 batch keeps a signed varlong delta, exact in a Java
 * long; JavaScript has no such integer). A v1 batch decodes as before: its deltas were exact whenever the
 * writer's arithmetic was.
 */
export const BATCH_MAGIC = 0x534c; // "SL"
/** The version this code writes. */
export const BATCH_VERSION = 2;
/** Versions this code reads. */
const READABLE_VERSIONS: ReadonlySet<number> = new Set([1, 2]);
export const BATCH_HEADER_BYTES = 32;

export const enum Codec {
  None = 0,
  Gzip = 1,
}

export const RECORD_VALUE_JSON = 0b01;
export const RECORD_KEY_PRESENT = 0b10;

/** Bodies smaller than this are not worth a gzip header. */
const COMPRESS_MIN_BYTES = 256;
/** Keep the compressed body only when it saves at least this fraction. */
const COMPRESS_MIN_SAVING = 0.1;

/** A record as the log stores it: raw bytes, no offset yet. */
export interface LogRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  /** True when `value` is UTF-8 JSON text (produced with `encoding: json`). */
  readonly valueIsJson: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

/** A record read back from the log. */
export interface StoredRecord extends LogRecord {
  readonly offset: number;
}

export interface BatchHeader {
  readonly version: number;
  readonly codec: Codec;
  readonly baseOffset: number;
  readonly count: number;
  readonly baseTimestamp: number;
  readonly bodyLength: number;
  readonly bodyCrc32: number;
}

export class CorruptBatchError extends Error {
  constructor(message: string) {
    super(`corrupt record batch: ${message}`);
    this.name = 'CorruptBatchError';
  }
}

const utf8Encoder = new TextEncoder();
// ignoreBOM: a header value that begins with U+FEFF keeps it (the default would strip it, and the value with it).
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Encodes `records` (at least one) as a batch starting at `baseOffset`.
 * @param compress gzip the body when it pays (default true).
 */
export function encodeBatch(baseOffset: number, records: readonly LogRecord[], compress = true): Uint8Array {
  if (records.length === 0) throw new RangeError('a batch holds at least one record');
  let baseTimestamp = Infinity;
  for (const record of records) {
    if (!Number.isSafeInteger(record.timestamp) || record.timestamp < 0) {
      throw new RangeError(`timestamp ${record.timestamp} is not a non-negative integer below 2^53`);
    }
    baseTimestamp = Math.min(baseTimestamp, record.timestamp);
  }
  const writer = new ByteWriter(estimateBodySize(records));
  for (const record of records) {
    let attributes = record.valueIsJson ? RECORD_VALUE_JSON : 0;
    if (record.key !== null) attributes |= RECORD_KEY_PRESENT;
    writer.u8(attributes);
    writer.varint(record.timestamp - baseTimestamp);
    if (record.key !== null) writer.bytesWithLength(record.key);
    writer.bytesWithLength(record.value);
    const names = Object.keys(record.headers);
    writer.varint(names.length);
    for (const name of names) {
      writer.bytesWithLength(utf8Encoder.encode(name));
      writer.bytesWithLength(utf8Encoder.encode(record.headers[name]!));
    }
  }
  let body: Uint8Array = writer.finish();
  let codec = Codec.None;
  if (compress && body.length >= COMPRESS_MIN_BYTES) {
    const gz = gzipSync(body, { level: 6 });
    if (gz.length <= body.length * (1 - COMPRESS_MIN_SAVING)) {
      body = gz;
      codec = Codec.Gzip;
    }
  }
  const out = new Uint8Array(BATCH_HEADER_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, BATCH_MAGIC);
  view.setUint8(2, BATCH_VERSION);
  view.setUint8(3, codec);
  view.setFloat64(4, baseOffset);
  view.setUint32(12, records.length);
  view.setFloat64(16, baseTimestamp);
  view.setUint32(24, body.length);
  view.setUint32(28, crc32(body));
  out.set(body, BATCH_HEADER_BYTES);
  return out;
}

/** Reads and checks the header of an encoded batch. */
export function decodeBatchHeader(batch: Uint8Array): BatchHeader {
  if (batch.length < BATCH_HEADER_BYTES) throw new CorruptBatchError(`${batch.length} bytes is shorter than a header`);
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  if (view.getUint16(0) !== BATCH_MAGIC) throw new CorruptBatchError('bad magic');
  const version = view.getUint8(2);
  if (!READABLE_VERSIONS.has(version)) throw new CorruptBatchError(`unsupported version ${version}`);
  const codec = view.getUint8(3);
  if (codec !== Codec.None && codec !== Codec.Gzip) throw new CorruptBatchError(`unknown codec ${codec}`);
  return {
    version,
    codec,
    baseOffset: view.getFloat64(4),
    count: view.getUint32(12),
    baseTimestamp: view.getFloat64(16),
    bodyLength: view.getUint32(24),
    bodyCrc32: view.getUint32(28),
  };
}

/** How strictly {@link decodeBatch} reads: batches from a client are checked harder than the log's own. */
export interface DecodeOptions {
  /**
   * Header names and values must be valid UTF-8 (never decoded with replacement characters) and a name may
   * appear once per record: what a batch sent as stored must satisfy to read back the same in every encoding.
   */
  readonly strict?: boolean;
  /** The inflated body may not exceed this many bytes (a decompression bomb stops here). */
  readonly maxBodyBytes?: number;
}

/**
 * Decodes every record of an encoded batch, checking its checksum.
 * @param baseOffset the batch's offset where the caller knows better than the header: a spilled S3 object
 *   keeps the base offset of its first append attempt, while the item that points at it holds the real one.
 * @throws CorruptBatchError; RangeError (`ERR_BUFFER_TOO_LARGE`) when the body inflates past `maxBodyBytes`.
 */
export function decodeBatch(batch: Uint8Array, baseOffset?: number, options: DecodeOptions = {}): StoredRecord[] {
  const header = decodeBatchHeader(batch);
  const base = baseOffset ?? header.baseOffset;
  const stored = batch.subarray(BATCH_HEADER_BYTES, BATCH_HEADER_BYTES + header.bodyLength);
  if (stored.length !== header.bodyLength) throw new CorruptBatchError('truncated body');
  if (crc32(stored) !== header.bodyCrc32) throw new CorruptBatchError('checksum mismatch');
  const limit = options.maxBodyBytes !== undefined ? { maxOutputLength: Math.max(1, options.maxBodyBytes) } : {};
  const body = header.codec === Codec.Gzip ? new Uint8Array(gunzipSync(stored, limit)) : stored;
  if (options.maxBodyBytes !== undefined && body.length > options.maxBodyBytes) throw new RangeError('body exceeds maxBodyBytes');
  const text = options.strict ? strictUtf8 : lenientUtf8;
  const reader = new ByteReader(body);
  const records: StoredRecord[] = new Array(header.count);
  for (let i = 0; i < header.count; i++) {
    const attributes = reader.u8();
    const timestamp = header.baseTimestamp + (header.version === 1 ? reader.zigzag() : reader.varint());
    const key = attributes & RECORD_KEY_PRESENT ? reader.bytesWithLength() : null;
    const value = reader.bytesWithLength();
    const headerCount = reader.varint();
    // No prototype: a header named `__proto__` is data and must come back like any other.
    const headers: Record<string, string> = Object.create(null);
    for (let h = 0; h < headerCount; h++) {
      const name = text(reader.bytesWithLength());
      const value = text(reader.bytesWithLength());
      if (options.strict && Object.hasOwn(headers, name)) throw new CorruptBatchError(`record ${i} repeats the header name '${name.slice(0, 64)}'`);
      // `__proto__` is a header name like any other: define it rather than call the prototype setter.
      if (name === '__proto__') Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
      else headers[name] = value;
    }
    records[i] = { offset: base + i, key, value, valueIsJson: (attributes & RECORD_VALUE_JSON) !== 0, headers, timestamp };
  }
  if (!reader.done()) throw new CorruptBatchError('trailing bytes after the last record');
  return records;
}

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);
function strictUtf8(bytes: Uint8Array): string {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    throw new CorruptBatchError('a header name or value is not valid UTF-8');
  }
}

/** A copy of `batch` whose header says `baseOffset`; the body (and its checksum) is untouched. */
export function withBaseOffset(batch: Uint8Array, baseOffset: number): Uint8Array {
  const copy = batch.slice();
  new DataView(copy.buffer, copy.byteOffset, copy.byteLength).setFloat64(4, baseOffset);
  return copy;
}

/**
 * The bytes a record occupies in an uncompressed body, roughly: sizes the encoder's buffer. (A fetch's
 * `maxBytes` counts records as encoded in the response instead: `wire-size.ts`.)
 */
export function recordSize(record: LogRecord): number {
  let size = 12 + (record.key?.length ?? 0) + record.value.length;
  for (const name in record.headers) size += 4 + name.length + record.headers[name]!.length;
  return size;
}

function estimateBodySize(records: readonly LogRecord[]): number {
  let size = 0;
  for (const r of records) size += recordSize(r);
  return size;
}

class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initial: number) {
    this.buf = new Uint8Array(Math.max(64, initial));
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + extra));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(n: number): void {
    this.ensure(1);
    this.buf[this.pos++] = n;
  }

  /** Unsigned LEB128 for non-negative integers up to 2^53. */
  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  bytesWithLength(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  u8(): number {
    if (this.pos >= this.buf.length) throw new CorruptBatchError('unexpected end of body');
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 0x80;
    }
    throw new CorruptBatchError('varint too long');
  }

  /** ZigZag-decoded varint: the signed timestamp deltas of v1. */
  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  bytesWithLength(): Uint8Array {
    const length = this.varint();
    if (this.pos + length > this.buf.length) throw new CorruptBatchError('field runs past the end of the body');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  done(): boolean {
    return this.pos === this.buf.length;
  }
}
