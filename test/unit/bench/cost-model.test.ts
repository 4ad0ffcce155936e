import { describe, expect, it } from 'vitest';
import {
  kinesisOnDemandBill,
  kinesisProvisionedBill,
  meteredRequests,
  monthlyCalls,
  NO_WORK,
  REFERENCE_WORKLOAD,
  shardlogBill,
  type Deployment,
  type MeasuredWork,
} from '../../../bench/cost-model.js';
import { MIB, US_EAST_1 } from '../../../bench/prices.js';

// Every expected figure below was worked out by hand (the arithmetic is in the comments).

const noWork: MeasuredWork = {
  produce: NO_WORK,
  produceBatch: { records: 100, recordBytes: 1024 },
  groupFetch: { perCall: NO_WORK, perMiB: NO_WORK },
  commit: NO_WORK,
  heartbeat: NO_WORK,
  tierPerMiB: NO_WORK,
  idleMaintenancePass: NO_WORK,
  coldReadPerMiB: NO_WORK,
  hotBytesPerPayloadByte: 0,
  s3BytesPerPayloadByte: 0,
  spilledBytesPerPayloadByte: 0,
};
const deployment: Deployment = {
  produceMemoryMb: 1024,
  groupsMemoryMb: 1024,
  maintenanceMemoryMb: 1024,
  hotRetentionLimitHours: 2016,
  hotTtlMarginHours: 24,
  tierAfterHours: 0.25,
  hotCopyGraceHours: 1,
  ttlLagHours: 0.75,
  maintenancePassesPerMonth: 43_800,
};
/** Every topic tiered to S3 (SHARDLOG_HOT_RETENTION_LIMIT_HOURS=0): hot for 0.25 + 1 + 0.75 = 2 hours. */
const tieredDeployment: Deployment = { ...deployment, hotRetentionLimitHours: 0 };
const lineOf = (bill: ReturnType<typeof shardlogBill>, item: string) => bill.lines.find((l) => l.item === item);

describe('Kinesis Data Streams bills for the reference workload', () => {
  it('on-demand: 730 h × $0.04 + 1,000 GB × $0.08 + 2 × 1,000 GB × $0.04 + extended retention ≈ $209', () => {
    const bill = kinesisOnDemandBill(REFERENCE_WORKLOAD, US_EAST_1);
    const dollars = bill.lines.map((l) => l.dollars);
    expect(dollars[0]).toBeCloseTo(29.2, 6); // 730 × 0.04
    expect(dollars[1]).toBeCloseTo(80, 6); // 1,000 × 0.08
    expect(dollars[2]).toBeCloseTo(80, 6); // 2 × 1,000 × 0.04
    // 6 days of 1,000 GB a 30.4167-day month = 197.26 GB-month × $0.10
    expect(dollars[3]).toBeCloseTo(19.726, 3);
    expect(bill.total).toBeCloseTo(208.926, 3);
  });

  it('provisioned: one shard carries 399 records/s and 399 KB/s; $10.95 + $14.68 + $14.60 ≈ $40', () => {
    const bill = kinesisProvisionedBill(REFERENCE_WORKLOAD, US_EAST_1);
    expect(bill.shards).toBe(1);
    const dollars = bill.lines.map((l) => l.dollars);
    expect(dollars[0]).toBeCloseTo(10.95, 6); // 1 × 730 × 0.015
    expect(dollars[1]).toBeCloseTo(14.680064, 6); // 1,048,576,000 records × one 25 KB unit × $0.014/M
    expect(dollars[2]).toBeCloseTo(14.6, 6); // 1 × 730 × 0.02
    expect(bill.total).toBeCloseTo(40.230064, 6);
  });

  it('provisioned with 24-hour retention is about $26 (no extended retention)', () => {
    const bill = kinesisProvisionedBill({ ...REFERENCE_WORKLOAD, retentionDays: 1 }, US_EAST_1);
    expect(bill.total).toBeCloseTo(25.630064, 6);
  });

  it('on-demand Advantage: no stream-hours; 1,000 GB × $0.032 + 2 × 1,000 GB × $0.016 + retention at $0.04 ≈ $71.9', () => {
    const bill = kinesisOnDemandBill(REFERENCE_WORKLOAD, US_EAST_1, true);
    expect(bill.mode).toBe('on-demand advantage');
    expect(bill.lines.map((l) => l.item)).not.toContain('stream-hours');
    // 32 + 32 + 197.26 GB-month × 0.04 = 7.890
    expect(bill.total).toBeCloseTo(71.890, 3);
  });

  it('provisioned adds shards for a peak: 3× the average needs 2 shards by records per second', () => {
    // 399 records/s × 3 = 1,197 records/s > 1,000
    expect(kinesisProvisionedBill(REFERENCE_WORKLOAD, US_EAST_1, 3).shards).toBe(2);
  });
});

