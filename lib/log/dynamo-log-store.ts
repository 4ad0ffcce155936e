import { randomBytes, randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { MAX_INLINE_BATCH_BYTES } from '../config.js';
import {
  IdempotencyKeyReusedError,
  OffsetMismatchError,
  PayloadTooLargeError,
  ThrottledError,
  UnavailableError,
} from '../errors.js';
import {
  batchEnd,
  batchWriter,
  decodeBatchItem,
  decodeIdempotencyItem,
  decodePartitionMeta,
  decodeTailItem,
  encodeBatchItem,
  encodeIdempotencyItem,
  IDEMPOTENCY_ATTR,
  IDEMPOTENCY_SK,
  idempotencyPk,
  isExpired,
  itemKey,
  MAX_OFFSET_SK,
  offsetSk,
  partitionMetaKey,
  partitionPk,
  TAIL_PROJECTION,
  type HotBatch,
  type PartitionMeta,
  type PartitionTail,
} from '../storage/log-table.js';
import { spillObjectKey } from '../storage/prefixes.js';
import {
  afterLostRace,
  DEFAULT_APPEND_BACKOFF,
  delayBeforeFirstAttempt,
  narrow,
  widen,
  windowAt,
  type AppendBackoffPolicy,
  type ContentionWindow,
  type LostRaceKind,
} from './append-retry.js';
import { PartitionTurns } from './partition-turns.js';
import { encodeBatch, withBaseOffset, type LogRecord } from './batch-format.js';
import type { AppendOptions, AppendResult, PartitionAppend } from './log-store.js';

export { MAX_INLINE_BATCH_BYTES };
/** TransactWriteItems carries at most 4 MB; keep the inline payload of one transaction below this. */
export const MAX_TRANSACTION_INLINE_BYTES = 3.5 * 1024 * 1024;
/** TransactWriteItems carries at most 100 items. */
export const MAX_TRANSACTION_ITEMS = 100;
/** Idempotency keys are remembered this long (API.md: 24 hours). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** How long a process trusts the partition tail it learned from its own last append. */
export const TAIL_CACHE_MS = 5_000;

export interface DynamoLogStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Needed for batches too large for one item; without it they are refused with 413. */
  readonly s3?: S3Client;
  readonly bucket?: string;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** How an append backs off after lost races (default {@link DEFAULT_APPEND_BACKOFF}). */
  readonly backoff?: AppendBackoffPolicy;
  readonly tailCacheMs?: number;
  /** How long the partition meta item (start offset, tiering state) may be served from memory. */
  readonly metaCacheMs?: number;
  /** Batches larger than this go to S3 behind a pointer item (default: only those too large for an item). */
  readonly spillThresholdBytes?: number;
}

/** The meta item changes only at maintenance passes; a short cache saves a read on every fetch. */
export const META_CACHE_MS = 2_000;

/** A lost race, as the attempt that lost it saw it. */
interface LostRace {
  readonly kind: LostRaceKind;
  /** The end of the winner's batch, when its item came back with the failure. */
  readonly next?: PartitionTail;
}

/** One append's progress through its races. */
interface RaceState {
  /** The partition keys it writes (or checks). */
  readonly pks: readonly string[];
  readonly startedAt: number;
  /** The contention window when it started. */
  readonly windowMs: number;
  attempts: number;
  losses: number;
}

/** Cancellation reasons of a transaction that lost a race (or met another in flight); anything else is a fault. */
const LOST_RACE_REASONS = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);
/** Cancellation reasons that are DynamoDB throttling the request: a 429 with Retry-After, not a lost race. */
const THROTTLED_REASONS = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

interface PreparedBatch {
  /** The id of the append, written with each of its batch items (see `putBatch`). */
  readonly writer: string;
  readonly topicId: string;
  readonly partition: number;
  readonly pk: string;
  readonly count: number;
  readonly batchMaxTimestamp: number;
  /** Encoded at the base offset of the first attempt; patched per attempt. */
  encoded: Uint8Array;
  readonly expiresAtSec?: number;
  spillKey?: string;
}

