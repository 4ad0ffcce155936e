import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANSI,
  buildView,
  groupSamples,
  offsetRate,
  redraw,
  renderFrame,
  renderJson,
  renderPlain,
  topicSample,
  type Snapshot,
} from '../../../lib/client/cli/top-view.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

function topic(name: string, ends: number[], createdAt = 1, starts: number[] = ends.map(() => 0)) {
  return topicSample({
    name,
    partitions: ends.length,
    retentionHours: 168,
    createdAt,
    partitionStats: ends.map((endOffset, partition) => ({ partition, startOffset: starts[partition] ?? 0, endOffset })),
  });
}

function group(name: string, topicName: string, committed: Array<number | null>, ends: number[], members = 1) {
  return groupSamples({
    group: name,
    subscriptions: [topicName],
    members: Array.from({ length: members }, (_, i) => ({ memberId: `m${i}`, expiresAt: T0 + 30_000, partitions: 1 })),
    partitions: committed.map((committedOffset, partition) => ({
      topic: topicName,
      partition,
      owner: members > 0 ? `m${partition % members}` : null,
      committedOffset,
      endOffset: ends[partition] ?? 0,
      lag: (ends[partition] ?? 0) - (committedOffset ?? 0),
    })),
  });
}

function snapshot(takenAt: number, topics: Snapshot['topics'], groups: Snapshot['groups'] = []): Snapshot {
  return { takenAt, topics, groups };
}

describe('offsetRate', () => {
  it('is the growth of all partitions per second', () => {
    expect(offsetRate(new Map([[0, 10], [1, 20]]), new Map([[0, 14], [1, 26]]), 2_000)).toBe(5);
  });

  it('is the sum of the per-partition growth over the elapsed time, for any offsets that only grow', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(1_000_000), fc.nat(10_000)), { minLength: 1, maxLength: 32 }),
        fc.integer({ min: 1, max: 600_000 }),
        (partitions, elapsedMs) => {
          const before = new Map(partitions.map(([start], p) => [p, start]));
          const after = new Map(partitions.map(([start, growth], p) => [p, start + growth]));
          const total = partitions.reduce((sum, [, growth]) => sum + growth, 0);
          expect(offsetRate(before, after, elapsedMs)).toBeCloseTo((total * 1000) / elapsedMs, 9);
        },
      ),
    );
  });

  it('is unknown when an offset went down (a reset, a re-created topic), when no time passed, or nothing compares', () => {
    expect(offsetRate(new Map([[0, 10], [1, 5]]), new Map([[0, 20], [1, 4]]), 1_000)).toBeUndefined();
    expect(offsetRate(new Map([[0, 10]]), new Map([[0, 20]]), 0)).toBeUndefined();
    expect(offsetRate(new Map([[0, null]]), new Map([[0, 20]]), 1_000)).toBeUndefined();
    expect(offsetRate(new Map(), new Map([[0, 20]]), 1_000)).toBeUndefined();
  });

  it('leaves out partitions added since, and partitions the group has not committed yet', () => {
    expect(offsetRate(new Map([[0, 10], [1, null]]), new Map([[0, 13], [1, 7], [2, 100]]), 1_000)).toBe(3);
  });
});

