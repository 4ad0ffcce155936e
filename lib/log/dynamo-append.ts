import { randomBytes, randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { OffsetMismatchError, PayloadTooLargeError, ThrottledError } from '../errors.js';
import { isThrottling } from '../storage/aws-errors.js';
import { batchEnd, batchWriter, idempotencyPk, itemKey, offsetSk, partitionPk } from '../storage/log-table.js';
import type { PartitionTail } from '../storage/log-items.js';
import type { AppendRaces, Race } from './append-races.js';
import type { LostRaceKind } from './append-retry.js';
import type { IdempotencyRecords } from './idempotency-records.js';
import { MAX_TRANSACTION_ITEMS, type AppendOptions, type AppendResult, type PartitionAppend } from './log-store.js';
import { batchItem, endAfter, prepareBatch, type PreparedBatch } from './prepared-batch.js';
import { chooseSpills, MAX_TRANSACTION_INLINE_BYTES, type SpillStore } from './spill-store.js';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A lost race, as the attempt that lost it saw it. */
interface LostRace {
  readonly kind: LostRaceKind;
  /** The end of the winner's batch, when its item came back with the failure. */
  readonly next?: PartitionTail;
}

/** Cancellation reasons of a transaction that lost a race (or met another in flight); anything else is a fault. */
const LOST_RACE_REASONS = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

/** One attempt's transaction: the partitions of its items in order, their tails, and the append it belongs to. */
interface TransactionAttempt {
  readonly race: Race;
  readonly topicId: string;
  /** Item i of the transaction is the batch (or condition check) of partitions[i]; the idempotency record is last. */
  readonly partitions: readonly number[];
  readonly tails: Map<number, PartitionTail>;
  readonly expected: ReadonlyMap<number, number>;
  readonly idempotency?: { readonly pk: string; readonly digest?: string };
}

export interface DynamoAppendOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => number;
  readonly races: AppendRaces;
  readonly spills: SpillStore;
  readonly idempotency: IdempotencyRecords;
  /** Batches larger than this go to S3 behind a pointer item. */
  readonly spillThresholdBytes: number;
  /** The partition's end offset as of now (a strongly consistent read). */
  readonly readTail: (pk: string) => Promise<PartitionTail>;
}

/**
 * The append protocol of the hot tier (docs/design.md, "Append").
 *
 * ## One conditional write, no transaction, in the common case
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
 * ## Under contention
 * A lost race is not throttling: the append keeps trying until it wins or its time budget (20 s) is spent,
 * then answers a retriable UNAVAILABLE having appended nothing. How it waits and when it reads the end afresh
 * is {@link AppendRaces}'s (lib/log/append-races.ts, with the pure strategy in lib/log/append-retry.ts).
 */
export class DynamoAppend {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => number;
  private readonly races: AppendRaces;
  private readonly spills: SpillStore;
  private readonly idempotency: IdempotencyRecords;
  private readonly spillThresholdBytes: number;
  private readonly readTail: (pk: string) => Promise<PartitionTail>;

  constructor(options: DynamoAppendOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.now = options.now;
    this.races = options.races;
    this.spills = options.spills;
    this.idempotency = options.idempotency;
    this.spillThresholdBytes = options.spillThresholdBytes;
    this.readTail = options.readTail;
  }

  /** {@link LogStore.append}: lost races are retried (see the class comment) until the append wins or its time budget is spent. */
  async append(topicId: string, appends: readonly PartitionAppend[], options: AppendOptions = {}): Promise<AppendResult> {
    const startedAt = this.now();
    const expected = options.expectedOffsets ?? new Map<number, number>();
    const touched = new Set(appends.map((a) => a.partition));
    const checkOnly = [...expected.keys()].filter((p) => !touched.has(p));
    const writer = randomBytes(6).toString('base64url');
    const prepared = appends.map((a) => prepareBatch(writer, topicId, a, options.expiresAtSec));
    const single = prepared.length === 1 && checkOnly.length === 0 && !options.idempotency;
    if (!single && prepared.length + checkOnly.length + (options.idempotency ? 1 : 0) > MAX_TRANSACTION_ITEMS) {
      // Validated at the boundary already; this guards the invariant for other callers.
      throw new PayloadTooLargeError(`one request may touch at most ${MAX_TRANSACTION_ITEMS - 1} partitions`);
    }
    // Spilled payload goes to S3 before the race: it needs no turn, and a lost race does not rewrite it.
    await this.spill(prepared, single ? Infinity : MAX_TRANSACTION_INLINE_BYTES);
    const pks = [...prepared.map((b) => b.pk), ...checkOnly.map((p) => partitionPk(topicId, p))];
    const release = await this.races.takeTurn(pks);
    try {
      const race = this.races.start(pks, startedAt);
      if (single) return await this.appendOne(race, prepared[0]!, expected.get(prepared[0]!.partition));
      const idempotency = options.idempotency;
      const attempt: TransactionAttempt = {
        race,
        topicId,
        partitions: [...prepared.map((b) => b.partition), ...checkOnly],
        tails: new Map(),
        expected,
        ...(idempotency ? { idempotency: { pk: idempotencyPk(topicId, idempotency.key), digest: idempotency.digest } } : {}),
      };
      return await this.appendTransaction(attempt, prepared, checkOnly, idempotency?.response);
    } finally {
      release();
    }
  }

