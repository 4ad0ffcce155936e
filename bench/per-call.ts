import type { JsonValue } from '../lib/client/types.js';
import { summarize, type OperationStats } from './measure.js';
import { sdkFetch, sdkProduce } from './sdk-calls.js';
import { BATCH, createTopic, expectOk, fetchPayload, probe, produceBody, RECORD_BYTES, type BenchContext } from './harness.js';
import { BatchingProducer, prng, realisticEvent, repetitiveEvent } from './workload.js';

/** The per-call table's rows measured here (the group and cold-fetch rows come from their own sections). */
export interface PerCallResults {
  readonly produce: OperationStats;
  /** Hot fetch of the reference topic from a batch boundary. */
  readonly fetch: OperationStats;
  readonly produce1000: OperationStats;
  readonly produceIdempotent: OperationStats;
  readonly produceRepetitive: OperationStats;
  readonly produceSpilled2000: OperationStats;
  readonly fetchSpilled: OperationStats;
  /** `produce` as the SDK producer sends it by default: binary, with an Idempotency-Key. */
  readonly produceSdk: OperationStats;
  /** `fetch` as the SDK consumer reads by default: binary, spilled batches by presigned URL (`urls=1`). */
  readonly fetchSdk: OperationStats;
  /** The presigned GETs the client made per `fetchSdk` call (S3 bills them; no function waits for them). */
  readonly fetchSdkUrlGets: number;
}

/**
 * Section 2: latency and work per call, one call at a time, on the reference topic filled by the throughput
 * section (`boundaries`: its batch base offsets per partition). Besides produce and fetch, the side
 * measurements of the bill's variants: bigger batches, idempotent produces, compressible data, spilled batches.
 */
export async function measurePerCall(ctx: BenchContext, topic: string, boundaries: readonly (readonly number[])[]): Promise<PerCallResults> {
  const { plan, prober, log } = ctx;
  log(`probes: produce, fetch (${plan.probes} each)`);
  const probeProducer = new BatchingProducer({ partitions: plan.partitions, batchSize: BATCH, recordBytes: RECORD_BYTES, seed: 1000 });
  const produceSamples = await probe(plan.probes, async () => {
    const batch = probeProducer.next();
    const { sample, answer } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(batch.records), () => batch.payloadBytes);
    expectOk(answer, 'produce probe');
    return sample;
  });
  const hotOffsets = boundaries[0] ?? [];
  const pickOffset = prng(7);
  const hotProbeOffsets = Array.from({ length: plan.probes }, () => hotOffsets[Math.floor(pickOffset() * hotOffsets.length)] ?? 0);
  const hotFetchSamples = await probe(plan.probes, async (i) => {
    const { sample, answer } = await prober.call('GET', `/v1/topics/${topic}/partitions/0/records?offset=${hotProbeOffsets[i]}&limit=1000`, undefined, fetchPayload);
    expectOk(answer, 'fetch probe');
    return sample;
  });
  // Side measurements for the "what would lower the bill" scenarios: bigger batches, more compressible data.
  const bigBatch = Array.from({ length: 1000 }, (_, i) => realisticEvent(prng(99 + i), i, RECORD_BYTES));
  const bigSamples = await probe(plan.sideProbes, async () => {
    const { sample } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(bigBatch, 1), () => 1000 * RECORD_BYTES);
    return sample;
  });
  // What the SDK producer sends: every request carries an Idempotency-Key (so that a retry never duplicates),
  // which makes it a TransactWriteItems with the idempotency record: twice the units of its items.
  const idempotentSamples = await probe(plan.sideProbes, async (n) => {
    const batch = probeProducer.next();
    const { sample, answer } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(batch.records), () => batch.payloadBytes, {
      'idempotency-key': `bench-${n}-${batch.records.length}-${Date.now()}`,
    });
    expectOk(answer, 'idempotent produce probe');
    return sample;
  });
  const repetitiveSamples = await probe(plan.sideProbes, async (n) => {
    const records = Array.from({ length: BATCH }, (_, i) => repetitiveEvent(n * BATCH + i, RECORD_BYTES));
    const { sample } = await prober.call('POST', `/v1/topics/${topic}/records`, produceBody(records, 2), () => BATCH * RECORD_BYTES);
    return sample;
  });

  // A batch over MAX_INLINE_BATCH_BYTES compressed is written to S3 first and the item only points at it: 2,000
  // records (~2 MiB, ~480 KiB gzipped) take that path. Produce them, then fetch them back from their boundaries.
  const spillTopic = 'bench-spill';
  await createTopic(ctx, spillTopic, 1);
  const spillRandom = prng(4242);
  const spillBoundaries: number[] = [];
  const spillSamples = await probe(plan.sideProbes, async (n) => {
    const records = Array.from({ length: 2000 }, (_, i) => realisticEvent(spillRandom, 5_000_000 + n * 2000 + i, RECORD_BYTES));
    const { sample, answer } = await prober.call('POST', `/v1/topics/${spillTopic}/records`, produceBody(records, 0), () => 2000 * RECORD_BYTES);
    expectOk(answer, 'spilled produce');
    spillBoundaries.push((answer.body as { records: Array<{ offset: number }> }).records[0]?.offset ?? 0);
    return sample;
  });
  const spillFetchSamples = await probe(plan.sideProbes, async (i) => {
    const { sample } = await prober.call('GET', `/v1/topics/${spillTopic}/partitions/0/records?offset=${spillBoundaries[i] ?? 0}&limit=2000&maxBytes=6000000`, undefined, fetchPayload);
    return sample;
  });
  const sdk = await measureSdkDefaults(ctx, topic, probeProducer, hotProbeOffsets);
  return {
    ...sdk,
    produce: summarize(produceSamples),
    fetch: summarize(hotFetchSamples),
    produce1000: summarize(bigSamples),
    produceIdempotent: summarize(idempotentSamples),
    produceRepetitive: summarize(repetitiveSamples),
    produceSpilled2000: summarize(spillSamples),
    fetchSpilled: summarize(spillFetchSamples),
  };
}

/**
 * The reference calls with the SDK's defaults (bench/sdk-calls.ts): a produce of the same 100 records and a fetch
 * from the same offsets.
 */
async function measureSdkDefaults(ctx: BenchContext, topic: string, producer: BatchingProducer, offsets: readonly number[]) {
  const { plan } = ctx;
  const now = Date.now();
  const produceSamples = await probe(plan.sideProbes, async (n) => {
    const batch = producer.next();
    const records = batch.records.map((r) => ({ key: r.key, value: r.value as JsonValue }));
    return sdkProduce(ctx, topic, records, { partitions: plan.partitions, idempotencyKey: `sdk-${n}-${now}`, payloadBytes: batch.payloadBytes });
  });
  let urlGets = 0;
  const fetchSamples = await probe(plan.sideProbes, async (i) => {
    const read = await sdkFetch(ctx, `/v1/topics/${topic}/partitions/0/records?offset=${offsets[i] ?? 0}&limit=1000`);
    urlGets += read.urlGets;
    return read.sample;
  });
  return { produceSdk: summarize(produceSamples), fetchSdk: summarize(fetchSamples), fetchSdkUrlGets: urlGets / Math.max(1, fetchSamples.length) };
}
