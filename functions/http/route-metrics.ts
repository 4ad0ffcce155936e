import type { StoredRecord } from '../../lib/log/batch-format.js';
import type { ReadBatch } from '../../lib/log/log-types.js';
import { elapsedMs, recordBytes, type MetricsSink } from '../../lib/observability/metrics-sink.js';

/*
 * The metrics the routes emit themselves (README "Operating shardlog"): latencies, measured inside the function
 * from a validated request to its answer, and what fetches returned. What only the engine knows (records
 * appended, lost races, lag, maintenance) it emits itself; errors by code are the wrapper's (handler.ts).
 */

/**
 * Runs `call` (a produce or a commit that passed validation) and emits its latency as `metric`, whether it
 * answered or failed: a slow failure (a produce that gave up after its time budget) is what the p99 should show.
 */
export async function timed<T>(metrics: MetricsSink, metric: 'ProduceLatency' | 'CommitLatency', call: () => Promise<T>): Promise<T> {
  const startedAt = performance.now();
  try {
    return await call();
  } finally {
    metrics.add(metric, elapsedMs(startedAt), {});
  }
}

/** How one fetch went, for {@link recordFetch}. */
export interface FetchOutcome {
  /** `performance.now()` when the validated fetch started. */
  readonly startedAt: number;
  /** Whether it found nothing at first and long-polled (lib's `onWait` was called). */
  readonly waited: boolean;
  /** What the response holds, with its topic: records, or stored batches (a binary read) with their offsets. */
  readonly returned: Iterable<FetchedPart>;
}

/** One partition's part of a fetch: its records, or (a binary read) the stored batches holding [first, next). */
export interface FetchedPart {
  readonly topic: string;
  readonly records: readonly StoredRecord[];
  readonly batches?: readonly ReadBatch[];
  readonly firstOffset?: number;
  readonly nextOffset: number;
}

/**
 * Records and bytes of one part. A binary read hands back batches it did not decode: its records are the offsets
 * it covers, its bytes the batches' stored (compressed) bytes, which is what crossed the wire.
 */
function fetchedTally(part: FetchedPart): { records: number; bytes: number } {
  if (part.batches === undefined) {
    return { records: part.records.length, bytes: part.records.reduce((sum, record) => sum + recordBytes(record), 0) };
  }
  const records = part.batches.length === 0 ? 0 : part.nextOffset - (part.firstOffset ?? part.batches[0]!.baseOffset);
  return { records: Math.max(0, records), bytes: part.batches.reduce((sum, batch) => sum + batch.length, 0) };
}

/**
 * A plain or group fetch's metrics: records and bytes returned, per topic; its latency when it did not wait
 * (time in a long poll is the caller's choice); an empty long poll when it waited and returned nothing.
 */
export function recordFetch(metrics: MetricsSink, outcome: FetchOutcome): void {
  const byTopic = new Map<string, { records: number; bytes: number }>();
  for (const part of outcome.returned) {
    const sum = byTopic.get(part.topic) ?? { records: 0, bytes: 0 };
    const tally = fetchedTally(part);
    sum.records += tally.records;
    sum.bytes += tally.bytes;
    byTopic.set(part.topic, sum);
  }
  let total = 0;
  for (const [topic, { records, bytes }] of byTopic) {
    total += records;
    if (records === 0) continue;
    metrics.add('RecordsFetched', records, { Topic: topic });
    metrics.add('BytesFetched', bytes, { Topic: topic });
  }
  if (!outcome.waited) metrics.add('FetchLatency', elapsedMs(outcome.startedAt), {});
  else if (total === 0) metrics.add('EmptyLongPolls', 1, {});
}
