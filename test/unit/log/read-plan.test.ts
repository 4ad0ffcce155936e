import { describe, expect, it } from 'vitest';
import { OffsetOutOfRangeError } from '../../../lib/errors.js';
import type { StoredRecord } from '../../../lib/log/batch-format.js';
import {
  batchStep,
  checkInRange,
  planContaining,
  planEnd,
  planForward,
  takeBackward,
  takeForward,
  type ForwardFacts,
} from '../../../lib/log/read-plan.js';
import { ResponseCut } from '../../../lib/log/response-cut.js';
import { wireSize } from '../../../lib/log/wire-size.js';
import { decodePartitionMeta } from '../../../lib/storage/log-table.js';
import { storedRecord } from '../../support/stored-record.js';

const NO_END = Number.MAX_SAFE_INTEGER;

/** Facts of a read from `from`: a meta item with the given marks, a first page starting at `first` (or empty). */
function facts(f: {
  from: number;
  first?: number;
  more?: boolean;
  knownEnd?: number;
  hasCold?: boolean;
  tieredOffset?: number;
  endFloor?: number;
}): ForwardFacts {
  const meta = decodePartitionMeta({ tieredOffset: f.tieredOffset ?? 0, endOffset: f.endFloor ?? f.tieredOffset ?? 0 });
  return {
    from: f.from,
    meta,
    page: { batches: f.first === undefined ? [] : [{ baseOffset: f.first }], more: f.more ?? false },
    knownEnd: f.knownEnd,
    hasCold: f.hasCold ?? false,
  };
}

describe('planForward', () => {
  it.each([
    ['the first page starts at the offset', { from: 10, first: 10, more: true }, { kind: 'hot' }],
    ['a known batch end with nothing after it', { from: 20, knownEnd: 20 }, { kind: 'at-end', endOffset: 20 }],
    ['an empty page at an offset this process has not seen end a batch', { from: 20, knownEnd: 15 }, { kind: 'containing' }],
    ['an empty page whose range holds more (expired copies)', { from: 20, knownEnd: 20, more: true }, { kind: 'containing' }],
    ['a known end below the tiered end floor (TTL removed the batches past it)', { from: 20, knownEnd: 20, endFloor: 30 }, { kind: 'containing' }],
    ['an offset inside a batch (a read that stopped mid-batch)', { from: 12, first: 15 }, { kind: 'containing' }],
    ['a tiered offset whose hot copy is gone', { from: 5, first: 40, tieredOffset: 40, hasCold: true }, { kind: 'cold', untilOffset: 40 }],
    ['a tiered offset with no hot batch left', { from: 5, tieredOffset: 40, hasCold: true }, { kind: 'cold', untilOffset: NO_END }],
    ['a tiered offset whose hot copy is still there', { from: 5, first: 5, tieredOffset: 40, hasCold: true }, { kind: 'hot' }],
    ['a tiered offset without a cold tier', { from: 5, first: 40, tieredOffset: 40 }, { kind: 'containing' }],
  ] as const)('%s', (_, given, plan) => {
    expect(planForward(facts(given))).toEqual(plan);
  });
});

describe('planContaining', () => {
  it.each([
    ['the newest batch ends at the offset', { from: 20 }, { baseOffset: 15, count: 5 }, { kind: 'at-end', endOffset: 20 }],
    ['the newest batch ends before the offset', { from: 25 }, { baseOffset: 15, count: 5 }, { kind: 'out-of-range' }],
    ['the batch holds the offset', { from: 17, first: 20 }, { baseOffset: 15, count: 5 }, { kind: 'take' }],
    ['no batch at or before the offset, a cold tier', { from: 3, first: 10, hasCold: true }, undefined, { kind: 'cold', untilOffset: 10 }],
    ['no batch at or before the offset, no cold tier', { from: 3, first: 10 }, undefined, { kind: 'hot' }],
    ['a hot gap after the batch, a cold tier', { from: 20, first: 30, hasCold: true }, { baseOffset: 15, count: 5 }, { kind: 'cold', untilOffset: 30 }],
    ['the end floor past the newest batch', { from: 25, endFloor: 30 }, { baseOffset: 15, count: 5 }, { kind: 'hot' }],
  ] as const)('%s', (_, given, containing, plan) => {
    expect(planContaining(facts(given), containing)).toEqual(plan);
  });
});

