import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';
import { EmfMetricsSink } from '../../functions/telemetry.js';
import type { LogFields, Logger, LogLevel } from '../../lib/logger.js';
import { METRICS_NAMESPACE, metricPoint, type DimensionValues, type MetricName, type MetricPoint } from '../../lib/observability/metrics.js';
import type { MetricsSink } from '../../lib/observability/metrics-sink.js';

/** One line a {@link RecordingLogger} kept. */
export interface LoggedLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

/** A logger that keeps its lines in memory: tests read what was logged instead of spying on stdout. */
export class RecordingLogger implements Logger {
  readonly lines: LoggedLine[] = [];
  debug(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields: LogFields = {}): void {
    this.lines.push({ level: 'error', message, fields });
  }
}

/**
 * A metrics sink that keeps every point in memory, validated as the Lambda sink validates them (`metricPoint`
 * throws here, so an emitter's bug fails its test instead of being dropped with a warning).
 */
export class RecordingMetricsSink implements MetricsSink {
  readonly points: MetricPoint[] = [];
  add<N extends MetricName>(name: N, value: number, dimensions: DimensionValues<N>): void {
    this.points.push(metricPoint(name, value, dimensions) as unknown as MetricPoint);
  }
  /** The points of `name`, in the order they came. */
  of(name: MetricName): MetricPoint[] {
    return this.points.filter((p) => p.name === name);
  }
  /** The sum of the values of `name` whose dimensions include `where`. */
  sum(name: MetricName, where: Readonly<Record<string, string>> = {}): number {
    return this.of(name)
      .filter((p) => Object.entries(where).every(([k, v]) => (p.dimensions as Record<string, string>)[k] === v))
      .reduce((total, p) => total + p.value, 0);
  }
  clear(): void {
    this.points.length = 0;
  }
}

/** One metric of one EMF line, as CloudWatch reads it: its dimensions (with `service`), unit and values. */
export interface EmfPoint {
  readonly name: string;
  readonly unit: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: readonly number[];
}

/**
 * The Lambda metrics sink (functions/telemetry.ts: Powertools Metrics behind it), and what it writes on stdout
 * read back as CloudWatch reads Embedded Metric Format. Tests pass `sink` to an engine, drive it, then `flush()`
 * as the end of an invocation does, and read the points of the lines it wrote. stdout is captured only during
 * the flush, so nothing else of the test is hidden.
 */
export class EmfCapture {
  readonly sink: EmfMetricsSink;
  private readonly lines: EmfPoint[] = [];

  constructor(readonly serviceName = 'shardlog-test') {
    // The test run turns EMF off (vitest.config.ts); Powertools reads the switch when it is constructed.
    const disabled = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    try {
      this.sink = new EmfMetricsSink({ metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }) });
    } finally {
      if (disabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = disabled;
    }
  }

  /** Flushes the sink; returns the points of the lines written now, and keeps them for {@link points}. */
  flush(): EmfPoint[] {
    const written: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      this.sink.flush();
    } finally {
      stdout.mockRestore();
    }
    const points = written.flatMap((text) => text.split('\n').filter((line) => line.trim() !== '')).flatMap((line) => parseEmfLine(line));
    this.lines.push(...points);
    return points;
  }

  /** Every point flushed so far, of `name` when given, whose dimensions include `where`. */
  points(name?: MetricName, where: Readonly<Record<string, string>> = {}): EmfPoint[] {
    return this.lines.filter(
      (p) => (name === undefined || p.name === name) && Object.entries(where).every(([k, v]) => p.dimensions[k] === v),
    );
  }

  /** Every value of `name` flushed so far whose dimensions include `where`. */
  values(name: MetricName, where: Readonly<Record<string, string>> = {}): number[] {
    return this.points(name, where).flatMap((p) => p.values);
  }

  /** The sum of {@link values}. */
  sum(name: MetricName, where: Readonly<Record<string, string>> = {}): number {
    return this.values(name, where).reduce((a, b) => a + b, 0);
  }
}

/** The points of one EMF line: each metric its `_aws` block declares, with the line's one dimension set. */
export function parseEmfLine(line: string): EmfPoint[] {
  const parsed = JSON.parse(line) as Record<string, unknown> & {
    _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  };
  return parsed._aws.CloudWatchMetrics.flatMap((directive) => {
    if (directive.Namespace !== METRICS_NAMESPACE) throw new Error(`EMF line in namespace ${directive.Namespace}: ${line}`);
    const dimensions = Object.fromEntries((directive.Dimensions[0] ?? []).map((d) => [d, String(parsed[d])]));
    return directive.Metrics.map(({ Name, Unit }) => ({
      name: Name,
      unit: Unit,
      dimensions,
      values: [parsed[Name] as number | number[]].flat(),
    }));
  });
}
