import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { logLevel, type LogFields, type Logger, type LogLevel } from '../lib/logger.js';
import { METRICS, METRICS_NAMESPACE, metricPoint, SERVICE_NAME_ENV, type DimensionValues, type MetricName, type MetricUnit } from '../lib/observability/metrics.js';
import type { MetricsSink } from '../lib/observability/metrics-sink.js';

/**
 * Logs and metrics of a Lambda function, with Powertools for AWS Lambda (TypeScript) behind lib's two
 * interfaces (lib/logger.ts `Logger`, lib/observability/metrics-sink.ts `MetricsSink`), so lib/ never imports a
 * Lambda library:
 *
 * - {@link powertoolsLogger}: one JSON object per line on stdout/stderr (CloudWatch Logs indexes it), with
 *   `level`, `service` (`POWERTOOLS_SERVICE_NAME`, the API stack's name), `timestamp`, and, per invocation, the
 *   Lambda request id (`function_request_id`), `cold_start`, the function's name, ARN and memory. `LOG_LEVEL`
 *   (or `POWERTOOLS_LOG_LEVEL`, or Lambda's own log-level control) sets the level; `POWERTOOLS_LOGGER_SAMPLE_RATE`
 *   (0..1) turns on debug lines for that share of invocations.
 * - {@link EmfMetricsSink}: the invocation's data points, written when it ends as CloudWatch Embedded Metric
 *   Format lines (namespace `shardlog`, one line per set of dimension values). CloudWatch Logs turns them into
 *   metrics: no PutMetricData call, nothing on the request's path.
 * - {@link instrument}: wraps a handler so each invocation refreshes the log sampling, adds the Lambda context
 *   to the log lines, and flushes the metrics, also when the handler throws.
 */

/** lib's {@link Logger} over a Powertools Logger. */
export function powertoolsLogger(powertools: PowertoolsLogger): Logger {
  const attributes = (fields?: LogFields) => (fields === undefined ? {} : { ...fields });
  return {
    debug: (message, fields) => powertools.debug(message, attributes(fields)),
    info: (message, fields) => powertools.info(message, attributes(fields)),
    warn: (message, fields) => powertools.warn(message, attributes(fields)),
    error: (message, fields) => powertools.error(message, attributes(fields)),
  };
}

/**
 * A Powertools Logger configured from `env`: the level `LOG_LEVEL` names (any case; default `info`: Powertools
 * reads the variable itself only in upper case, and the tests and the local stack set it in lower case), the
 * service (`POWERTOOLS_SERVICE_NAME`) and the debug sampling rate (`POWERTOOLS_LOGGER_SAMPLE_RATE`). Lambda's
 * own variables (cold start, its log-level control) Powertools reads from the process.
 */
export function createPowertoolsLogger(env: Readonly<Record<string, string | undefined>> = process.env): PowertoolsLogger {
  const level: LogLevel = logLevel(env.POWERTOOLS_LOG_LEVEL ?? env.LOG_LEVEL, 'info');
  const serviceName = env[SERVICE_NAME_ENV];
  const sampleRate = Number(env.POWERTOOLS_LOGGER_SAMPLE_RATE);
  return new PowertoolsLogger({
    logLevel: level,
    ...(serviceName ? { serviceName } : {}),
    ...(env.POWERTOOLS_LOGGER_SAMPLE_RATE !== undefined && sampleRate >= 0 && sampleRate <= 1 ? { sampleRateValue: sampleRate } : {}),
  });
}

/**
 * EMF allows 100 values per metric in one line, and Powertools publishes (and clears the line's dimensions)
 * as the 100th arrives: a line takes at most this many, so every value keeps its dimensions.
 */
const MAX_VALUES_PER_LINE = 99;

/** The points of one set of dimension values, by metric. */
interface Series {
  readonly dimensions: Readonly<Record<string, string>>;
  readonly values: Map<MetricName, number[]>;
}

