import { BATCH_HEADER_BYTES, decodeBatch, encodeBatch, recordSize, type StoredRecord } from './batch-format.js';
import type { ReadBatch, ReadOptions } from './log-types.js';
import { takeForward } from './read-plan.js';
import { ResponseCut } from './response-cut.js';
import { MAX_RESPONSE_RECORD_BYTES } from './wire-size.js';

/** A batch a forward read reached, before its bytes are loaded. */
export interface SourceBatch {
  readonly baseOffset: number;
  readonly count: number;
  /** Bytes as stored. */
  readonly bytes: number;
  /** Set for a hot batch spilled to S3: it may be handed out as a presigned URL instead. */
  readonly spillKey?: string;
  load(): Promise<Uint8Array>;
}

/**
 * Where a forward read puts what it takes (docs/design.md, "Read"): records, cut by their size in a JSON
 * response ({@link RecordSink}), or whole stored batches, cut by their stored size in a binary response
 * ({@link BatchSink}). The reader's plan is the same for both.
 */
export interface ReadSink {
  /** Nothing more can be taken. */
  readonly full: boolean;
  /** Whether taking `batch` needs its bytes (a batch handed out by URL does not): the reader prefetches only those. */
  needsBytes(batch: Pick<SourceBatch, 'bytes' | 'spillKey'>): boolean;
  /** Takes what fits of `batch` from offset `next` on; returns the new next offset. */
  take(batch: SourceBatch, next: number): Promise<number>;
}

/** Records, cut by {@link ResponseCut} (`limit`, `maxBytes`, the Lambda limit) in the response's encoding. */
export class RecordSink implements ReadSink {
  readonly out: StoredRecord[] = [];
  private readonly cut: ResponseCut;

  constructor(options: ReadOptions) {
    this.cut = new ResponseCut(options);
  }

  get full(): boolean {
    return this.cut.full;
  }

  needsBytes(): boolean {
    return true;
  }

  async take(batch: SourceBatch, next: number): Promise<number> {
    return takeForward(decodeBatch(await batch.load(), batch.baseOffset), next, this.cut, this.out);
  }
}

/**
 * A binary response's room for batches: Lambda carries a binary body base64-encoded (4 bytes per 3) inside its
 * 6 MiB result, so the batches and their frame entries may take 3/4 of what a JSON response's records may.
 */
export const MAX_RESPONSE_BATCH_BYTES = Math.floor((MAX_RESPONSE_RECORD_BYTES * 3) / 4);
/** Bytes a batch's entry takes in the frame besides a URL: `{"baseOffset":…,"count":…,"length":…},` at most. */
const ENTRY_BYTES = 80;
/** Bytes a batch adds to a binary response: its bytes (or its URL) and its frame entry. */
export const batchEntryBytes = (batch: Pick<ReadBatch, 'length' | 'url'>): number => ENTRY_BYTES + (batch.url !== undefined ? batch.url.length : batch.length);

/**
 * Whole stored batches, as a binary response sends them (docs/api.md, "Binary record batches"): `limit`
 * counts records from the read's first offset (the last batch may hold more: the client stops at
 * `nextOffset`), `maxBytes` counts batches' stored bytes, and the bytes and frame stay within
 * {@link MAX_RESPONSE_BATCH_BYTES}. The first batch is always taken: one that could not fit a response alone
 * (only a batch uploaded to S3 can be that large) is cut to the records that fit, re-encoded — the one case a
 * batch is not sent as stored. With `urls`, every spilled batch goes as a presigned URL: signing one takes the
 * function well under a millisecond of CPU where reading it takes an S3 round trip, and the client's GET costs
 * what the function's would (docs/design.md, "Batches as stored, end to end").
 */
export class BatchSink implements ReadSink {
  readonly out: ReadBatch[] = [];
  private records = 0;
  private bytes = 0;
  private responseBytes = 0;
  private stopped = false;
  private readonly limit: number;
  private readonly maxBytes: number;
  private readonly urls: boolean;

  constructor(
    options: ReadOptions,
    private readonly presign: (spillKey: string) => Promise<{ url: string; expiresAt: number }>,
  ) {
    this.limit = options.limit;
    this.maxBytes = options.maxBytes;
    this.urls = options.batches?.urls ?? false;
  }

  get full(): boolean {
    return this.stopped || this.records >= this.limit || (this.records > 0 && this.bytes >= this.maxBytes);
  }

  needsBytes(batch: Pick<SourceBatch, 'bytes' | 'spillKey'>): boolean {
    return !(this.urls && batch.spillKey !== undefined);
  }

  async take(batch: SourceBatch, next: number): Promise<number> {
    const available = batch.baseOffset + batch.count - next;
    if (available <= 0 || this.full) return next;
    const first = this.out.length === 0;
    const byUrl = !this.needsBytes(batch);
    const url = byUrl ? await this.presign(batch.spillKey!) : undefined;
    const responseBytes = batchEntryBytes({ length: batch.bytes, ...(url ? { url: url.url } : {}) });
    if (!first && (this.bytes + batch.bytes > this.maxBytes || this.responseBytes + responseBytes > MAX_RESPONSE_BATCH_BYTES)) {
      this.stopped = true;
      return next;
    }
    if (first && responseBytes > MAX_RESPONSE_BATCH_BYTES) return this.takeSlice(batch, next);
    const taken = Math.min(available, this.limit - this.records);
    this.out.push({
      baseOffset: batch.baseOffset,
      count: batch.count,
      length: batch.bytes,
      ...(url ? { url: url.url, expiresAt: url.expiresAt } : { data: await batch.load() }),
    });
    this.records += taken;
    this.bytes += batch.bytes;
    this.responseBytes += responseBytes;
    return next + taken;
  }

  /** The records from `next` that fit a response alone, as a batch of their own (see the class comment). */
  private async takeSlice(batch: SourceBatch, next: number): Promise<number> {
    const slice: StoredRecord[] = [];
    let size = BATCH_HEADER_BYTES + ENTRY_BYTES;
    for (const record of decodeBatch(await batch.load(), batch.baseOffset)) {
      if (record.offset < next) continue;
      // Stored uncompressed (below), so a record takes at most its recordSize in the body.
      if (slice.length >= this.limit - this.records || (slice.length > 0 && size + recordSize(record) > MAX_RESPONSE_BATCH_BYTES)) break;
      slice.push(record);
      size += recordSize(record);
    }
    let data = encodeBatch(next, slice, false);
    // recordSize counts header text in UTF-16 units: multi-byte headers may need a record or two less.
    while (data.length + ENTRY_BYTES > MAX_RESPONSE_BATCH_BYTES && slice.length > 1) {
      slice.pop();
      data = encodeBatch(next, slice, false);
    }
    this.out.push({ baseOffset: next, count: slice.length, length: data.length, data });
    this.records += slice.length;
    this.bytes += data.length;
    this.responseBytes += data.length + ENTRY_BYTES;
    this.stopped = true;
    return next + slice.length;
  }
}
