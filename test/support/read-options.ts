import type { ReadOptions } from '../../lib/log/log-types.js';

/** Read options for engine-level tests: the start given, generous limits, no wait, forward unless overridden. */
export const forward = (start: ReadOptions['start'], extra: Partial<ReadOptions> = {}): ReadOptions => ({
  start,
  limit: 10_000,
  maxBytes: 6 * 1024 * 1024,
  encoding: 'json',
  waitMs: 0,
  direction: 'forward',
  ...extra,
});