describe('buildView', () => {
  it('shows no rate on the first refresh', () => {
    const view = buildView(undefined, snapshot(T0, [topic('orders', [5, 5])], group('billing', 'orders', [2, 3], [5, 5])));
    expect(view.sinceMs).toBeUndefined();
    expect(view.topics).toEqual([{ topic: 'orders', partitions: 2, records: 10, endOffset: 10, inPerSecond: undefined }]);
    expect(view.groups).toEqual([{ group: 'billing', topic: 'orders', members: 1, partitions: 2, owned: 2, lag: 5, outPerSecond: undefined }]);
  });

  it('computes records/s in from end offsets and records/s out from committed offsets between two refreshes', () => {
    const first = snapshot(T0, [topic('orders', [5, 5])], group('billing', 'orders', [2, 3], [5, 5]));
    const second = snapshot(T0 + 2_000, [topic('orders', [15, 11])], group('billing', 'orders', [8, 5], [15, 11]));
    const view = buildView(first, second);
    expect(view.sinceMs).toBe(2_000);
    expect(view.topics[0]?.inPerSecond).toBe(8); // (10 + 6) / 2 s
    expect(view.groups[0]).toMatchObject({ lag: 13, outPerSecond: 4 }); // (6 + 2) / 2 s
  });

  it('shows no rate for a topic deleted and created again between refreshes, nor for its groups', () => {
    const first = snapshot(T0, [topic('orders', [50], 1)], group('billing', 'orders', [40], [50]));
    const second = snapshot(T0 + 1_000, [topic('orders', [60], 2)], group('billing', 'orders', [45], [60]));
    const view = buildView(first, second);
    expect(view.topics[0]?.inPerSecond).toBeUndefined();
    expect(view.groups[0]?.outPerSecond).toBeUndefined();
  });

  it('shows no out rate for a group reset to earlier offsets', () => {
    const first = snapshot(T0, [topic('orders', [50])], group('billing', 'orders', [40], [50]));
    const second = snapshot(T0 + 1_000, [topic('orders', [50])], group('billing', 'orders', [0], [50]));
    expect(buildView(first, second).groups[0]?.outPerSecond).toBeUndefined();
  });

  it('puts the group furthest behind first', () => {
    const view = buildView(
      undefined,
      snapshot(T0, [topic('orders', [100])], [
        ...group('a-fast', 'orders', [99], [100]),
        ...group('b-slow', 'orders', [10], [100]),
        ...group('c-idle', 'orders', [null], [100], 0),
      ]),
    );
    expect(view.groups.map((g) => `${g.group}:${g.lag}`)).toEqual(['c-idle:100', 'b-slow:90', 'a-fast:1']);
    expect(view.groups[0]).toMatchObject({ members: 0, owned: 0 });
  });
});

describe('rendering', () => {
  const view = buildView(
    snapshot(T0, [topic('orders', [5, 5])], group('billing', 'orders', [2, 3], [5, 5])),
    snapshot(T0 + 2_000, [topic('orders', [15, 11])], group('billing', 'orders', [8, 5], [15, 11])),
  );

  it('draws a header, the topics table and the groups table', () => {
    expect(renderFrame(view, { url: 'http://127.0.0.1:4000', intervalMs: 2_000 }, 120)).toEqual([
      'shardlog top  http://127.0.0.1:4000  every 2 s  12:00:02 UTC  (Ctrl-C to quit)',
      '',
      'TOPIC   PARTITIONS  RECORDS  END OFFSET  IN/s',
      'orders           2       26          26     8',
      '',
      'GROUP    TOPIC   MEMBERS  OWNED  LAG  OUT/s',
      'billing  orders        1  2/2     13      4',
    ]);
  });

  it('shows a failed refresh under the header, and placeholders when there is nothing', () => {
    const empty = buildView(undefined, snapshot(T0, []));
    expect(renderFrame(empty, { url: 'u', intervalMs: 500, error: 'cannot reach u' }, 80)).toEqual([
      'shardlog top  u  every 0.5 s  12:00:00 UTC  (Ctrl-C to quit)',
      '! refresh failed: cannot reach u',
      'no topics',
      '',
      'no consumer groups',
    ]);
  });

  it('cuts lines to the terminal width so that nothing wraps', () => {
    const wide = buildView(undefined, snapshot(T0, [topic('t'.repeat(200), [1])]));
    for (const line of renderFrame(wide, { url: 'u', intervalMs: 2_000 }, 40)) expect(line.length).toBeLessThanOrEqual(39);
  });

  it('redraws in place: home, each line cleared to its end, everything below cleared', () => {
    expect(redraw(['a', 'bb'])).toBe(`${ANSI.home}a${ANSI.clearToLineEnd}\nbb${ANSI.clearToLineEnd}\n${ANSI.clearToScreenEnd}`);
  });

  it('prints plain key=value lines with the time when stdout is not a terminal, - for an unknown rate', () => {
    expect(renderPlain(view)).toEqual([
      '2026-11-22T12:00:02.000Z topic=orders partitions=2 records=26 end_offset=26 in_per_s=8',
      '2026-11-22T12:00:02.000Z group=billing topic=orders members=1 owned=2/2 lag=13 out_per_s=4',
    ]);
    const first = buildView(undefined, snapshot(T0, [topic('orders', [1])]));
    expect(renderPlain(first)).toEqual(['2026-11-22T12:00:00.000Z topic=orders partitions=1 records=1 end_offset=1 in_per_s=-']);
  });

  it('prints one JSON object per refresh with --json, null for an unknown rate', () => {
    const parsed = JSON.parse(renderJson(buildView(undefined, snapshot(T0, [topic('orders', [1])])))) as Record<string, unknown>;
    expect(parsed).toEqual({
      at: T0,
      sinceMs: null,
      topics: [{ topic: 'orders', partitions: 1, records: 1, endOffset: 1, inPerSecond: null }],
      groups: [],
    });
  });
});
