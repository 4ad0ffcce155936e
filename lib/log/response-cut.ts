import type { StoredRecord } from './batch-format.js';
import { MAX_RESPONSE_RECORD_BYTES, wireSize, type RecordEncoding } from './wire-size.js';

/**
 * Where a response stops adding records: THE cut by `limit` and `maxBytes` (docs/design.md, "Response size").
 *
 * Records count by {@link wireSize} in the response's encoding; the first record is always taken, however
 * large (a produce refuses records that would not fit any response); after it, a record is taken only while
 * the records stay within `maxBytes` and everything counted (records and any envelope `reserve`d, e.g. a group
 * fetch's per-partition framing) within {@link MAX_RESPONSE_RECORD_BYTES}, so the response fits Lambda.
 *
 * @example
 * const cut = new ResponseCut({ limit: 100, maxBytes: 1 << 20, encoding: 'json' });
 * for (const record of records) if (!cut.take(record)) break;
 */
export class ResponseCut {
  private readonly limit: number;
  private readonly maxBytes: number;
  private readonly encoding: RecordEncoding;
  private records = 0;
  private recordBytes = 0;
  private totalBytes = 0;
  private stopped = false;

  constructor(options: { readonly limit: number; readonly maxBytes: number; readonly encoding: RecordEncoding }) {
    this.limit = options.limit;
    this.maxBytes = options.maxBytes;
    this.encoding = options.encoding;
  }

  /** Records taken so far. */
  get count(): number {
    return this.records;
  }

  /**
   * True once nothing more can be taken: a record did not fit (a later one must not pass it), `limit` records
   * were taken, or the bytes are spent.
   */
  get full(): boolean {
    return (
      this.stopped ||
      this.records >= this.limit ||
      (this.records > 0 && (this.recordBytes >= this.maxBytes || this.totalBytes >= MAX_RESPONSE_RECORD_BYTES))
    );
  }

  /** Counts `record` if it fits; false (and {@link full} from then on) if it does not. */
  take(record: StoredRecord): boolean {
    const size = wireSize(record, this.encoding);
    const over = this.recordBytes + size > this.maxBytes || this.totalBytes + size > MAX_RESPONSE_RECORD_BYTES;
    if (this.records >= this.limit || (this.records > 0 && over)) {
      this.stopped = true;
      return false;
    }
    this.records++;
    this.recordBytes += size;
    this.totalBytes += size;
    return true;
  }

  /**
   * A copy with the same counts, to try a cut on before committing to it: a share-group fetch cuts the records
   * it means to acquire, and keeps the copy only if its conditional write wins (lib/share-groups/share-fetch.ts).
   */
  fork(): ResponseCut {
    const copy = new ResponseCut({ limit: this.limit, maxBytes: this.maxBytes, encoding: this.encoding });
    copy.records = this.records;
    copy.recordBytes = this.recordBytes;
    copy.totalBytes = this.totalBytes;
    copy.stopped = this.stopped;
    return copy;
  }

  /** Counts bytes that are not records (an envelope) against the response's limit; false, counting nothing, if they do not fit. */
  reserve(bytes: number): boolean {
    if (this.totalBytes + bytes > MAX_RESPONSE_RECORD_BYTES) return false;
    this.totalBytes += bytes;
    return true;
  }
}
