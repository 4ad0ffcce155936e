import type { StoredRecord } from '../../lib/log/batch-format.js';

/** A stored record at `offset` whose value is `bytes` bytes of `fill` (no key, no headers): for size cuts. */
export const storedRecord = (offset: number, bytes: number, fill = 0x61): StoredRecord => ({
  offset,
  timestamp: 1,
  key: null,
  value: new Uint8Array(bytes).fill(fill),
  valueIsJson: false,
  headers: {},
});
