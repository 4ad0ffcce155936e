import { IdempotencyKeyReusedError, OffsetMismatchError, PayloadTooLargeError } from '../../lib/errors.js';
import { decodeBatch, encodeBatch, withBaseOffset, type LogRecord } from '../../lib/log/batch-format.js';
import type { ColdTier, EncodedBatch } from '../../lib/log/cold-tier.js';
import {
  MAX_TRANSACTION_ITEMS,
  type AppendOptions,
  type AppendResult,
  type BatchPage,
  type BatchQuery,
  type LogStore,
  type PartitionAppend,
} from '../../lib/log/log-store.js';
import { decodePartitionMeta, idempotencyPk, isExpired, META_ATTR, offsetSk, partitionPk } from '../../lib/storage/log-table.js';
import type { HotBatch, PartitionMeta, PartitionTail } from '../../lib/storage/log-items.js';

/** Calls a {@link MemoryLogStore} served, by method: what a read costs, as the DynamoDB store would be billed. */
export type StoreCalls = Record<'append' | 'readTail' | 'readMeta' | 'queryBatches' | 'loadBatch', number>;

/**
 * The hot tier in memory, faithful to the protocol of lib/log/log-store.ts where the log service can tell:
 * - a batch is written only at the partition's end offset, all of an append's batches or none (a conditional
 *   put at the end; `beforeWrite` lets a test slip a competing append in between reading the end and writing,
 *   and the append then walks past the winner as DynamoAppend does);
 * - `expectedOffsets` and idempotency records behave as in DynamoDB, expired records count as absent;
 * - a query examines `limit` items of the range and then skips those whose TTL has passed (DynamoDB's `Limit`
 *   counts items before they are filtered); the tail is the newest item, expired or not, else the meta item's
 *   end floor.
 * Maintenance's effects are set directly: {@link setMeta}, {@link expire}, {@link remove}.
 */
