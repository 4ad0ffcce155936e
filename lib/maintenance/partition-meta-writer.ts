import type { PartitionMeta } from '../storage/log-items.js';

/**
 * The marks of a partition's meta item, as maintenance advances them, and the TTL of hot batch items. Every
 * write is conditional on the state it advances from, so two overlapping passes never move a mark backwards,
 * and a lost race is a `false`, not an exception (KCL's rule). {@link DynamoPartitionMetaWriter} is the only
 * writer of these.
 *
 * ```
 * offsets:  0 ── startOffset ──── releasedOffset ──── tieredOffset = tiering end floor ──── hot end
 *           gone  │ cold (hot copies on TTL) │ cold + hot (TTL pending) │ hot only
 * ```
 * The tiering end floor always equals `tieredOffset`: it is the floor of the log end once TTL has removed
 * every hot item, and it is written BEFORE any hot item gets a TTL (docs/design.md, invariant 1: offsets are
 * never reused). Hot retention records its own floor (`hotFloorOffset`) for the same reason.
 */
export interface PartitionMetaWriter {
  /** The marks as stored now (a strongly consistent read), decoded as readers decode them. */
  read(pk: string): Promise<PartitionMeta>;
  /**
   * Moves `tieredOffset` (and with it the tiering end floor) from `from` to `to`, only if it is still `from`:
   * the segment covering [from, to) is indexed, and this write makes it the partition's cold range.
   */
  advanceTiered(pk: string, from: number, to: number, maxTimestamp: number): Promise<boolean>;
  /** Records that every hot copy below `to` has its TTL (never moves back, never past `tieredOffset`). */
  advanceReleased(pk: string, to: number): Promise<boolean>;
  /** Retention: moves `startOffset` up to `to` (never back, never past `tieredOffset`). */
  advanceStart(pk: string, to: number): Promise<boolean>;
  /**
   * Hot retention: records the partition's end offset (and running max timestamp) as a floor that outlives
   * every hot item, before any of them can expire. Never moves back.
   */
  advanceHotFloor(pk: string, to: number, maxTimestamp: number): Promise<boolean>;
  /**
   * Hot retention: moves `startOffset` from `meta.startOffset` to `to` over hot batches past their retention.
   * Offsets below the new start need no tiering, so the tiering marks move up with it (`to` is never above the
   * hot floor, which was recorded first). Conditional on the marks read, so a concurrent tiering or retention
   * step makes this a lost race (`false`).
   */
  advanceHotStart(pk: string, meta: PartitionMeta, to: number): Promise<boolean>;
  /**
   * Gives a hot batch item its TTL (epoch seconds). Never creates an item (it may be gone already) and never
   * replaces an earlier expiry.
   */
  setExpiry(pk: string, baseOffset: number, expiresAtSec: number): Promise<boolean>;
  /** Deletes up to `limit` items under `pk` (a deleted topic's partition); returns how many. */
  deleteSome(pk: string, limit: number): Promise<number>;
}
