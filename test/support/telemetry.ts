import type { LogFields, Logger, LogLevel } from '../../lib/logger.js';
import { metricPoint, type DimensionValues, type MetricName, type MetricPoint } from '../../lib/observability/metrics.js';
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
