import { UnavailableError } from '../errors.js';
import { NO_METRICS, type MetricsSink } from '../observability/metrics-sink.js';
import type { PartitionTail } from '../storage/log-items.js';
import {
  afterLostRace,
  delayBeforeFirstAttempt,
  narrow,
  widen,
  windowAt,
  type AppendBackoffPolicy,
  type ContentionWindow,
  type LostRaceKind,
} from './append-retry.js';
import { PartitionTurns } from './partition-turns.js';

/** How long a process trusts the partition tail it learned from its own last append. */
export const TAIL_CACHE_MS = 5_000;

/** One append's progress through its races. */
export interface Race {
  /** The partition keys it writes (or checks). */
  readonly pks: readonly string[];
  readonly startedAt: number;
  /** The contention window when it started. */
  readonly windowMs: number;
  attempts: number;
  losses: number;
}

export interface AppendRacesOptions {
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly backoff: AppendBackoffPolicy;
  /** How long an end offset this process saw is trusted (0: never cached). */
  readonly tailCacheMs: number;
  /** The partition's end offset as of now (a strongly consistent read). */
  readonly readTail: (pk: string) => Promise<PartitionTail>;
  /** Counts lost races and retries (`AppendRacesLost`, `AppendRetries`); default: nowhere. */
  readonly metrics?: MetricsSink;
}

/**
 * One process's side of the races for partition ends: what lib/log/append-retry.ts decides, applied and
 * remembered across appends (the append itself is lib/log/dynamo-append.ts).
 *
 * Within one process, appends to the same partitions take turns in arrival order ({@link PartitionTurns}), so
 * a process never races itself. Against other processes, each partition has a contention window that lost
 * races widen and wins narrow. On a quiet partition the first loss retries at once after the winner's item.
 * Otherwise (and for a new append while the window is open) the append sleeps a random part of the window,
 * then takes the true end offsets right before writing (one Query per partition, in parallel), unless the
 * sleep was shorter than a write's round trip (then the winner's item is as fresh as a read):
 *
 * ```
 * producer C: tail → E=10 ─ Put sk=10 ✘ (n=5) ─ Put sk=15 ✘ (n=2) ─ sleep rand(window) ─ tail → E=31 ─ Put sk=31 ✔
 *                           first loss, quiet:   window open now:     others appended meanwhile: read
 *                           walk past winner     back off             the end, don't walk item by item
 * ```
 * A transaction over k partitions loses when any of them moved, so it is the first to need this. A write that
 * meets a transaction in flight on the same item (`TransactionConflict`) backs off before it retries.
 *
 * The end offsets this process saw are trusted for {@link TAIL_CACHE_MS} only: hot items are deleted (by TTL)
 * only after they are tiered and a grace period of at least an hour, so a key observed as the end a few
 * seconds ago cannot have been deleted and re-used.
 */
export class AppendRaces {
  private readonly options: AppendRacesOptions;
  /** End offsets this process saw, by partition key, and until when to trust each. */
  private readonly tails = new Map<string, PartitionTail & { until: number }>();
  /** Contention windows of partitions where this process lost races lately. */
  private readonly windows = new Map<string, ContentionWindow>();
  private readonly turns = new PartitionTurns();
  private readonly metrics: MetricsSink;

  constructor(options: AppendRacesOptions) {
    this.options = options;
    this.metrics = options.metrics ?? NO_METRICS;
  }

  /** Waits for this process's earlier appends to any of `pks`; the returned function ends the turn. */
  takeTurn(pks: readonly string[]): Promise<() => void> {
    return this.turns.take(pks);
  }

  /**
   * An append's race, once it has its turn.
   * @throws UnavailableError when the turn came after the time budget was spent.
   */
  start(pks: readonly string[], startedAt: number): Race {
    const now = this.options.now();
    if (now - startedAt >= this.options.backoff.budgetMs) {
      throw new UnavailableError(`appends to these partitions queued in this process for ${now - startedAt} ms; nothing was appended, retry the request`);
    }
    return { pks, startedAt, attempts: 0, losses: 0, windowMs: this.windowOf(pks, now) };
  }

