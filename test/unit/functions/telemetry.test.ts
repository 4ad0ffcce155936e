import fc from 'fast-check';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { EmfMetricsSink, instrument, lambdaTelemetry } from '../../../functions/telemetry.js';
import { METRIC_NAMES, METRICS, type DimensionValues, type MetricName } from '../../../lib/observability/metrics.js';
import { lambdaContext } from '../../support/lambda-context.js';
import { RecordingLogger } from '../../support/telemetry.js';

/*
 * The Lambda side of the metrics (functions/telemetry.ts): what a flush of Powertools Metrics writes on stdout,
 * read back as CloudWatch reads it (Embedded Metric Format: one JSON object per line, its `_aws` block naming
 * the namespace, the dimension sets and each metric's unit, the values at the top level).
 */

interface EmfLine {
  readonly _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  readonly [key: string]: unknown;
}

let stdout: MockInstance<typeof process.stdout.write>;
beforeEach(() => {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false'); // the test run turns EMF off elsewhere (vitest.config.ts)
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A sink over a Powertools Metrics of service `test-service`, as lambdaTelemetry builds it. */
function sink(log?: RecordingLogger): EmfMetricsSink {
  return new EmfMetricsSink({ metrics: new Metrics({ namespace: 'shardlog', serviceName: 'test-service' }), ...(log ? { log } : {}) });
}

/** The EMF lines written so far, parsed. */
function emfLines(): EmfLine[] {
  return stdout.mock.calls.map((call) => JSON.parse(String(call[0])) as EmfLine);
}

/** The dimension values of a line: its single dimension set, with each value. */
function dimensionsOf(line: EmfLine): Record<string, unknown> {
  const [set] = line._aws.CloudWatchMetrics[0]!.Dimensions;
  return Object.fromEntries(set!.map((name) => [name, line[name]]));
}

/** Sample dimension values for any catalogued metric. */
function sampleDimensions<N extends MetricName>(name: N): DimensionValues<N> {
  const values: Record<string, string> = { Topic: 'orders', ConsumerGroup: 'billing', ShareGroup: 'mailers', ErrorCode: 'FENCED', Table: 'log' };
  return Object.fromEntries(METRICS[name].dimensions.map((d) => [d, values[d]!])) as DimensionValues<N>;
}

describe('EmfMetricsSink', () => {
  it('writes one EMF line per set of dimension values, in the shardlog namespace, with the service dimension', () => {
    const metrics = sink();
    metrics.add('RecordsProduced', 3, { Topic: 'orders' });
    metrics.add('BytesProduced', 100, { Topic: 'orders' });
    metrics.add('RecordsProduced', 2, { Topic: 'orders' });
    metrics.add('RecordsProduced', 1, { Topic: 'audit' });
    metrics.add('ProduceLatency', 12, {});
    metrics.add('ProduceLatency', 30, {});
    metrics.flush();
    const lines = emfLines();
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line._aws.CloudWatchMetrics[0]!.Namespace).toBe('shardlog');
    const byDimensions = new Map(lines.map((line) => [JSON.stringify(dimensionsOf(line)), line]));
    const orders = byDimensions.get(JSON.stringify({ service: 'test-service', Topic: 'orders' }))!;
    expect(orders._aws.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: 'RecordsProduced', Unit: 'Count' },
      { Name: 'BytesProduced', Unit: 'Bytes' },
    ]);
    // Counts are summed in memory: one value per series and flush.
    expect(orders).toMatchObject({ RecordsProduced: 5, BytesProduced: 100 });
    expect(byDimensions.get(JSON.stringify({ service: 'test-service', Topic: 'audit' }))).toMatchObject({ RecordsProduced: 1 });
    // Latencies keep every value, so CloudWatch's percentiles are exact.
    const service = byDimensions.get(JSON.stringify({ service: 'test-service' }))!;
    expect(service._aws.CloudWatchMetrics[0]!.Metrics).toEqual([{ Name: 'ProduceLatency', Unit: 'Milliseconds' }]);
    expect(service.ProduceLatency).toEqual([12, 30]);
  });

  it('writes every catalogued metric with exactly its catalogued dimensions plus service, and its unit', () => {
    const metrics = sink();
    for (const name of METRIC_NAMES) metrics.add(name, 1, sampleDimensions(name));
    metrics.flush();
    const seen = new Map<string, { dimensions: string[]; unit: string }>();
    for (const line of emfLines()) {
      const { Dimensions, Metrics: defs } = line._aws.CloudWatchMetrics[0]!;
      expect(Dimensions).toHaveLength(1);
      for (const def of defs) seen.set(def.Name, { dimensions: [...Dimensions[0]!].sort(), unit: def.Unit });
    }
    expect([...seen.keys()].sort()).toEqual([...METRIC_NAMES].sort());
    for (const name of METRIC_NAMES) {
      expect(seen.get(name), name).toEqual({ dimensions: [...METRICS[name].dimensions, 'service'].sort(), unit: METRICS[name].unit });
    }
  });

  it('sums counts and keeps other values exactly, whatever the points (no point lost or counted twice)', () => {
    const point = fc.record({
      name: fc.constantFrom<MetricName>('RecordsFetched', 'AppendRacesLost', 'FetchLatency', 'RecordsBehind'),
      value: fc.nat(10_000),
      topic: fc.constantFrom('a', 'b'),
    });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 300 }), (points) => {
        stdout.mockClear();
        const metrics = sink();
        for (const p of points) {
          const dimensions = METRICS[p.name].dimensions.length === 0 ? {} : p.name === 'RecordsBehind' ? { ConsumerGroup: 'g', Topic: p.topic } : { Topic: p.topic };
          metrics.add(p.name, p.value, dimensions as never);
        }
        metrics.flush();
        const written = new Map<string, number[]>();
        for (const line of emfLines()) {
          const key = (name: string) => `${name}|${String(line.Topic ?? '')}`;
          for (const { Name } of line._aws.CloudWatchMetrics[0]!.Metrics) {
            written.set(key(Name), [...(written.get(key(Name)) ?? []), ...[line[Name] as number | number[]].flat()]);
          }
        }
        const expected = new Map<string, number[]>();
        for (const p of points) {
          const key = `${p.name}|${METRICS[p.name].dimensions.length === 0 ? '' : p.topic}`;
          expected.set(key, [...(expected.get(key) ?? []), p.value]);
        }
        expect([...written.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [key, values] of expected) {
          const name = key.split('|')[0] as MetricName;
          if (METRICS[name].statistics.join() === 'Sum') expect(written.get(key)).toEqual([values.reduce((a, b) => a + b, 0)]);
          else expect([...written.get(key)!].sort((a, b) => a - b)).toEqual([...values].sort((a, b) => a - b));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('keeps each value with its dimensions past EMF\'s 100 values per metric and line', () => {
    const metrics = sink();
    for (let i = 0; i < 250; i++) metrics.add('RecordsBehind', i, { ConsumerGroup: 'billing', Topic: 'orders' });
    metrics.flush();
    const lines = emfLines();
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(dimensionsOf(line)).toEqual({ service: 'test-service', ConsumerGroup: 'billing', Topic: 'orders' });
    expect(lines.flatMap((line) => line.RecordsBehind as number[]).sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i));
  });

  it('writes nothing, not even a warning, when the invocation added no point', () => {
    const errors = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    sink().flush();
    expect(stdout).not.toHaveBeenCalled();
    expect(errors).not.toHaveBeenCalled();
  });

  it('drops a point the catalogue refuses, with a warning, and writes the others', () => {
    const log = new RecordingLogger();
    const metrics = sink(log);
    metrics.add('ProduceLatency', -1, {});
    metrics.add('ProduceLatency', Number.NaN, {});
    metrics.add('RecordsProduced', 1, { Topic: '' });
    metrics.add('ProduceLatency', 7, {});
    metrics.flush();
    expect(log.lines.map((line) => [line.level, line.message])).toEqual([
      ['warn', 'metric dropped'],
      ['warn', 'metric dropped'],
      ['warn', 'metric dropped'],
    ]);
    expect(emfLines().map((line) => line.ProduceLatency)).toEqual([7]);
  });
});

describe('instrument', () => {
  it('flushes the metrics of each invocation as it ends, also when the handler throws', async () => {
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'Shardlog-Test');
    vi.stubEnv('LOG_LEVEL', 'error');
    const telemetry = lambdaTelemetry();
    const handler = instrument(telemetry, async (event: { fail: boolean }) => {
      telemetry.metrics.add('CommitLatency', 5, {});
      if (event.fail) throw new Error('boom');
      return 'done';
    });
    await expect(handler({ fail: false }, lambdaContext('a'))).resolves.toBe('done');
    expect(emfLines()).toHaveLength(1);
    await expect(handler({ fail: true }, lambdaContext('b'))).rejects.toThrow('boom');
    const lines = emfLines();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ service: 'Shardlog-Test', CommitLatency: 5 });
  });
});