describe('monthlyCalls', () => {
  it('counts the calls of the reference workload', () => {
    const calls = monthlyCalls(REFERENCE_WORKLOAD);
    expect(calls.produce).toBeCloseTo(10_485_760, 6); // 1,000 × 2^30 / 1,024 / 100
    // polling once a second (2,628,000 a month) beats 1,024,000 pages of 1 MiB, for each of 2 members
    expect(calls.groupFetch).toBeCloseTo(5_256_000, 6);
    expect(calls.bytesPerGroupFetch).toBeCloseTo((2 * 1000 * 2 ** 30) / 5_256_000, 3);
    expect(calls.commit).toBeCloseTo(1_051_200, 6); // 2 × 2,628,000 / 5
    expect(calls.heartbeat).toBeCloseTo(525_600, 6); // 2 × 2,628,000 / 10
  });

  it('commits at most once per record a member received: a quiet topic costs few commits', () => {
    // 0.01 records/s: 26,280 records a month, each read by one member of each of the 2 groups
    const calls = monthlyCalls({ ...REFERENCE_WORKLOAD, bytesPerMonth: 26_280 * 1024 });
    expect(calls.commit).toBeCloseTo(2 * 26_280, 6);
    expect(calls.heartbeat).toBeCloseTo(525_600, 6); // heartbeats do not depend on traffic
  });

  it('fetches in pages when polling is too slow to move the bytes', () => {
    const calls = monthlyCalls({ ...REFERENCE_WORKLOAD, pollIntervalS: 10 });
    expect(calls.groupFetch).toBeCloseTo(2 * 1_024_000, 6); // 1,000 GiB / 1 MiB per member
  });
});

describe('meteredRequests', () => {
  it('meters API Gateway HTTP API requests in 512 KB increments, at least one', () => {
    expect(meteredRequests(0, US_EAST_1)).toBe(1);
    expect(meteredRequests(512 * 1024, US_EAST_1)).toBe(1);
    expect(meteredRequests(512 * 1024 + 1, US_EAST_1)).toBe(2);
    expect(meteredRequests(1.1 * MIB, US_EAST_1)).toBe(3);
  });
});

