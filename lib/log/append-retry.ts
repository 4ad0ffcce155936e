/**
 * What an append does about contention: a pure strategy (no clock, no I/O; time and randomness are passed
 * in), used by {@link DynamoLogStore}.
 *
 * A lost race is not throttling: another producer appended first, the normal state of a busy partition. So a
 * request keeps trying until its time budget is spent, never until an attempt count runs out. Under contention
 * the danger is waste: every contender that retries at once writes a batch bound to lose (DynamoDB bills a
 * failed conditional write and counts it against the partition's ~1,000 write units per second), and the
 * wasted work slows the winners too. The strategy:
 *
 * - **A contention window per partition, kept across appends** (like TCP's congestion window, not reset per
 *   request): each lost race doubles it (from the losing attempt's round trip, at least `baseMs`, up to
 *   `capMs`), each win shrinks it by `narrowFactor`, and it halves every `halfLifeMs` while nothing happens.
 *   With `C` producers on a partition each should try about once every `C` write round trips; a per-request
 *   backoff would rediscover that with losses in every request (measured: with 64 producers on DynamoDB
 *   Local, 250 of 640 requests ran out of time that way), whereas the window remembers it.
 * - **Newcomers wait too.** An append to a partition whose window is open first sleeps `random(0, window)`,
 *   so requests that already lost are not overtaken by every fresh one (Ethernet's "capture effect").
 * - **Backoff with "full jitter"**: after a loss, sleep `random(0, window)` (Marc Brooker, "Exponential
 *   Backoff And Jitter", AWS Architecture Blog, 2015: for contending optimistic writers, full jitter needs the
 *   fewest calls of the schemes compared), then take the true end offset, fresh, right before the next write,
 *   so that the time in which the race can be lost is one round trip, not a sleep long. (After a sleep shorter
 *   than a round trip, the winner's item is as fresh as a read and saves one.)
 * - **Older requests first**: the window a retry draws from shrinks with the square of the budget left, so a
 *   request that has lost for a while tries more often than fresh ones; a request's wait is then closer to
 *   first-come-first-served than to a lottery, whose p99 would be ~4.6 times its mean.
 * - **On a quiet partition, the first loss retries at once without a read**: the winner's item came back with
 *   the failure (`ReturnValuesOnConditionCheckFailure`), and its end is the new end unless a third producer
 *   also wrote. Two producers sharing a partition cost one extra write and no wait.
 * - **A transaction conflict backs off even the first time**: DynamoDB refuses a write that meets a
 *   transaction in flight on the same item (`TransactionConflict`) without saying whether that transaction
 *   will commit; retrying at once would meet it again.
 * - **The budget ends it**: once `budgetMs` has passed since the append began it gives up with a retriable
 *   error; no sleep goes past the budget.
 */

/** How appends back off under contention. */
export interface AppendBackoffPolicy {
  /** The smallest open window: about one DynamoDB write round trip in AWS. */
  readonly baseMs: number;
  /**
   * The widest window: about `C` round trips for the most contenders expected. 64 producers whose transactions
   * take ~100 ms under load (DynamoDB Local on a busy machine; DynamoDB's are ~20-30 ms) need ~6.4 s; 10 s
   * leaves the other half of the budget for the attempts.
   */
  readonly capMs: number;
  /**
   * A win multiplies the window by this (below `baseMs` it closes). With ×2 per loss and ×0.8 per win the
   * window settles where about one attempt in four loses (2^p · 0.8^(1-p) = 1 ⇒ p ≈ 0.24).
   */
  readonly narrowFactor: number;
  /** An idle window halves this often, so contention that stopped is forgotten within a minute. */
  readonly halfLifeMs: number;
  /**
   * How long an append may keep losing races before it gives up, from its start. API Gateway ends a request
   * at 30 s and the produce function at 29 s (functions/routes.ts): 20 s leaves room for the rest of the
   * request (topic lookup, a spill PUT to S3, the response) and for the last attempt in flight.
   */
  readonly budgetMs: number;
}

export const DEFAULT_APPEND_BACKOFF: AppendBackoffPolicy = {
  baseMs: 10,
  capMs: 10_000,
  narrowFactor: 0.8,
  halfLifeMs: 10_000,
  budgetMs: 20_000,
};

/** What a process remembers about contention on one partition. */
export interface ContentionWindow {
  readonly windowMs: number;
  /** When `windowMs` was set (ms since the epoch). */
  readonly atMs: number;
}

