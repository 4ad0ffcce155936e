import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GroupBatch } from '../../../lib/groups/group-batch.js';
import { encodeBatch } from '../../../lib/log/batch-format.js';
import { fetchLag, MAX_SWEEP_GROUPS } from '../../../lib/groups/group-lag.js';
import { RecordingMetricsSink } from '../../support/telemetry.js';
import { groupHarness } from './fakes.js';

/* Consumer lag as metrics (lib/groups/group-lag.ts): from group fetches, and from the sweep after scheduled passes. */

const fetchAll = { limit: 100, maxBytes: 1 << 20, waitMs: 0 };

function harness() {
  const metrics = new RecordingMetricsSink();
  return { metrics, ...groupHarness({ metrics }) };
}

describe('lag from a group fetch', () => {
  it('is the worst held partition of each topic, seen before the response is cut, with its oldest unread record\'s age', async () => {
    const { groups, topics, log, clock, metrics } = harness();
    const t = topics.create('t', 2);
    log.append(t, 0, 3, { timestamp: 5_000 });
    log.append(t, 1, 7, { timestamp: 9_000 });
    await groups.subscribe('g', 't');
    await groups.join('g', { topics: ['t'], memberId: 'm' });
    const batches = await groups.fetch('g', 'm', { ...fetchAll, limit: 1 });
    expect(batches.flatMap((b) => b.records)).toHaveLength(1);
    expect(metrics.points).toEqual([
      { name: 'RecordsBehind', unit: 'Count', value: 7, dimensions: { ConsumerGroup: 'g', Topic: 't' } },
      // The oldest unread record of partition 0 has timestamp 5,000 (offset 0): the largest age.
      { name: 'OldestUnreadRecordAge', unit: 'Milliseconds', value: clock.now - 5_000, dimensions: { ConsumerGroup: 'g', Topic: 't' } },
    ]);
  });

  it('is 0 records and 0 ms for a group that has read everything', async () => {
    const { groups, topics, log, metrics } = harness();
    const t = topics.create('t', 1);
    log.append(t, 0, 2);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 2, leaseToken: assignments[0]!.leaseToken }]);
    await groups.fetch('g', 'm', fetchAll);
    expect(metrics.points.map((p) => [p.name, p.value])).toEqual([
      ['RecordsBehind', 0],
      ['OldestUnreadRecordAge', 0],
    ]);
  });

  it('takes, per topic, the largest records behind and the largest known age over its partitions', () => {
    const batch = fc.record({
      topic: fc.constantFrom('a', 'b'),
      first: fc.option(fc.record({ offset: fc.nat(1_000), timestamp: fc.nat(2_000_000) }), { nil: undefined }),
      extra: fc.nat(1_000),
    });
    fc.assert(
      fc.property(fc.array(batch, { maxLength: 20 }), fc.integer({ min: 0, max: 3_000_000 }), (specs, now) => {
        const batches = specs.map((s, partition) => {
          const next = s.first?.offset ?? 10;
          const records = s.first ? [{ offset: s.first.offset, timestamp: s.first.timestamp, key: null, value: new Uint8Array(), valueIsJson: false, headers: {} }] : [];
          return { topic: s.topic, partition, records, nextOffset: next, endOffset: next + s.extra } as unknown as GroupBatch;
        });
        const lags = fetchLag(batches, now);
        expect(lags.map((l) => l.topic).sort()).toEqual([...new Set(specs.map((s) => s.topic))].sort());
        for (const lag of lags) {
          const mine = specs.filter((s) => s.topic === lag.topic);
          expect(lag.recordsBehind).toBe(Math.max(...mine.map((s) => s.extra)));
          const ages = mine.map((s) => (s.first ? Math.max(0, now - s.first.timestamp) : s.extra === 0 ? 0 : undefined)).filter((a) => a !== undefined);
          expect(lag.oldestUnreadAgeMs).toBe(ages.length > 0 ? Math.max(...ages) : undefined);
        }
      }),
    );
  });

  it('of a binary fetch, counts from the first offset its batches cover and dates it by the first batch\'s header', () => {
    // A binary fetch decodes nothing: records are empty, the stored batch carries the timestamps.
    const stored = encodeBatch(0, [
      { key: null, value: new Uint8Array([1]), valueIsJson: false, headers: {}, timestamp: 4_000 },
      { key: null, value: new Uint8Array([2]), valueIsJson: false, headers: {}, timestamp: 6_000 },
    ]);
    const batch = {
      topic: 't', partition: 0, leaseToken: 'x', records: [],
      batches: [{ baseOffset: 0, count: 2, length: stored.length, data: stored }],
      firstOffset: 1, nextOffset: 2, endOffset: 10,
    } as GroupBatch;
    expect(fetchLag([batch], 10_000)).toEqual([{ topic: 't', recordsBehind: 9, oldestUnreadAgeMs: 6_000 }]);
    // A batch handed back as a URL has no bytes here: the age is unknown, the records behind are not.
    const asUrl = { ...batch, batches: [{ baseOffset: 0, count: 2, length: stored.length, url: 'https://s3/x' }] } as GroupBatch;
    expect(fetchLag([asUrl], 10_000)).toEqual([{ topic: 't', recordsBehind: 9, oldestUnreadAgeMs: undefined }]);
  });
});

