import type { DimensionValues, MetricName } from './metrics.js';

/**
 * Where the engine and the HTTP handlers send data points of the metric catalogue (lib/observability/metrics.ts).
 * The only way shardlog emits a metric: `add` is typed by the catalogue, so a name that is not catalogued, or
 * dimensions other than the declared ones (a partition, a member id), do not compile.
 *
 * lib/ knows only this interface. The Lambda entries pass a sink that buffers the invocation's points and writes
 * them as CloudWatch Embedded Metric Format lines through Powertools Metrics when the invocation ends
 * (functions/telemetry.ts): no API call, nothing awaited on the request's path. The local stack and the tests
 * pass nothing ({@link NO_METRICS}) or a sink that keeps the points in memory.
 *
 * An implementation must not throw and must not wait: a metric never fails or slows a request. A point the
 * catalogue refuses (`metricPoint`: a negative or non-finite value, an empty dimension) is dropped, with a
 * warning in the log.
 */
export interface MetricsSink {
  /** Records one data point of `name`, with exactly its catalogued dimensions. */
  add<N extends MetricName>(name: N, value: number, dimensions: DimensionValues<N>): void;
}

/** Discards every point: the engine's default (a library user or a test publishes nothing unasked). */
export const NO_METRICS: MetricsSink = { add() {} };

/**
 * What `BytesProduced` and `BytesFetched` count for one record (a record of lib/log, by its shape: this folder
 * imports nothing of lib/log, which emits through it): the bytes of its key, its value and its header
 * names and values (UTF-8), as stored. The same measure on both sides, so bytes in and bytes out compare, and
 * whatever the response encoding (base64 or JSON text) adds is left out, as Kinesis counts `IncomingBytes` and
 * `GetRecords.Bytes` by the data blob.
 */
export function recordBytes(record: {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}): number {
  let bytes = (record.key?.length ?? 0) + record.value.length;
  for (const name in record.headers) bytes += Buffer.byteLength(name) + Buffer.byteLength(record.headers[name]!);
  return bytes;
}

/** Milliseconds elapsed since `startedAt` (a `performance.now()` reading), for the latency metrics. */
export function elapsedMs(startedAt: number): number {
  return Math.max(0, performance.now() - startedAt);
}
