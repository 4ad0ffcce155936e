import type { LogRecord } from './batch-format.js';

export interface PartitionAppend {
  readonly partition: number;
  readonly records: readonly LogRecord[];
}

export interface AppendOptions {
  /** TTL (epoch seconds) to write with every batch of this append (hot-retention topics). */
  readonly expiresAtSec?: number;
  /** Append only if each named partition's end offset equals the number. */
  readonly expectedOffsets?: ReadonlyMap<number, number>;
  /** Idempotency: the key, and the response to remember, built from the base offsets that were assigned. */
  readonly idempotency?: {
    readonly key: string;
    readonly response: (baseOffsets: ReadonlyMap<number, number>) => unknown;
    /**
     * Digest of the request (`request-digest.ts`), kept with the key: a later request under the same key with
     * another digest is refused with `IdempotencyKeyReusedError` instead of replaying this one's response.
     */
    readonly digest?: string;
  };
}

export type AppendResult =
  | { readonly kind: 'appended'; readonly baseOffsets: ReadonlyMap<number, number>; readonly response?: unknown }
  | { readonly kind: 'replayed'; readonly response: unknown };