/** The window as of `nowMs`: it halves every `halfLifeMs` since it was set, and closes below `baseMs / 2`. */
export function windowAt(window: ContentionWindow | undefined, nowMs: number, policy: AppendBackoffPolicy = DEFAULT_APPEND_BACKOFF): number {
  if (!window || window.windowMs <= 0) return 0;
  const decayed = window.windowMs * 2 ** (-Math.max(0, nowMs - window.atMs) / policy.halfLifeMs);
  return decayed < policy.baseMs / 2 ? 0 : decayed;
}

/**
 * The window after a lost race: doubled, and at least the round trip of the attempt that lost (the time one
 * contender holds the partition: with `C` contenders each should try about once every `C` of them), at most
 * `capMs`.
 */
export function widen(
  window: ContentionWindow | undefined,
  nowMs: number,
  roundTripMs: number,
  policy: AppendBackoffPolicy = DEFAULT_APPEND_BACKOFF,
): ContentionWindow {
  const floor = Math.max(policy.baseMs, roundTripMs);
  return { windowMs: Math.min(policy.capMs, Math.max(floor, 2 * windowAt(window, nowMs, policy))), atMs: nowMs };
}

/** The window after a win: narrowed by `narrowFactor`, closed once below `baseMs`. */
export function narrow(window: ContentionWindow | undefined, nowMs: number, policy: AppendBackoffPolicy = DEFAULT_APPEND_BACKOFF): ContentionWindow {
  const narrowed = windowAt(window, nowMs, policy) * policy.narrowFactor;
  return { windowMs: narrowed < policy.baseMs ? 0 : narrowed, atMs: nowMs };
}

/**
 * How long a new append waits before its first attempt: `random(0, window)`, 0 on a quiet partition.
 * @param random uniform in [0, 1): `Math.random` in production, fixed in tests.
 */
export function delayBeforeFirstAttempt(windowMs: number, random: () => number): number {
  return windowMs > 0 ? Math.floor(random() * windowMs) : 0;
}

/** Why the last attempt did not land. */
export type LostRaceKind =
  /** An item already exists at the offset written: another batch won (its item may have come back). */
  | 'condition'
  /** DynamoDB refused the write because a transaction on the same item was in flight. */
  | 'conflict';

export interface LostRace {
  /** Races lost so far by this append, this one included (1 after the first loss). */
  readonly losses: number;
  /** Milliseconds since the append began. */
  readonly elapsedMs: number;
  readonly kind: LostRaceKind;
  /** The partition's contention window, widened by this loss (the widest, for a transaction). */
  readonly windowMs: number;
  /** The window was closed before this loss: nobody had been losing races on the partition lately. */
  readonly quiet: boolean;
  /** How long the attempt that lost took, send to failure. */
  readonly roundTripMs: number;
}

export type RetryDecision =
  | {
      readonly retry: true;
      /** Sleep this long before the next attempt (0: at once). */
      readonly delayMs: number;
      /** Take the true end offsets before the next attempt (else continue after the winner's item). */
      readonly refresh: boolean;
    }
  | { readonly retry: false };

/**
 * The decision after a lost race.
 *
 * @param random uniform in [0, 1): `Math.random` in production, fixed in tests.
 * @example
 * afterLostRace({ losses: 1, elapsedMs: 3, kind: 'condition', windowMs: 10, quiet: true }, Math.random)
 * // { retry: true, delayMs: 0, refresh: false }: a quiet partition, the winner's end is the new end
 * afterLostRace({ losses: 2, elapsedMs: 0, kind: 'condition', windowMs: 200, quiet: false }, () => 0.5)
 * // { retry: true, delayMs: 100, refresh: true }: half of the 200 ms window
 */
export function afterLostRace(race: LostRace, random: () => number, policy: AppendBackoffPolicy = DEFAULT_APPEND_BACKOFF): RetryDecision {
  const remainingMs = policy.budgetMs - race.elapsedMs;
  if (remainingMs <= 0) return { retry: false };
  if (race.kind === 'condition' && race.losses <= 1 && race.quiet) return { retry: true, delayMs: 0, refresh: false };
  // Older requests draw from a narrower window (it shrinks with the square of the budget left), so that a
  // request that lost often is not starved by fresher ones: roughly earliest deadline first, by jitter alone.
  const urgency = remainingMs / policy.budgetMs;
  const windowMs = Math.max(policy.baseMs, race.windowMs * urgency * urgency);
  const delayMs = Math.min(Math.floor(random() * windowMs), remainingMs);
  // A sleep shorter than a round trip leaves the winner's item as fresh as a read would be.
  return { retry: true, delayMs, refresh: race.kind === 'conflict' || delayMs >= race.roundTripMs };
}