/**
 * A {@link MetricsSink} that keeps the invocation's points in memory and writes them, at {@link flush}, as
 * Embedded Metric Format lines through Powertools Metrics: one line per set of dimension values (EMF applies a
 * line's dimensions to all its metrics), every metric carrying `service` too. A metric read only by its Sum
 * (counts and bytes) is summed in memory, so a busy invocation writes one value per series; any other keeps
 * each value, so percentiles and maxima stay exact.
 *
 * Points are added synchronously and flushed once; an invocation's points are never lost or written twice, also
 * when a function serves several invocations at once (each point goes out with whichever flush comes next).
 */
export class EmfMetricsSink implements MetricsSink {
  private readonly metrics: Metrics;
  private readonly log: Logger | undefined;
  private readonly series = new Map<string, Series>();

  constructor(options: { readonly metrics?: Metrics; readonly log?: Logger } = {}) {
    this.metrics = options.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE });
    this.log = options.log;
  }

  add<N extends MetricName>(name: N, value: number, dimensions: DimensionValues<N>): void {
    try {
      metricPoint(name, value, dimensions);
    } catch (error) {
      this.log?.warn('metric dropped', { metric: name, error });
      return;
    }
    const entries = Object.entries(dimensions as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1));
    const key = JSON.stringify(entries);
    let series = this.series.get(key);
    if (!series) this.series.set(key, (series = { dimensions: Object.fromEntries(entries), values: new Map() }));
    const values = series.values.get(name);
    if (values === undefined) series.values.set(name, [value]);
    else if (isSumOnly(name)) values[0]! += value;
    else values.push(value);
  }

  /** Writes every point added since the last flush (nothing when there is none). */
  flush(): void {
    const pending = [...this.series.values()];
    this.series.clear();
    for (const { dimensions, values } of pending) {
      for (let from = 0; ; from += MAX_VALUES_PER_LINE) {
        const line = [...values].map(([name, all]) => [name, all.slice(from, from + MAX_VALUES_PER_LINE)] as const).filter(([, v]) => v.length > 0);
        if (line.length === 0) break;
        for (const [dimension, dimensionValue] of Object.entries(dimensions)) this.metrics.addDimension(dimension, dimensionValue);
        for (const [name, chunk] of line) for (const v of chunk) this.metrics.addMetric(name, METRICS[name].unit satisfies MetricUnit, v);
        this.metrics.publishStoredMetrics();
      }
    }
  }
}

function isSumOnly(name: MetricName): boolean {
  const statistics: readonly string[] = METRICS[name].statistics;
  return statistics.length === 1 && statistics[0] === 'Sum';
}

/** A function's logger and metrics sink, and the Powertools Logger behind the logger. */
export interface LambdaTelemetry {
  readonly logger: Logger;
  readonly metrics: EmfMetricsSink;
  readonly powertools: PowertoolsLogger;
}

/** Telemetry of a Lambda function: call once, at cold start. `service` comes from `POWERTOOLS_SERVICE_NAME`. */
export function lambdaTelemetry(env: Readonly<Record<string, string | undefined>> = process.env): LambdaTelemetry {
  const powertools = createPowertoolsLogger(env);
  const logger = powertoolsLogger(powertools);
  const serviceName = env[SERVICE_NAME_ENV];
  const metrics = new EmfMetricsSink({
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, ...(serviceName ? { serviceName } : {}) }),
    log: logger,
  });
  return { logger, metrics, powertools };
}

/**
 * `handler` as Lambda calls it: per invocation, refreshes the debug-log sampling decision, adds the Lambda
 * context (request id, cold start, function) to every log line, and flushes the metrics when it ends, whether
 * it returned or threw.
 */
export function instrument<E, R>(telemetry: LambdaTelemetry, handler: (event: E) => Promise<R>): (event: E, context: Context) => Promise<R> {
  return async (event, context) => {
    telemetry.powertools.refreshSampleRateCalculation();
    telemetry.powertools.addContext(context);
    try {
      return await handler(event);
    } finally {
      telemetry.metrics.flush();
    }
  };
}
