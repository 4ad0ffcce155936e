import { performance } from 'node:perf_hooks';
import { summarize } from './measure.js';
import type { BenchResults } from './report.js';
import { BATCH, createTopic, expectOk, fetchPayload, probe, produceBody, RECORD_BYTES, round, type BenchContext } from './harness.js';
import { BatchingProducer } from './workload.js';

/**
 * Section 7: one partition grows through `plan.growth` records; at each size, produce and fetch (tail, head,
 * middle) are probed over HTTP. The partition is filled through the engine (not HTTP) with small records in
 * batches of 100: the item count grows as it would with the reference workload (one item per 100 records),
 * without writing gigabytes to the emulator.
 */
export async function measureGrowth(ctx: BenchContext): Promise<BenchResults['growth']> {
  const { plan, prober, engine, log } = ctx;
  log(`growth: one partition filled to ${plan.growth.map((n) => n.toExponential(0)).join(', ')} records`);
  const growTopic = 'bench-grow';
  await createTopic(ctx, growTopic, 1);
  const growth: BenchResults['growth'] = [];
  const utf8 = new TextEncoder();
  const filler = Array.from({ length: BATCH }, (_, i) => ({
    key: utf8.encode(`k${i}`),
    value: utf8.encode(JSON.stringify({ i, filler: 'x'.repeat(40) })),
    valueIsJson: true,
    headers: {},
    partition: 0,
  }));
  const growProducer = new BatchingProducer({ partitions: 1, batchSize: BATCH, recordBytes: RECORD_BYTES, seed: 2000 });
  const growing = await engine.topics.get(growTopic);
  let size = 0;
  for (const target of plan.growth) {
    const fillStart = performance.now();
    const fillTarget = target - plan.growthProbes * BATCH;
    // Appends to one partition are sequential: the next append needs the previous end offset.
    while (size < fillTarget) {
      await engine.log.produce(growing, { records: filler });
      size += BATCH;
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const tails: number[] = [];
    const produce = await probe(plan.growthProbes, async () => {
      const batch = growProducer.next();
      const { sample, answer } = await prober.call('POST', `/v1/topics/${growTopic}/records`, produceBody(batch.records), () => batch.payloadBytes);
      expectOk(answer, 'growth produce');
      tails.push((answer.body as { records: Array<{ offset: number }> }).records[0]?.offset ?? 0);
      size += BATCH;
      return sample;
    });
    const fetchAt = async (offsets: (i: number) => number) =>
      probe(plan.growthProbes, async (i) => (await prober.call('GET', `/v1/topics/${growTopic}/partitions/0/records?offset=${offsets(i)}&limit=1000`, undefined, fetchPayload)).sample);
    const fetchTail = await fetchAt((i) => tails[i] ?? 0);
    const fetchHead = await fetchAt((i) => i * BATCH);
    const middle = Math.floor(size / 2 / BATCH) * BATCH;
    const fetchMiddle = await fetchAt((i) => middle + i * BATCH);
    growth.push({ records: size, fillSeconds: round(fillSeconds), produce: summarize(produce), fetchTail: summarize(fetchTail), fetchHead: summarize(fetchHead), fetchMiddle: summarize(fetchMiddle) });
    log(`growth: ${size} records (fill ${round(fillSeconds, 1)} s)`);
  }
  return growth;
}
