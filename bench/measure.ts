import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';
import { isPresign, transactWriteUnits, type CapacityMeter, type CapacityTotals, type TransactWriteItemLike } from '../lib/storage/capacity-meter.js';

/**
 * Measuring one HTTP call: its latency, the AWS work it caused (from the {@link CapacityMeter}) and the
 * sequential round trips on its critical path (from an {@link AwsTracer}).
 *
 * Round trips are computed from timestamps: every DynamoDB and S3 request the handlers send is recorded as an
 * interval [start, end] (taken in the SDK's `initialize` step, so SDK retries fold into one request), and the
 * critical path is the longest chain of requests each of which started after the previous one ended. Requests
 * that overlap in time ran in parallel (`Promise.all`) and count once. This works because the probes run one
 * call at a time, so every request seen between a call's start and end belongs to it.
 */

export interface AwsRequest {
  readonly service: 'dynamodb' | 's3';
  readonly command: string;
  readonly start: number;
  readonly end: number;
  /** Capacity units DynamoDB reported for this request (the meter asks for them). */
  readonly units: number;
}

/** Units of one request, a transaction counted as DynamoDB bills it (as the {@link CapacityMeter} does). */
function unitsOf(consumed: unknown, command: string, input: unknown): number {
  const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as Array<{ CapacityUnits?: number }>;
  const reported = list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
  if (command !== 'TransactWriteItemsCommand' || list.length === 0) return reported;
  return Math.max(reported, transactWriteUnits((input as { TransactItems?: TransactWriteItemLike[] }).TransactItems));
}

/** Records the interval of every request sent by the clients it is attached to, while recording. */
export class AwsTracer {
  private requests: AwsRequest[] | undefined;

  attach(dynamo: Pick<DynamoDBClient, 'middlewareStack'>, s3: Pick<S3Client, 'middlewareStack'>): this {
    // The two stacks have different generic types but the same shape; the middleware only reads the command name.
    const clients: Array<['dynamodb' | 's3', Pick<DynamoDBClient, 'middlewareStack'>]> = [
      ['dynamodb', dynamo],
      ['s3', s3 as unknown as Pick<DynamoDBClient, 'middlewareStack'>],
    ];
    for (const [service, client] of clients) {
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const start = performance.now();
          const command = String(context.commandName ?? 'unknown');
          try {
            const result = await next(args);
            // A presigned URL runs the command through the stack but sends nothing.
            if (!isPresign(result.output)) {
              this.requests?.push({ service, command, start, end: performance.now(), units: unitsOf((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity, command, args.input) });
            }
            return result;
          } catch (error) {
            this.requests?.push({ service, command, start, end: performance.now(), units: unitsOf((error as { ConsumedCapacity?: unknown }).ConsumedCapacity, command, args.input) });
            throw error;
          }
        },
        { step: 'initialize', name: `shardlogBenchTracer-${service}`, priority: 'high' },
      );
    }
    return this;
  }

  begin(): void {
    this.requests = [];
  }

  end(): AwsRequest[] {
    const out = this.requests ?? [];
    this.requests = undefined;
    return out;
  }
}

/** Length of the longest chain of requests that ran one after another (each starts after the previous ended). */
export function criticalPath(requests: readonly AwsRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.end - b.end);
  const depth: number[] = [];
  let longest = 0;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i] as AwsRequest;
    let before = 0;
    for (let j = 0; j < i; j++) {
      const q = sorted[j] as AwsRequest;
      if (q.end <= r.start) before = Math.max(before, depth[j] as number);
    }
    depth.push(before + 1);
    longest = Math.max(longest, before + 1);
  }
  return longest;
}

/** Milliseconds during which at least one request was in flight. */
export function busyMs(requests: readonly AwsRequest[]): number {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  let total = 0;
  let from = -Infinity;
  let to = -Infinity;
  for (const r of sorted) {
    if (r.start > to) {
      if (to > from) total += to - from;
      from = r.start;
      to = r.end;
    } else {
      to = Math.max(to, r.end);
    }
  }
  if (to > from) total += to - from;
  return total;
}

function unitsByCommand(requests: readonly AwsRequest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) if (r.service === 'dynamodb') out[r.command] = (out[r.command] ?? 0) + r.units;
  return out;
}

/** Nearest-rank percentile of `values` (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

const mean = (values: readonly number[]) => (values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length);
const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** One measured call. */
export interface Sample {
  readonly latencyMs: number;
  readonly status: number;
  readonly work: CapacityTotals;
  readonly roundTrips: number;
  /** Of those, S3 requests (slower than DynamoDB's in AWS: the cost model weighs them apart). */
  readonly s3RoundTrips: number;
  /** The longest chain of DynamoDB requests alone. */
  readonly dynamoRoundTrips: number;
  /** Capacity units per DynamoDB command, from the traced requests. */
  readonly unitsByCommand: Readonly<Record<string, number>>;
  /** Time with at least one AWS request in flight. */
  readonly awsMs: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** Payload bytes the call moved (records produced or returned), when known. */
  readonly payloadBytes: number;
}