  /**
   * The tails an append starts from. On a contended partition (an open contention window) a new append first
   * waits `random(0, window)` and then takes fresh tails; otherwise its process's cached tails (or a read).
   * An append with `expectedOffsets` does not wait: it either matches now or never.
   */
  async firstTails(race: Race, expected: ReadonlyArray<number | undefined>): Promise<PartitionTail[]> {
    const waitMs = expected.some((e) => e !== undefined) ? 0 : delayBeforeFirstAttempt(race.windowMs, this.options.random);
    if (waitMs > 0) {
      await this.options.sleep(waitMs);
      return this.freshTails(race.pks);
    }
    return Promise.all(race.pks.map((pk, i) => this.tailForAppend(pk, expected[i])));
  }

  /** The partitions' end offsets as of now: strongly consistent reads, in parallel. */
  freshTails(pks: readonly string[]): Promise<PartitionTail[]> {
    return Promise.all(pks.map((pk) => this.readAndLearn(pk)));
  }

  /**
   * Caches an end offset this process saw: a batch boundary that existed a moment ago. Ends only grow, so the
   * larger of the cached and the new one is the newer.
   */
  learn(pk: string, tail: PartitionTail): void {
    if (this.options.tailCacheMs <= 0) return;
    const cached = this.tails.get(pk);
    if (cached && cached.endOffset > tail.endOffset) return;
    this.tails.set(pk, { endOffset: tail.endOffset, maxTimestamp: tail.maxTimestamp, until: this.options.now() + this.options.tailCacheMs });
  }

  /** A won race narrows the contention windows of its partitions. */
  won(race: Race): void {
    const now = this.options.now();
    for (const pk of race.pks) {
      const window = this.windows.get(pk);
      if (!window) continue;
      const narrowed = narrow(window, now, this.options.backoff);
      if (narrowed.windowMs > 0) this.windows.set(pk, narrowed);
      else this.windows.delete(pk);
    }
  }

  /**
   * After a lost race: widens the partitions' contention windows, waits as {@link afterLostRace} decides, and
   * says whether to take fresh tails.
   * @throws UnavailableError once the append's time budget is spent (retriable: nothing was appended).
   */
  async backOff(race: Race, kind: LostRaceKind, roundTripMs: number): Promise<boolean> {
    const { backoff, random } = this.options;
    race.losses++;
    this.metrics.add('AppendRacesLost', 1, {});
    const now = this.options.now();
    const quiet = this.windowOf(race.pks, now) === 0;
    for (const pk of race.pks) this.windows.set(pk, widen(this.windows.get(pk), now, roundTripMs, backoff));
    const windowMs = this.windowOf(race.pks, now);
    const elapsedMs = now - race.startedAt;
    const decision = afterLostRace({ losses: race.losses, elapsedMs, kind, windowMs, quiet, roundTripMs }, random, backoff);
    if (!decision.retry) {
      throw new UnavailableError(
        `other producers kept winning the race for these partitions (${race.attempts} attempts in ${elapsedMs} ms); nothing was appended, retry the request`,
      );
    }
    this.metrics.add('AppendRetries', 1, {});
    if (decision.delayMs > 0) await this.options.sleep(decision.delayMs);
    return decision.refresh;
  }

  private async tailForAppend(pk: string, expected: number | undefined): Promise<PartitionTail> {
    const cached = this.tails.get(pk);
    if (cached && cached.until > this.options.now() && (expected === undefined || cached.endOffset === expected)) return cached;
    return this.readAndLearn(pk);
  }

  private async readAndLearn(pk: string): Promise<PartitionTail> {
    const tail = await this.options.readTail(pk);
    this.learn(pk, tail);
    return tail;
  }

  /** The widest contention window of these partitions. */
  private windowOf(pks: readonly string[], now: number): number {
    return Math.max(0, ...pks.map((pk) => windowAt(this.windows.get(pk), now, this.options.backoff)));
  }
}