export class MemoryLogStore implements LogStore {
  readonly calls: StoreCalls = { append: 0, readTail: 0, readMeta: 0, queryBatches: 0, loadBatch: 0 };
  /** Runs after an append read the end offsets and before it writes (a competing writer goes here). */
  beforeWrite: (() => Promise<void> | void) | undefined;
  private readonly partitions = new Map<string, HotBatch[]>();
  private readonly metas = new Map<string, Record<string, number>>();
  private readonly idempotency = new Map<string, { response: unknown; digest?: string; expiresAt: number }>();
  private readonly now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
  }

  async append(topicId: string, appends: readonly PartitionAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    this.calls.append++;
    const expected = options.expectedOffsets ?? new Map<number, number>();
    const idemPk = options.idempotency ? idempotencyPk(topicId, options.idempotency.key) : undefined;
    const touched = new Set([...appends.map((a) => a.partition), ...expected.keys()]);
    if (touched.size + (idemPk ? 1 : 0) > MAX_TRANSACTION_ITEMS) throw new PayloadTooLargeError('too many partitions');
    for (;;) {
      const replay = idemPk ? this.replay(idemPk, options.idempotency?.digest) : undefined;
      if (replay !== undefined) return { kind: 'replayed', response: replay };
      const tails = new Map(appends.map((a) => [a.partition, this.tailOf(partitionPk(topicId, a.partition))]));
      for (const [p, want] of expected) {
        const end = this.tailOf(partitionPk(topicId, p)).endOffset;
        if (end !== want) {
          throw new OffsetMismatchError(`partition ${p} ends at ${end}, not ${want}`, { details: { partition: p, expectedOffset: want, endOffset: end } });
        }
      }
      await this.beforeWrite?.();
      // The condition of every put: no item at the end offset read. A winner there means: try again after it
      // (or, where expectedOffsets named the partition, the check above answers a mismatch).
      if (appends.some((a) => this.itemAt(partitionPk(topicId, a.partition), tails.get(a.partition)!.endOffset))) continue;
      const baseOffsets = new Map<number, number>();
      for (const a of appends) {
        const tail = tails.get(a.partition)!;
        this.write(partitionPk(topicId, a.partition), tail, a, options.expiresAtSec);
        baseOffsets.set(a.partition, tail.endOffset);
      }
      const response = options.idempotency?.response(baseOffsets);
      if (idemPk && options.idempotency) {
        const record = { response, expiresAt: Math.ceil((this.now() + 24 * 3600_000) / 1000) };
        this.idempotency.set(idemPk, options.idempotency.digest !== undefined ? { ...record, digest: options.idempotency.digest } : record);
      }
      return { kind: 'appended', baseOffsets, ...(idemPk ? { response } : {}) };
    }
  }

  /** Nothing is spilled in memory; a URL names the key so a test can see it was asked for. */
  async batchUrl(spillKey: string): Promise<{ url: string; expiresAt: number }> {
    return { url: `memory://${spillKey}`, expiresAt: this.now() + 300_000 };
  }

  async readTail(pk: string): Promise<PartitionTail> {
    this.calls.readTail++;
    return this.tailOf(pk);
  }

  async readMeta(pk: string): Promise<PartitionMeta> {
    this.calls.readMeta++;
    return decodePartitionMeta(this.metas.get(pk));
  }

  forgetMeta(): void {}

  async queryBatches(pk: string, query: BatchQuery): Promise<BatchPage> {
    this.calls.queryBatches++;
    const lo = query.fromOffset ?? 0;
    const hi = query.toOffset ?? Number.MAX_SAFE_INTEGER;
    let range = (this.partitions.get(pk) ?? []).filter((b) => b.baseOffset >= lo && b.baseOffset <= hi);
    if (!query.forward) range = range.reverse();
    if (query.exclusiveStartSk !== undefined) {
      const after = Number(query.exclusiveStartSk);
      range = range.filter((b) => (query.forward ? b.baseOffset > after : b.baseOffset < after));
    }
    const examined = range.slice(0, query.limit);
    const more = range.length > examined.length;
    const now = this.now();
    return {
      batches: examined.filter((b) => !isExpired(b, now)),
      more,
      ...(more ? { lastSk: offsetSk(examined[examined.length - 1]!.baseOffset) } : {}),
    };
  }

  async loadBatch(batch: HotBatch): Promise<Uint8Array> {
    this.calls.loadBatch++;
    return batch.data!;
  }

  // ----------------------------------------------------------------------------- what maintenance would do

  /** Sets marks of a partition's meta item (as lib/maintenance/partition-meta-writer.ts would). */
  setMeta(pk: string, marks: { startOffset?: number; tieredOffset?: number; endFloor?: PartitionTail }): void {
    const item = { ...this.metas.get(pk) };
    if (marks.startOffset !== undefined) item[META_ATTR.startOffset] = marks.startOffset;
    if (marks.tieredOffset !== undefined) item[META_ATTR.tieredOffset] = marks.tieredOffset;
    if (marks.endFloor) {
      item[META_ATTR.tieredEndOffset] = marks.endFloor.endOffset;
      item[META_ATTR.tieredMaxTimestamp] = marks.endFloor.maxTimestamp;
    }
    this.metas.set(pk, item);
  }

  /** Gives the batches below `before` a TTL of `expiresAtSec` (a tiered copy, or a hot-retention batch). */
  expire(pk: string, before: number, expiresAtSec: number): void {
    this.partitions.set(pk, (this.partitions.get(pk) ?? []).map((b) => (b.baseOffset < before ? { ...b, expiresAt: expiresAtSec } : b)));
  }

  /** Deletes the batches below `before` (what DynamoDB's TTL does, eventually). */
  remove(pk: string, before: number): void {
    this.partitions.set(pk, (this.partitions.get(pk) ?? []).filter((b) => b.baseOffset >= before));
  }

  /** Every batch of a partition, in offset order (expired ones too). */
  batches(pk: string): readonly HotBatch[] {
    return this.partitions.get(pk) ?? [];
  }

  private write(pk: string, tail: PartitionTail, append: PartitionAppend, expiresAtSec: number | undefined): void {
    // A batch sent as stored is kept as it came, its base offset patched (as DynamoAppend does).
    const data = 'batch' in append ? withBaseOffset(append.batch.bytes, tail.endOffset) : encodeBatch(tail.endOffset, append.records as LogRecord[]);
    const records = 'batch' in append ? decodeBatch(data) : append.records;
    const batch: HotBatch = {
      baseOffset: tail.endOffset,
      count: records.length,
      maxTimestamp: Math.max(tail.maxTimestamp, ...records.map((r) => r.timestamp)),
      appendedAt: this.now(),
      bytes: data.length,
      data,
      ...(expiresAtSec !== undefined ? { expiresAt: expiresAtSec } : {}),
    };
    this.partitions.set(pk, [...(this.partitions.get(pk) ?? []), batch]);
  }

  private itemAt(pk: string, offset: number): boolean {
    return (this.partitions.get(pk) ?? []).some((b) => b.baseOffset === offset);
  }

  private tailOf(pk: string): PartitionTail {
    const newest = (this.partitions.get(pk) ?? []).at(-1);
    if (newest) return { endOffset: newest.baseOffset + newest.count, maxTimestamp: newest.maxTimestamp };
    return this.metas.has(pk) ? decodePartitionMeta(this.metas.get(pk)).endFloor : { endOffset: 0, maxTimestamp: -Infinity };
  }

  private replay(pk: string, digest: string | undefined): unknown {
    const record = this.idempotency.get(pk);
    if (!record || record.expiresAt * 1000 <= this.now()) return undefined;
    if (digest !== undefined && record.digest !== undefined && record.digest !== digest) {
      throw new IdempotencyKeyReusedError('this Idempotency-Key was already used with a different request body');
    }
    return record.response;
  }
}