/** Summary of samples of one operation, as the results file stores it. */
export interface OperationStats {
  readonly calls: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly mean: number };
  /** Latency minus the time AWS requests were in flight: the handler's own work plus HTTP. */
  readonly localMsP50: number;
  readonly awsMsP50: number;
  readonly roundTrips: { readonly p50: number; readonly max: number; readonly mean: number };
  readonly dynamoRoundTripsP50: number;
  readonly s3RoundTripsMean: number;
  /** Means per call. */
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly dynamoRequests: number;
  readonly s3Requests: number;
  readonly dynamoByCommand: Readonly<Record<string, number>>;
  readonly s3ByCommand: Readonly<Record<string, number>>;
  readonly unitsByCommand: Readonly<Record<string, number>>;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly payloadBytes: number;
  /** Per MiB of payload moved (when the call moves payload). */
  readonly readUnitsPerMiB?: number;
  readonly writeUnitsPerMiB?: number;
  readonly failures: number;
}

export function summarize(samples: readonly Sample[]): OperationStats {
  const ok = samples.filter((s) => s.status < 400);
  const latencies = ok.map((s) => s.latencyMs);
  const byCommand = (pick: (s: Sample) => Readonly<Record<string, number>>) => {
    const out: Record<string, number> = {};
    for (const s of ok) for (const [k, v] of Object.entries(pick(s))) out[k] = (out[k] ?? 0) + v;
    for (const k of Object.keys(out)) out[k] = round((out[k] as number) / Math.max(1, ok.length));
    return out;
  };
  const payload = ok.reduce((sum, s) => sum + s.payloadBytes, 0);
  const mib = payload / (1024 * 1024);
  const rus = ok.reduce((sum, s) => sum + s.work.readUnits, 0);
  const wus = ok.reduce((sum, s) => sum + s.work.writeUnits, 0);
  return {
    calls: ok.length,
    latencyMs: { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2), mean: round(mean(latencies), 2) },
    localMsP50: round(percentile(ok.map((s) => Math.max(0, s.latencyMs - s.awsMs)), 50), 2),
    awsMsP50: round(percentile(ok.map((s) => s.awsMs), 50), 2),
    roundTrips: {
      p50: percentile(ok.map((s) => s.roundTrips), 50),
      max: Math.max(0, ...ok.map((s) => s.roundTrips)),
      mean: round(mean(ok.map((s) => s.roundTrips))),
    },
    readUnits: round(rus / Math.max(1, ok.length)),
    writeUnits: round(wus / Math.max(1, ok.length)),
    dynamoRequests: round(mean(ok.map((s) => s.work.dynamoRequests))),
    s3Requests: round(mean(ok.map((s) => s.work.s3Requests))),
    s3RoundTripsMean: round(mean(ok.map((s) => s.s3RoundTrips))),
    dynamoRoundTripsP50: percentile(ok.map((s) => s.dynamoRoundTrips), 50),
    dynamoByCommand: byCommand((s) => s.work.dynamoByCommand),
    s3ByCommand: byCommand((s) => s.work.s3ByCommand),
    unitsByCommand: byCommand((s) => s.unitsByCommand),
    requestBytes: round(mean(ok.map((s) => s.requestBytes)), 0),
    responseBytes: round(mean(ok.map((s) => s.responseBytes)), 0),
    payloadBytes: round(mean(ok.map((s) => s.payloadBytes)), 0),
    ...(payload > 0 ? { readUnitsPerMiB: round(rus / mib), writeUnitsPerMiB: round(wus / mib) } : {}),
    failures: samples.length - ok.length,
  };
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly bytes: number;
}

/** A small JSON-over-HTTP client for the local API (keep-alive through Node's global fetch). */
export function httpClient(baseUrl: string) {
  return async (method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> => {
    const response = await fetch(baseUrl + path, {
      method,
      ...(body === undefined ? { headers } : { body, headers: { 'content-type': 'application/json', ...headers } }),
    });
    const text = await response.text();
    return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined, bytes: Buffer.byteLength(text) };
  };
}

/** Runs one call alone and measures it. `payloadOf` tells how many payload bytes the answer carried. */
export class Prober {
  constructor(
    private readonly meter: CapacityMeter,
    private readonly tracer: AwsTracer,
    private readonly http: ReturnType<typeof httpClient>,
  ) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
    payloadOf: (answer: HttpAnswer) => number = () => 0,
    headers: Record<string, string> = {},
  ): Promise<{ sample: Sample; answer: HttpAnswer }> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    let answer!: HttpAnswer;
    const sample = await this.measure(async () => {
      answer = await this.http(method, path, text, headers);
      return { status: answer.status, requestBytes: text === undefined ? 0 : Buffer.byteLength(text), responseBytes: answer.bytes, payloadBytes: answer.status < 400 ? payloadOf(answer) : 0 };
    });
    return { sample, answer };
  }

  /** Measures one call made by `run` alone (any body and answer: bench/wire.ts sends bytes). */
  async measure(run: () => Promise<Pick<Sample, 'status' | 'requestBytes' | 'responseBytes' | 'payloadBytes'>>): Promise<Sample> {
    this.meter.reset();
    this.tracer.begin();
    const t0 = performance.now();
    const outcome = await run();
    const latencyMs = performance.now() - t0;
    const requests = this.tracer.end();
    return {
      ...outcome,
      latencyMs,
      work: this.meter.totals(),
      roundTrips: criticalPath(requests),
      s3RoundTrips: criticalPath(requests.filter((r) => r.service === 's3')),
      dynamoRoundTrips: criticalPath(requests.filter((r) => r.service === 'dynamodb')),
      unitsByCommand: unitsByCommand(requests),
      awsMs: busyMs(requests),
    };
  }
}