  /** Writes the batches that are too large for an item, or for the transaction's 4 MB, to S3 first. */
  private async spill(batches: PreparedBatch[], maxInlineBytes: number): Promise<void> {
    const spill = async (b: PreparedBatch) => {
      b.spillKey = await this.spills.put(b.topicId, b.partition, randomUUID(), b.encoded);
    };
    const { first, then } = chooseSpills(batches.map((b) => b.encoded.length), this.spillThresholdBytes, maxInlineBytes);
    await Promise.all(first.map((i) => spill(batches[i]!)));
    for (const i of then) await spill(batches[i]!);
  }

  private async appendOne(race: Race, batch: PreparedBatch, expected: number | undefined): Promise<AppendResult> {
    let tail = (await this.races.firstTails(race, [expected]))[0]!;
    for (;;) {
      if (expected !== undefined && tail.endOffset !== expected) throw await this.mismatch(batch.pk, batch.partition, expected);
      const item = batchItem(batch, tail, this.now());
      race.attempts++;
      const sentAt = this.now();
      const lost = await this.putBatch(item, batch.writer, tail);
      if (!lost) {
        this.races.won(race);
        this.races.learn(batch.pk, endAfter(tail, batch));
        return { kind: 'appended', baseOffsets: new Map([[batch.partition, tail.endOffset]]) };
      }
      if (lost.next) this.races.learn(batch.pk, lost.next);
      // expectedOffsets names the one end offset this append may land at: another batch there is a mismatch.
      if (expected !== undefined && lost.kind === 'condition') throw await this.mismatch(batch.pk, batch.partition, expected);
      const refresh = await this.races.backOff(race, lost.kind, this.now() - sentAt);
      tail = refresh || !lost.next ? (await this.races.freshTails([batch.pk]))[0]! : lost.next;
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

  /**
   * The transactional append: each attempt checks `expectedOffsets` against its tails, then writes every batch
   * at its tail (and the idempotency record) in one TransactWriteItems.
   */
  private async appendTransaction(
    attempt: TransactionAttempt,
    batches: readonly PreparedBatch[],
    checkOnly: readonly number[],
    respond: ((baseOffsets: ReadonlyMap<number, number>) => unknown) | undefined,
  ): Promise<AppendResult> {
    const { race, partitions, tails, expected } = attempt;
    const setTails = (list: readonly PartitionTail[]) => list.forEach((t, i) => tails.set(partitions[i]!, t));
    setTails(await this.races.firstTails(race, partitions.map((p) => expected.get(p))));
    for (;;) {
      const moved = [...expected].find(([p, want]) => tails.get(p)!.endOffset !== want);
      if (moved) return this.replayOrMismatch(attempt, moved[0]);
      const baseOffsets = new Map(batches.map((b) => [b.partition, tails.get(b.partition)!.endOffset]));
      const items: TransactItem[] = batches.map((b) => ({
        Put: {
          TableName: this.table,
          Item: batchItem(b, tails.get(b.partition)!, this.now()),
          ConditionExpression: 'attribute_not_exists(pk)',
          // The winner's item comes back in the cancellation reason: its end is the next place to try.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      }));
      for (const p of checkOnly) {
        const Key = itemKey(partitionPk(attempt.topicId, p), offsetSk(expected.get(p)!));
        items.push({ ConditionCheck: { TableName: this.table, Key, ConditionExpression: 'attribute_not_exists(pk)' } });
      }
      const response = respond?.(baseOffsets);
      if (attempt.idempotency) items.push(this.idempotency.putItem(attempt.idempotency.pk, response, attempt.idempotency.digest));
      race.attempts++;
      const sentAt = this.now();
      try {
        // An SDK retry of a transaction that was applied cannot see our own items as winners: the SDK fills in a
        // ClientRequestToken once per call and sends it with every retry, and DynamoDB answers a token it has
        // seen (for 10 minutes) with success instead of applying the items again.
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const next = await this.afterCancelled(attempt, error, items.length, this.now() - sentAt);
        if ('replayed' in next) return { kind: 'replayed', response: next.replayed };
        if (next.fresh) setTails(await this.races.freshTails(race.pks));
        else for (const [p, end] of next.ends) tails.set(p, end);
        continue;
      }
      this.races.won(race);
      for (const b of batches) this.races.learn(b.pk, endAfter(tails.get(b.partition)!, b));
      return { kind: 'appended', baseOffsets, response };
    }
  }

  /**
   * What a cancelled transaction means, from its cancellation reasons (one per item, in order): throttling
   * (429), a replay (the idempotency record exists), a mismatch (a partition named in `expectedOffsets`
   * moved), or a lost race, after which it backs off and says where to try next: after the winners' items, or
   * at fresh tails.
   * @throws ThrottledError, OffsetMismatchError, IdempotencyKeyReusedError, UnavailableError (time budget
   *   spent), or the error itself when a reason is neither a race nor throttling.
   */
  private async afterCancelled(
    attempt: TransactionAttempt,
    error: TransactionCanceledException,
    itemCount: number,
    roundTripMs: number,
  ): Promise<{ replayed: unknown } | { fresh: boolean; ends: Map<number, PartitionTail> }> {
    const { partitions, tails, expected, race } = attempt;
    const reasons = error.CancellationReasons ?? [];
    // DynamoDB throttling an item: a 429 with Retry-After, not a lost race.
    if (isThrottling(error)) {
      throw new ThrottledError('the storage layer is throttling writes to these partitions; retry after a short pause', 1, { cause: error });
    }
    if (reasons.some((r) => !LOST_RACE_REASONS.has(r.Code ?? 'None'))) throw error;
    if (attempt.idempotency && reasons[itemCount - 1]?.Code === 'ConditionalCheckFailed') {
      const replayed = await this.idempotency.replay(attempt.idempotency.pk, attempt.idempotency.digest);
      if (replayed !== undefined) return { replayed };
    }
    // A partition named in expectedOffsets whose condition failed has moved: a mismatch, not a race to retry.
    const moved = partitions.find((p, i) => expected.has(p) && reasons[i]?.Code === 'ConditionalCheckFailed');
    if (moved !== undefined) throw await this.mismatch(partitionPk(attempt.topicId, moved), moved, expected.get(moved)!);
    // Where a batch lost, the winner's item says where the partition now ends (at least).
    const ends = new Map<number, PartitionTail>();
    partitions.forEach((p, i) => {
      const winner = reasons[i]?.Code === 'ConditionalCheckFailed' ? reasons[i]?.Item : undefined;
      const end = winner ? batchEnd(unmarshall(winner), tails.get(p)!.endOffset) : undefined;
      if (!end) return;
      ends.set(p, end);
      this.races.learn(race.pks[i]!, end);
    });
    const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
    const walkable = partitions.every((p, i) => reasons[i]?.Code !== 'ConditionalCheckFailed' || ends.has(p));
    const refresh = await this.races.backOff(race, conflict ? 'conflict' : 'condition', roundTripMs);
    return { fresh: refresh || !walkable, ends };
  }

  /** A transaction's tails no longer match `expectedOffsets` at `partition`: its replay if the key was used, else a mismatch. */
  private async replayOrMismatch(attempt: TransactionAttempt, partition: number): Promise<AppendResult> {
    const replayed = attempt.idempotency ? await this.idempotency.replay(attempt.idempotency.pk, attempt.idempotency.digest) : undefined;
    if (replayed !== undefined) return { kind: 'replayed', response: replayed };
    throw await this.mismatch(partitionPk(attempt.topicId, partition), partition, attempt.expected.get(partition)!);
  }

  private async mismatch(pk: string, partition: number, expected: number): Promise<OffsetMismatchError> {
    const actual = (await this.readTail(pk)).endOffset;
    return new OffsetMismatchError(
      `partition ${partition} ends at offset ${actual}, not at the expected ${expected}; nothing was appended`,
      { details: { partition, expectedOffset: expected, endOffset: actual, endOffsets: { [partition]: actual } } },
    );
  }
}
