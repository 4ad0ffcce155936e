import { describe, expect, it } from 'vitest';
import { simulateBatching } from '../../../bench/batching.js';
import { regions } from '../../../bench/frontier.js';
import { NO_WORK, REFERENCE_WORKLOAD, type Work } from '../../../bench/cost-model.js';
import { advantageApplies, crossings, meanRequest, requestBase, requestWork, topicWorkload, type ProducePoint } from '../../../bench/frontier-model.js';
import { US_EAST_1 } from '../../../bench/prices.js';

// Every expected figure below was worked out by hand (the arithmetic is in the comments).

const w = (writeUnits: number, httpBytes = 0): Work => ({ ...NO_WORK, writeUnits, httpBytes });
/**
 * A request costs 4 units of its own (the idempotency record) and 2 per record per partition batch: one partition
 * of n records = 4 + 2n, 4 partitions of n = 4 + 8n.
 */
const linear: ProducePoint[] = [1, 10, 100].map((n) => ({ records: n, partitions: 4, onePartition: w(4 + 2 * n), allPartitions: w(4 + 8 * n) }));

describe('the work of a produce request from the measured batch sizes', () => {
  it('splits a measurement into what the request costs and what each partition batch adds', () => {
    expect(requestBase(linear).writeUnits).toBeCloseTo(4, 9);
    // 4 + (2×3) + (2×1): partitions of 3 and 1 records
    expect(requestWork([3, 1], linear).writeUnits).toBeCloseTo(12, 9);
  });

  it('interpolates between measured sizes and extends the largest in proportion', () => {
    const curved: ProducePoint[] = [
      { records: 1, partitions: 2, onePartition: w(5), allPartitions: w(6) }, // item 1, base 4
      { records: 11, partitions: 2, onePartition: w(15), allPartitions: w(26) }, // item 11, base 4
    ];
    expect(requestWork([6], curved).writeUnits).toBeCloseTo(4 + 6, 9); // halfway: item 6
    expect(requestWork([22], curved).writeUnits).toBeCloseTo(4 + 22, 9); // 2 × the item of 11
  });

  it('averages the work, records per request and records per batch over request shapes', () => {
    // 3 requests of one 1-record batch (6 units each), 1 of batches of 3 and 1 (12 units)
    const mean = meanRequest([{ items: [1], count: 3 }, { items: [3, 1], count: 1 }], linear);
    expect(mean.work.writeUnits).toBeCloseTo((3 * 6 + 12) / 4, 9);
    expect(mean.recordsPerRequest).toBeCloseTo(7 / 4, 9);
    expect(mean.recordsPerBatch).toBeCloseTo(7 / 5, 9);
  });
});

describe('crossings', () => {
  it('finds where two curves cross between points, in log-log', () => {
    // a = x, b = 10 constant: they cross at x = 10, between 1 and 100
    expect(crossings([1, 100], [1, 100], [10, 10])[0]).toBeCloseTo(10, 9);
    expect(crossings([1, 10, 100], [1, 2, 3], [10, 20, 30])).toEqual([]);
  });

  it('skips segments with a missing value', () => {
    expect(crossings([1, 10, 100], [1, null, 100], [10, 10, 10])).toEqual([]);
  });
});

describe('advantageApplies', () => {
  it('holds only when the topics write 25 MiB/s and their consumers read as much', () => {
    // 25 MiB/s = 25,600 records/s of 1 KB: 1,000 topics of 25.6 records/s; 2 groups read twice that
    expect(advantageApplies(1000, topicWorkload(25.6, 1, 1, 1024), US_EAST_1)).toBe(true);
    expect(advantageApplies(1000, topicWorkload(25, 1, 1, 1024), US_EAST_1)).toBe(false);
    expect(advantageApplies(1000, { ...topicWorkload(25.6, 1, 1, 1024), consumerGroups: 0 }, US_EAST_1)).toBe(false);
  });

  it('keeps the reference workload shape at another rate', () => {
    const workload = topicWorkload(1, 1, 1, 1024);
    expect(workload.bytesPerMonth).toBe(2_628_000 * 1024); // 730 h × 3,600 s
    expect(workload.partitions).toBe(REFERENCE_WORKLOAD.partitions);
  });
});

describe('simulateBatching: the SDK producer in virtual time', () => {
  it('sends about one record per request when records are much further apart than the linger', async () => {
    // 0.1 records/s: a gap under 130 ms (linger + round trip) has probability 1.3%
    const result = await simulateBatching({ recordsPerSecond: 0.1, partitions: 4, options: { lingerMs: 100 }, recordBytes: 1024, records: 50, latencyMs: () => 30, seed: 1 });
    expect(result.records).toBe(50);
    expect(result.requests).toBeGreaterThanOrEqual(48);
    expect(result.waitMs.p50).toBe(100); // each record waits out the linger
  });

  it('puts more records in each request as the linger grows, and adds at most the linger to their wait', async () => {
    const run = (lingerMs: number) => simulateBatching({ recordsPerSecond: 100, partitions: 4, options: { lingerMs }, recordBytes: 1024, records: 1000, latencyMs: () => 30, seed: 2 });
    const [short, long] = [await run(5), await run(100)];
    expect(long.recordsPerRequest).toBeGreaterThan(3 * short.recordsPerRequest);
    expect(long.waitMs.p99).toBeLessThanOrEqual(100);
    expect(short.records).toBe(1000);
  });
});

describe('the crossovers in words', () => {
  it('names where shardlog is cheaper and where it is dearer, from the crossings', () => {
    // ours = x, theirs = 10: cheaper below 10
    expect(regions([1, 100], [1, 100], [10, 10], 'records/s')).toBe('cheaper up to 10 records/s, dearer above');
    // ours dips below theirs between 10 and 1,000 and rises again
    expect(regions([1, 100, 10_000], [20, 1, 20], [10, 10, 10], 'topics')).toMatch(/^dearer up to \S+ topics, cheaper from there to \S+, dearer above$/);
    expect(regions([1, 10], [1, 2], [10, 20], 'topics')).toBe('cheaper from 1.0 to 10 topics');
  });
});
