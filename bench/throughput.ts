import { performance } from 'node:perf_hooks';
import { percentile } from './measure.js';
import { MIB } from './prices.js';
import type { BenchResults } from './report.js';
import { BATCH, createTopic, expectOk, produceConcurrently, RECORD_BYTES, round, type BenchContext, type WireRecord } from './harness.js';

export interface ThroughputResults {
  readonly section: BenchResults['throughput'];
  /** The reference topic it filled: the later sections probe it. */
  readonly topic: string;
  /** Base offsets of the batches produced, per partition: where fetch probes start. */
  readonly boundaries: readonly (readonly number[])[];
}

/** Section 1: concurrent producers fill the reference topic, then one consumer per partition reads it all. */
export async function measureThroughput(ctx: BenchContext): Promise<ThroughputResults> {
  const { plan, meter, log } = ctx;
  const topic = 'bench-orders';
  await createTopic(ctx, topic, plan.partitions);
  const batchesPerProducer = Math.ceil((plan.produceMiB * MIB) / (BATCH * RECORD_BYTES) / plan.producers);
  log(`throughput: ${plan.producers} producers × ${batchesPerProducer} requests of ${BATCH} × ${RECORD_BYTES} B to ${plan.partitions} partitions`);
  meter.reset();
  const produced = await produceConcurrently(ctx, topic, batchesPerProducer, 1);
  const produceTotals = meter.totals();
  const producedRecords = plan.producers * batchesPerProducer * BATCH;
  const producedMiB = (producedRecords * RECORD_BYTES) / MIB;

  log('throughput: consumers, one per partition, reading from offset 0 (limit 1000, maxBytes 1 MB)');
  const fetchLatencies: number[] = [];
  meter.reset();
  const t0 = performance.now();
  let fetchedRecords = 0;
  let fetchCalls = 0;
  await Promise.all(
    Array.from({ length: plan.partitions }, async (_, partition) => {
      let offset = 0;
      for (;;) {
        const start = performance.now();
        const answer = expectOk(await ctx.http('GET', `/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=1000`), 'fetch');
        fetchLatencies.push(performance.now() - start);
        fetchCalls++;
        const body = answer.body as { records: WireRecord[]; nextOffset: number; endOffset: number };
        fetchedRecords += body.records.length;
        offset = body.nextOffset;
        if (offset >= body.endOffset) break;
      }
    }),
  );
  const fetchSeconds = (performance.now() - t0) / 1000;
  const fetchTotals = meter.totals();
  const fetchedMiB = (fetchedRecords * RECORD_BYTES) / MIB;
  const section: BenchResults['throughput'] = {
    produce: {
      producers: plan.producers,
      partitions: plan.partitions,
      requests: plan.producers * batchesPerProducer,
      records: producedRecords,
      mib: round(producedMiB),
      seconds: round(produced.seconds),
      recordsPerSecond: round(producedRecords / produced.seconds, 0),
      mibPerSecond: round(producedMiB / produced.seconds),
      latencyUnderLoadMs: { p50: round(percentile(produced.latencies, 50)), p99: round(percentile(produced.latencies, 99)) },
      writeUnitsPerMiB: round(produceTotals.writeUnits / producedMiB),
      readUnitsPerMiB: round(produceTotals.readUnits / producedMiB),
      dynamoRequestsPerCall: round(produceTotals.dynamoRequests / (plan.producers * batchesPerProducer), 3),
      dynamoByCommand: produceTotals.dynamoByCommand,
    },
    fetch: {
      consumers: plan.partitions,
      requests: fetchCalls,
      records: fetchedRecords,
      mib: round(fetchedMiB),
      seconds: round(fetchSeconds),
      recordsPerSecond: round(fetchedRecords / fetchSeconds, 0),
      mibPerSecond: round(fetchedMiB / fetchSeconds),
      latencyUnderLoadMs: { p50: round(percentile(fetchLatencies, 50)), p99: round(percentile(fetchLatencies, 99)) },
      readUnitsPerMiB: round(fetchTotals.readUnits / fetchedMiB),
      dynamoRequestsPerCall: round(fetchTotals.dynamoRequests / fetchCalls, 3),
      dynamoByCommand: fetchTotals.dynamoByCommand,
    },
  };
  log(`throughput: produce ${round(producedRecords / produced.seconds, 0)} records/s (${round(producedMiB / produced.seconds)} MiB/s), fetch ${round(fetchedRecords / fetchSeconds, 0)} records/s`);
  return { section, topic, boundaries: produced.boundaries };
}