/**
 * The cold tier in memory: batches "tiered" from a {@link MemoryLogStore}, read back as lib/segments reads
 * segments (from the batch that contains the offset, until `maxBytes` of encoded data or `untilOffset`).
 */
export class MemoryColdTier implements ColdTier {
  readonly reads = { forward: 0, backward: 0, timestamp: 0 };
  private readonly partitions = new Map<string, EncodedBatch[]>();

  /** Copies the batches of a partition below `before` (not tiered yet) into the cold tier and marks them tiered in the meta item. */
  tier(store: MemoryLogStore, topicId: string, partition: number, before: number): void {
    const pk = partitionPk(topicId, partition);
    const tiered = (this.partitions.get(pk) ?? []).at(-1);
    const from = tiered ? tiered.baseOffset + tiered.count : 0;
    const moved = store.batches(pk).filter((b) => b.baseOffset >= from && b.baseOffset < before);
    const last = moved.at(-1);
    if (!last) return;
    const batches = moved.map((b) => ({ baseOffset: b.baseOffset, count: b.count, data: b.data! }));
    this.partitions.set(pk, [...(this.partitions.get(pk) ?? []), ...batches]);
    const end = last.baseOffset + last.count;
    store.setMeta(pk, { tieredOffset: end, endFloor: { endOffset: end, maxTimestamp: last.maxTimestamp } });
  }

  async readForward(topicId: string, partition: number, fromOffset: number, untilOffset: number, maxBytes: number): Promise<EncodedBatch[]> {
    this.reads.forward++;
    const out: EncodedBatch[] = [];
    let bytes = 0;
    for (const b of this.partitions.get(partitionPk(topicId, partition)) ?? []) {
      if (b.baseOffset + b.count <= fromOffset) continue;
      if (b.baseOffset >= untilOffset || (out.length > 0 && bytes >= maxBytes)) break;
      out.push(b);
      bytes += b.data.length;
    }
    return out;
  }

  async readBackward(topicId: string, partition: number, beforeOffset: number, maxBytes: number): Promise<EncodedBatch[]> {
    this.reads.backward++;
    const out: EncodedBatch[] = [];
    let bytes = 0;
    for (const b of [...(this.partitions.get(partitionPk(topicId, partition)) ?? [])].reverse()) {
      if (b.baseOffset >= beforeOffset) continue;
      if (out.length > 0 && bytes >= maxBytes) break;
      out.push(b);
      bytes += b.data.length;
    }
    return out;
  }

  async offsetForTimestamp(topicId: string, partition: number, timestamp: number): Promise<number | undefined> {
    this.reads.timestamp++;
    for (const b of this.partitions.get(partitionPk(topicId, partition)) ?? []) {
      const found = decodeBatch(b.data, b.baseOffset).find((r) => r.timestamp >= timestamp);
      if (found) return found.offset;
    }
    return undefined;
  }
}