describe('shardlogBill', () => {
  it('prices produce requests, Lambda time and write units', () => {
    const measured = { ...noWork, produce: { ...NO_WORK, writeUnits: 5.3, lambdaMs: 10, httpBytes: 110_000 } };
    const bill = shardlogBill(REFERENCE_WORKLOAD, measured, deployment, US_EAST_1);
    expect(lineOf(bill, 'requests: produce')?.dollars).toBeCloseTo(10.48576, 6); // 10,485,760 × $1/M, 1 API request each
    expect(bill.lines.find((l) => l.service === 'Lambda' && l.item === 'requests: produce')?.dollars).toBeCloseTo(2.097152, 6);
    // 10,485,760 × 10 ms × 1 GB = 104,857.6 GB-s × $0.0000133334
    expect(lineOf(bill, 'duration: produce')?.dollars).toBeCloseTo(1.398108, 5);
    // 10,485,760 × 5.3 = 55,574,528 WRU × $0.625/M
    expect(lineOf(bill, 'write units: produce')?.dollars).toBeCloseTo(34.73408, 5);
    // the other calls still pay their requests: 6,832,800 fetches, commits and heartbeats × ($1 + $0.20)/M, and
    // 43,800 scheduled maintenance invocations × $0.20/M
    const otherRequests = 6_832_800 * 1.2e-6 + 43_800 * 0.2e-6;
    expect(bill.total).toBeCloseTo(10.48576 + 2.097152 + 1.398108 + 34.73408 + otherRequests, 4);
  });

  it('keeps a 7-day topic in DynamoDB for retention + margin + TTL lag, with no tiering', () => {
    const measured = { ...noWork, tierPerMiB: { ...NO_WORK, writeUnits: 50 }, hotBytesPerPayloadByte: 0.25, s3BytesPerPayloadByte: 0.3 };
    const bill = shardlogBill(REFERENCE_WORKLOAD, measured, deployment, US_EAST_1);
    expect(bill.storage).toBe('hot retention');
    expect(bill.hotResidenceHours).toBeCloseTo(168 + 24 + 0.75, 9);
    // 1,000 GB / 730 h × 192.75 h × 0.25 = 66.0103 GB × $0.25
    expect(lineOf(bill, 'storage: batches')?.dollars).toBeCloseTo(16.502568, 5);
    expect(lineOf(bill, 'write units: tiering')).toBeUndefined();
    expect(lineOf(bill, 'storage: segments')).toBeUndefined();
  });

  it('prices tiering per MiB and both storage tiers at steady state', () => {
    const measured = {
      ...noWork,
      tierPerMiB: { ...NO_WORK, writeUnits: 50, s3Puts: 0.01 },
      hotBytesPerPayloadByte: 0.25,
      s3BytesPerPayloadByte: 0.3,
    };
    const bill = shardlogBill(REFERENCE_WORKLOAD, measured, tieredDeployment, US_EAST_1);
    expect(bill.storage).toBe('tiered');
    expect(lineOf(bill, 'write units: tiering')?.dollars).toBeCloseTo(32, 6); // 1,024,000 MiB × 50 × $0.625/M
    expect(lineOf(bill, 'PUTs: tiering')?.dollars).toBeCloseTo(0.0512, 6); // 10,240 PUTs × $0.005/1k
    // 1,000 GB / 730 h × 2 h × 0.25 = 0.684932 GB × $0.25
    expect(lineOf(bill, 'storage: batches')?.dollars).toBeCloseTo(0.171233, 5);
    // 1,000 GB / 730 h × 168 h × 0.3 = 69.0411 GB × $0.023
    expect(lineOf(bill, 'storage: segments')?.dollars).toBeCloseTo(1.587945, 5);
    // tiering is billed per MiB: no API Gateway or Lambda requests of its own
    expect(bill.lines.some((l) => l.item === 'requests: tiering')).toBe(false);
  });

  it('meters a group fetch by the bytes it returns at the workload poll rate', () => {
    const measured = {
      ...noWork,
      groupFetch: { perCall: { ...NO_WORK, readUnits: 2, httpBytes: 100 }, perMiB: { ...NO_WORK, readUnits: 16, httpBytes: 1.2 * MIB } },
    };
    const bill = shardlogBill(REFERENCE_WORKLOAD, measured, deployment, US_EAST_1);
    // 5,256,000 fetches of 408,591 B (0.38966 MiB): 2 + 16 × 0.38966 = 8.2346 RRU each
    const mib = (2 * 1000 * 2 ** 30) / 5_256_000 / MIB;
    expect(lineOf(bill, 'read units: group fetch')?.quantity).toBeCloseTo(5_256_000 * (2 + 16 * mib), 0);
    // 100 + 1.2 × 0.38966 MiB = 490 KB: one metered request each
    expect(lineOf(bill, 'requests: group fetch')?.quantity).toBeCloseTo(5_256_000, 6);
  });

  it('refuses a workload whose produce batch was not the one measured', () => {
    expect(() => shardlogBill({ ...REFERENCE_WORKLOAD, recordsPerProduce: 500 }, noWork, deployment, US_EAST_1)).toThrow(/measured with 100/);
  });
});