describe('batchStep and planEnd', () => {
  it.each([
    [{ baseOffset: 0, count: 5 }, 5, 'skip'],
    [{ baseOffset: 0, count: 5 }, 3, 'take'],
    [{ baseOffset: 5, count: 5 }, 5, 'take'],
    [{ baseOffset: 8, count: 5 }, 5, 'gap'],
  ] as const)('batch %o at %i: %s', (batch, next, step) => {
    expect(batchStep(batch, next)).toBe(step);
  });

  it.each([
    ['the last page ran to the end', { batches: [{ baseOffset: 10, count: 5 }], more: false }, 15, 5, { kind: 'known', endOffset: 15 }],
    ['the read stopped inside the last batch', { batches: [{ baseOffset: 10, count: 5 }], more: false }, 12, 2, { kind: 'known', endOffset: 15 }],
    ['more batches past the page', { batches: [{ baseOffset: 10, count: 5 }], more: true }, 15, 5, { kind: 'tail' }],
    ['records from the cold tier only', { batches: [], more: false }, 15, 5, { kind: 'tail' }],
    ['nothing read', { batches: [], more: false }, 15, 0, { kind: 'bounds' }],
  ] as const)('%s', (_, page, next, taken, plan) => {
    expect(planEnd(page, next, taken)).toEqual(plan);
  });
});

const record = (offset: number, bytes = 10): StoredRecord => storedRecord(offset, bytes);
const records = (from: number, to: number, bytes?: number) => Array.from({ length: to - from }, (_, i) => record(from + i, bytes));
const cut = (limit: number, maxBytes = 6 * 1024 * 1024) => new ResponseCut({ limit, maxBytes, encoding: 'base64' });

describe('takeForward and takeBackward', () => {
  it('takes a batch forward from the next offset, up to the limit, and ends the read there', () => {
    const out: StoredRecord[] = [];
    const c = cut(3);
    expect(takeForward(records(10, 20), 12, c, out)).toBe(15);
    expect(out.map((r) => r.offset)).toEqual([12, 13, 14]);
    expect(c.full).toBe(true);
  });

  it('refuses a batch that skips an offset: the log is dense', () => {
    expect(() => takeForward([record(10), record(12)], 10, cut(10), [])).toThrow(/log gap/);
  });

  it('takes backward below the lowest offset taken, never below the start offset', () => {
    const out: StoredRecord[] = [];
    expect(takeBackward(records(0, 10), 8, 5, cut(10), out)).toBe(5);
    expect(out.map((r) => r.offset)).toEqual([7, 6, 5]);
  });

  it('stops at maxBytes by encoded size, but always takes one record', () => {
    const out: StoredRecord[] = [];
    const one = new ResponseCut({ limit: 10, maxBytes: 1, encoding: 'base64' }).take(record(0));
    expect(one).toBe(true);
    const size = wireSize(record(0, 40), 'base64');
    const c = new ResponseCut({ limit: 10, maxBytes: 3 * size + 1, encoding: 'base64' });
    expect(takeForward(records(0, 10, 40), 0, c, out)).toBe(3);
    expect(out.map((r) => r.offset)).toEqual([0, 1, 2]);
  });
});

describe('checkInRange', () => {
  it.each([
    [5, true],
    [10, true],
    [20, true],
    [4, false],
    [21, false],
  ])('offset %i in [5, 20]: %s', (offset, ok) => {
    const check = () => checkInRange(offset, { startOffset: 5, endOffset: 20 });
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(OffsetOutOfRangeError);
  });

  it('names both bounds in the error', () => {
    expect(() => checkInRange(30, { startOffset: 5, endOffset: 20 })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ startOffset: 5, endOffset: 20 }) }),
    );
  });
});