/**
 * The hot tier of the log in DynamoDB, and the append protocol.
 *
 * ## Append: one conditional write, no transaction, in the common case
 * A batch item's sort key is its base offset. An append reads the partition's end offset E (from the newest
 * item, or from this process's cache of its own last append) and writes the batch at sort key E with
 * `attribute_not_exists(pk)`:
 *
 * ```
 * producer A: tail → E=10 ─ Put sk=10 (n=5) ✔ ─────────────────────────────── acked [10..14]
 * producer B: tail → E=10 ───── Put sk=10 ✘ (ALL_OLD: n=5) → Put sk=15 (n=3) ✔ acked [15..17]
 * ```
 * Because an item is only ever written at a key that was observed to be the end of the log, batches tile
 * [0, end) with no gap and no overlap: a reader never sees a hole that is later filled, and a failed append
 * leaves nothing behind. The payload is paid once (a standard write), not twice as in a transaction. A lost
 * race is a return value: the conflicting item comes back with the failure (`ReturnValuesOnConditionCheckFailure`),
 * so the first retry needs no extra read.
 *
 * Requests that span partitions, carry an `Idempotency-Key`, or name partitions in `expectedOffsets`
 * without writing to them, use one `TransactWriteItems` (all or nothing, at twice the write price). Its batch
 * items carry the same condition; a cancelled transaction returns each winner's item in its cancellation
 * reasons, and is retried the same way.
 *
 * ## Under contention (lib/log/append-retry.ts)
 * A lost race is not throttling: the append keeps trying until it wins or its time budget (20 s) is spent,
 * then answers a retriable UNAVAILABLE having appended nothing. Within one process, appends to the same
 * partitions take turns in arrival order ({@link PartitionTurns}), so a process never races itself. Against
 * other processes, each partition has a contention window that lost races widen and wins narrow. On a quiet
 * partition the first loss retries at once after the winner's item. Otherwise (and for a new append while the
 * window is open) the append sleeps a random part of the window, then takes the true end offsets right before
 * writing (one Query per partition, in parallel), unless the sleep was shorter than a write's round trip (then
 * the winner's item is as fresh as a read):
 *
 * ```
 * producer C: tail → E=10 ─ Put sk=10 ✘ (n=5) ─ Put sk=15 ✘ (n=2) ─ sleep rand(window) ─ tail → E=31 ─ Put sk=31 ✔
 *                           first loss, quiet:   window open now:     others appended meanwhile: read
 *                           walk past winner     back off             the end, don't walk item by item
 * ```
 * A transaction over k partitions loses when any of them moved, so it is the first to need this. A write that
 * meets a transaction in flight on the same item (`TransactionConflict`) backs off before it retries.
 *
 * The tail cache is only trusted for {@link TAIL_CACHE_MS}: hot items are deleted (by TTL) only after they
 * are tiered and a grace period of at least an hour, so a key observed as the end a few seconds ago cannot
 * have been deleted and re-used.
 */
