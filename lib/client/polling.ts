/**
 * How the SDK's consumers (consumer.ts, share-consumer.ts) poll when there is nothing to read: no long poll by
 * default, since a fetch with `waitMs` keeps its Lambda function running and billed for the whole wait ($35 a
 * month per member that always waits; README, "When to choose shardlog"); a fetch that finds nothing is
 * followed by a pause instead, as the KCL's `idleTimeBetweenReadsInMillis` (docs/design.md, "Client batching
 * and cost").
 */

/** The `waitMs` a consumer sends unless given one. */
export const DEFAULT_WAIT_MS = 0;

/** The least time between two fetches that found nothing; a fetch's own `waitMs` counts towards it. */
export const IDLE_PAUSE_MS = 1_000;

/** How long to pause after a fetch that waited `waitMs` and found nothing. */
export const idlePauseMs = (waitMs: number): number => Math.max(0, IDLE_PAUSE_MS - waitMs);