describe('the lag sweep', () => {
  it('reports groups behind whatever their consumers do, from the committed offsets, and nothing for groups caught up', async () => {
    const { groups, topics, log, clock, metrics } = harness();
    const t = topics.create('t', 2);
    log.append(t, 0, 4, { timestamp: 10_000 });
    log.append(t, 1, 4, { timestamp: 20_000 });
    for (const group of ['behind', 'caught-up', 'never-committed']) {
      await groups.subscribe(group, 't');
      const { assignments } = await groups.join(group, { topics: ['t'], memberId: `${group}-m` });
      if (group === 'never-committed') continue;
      const offset = group === 'behind' ? 1 : 4;
      await groups.commit(group, `${group}-m`, assignments.map((a) => ({ topic: 't', partition: a.partition, offset, leaseToken: a.leaseToken })));
      await groups.leave(group, `${group}-m`);
    }
    expect(await groups.reportLag()).toEqual({ groups: 3, behind: 1, skipped: 0 });
    expect(metrics.points).toEqual([
      { name: 'RecordsBehind', unit: 'Count', value: 3, dimensions: { ConsumerGroup: 'behind', Topic: 't' } },
      // Partition 0's record at offset 1 has timestamp 10,001: the older of the two.
      { name: 'OldestUnreadRecordAge', unit: 'Milliseconds', value: clock.now - 10_001, dimensions: { ConsumerGroup: 'behind', Topic: 't' } },
    ]);
  });

  it('counts from the start offset when retention removed records the group had not read', async () => {
    const { groups, topics, log, clock, metrics } = harness();
    const t = topics.create('t', 1);
    log.append(t, 0, 10, { timestamp: 0 });
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 2, leaseToken: assignments[0]!.leaseToken }]);
    log.expire(t, 0, 6);
    await groups.reportLag();
    expect(metrics.points.map((p) => [p.name, p.value])).toEqual([
      ['RecordsBehind', 4],
      ['OldestUnreadRecordAge', clock.now - 6],
    ]);
  });

  it(`looks at ${MAX_SWEEP_GROUPS} groups at most, in name order, and says how many it left out`, async () => {
    const { groups, topics, log, metrics } = harness();
    const t = topics.create('t', 1);
    log.append(t, 0, 1);
    const names = Array.from({ length: MAX_SWEEP_GROUPS + 2 }, (_, i) => `g${String(i).padStart(4, '0')}`);
    for (const group of names) {
      await groups.subscribe(group, 't');
      const { assignments } = await groups.join(group, { topics: ['t'], memberId: 'm' });
      await groups.commit(group, 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: assignments[0]!.leaseToken }]);
    }
    expect(await groups.reportLag()).toEqual({ groups: MAX_SWEEP_GROUPS, behind: MAX_SWEEP_GROUPS, skipped: 2 });
    const reported = new Set(metrics.of('RecordsBehind').map((p) => (p.dimensions as { ConsumerGroup: string }).ConsumerGroup));
    expect(reported).toEqual(new Set(names.slice(0, MAX_SWEEP_GROUPS)));
  });
});