export class DynamoLogStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly s3: S3Client | undefined;
  private readonly bucket: string | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly backoff: AppendBackoffPolicy;
  private readonly tailCacheMs: number;
  /** End offsets this process saw, by partition key, and until when to trust each. */
  private readonly tails = new Map<string, PartitionTail & { until: number }>();
  /** Contention windows of partitions where this process lost races lately (see lib/log/append-retry.ts). */
  private readonly windows = new Map<string, ContentionWindow>();
  /** This process's appends to the same partitions go one after another (see lib/log/partition-turns.ts). */
  private readonly turns = new PartitionTurns();
  private readonly metaCacheMs: number;
  private readonly spillThresholdBytes: number;
  private readonly metas = new Map<string, { meta: PartitionMeta; until: number }>();

  constructor(options: DynamoLogStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.backoff = options.backoff ?? DEFAULT_APPEND_BACKOFF;
    this.tailCacheMs = options.tailCacheMs ?? TAIL_CACHE_MS;
    this.metaCacheMs = options.metaCacheMs ?? META_CACHE_MS;
    this.spillThresholdBytes = Math.min(MAX_INLINE_BATCH_BYTES, options.spillThresholdBytes ?? MAX_INLINE_BATCH_BYTES);
  }

  // ---------------------------------------------------------------------------------------------- append

  /**
   * Appends each partition's records as one batch, all or nothing. Lost races are retried (see the class
   * comment) until the append wins or its time budget is spent.
   * @throws OffsetMismatchError when `expectedOffsets` does not match; ThrottledError when DynamoDB throttles
   *   the write; UnavailableError when other producers kept winning for the whole time budget (nothing was
   *   appended; retriable).
   */
  async append(topicId: string, appends: readonly PartitionAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    const startedAt = this.now();
    const expected = options.expectedOffsets ?? new Map<number, number>();
    const touched = new Set(appends.map((a) => a.partition));
    const checkOnly = [...expected.keys()].filter((p) => !touched.has(p));
    const writer = randomBytes(6).toString('base64url');
    const prepared = await Promise.all(appends.map((a) => this.prepare(writer, topicId, a, options.expiresAtSec)));
    const single = prepared.length === 1 && checkOnly.length === 0 && !options.idempotency;
    if (!single && prepared.length + checkOnly.length + (options.idempotency ? 1 : 0) > MAX_TRANSACTION_ITEMS) {
      // Validated at the boundary already; this guards the invariant for other callers.
      throw new PayloadTooLargeError(`one request may touch at most ${MAX_TRANSACTION_ITEMS - 1} partitions`);
    }
    // Spilled payload goes to S3 before the race: it needs no turn, and a lost race does not rewrite it.
    if (single) {
      if (prepared[0]!.encoded.length > this.spillThresholdBytes) await this.spill(prepared[0]!);
    } else {
      await this.spillToFitTransaction(prepared);
    }
    const pks = [...prepared.map((b) => b.pk), ...checkOnly.map((p) => partitionPk(topicId, p))];
    const release = await this.turns.take(pks);
    try {
      const race = this.startRace(pks, startedAt);
      if (single) return await this.appendOne(race, prepared[0]!, expected.get(prepared[0]!.partition));
      return await this.appendTransaction(race, topicId, prepared, expected, checkOnly, options.idempotency);
    } finally {
      release();
    }
  }

  private async prepare(writer: string, topicId: string, append: PartitionAppend, expiresAtSec: number | undefined): Promise<PreparedBatch> {
    let batchMaxTimestamp = -Infinity;
    for (const r of append.records) batchMaxTimestamp = Math.max(batchMaxTimestamp, r.timestamp);
    const encoded = encodeBatch(0, append.records as LogRecord[]);
    return {
      writer,
      topicId,
      partition: append.partition,
      pk: partitionPk(topicId, append.partition),
      count: append.records.length,
      batchMaxTimestamp,
      encoded,
      ...(expiresAtSec !== undefined ? { expiresAtSec } : {}),
    };
  }

  private async appendOne(race: RaceState, batch: PreparedBatch, expected: number | undefined): Promise<AppendResult> {
    let tail = (await this.firstTails(race, [batch.pk], [expected]))[0]!;
    for (;;) {
      if (expected !== undefined && tail.endOffset !== expected) throw await this.mismatch(batch.pk, batch.partition, expected);
      const item = this.batchItem(batch, tail);
      race.attempts++;
      const sentAt = this.now();
      const lost = await this.putBatch(item, batch.writer, tail);
      if (!lost) {
        this.won(race);
        this.learn(batch.pk, { endOffset: tail.endOffset + batch.count, maxTimestamp: Math.max(tail.maxTimestamp, batch.batchMaxTimestamp) });
        return { kind: 'appended', baseOffsets: new Map([[batch.partition, tail.endOffset]]) };
      }
      if (lost.next) this.learn(batch.pk, lost.next);
      // expectedOffsets names the one end offset this append may land at: another batch there is a mismatch.
      if (expected !== undefined && lost.kind === 'condition') throw await this.mismatch(batch.pk, batch.partition, expected);
      const refresh = await this.backOff(race, lost.kind, this.now() - sentAt);
      tail = refresh || !lost.next ? (await this.freshTails([batch.pk]))[0]! : lost.next;
    }
  }

  /**
   * One conditional put of a batch item at the tail it was built for. A lost race is the return value: the end
   * of the winner's batch when the winner's item came back with the failure, or a transaction conflict.
   *
   * The SDK retries a put whose response it did not get (a timeout, a reset connection). When the first try
   * was written, the retry fails its condition on our own item, which is no lost race: the batch is appended,
   * and treating it as lost would append it again. So every batch item carries its append's random `writer`
   * id, and a failed condition on an item with our id is the write we sent (the lease store re-reads for the
   * same reason):
   * ```
   * put sk=10 (w=ours) ──✔ written, response lost── SDK retry: put sk=10 ✘ (ALL_OLD: w=ours) → appended at 10
   * ```
   */
  private async putBatch(item: Record<string, unknown>, writer: string, tail: PartitionTail): Promise<LostRace | undefined> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const winner = error.Item ? unmarshall(error.Item) : undefined;
        if (winner && batchWriter(winner) === writer) return undefined; // our own first try
        const next = winner ? batchEnd(winner, tail.endOffset) : undefined;
        return { kind: 'condition', ...(next ? { next } : {}) };
      }
      // A plain write that meets a transaction in flight on the same item is refused, not queued.
      if (error instanceof TransactionConflictException) return { kind: 'conflict' };
      throw error;
    }
  }

  private async appendTransaction(
    race: RaceState,
    topicId: string,
    batches: PreparedBatch[],
    expected: ReadonlyMap<number, number>,
    checkOnly: readonly number[],
    idempotency: AppendOptions['idempotency'],
  ): Promise<AppendResult> {
    // Item i of the transaction is the batch (or condition check) of partitions[i]; the idempotency record is last.
    const partitions = [...batches.map((b) => b.partition), ...checkOnly];
    const pks = race.pks;
    const tails = new Map<number, PartitionTail>();
    const setTails = (list: readonly PartitionTail[]) => list.forEach((t, i) => tails.set(partitions[i]!, t));
    setTails(await this.firstTails(race, pks, partitions.map((p) => expected.get(p))));
    const idemPk = idempotency ? idempotencyPk(topicId, idempotency.key) : undefined;
    for (;;) {
      for (const [p, want] of expected) {
        if (tails.get(p)!.endOffset !== want) {
          const replay = idemPk ? await this.readIdempotent(idemPk, idempotency?.digest) : undefined;
          if (replay !== undefined) return { kind: 'replayed', response: replay };
          throw await this.mismatch(partitionPk(topicId, p), p, want);
        }
      }
      const baseOffsets = new Map(batches.map((b) => [b.partition, tails.get(b.partition)!.endOffset]));
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = batches.map((b) => ({
        Put: {
          TableName: this.table,
          Item: this.batchItem(b, tails.get(b.partition)!),
          ConditionExpression: 'attribute_not_exists(pk)',
          // The winner's item comes back in the cancellation reason: its end is the next place to try.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      }));
      for (const p of checkOnly) {
        items.push({
          ConditionCheck: {
            TableName: this.table,
            Key: itemKey(partitionPk(topicId, p), offsetSk(expected.get(p)!)),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      let response: unknown;
      if (idempotency && idemPk) {
        response = idempotency.response(baseOffsets);
        const nowMs = this.now();
        const record = {
          response,
          ...(idempotency.digest !== undefined ? { digest: idempotency.digest } : {}),
          expiresAt: Math.ceil((nowMs + IDEMPOTENCY_WINDOW_MS) / 1000),
        };
        items.push({
          Put: {
            TableName: this.table,
            Item: encodeIdempotencyItem(idemPk, record, nowMs),
            // An expired record that TTL has not deleted yet does not count (TTL may lag by days).
            ConditionExpression: `attribute_not_exists(pk) OR ${IDEMPOTENCY_ATTR.expiresAt} < :nowSec`,
            ExpressionAttributeValues: { ':nowSec': Math.floor(nowMs / 1000) },
          },
        });
      }
      race.attempts++;
      const sentAt = this.now();
      try {
        // An SDK retry of a transaction that was applied cannot see our own items as winners: the SDK fills in a
        // ClientRequestToken once per call and sends it with every retry, and DynamoDB answers a token it has
        // seen (for 10 minutes) with success instead of applying the items again.
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        if (reasons.some((r) => THROTTLED_REASONS.has(r.Code ?? ''))) {
          throw new ThrottledError('the storage layer is throttling writes to these partitions; retry after a short pause', 1, { cause: error });
        }
        if (reasons.some((r) => !LOST_RACE_REASONS.has(r.Code ?? 'None'))) throw error;
        if (idemPk && reasons[items.length - 1]?.Code === 'ConditionalCheckFailed') {
          const replay = await this.readIdempotent(idemPk, idempotency?.digest);
          if (replay !== undefined) return { kind: 'replayed', response: replay };
        }
        // A partition named in expectedOffsets whose condition failed has moved: a mismatch, not a race to retry.
        const moved = partitions.find((p, i) => expected.has(p) && reasons[i]?.Code === 'ConditionalCheckFailed');
        if (moved !== undefined) throw await this.mismatch(partitionPk(topicId, moved), moved, expected.get(moved)!);
        // Where a batch lost, the winner's item says where the partition now ends (at least).
        const next = new Map<number, PartitionTail>();
        partitions.forEach((p, i) => {
          const winner = reasons[i]?.Code === 'ConditionalCheckFailed' ? reasons[i]?.Item : undefined;
          const end = winner ? batchEnd(unmarshall(winner), tails.get(p)!.endOffset) : undefined;
          if (end) next.set(p, end);
          if (end) this.learn(pks[i]!, end);
        });
        const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
        const walkable = partitions.every((p, i) => reasons[i]?.Code !== 'ConditionalCheckFailed' || next.has(p));
        const refresh = await this.backOff(race, conflict ? 'conflict' : 'condition', this.now() - sentAt);
        if (refresh || !walkable) setTails(await this.freshTails(pks));
        else for (const [p, end] of next) tails.set(p, end);
        continue;
      }
      this.won(race);
      batches.forEach((b) => {
        const t = tails.get(b.partition)!;
        this.learn(b.pk, { endOffset: t.endOffset + b.count, maxTimestamp: Math.max(t.maxTimestamp, b.batchMaxTimestamp) });
      });
      return { kind: 'appended', baseOffsets, response };
    }
  }

  private batchItem(batch: PreparedBatch, tail: PartitionTail): Record<string, unknown> {
    const base = tail.endOffset;
    return encodeBatchItem({
      pk: batch.pk,
      writer: batch.writer,
      baseOffset: base,
      count: batch.count,
      maxTimestamp: Math.max(tail.maxTimestamp, batch.batchMaxTimestamp),
      appendedAt: this.now(),
      bytes: batch.encoded.length,
      ...(batch.expiresAtSec !== undefined ? { expiresAt: batch.expiresAtSec } : {}),
      ...(batch.spillKey ? { spillKey: batch.spillKey } : { data: withBaseOffset(batch.encoded, base) }),
    });
  }

  /** Writes a batch too large for an item to S3; the item then only points at it. */
  private async spill(batch: PreparedBatch): Promise<void> {
    if (!this.s3 || !this.bucket) {
      throw new PayloadTooLargeError(`a batch of ${batch.encoded.length} bytes needs S3 spill storage, which is not configured`);
    }
    // Not readable until an item points at it; a failed append leaves an orphan object, never a record.
    const key = spillObjectKey(batch.topicId, batch.partition, randomUUID());
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: batch.encoded }));
    batch.spillKey = key;
  }

  private async spillToFitTransaction(batches: PreparedBatch[]): Promise<void> {
    await Promise.all(batches.filter((b) => b.encoded.length > this.spillThresholdBytes).map((b) => this.spill(b)));
    let inline = batches.filter((b) => !b.spillKey).reduce((sum, b) => sum + b.encoded.length, 0);
    for (const b of [...batches].sort((x, y) => y.encoded.length - x.encoded.length)) {
      if (inline <= MAX_TRANSACTION_INLINE_BYTES) break;
      if (b.spillKey) continue;
      inline -= b.encoded.length;
      await this.spill(b);
    }
  }

  /**
   * The tails an append starts from. On a contended partition (an open contention window) a new append first
   * waits `random(0, window)` and then takes fresh tails; otherwise its process's cached tails (or a read).
   * An append with `expectedOffsets` does not wait: it either matches now or never.
   */
  private async firstTails(race: RaceState, pks: readonly string[], expected: ReadonlyArray<number | undefined>): Promise<PartitionTail[]> {
    const waitMs = expected.some((e) => e !== undefined) ? 0 : delayBeforeFirstAttempt(race.windowMs, this.random);
    if (waitMs > 0) {
      await this.sleep(waitMs);
      return this.freshTails(pks);
    }
    return Promise.all(pks.map((pk, i) => this.tailForAppend(pk, expected[i])));
  }

  /** The partitions' end offsets as of now: strongly consistent reads, in parallel. */
  private async freshTails(pks: readonly string[]): Promise<PartitionTail[]> {
    return Promise.all(
      pks.map(async (pk) => {
        const tail = await this.readTail(pk, true);
        this.learn(pk, tail);
        return tail;
      }),
    );
  }

  private async tailForAppend(pk: string, expected: number | undefined): Promise<PartitionTail> {
    const cached = this.tails.get(pk);
    if (cached && cached.until > this.now() && (expected === undefined || cached.endOffset === expected)) return cached;
    const tail = await this.readTail(pk, true);
    this.learn(pk, tail);
    return tail;
  }

  /**
   * Caches an end offset this process saw: a batch boundary that existed a moment ago. Ends only grow, so the
   * larger of the cached and the new one is the newer.
   */
  private learn(pk: string, tail: PartitionTail): void {
    if (this.tailCacheMs <= 0) return;
    const cached = this.tails.get(pk);
    if (cached && cached.endOffset > tail.endOffset) return;
    this.tails.set(pk, { endOffset: tail.endOffset, maxTimestamp: tail.maxTimestamp, until: this.now() + this.tailCacheMs });
  }

  /**
   * An append's race, once it has its turn.
   * @throws UnavailableError when the turn came after the time budget was spent.
   */
  private startRace(pks: readonly string[], startedAt: number): RaceState {
    const now = this.now();
    if (now - startedAt >= this.backoff.budgetMs) {
      throw new UnavailableError(`appends to these partitions queued in this process for ${now - startedAt} ms; nothing was appended, retry the request`);
    }
    return { pks, startedAt, attempts: 0, losses: 0, windowMs: this.windowOf(pks, now) };
  }

  /** The widest contention window of these partitions. */
  private windowOf(pks: readonly string[], now: number): number {
    return Math.max(0, ...pks.map((pk) => windowAt(this.windows.get(pk), now, this.backoff)));
  }

  /** A won race narrows the contention windows of its partitions. */
  private won(race: RaceState): void {
    const now = this.now();
    for (const pk of race.pks) {
      const window = this.windows.get(pk);
      if (!window) continue;
      const narrowed = narrow(window, now, this.backoff);
      if (narrowed.windowMs > 0) this.windows.set(pk, narrowed);
      else this.windows.delete(pk);
    }
  }

  /**
   * After a lost race: widens the partitions' contention windows, waits as {@link afterLostRace} decides, and
   * says whether to take fresh tails.
   * @throws UnavailableError once the append's time budget is spent (retriable: nothing was appended).
   */
  private async backOff(race: RaceState, kind: LostRaceKind, roundTripMs: number): Promise<boolean> {
    race.losses++;
    const now = this.now();
    const quiet = this.windowOf(race.pks, now) === 0;
    for (const pk of race.pks) this.windows.set(pk, widen(this.windows.get(pk), now, roundTripMs, this.backoff));
    const windowMs = this.windowOf(race.pks, now);
    const elapsedMs = now - race.startedAt;
    const decision = afterLostRace({ losses: race.losses, elapsedMs, kind, windowMs, quiet, roundTripMs }, this.random, this.backoff);
    if (!decision.retry) {
      throw new UnavailableError(
        `other producers kept winning the race for these partitions (${race.attempts} attempts in ${elapsedMs} ms); nothing was appended, retry the request`,
      );
    }
    if (decision.delayMs > 0) await this.sleep(decision.delayMs);
    return decision.refresh;
  }

  private async mismatch(pk: string, partition: number, expected: number): Promise<OffsetMismatchError> {
    const actual = (await this.readTail(pk, true)).endOffset;
    return new OffsetMismatchError(
      `partition ${partition} ends at offset ${actual}, not at the expected ${expected}; nothing was appended`,
      { details: { partition, expectedOffset: expected, endOffset: actual, endOffsets: { [partition]: actual } } },
    );
  }

  /**
   * The remembered response of a live idempotency record, or `undefined` when there is none.
   * @throws IdempotencyKeyReusedError when the record was written for a request with another digest (a record
   *   written before digests were kept has none, and replays as before).
   */
  private async readIdempotent(pk: string, digest: string | undefined): Promise<unknown | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: itemKey(pk, IDEMPOTENCY_SK), ConsistentRead: true }));
    if (!Item) return undefined;
    const record = decodeIdempotencyItem(Item);
    if (record.expiresAt * 1000 <= this.now()) return undefined;
    if (digest !== undefined && record.digest !== undefined && record.digest !== digest) {
      throw new IdempotencyKeyReusedError(
        'this Idempotency-Key was already used with a different request body on this topic within 24 hours; ' +
          'nothing was appended (use a new key for a new request)',
      );
    }
    return record.response;
  }

  // ----------------------------------------------------------------------------------------------- reads

  /**
   * The partition's end offset and running max timestamp, from its newest item: the newest batch, or the
   * partition meta item when every batch is gone (a backward Query with Limit 1; `#meta` sorts first).
   */
  async readTail(pk: string, consistent: boolean): Promise<PartitionTail> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: consistent,
        ...TAIL_PROJECTION,
      }),
    );
    return decodeTailItem(Items?.[0]);
  }

  /** The partition meta item (written by maintenance), or the defaults of a partition never maintained. */
  async readMeta(pk: string, fresh = false): Promise<PartitionMeta> {
    const cached = this.metas.get(pk);
    if (!fresh && cached && cached.until > this.now()) return cached.meta;
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: partitionMetaKey(pk), ConsistentRead: true }));
    const meta = decodePartitionMeta(Item);
    if (this.metaCacheMs > 0) this.metas.set(pk, { meta, until: this.now() + this.metaCacheMs });
    return meta;
  }

  /** Drops the cached meta item of a partition (after maintenance changed it). */
  forgetMeta(pk: string): void {
    this.metas.delete(pk);
  }

  /**
   * Hot batches in offset order (or reverse), starting at the batch whose base offset is ≥ `fromOffset`
   * (forward) or ≤ `toOffset` (backward). Items whose TTL has passed are skipped: they are tiered copies
   * DynamoDB has not deleted yet, and the cold tier is their source of truth.
   */
  async queryBatches(
    pk: string,
    range: { forward: boolean; fromOffset?: number; toOffset?: number; limit: number; exclusiveStartSk?: string },
  ): Promise<{ batches: HotBatch[]; lastSk?: string; more: boolean }> {
    const lower = offsetSk(range.fromOffset ?? 0);
    const upper = range.toOffset === undefined ? MAX_OFFSET_SK : offsetSk(range.toOffset);
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': pk, ':lo': lower, ':hi': upper },
        ScanIndexForward: range.forward,
        Limit: range.limit,
        ConsistentRead: true,
        ...(range.exclusiveStartSk ? { ExclusiveStartKey: itemKey(pk, range.exclusiveStartSk) } : {}),
      }),
    );
    const now = this.now();
    const batches = (page.Items ?? []).map(decodeBatchItem).filter((batch) => !isExpired(batch, now));
    const lastSk = page.LastEvaluatedKey ? String(page.LastEvaluatedKey.sk) : undefined;
    return { batches, more: lastSk !== undefined, ...(lastSk ? { lastSk } : {}) };
  }

  /** The encoded bytes of a hot batch, inline or from its spill object. */
  async loadBatch(batch: HotBatch): Promise<Uint8Array> {
    if (batch.data) return batch.data;
    if (!batch.spillKey || !this.s3 || !this.bucket) throw new Error(`batch at ${batch.baseOffset} has no data`);
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: batch.spillKey }));
      return await object.Body!.transformToByteArray();
    } catch (error) {
      // Retention deletes a spilled batch's object once the batch is below the start offset; a read that
      // found the item just before that races it. A retry answers 416 (or reads the cold copy).
      if (error instanceof NoSuchKey) {
        throw new UnavailableError('a batch was removed by retention while it was being read; retry', { cause: error });
      }
      throw error;
    }
  }
}
