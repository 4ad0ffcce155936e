/**
 * How the client retries a failed request: bounded attempts, exponential backoff with "full jitter" (AWS
 * Architecture Blog, "Exponential Backoff And Jitter": sleep = random(0, min(cap, base · 2^attempt))), and a
 * server's `Retry-After` as a floor, never as something to undercut.
 */
export interface RetryOptions {
  /** Total attempts including the first (default 6). 1 disables retries. */
  maxAttempts?: number;
  /** Backoff base (default 100 ms). */
  baseDelayMs?: number;
  /** Backoff cap (default 5,000 ms). */
  maxDelayMs?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_BASE_DELAY_MS = 100;
const DEFAULT_MAX_DELAY_MS = 5_000;

/**
 * The delay before retry number `attempt` (1 = the first retry).
 *
 * @param retryAfterMs the server's `Retry-After`, when it sent one: the delay is at least that.
 * @param random injected for tests; `Math.random` by default.
 * @example
 * backoffDelayMs(1, {}, undefined, () => 0.5) // 100 (half of base · 2)
 */
export function backoffDelayMs(
  attempt: number,
  options: RetryOptions = {},
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const cap = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const ceiling = Math.min(cap, base * 2 ** attempt);
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}
