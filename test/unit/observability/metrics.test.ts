import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CUSTOM_METRIC_USD_PER_MONTH,
  EMITTED_METRICS,
  estimateCustomMetrics,
  METRIC_NAMES,
  METRICS,
  metricPoint,
  metricsOfArea,
  type MetricName,
} from '../../../lib/observability/metrics.js';

const SOURCE = new URL('../../../lib/observability/metrics.ts', import.meta.url);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every .ts file under `dirs` of the repository. */
function sourceFiles(dirs: readonly string[]): string[] {
  return dirs.flatMap((dir) =>
    (readdirSync(join(ROOT, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, dir, f)),
  );
}
const README = new URL('../../../README.md', import.meta.url);

describe('the metric catalogue', () => {
  it('declares every metric issue 13 asks for', () => {
    expect(new Set(METRIC_NAMES)).toEqual(
      new Set([
        'RecordsProduced',
        'BytesProduced',
        'RecordsFetched',
        'BytesFetched',
        'ProduceLatency',
        'FetchLatency',
        'CommitLatency',
        'ErrorResponses',
        'AppendRacesLost',
        'AppendRetries',
        'DynamoDbThrottles',
        'EmptyLongPolls',
        'RecordsBehind',
        'OldestUnreadRecordAge',
        'BytesTiered',
        'SegmentsWritten',
        'RecordsExpired',
        'MaintenancePassDuration',
        'MaintenanceFailures',
        'OldestUntieredBatchAge',
        // Share groups' outcomes (issue 13 came before share groups; they follow its rules).
        'ShareRecordsAccepted',
        'ShareRecordsRedelivered',
        'ShareRecordsArchived',
      ]),
    );
  });

  it('uses only the dimension sets whose cost the module comment justifies', () => {
    const allowed = new Set(['', 'Topic', 'ConsumerGroup,Topic', 'ShareGroup', 'ErrorCode', 'Table']);
    for (const name of METRIC_NAMES) expect(allowed, name).toContain(METRICS[name].dimensions.join(','));
    // Throughput per topic, lag per group and topic: exactly these, nothing else carries a name dimension.
    expect(METRIC_NAMES.filter((n) => (METRICS[n].dimensions as readonly string[]).includes('Topic')).sort()).toEqual(
      ['BytesFetched', 'BytesProduced', 'OldestUnreadRecordAge', 'RecordsBehind', 'RecordsFetched', 'RecordsProduced'],
    );
    expect(METRIC_NAMES.filter((n) => (METRICS[n].dimensions as readonly string[]).includes('ShareGroup')).sort()).toEqual(
      ['ShareRecordsAccepted', 'ShareRecordsArchived', 'ShareRecordsRedelivered'],
    );
  });

  it('reads lag and ages with Maximum and latencies with percentiles', () => {
    for (const name of ['RecordsBehind', 'OldestUnreadRecordAge', 'OldestUntieredBatchAge'] as const) {
      expect(METRICS[name].statistics[0]).toBe('Maximum');
    }
    for (const name of ['ProduceLatency', 'FetchLatency', 'CommitLatency'] as const) {
      expect(METRICS[name]).toMatchObject({ unit: 'Milliseconds', statistics: ['p99', 'p50'] });
    }
  });

  it('names metrics as CloudWatch accepts them and says what each one means and where it is emitted', () => {
    for (const name of METRIC_NAMES) {
      expect(name).toMatch(/^[A-Z][A-Za-z]{2,254}$/);
      expect(METRICS[name].description.length, name).toBeGreaterThan(20);
      expect(METRICS[name].emittedBy.length, name).toBeGreaterThan(10);
    }
  });

  it('puts every metric in exactly one area', () => {
    const areas = ['produce', 'fetch', 'groups', 'errors', 'storage', 'maintenance'] as const;
    expect(areas.flatMap((area) => metricsOfArea(area)).sort()).toEqual([...METRIC_NAMES].sort());
  });

  it('imports nothing from AWS or Powertools: it is data the emitting code and the CDK app both read', () => {
    const imports = [...readFileSync(SOURCE, 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports).toEqual(['../errors.js']);
  });

  it('lists as emitted exactly the metrics the code of lib/ and functions/ names, each once', () => {
    // A name reaches a MetricsSink only as a string literal (`add` and `timed` are typed by the catalogue), so the
    // literals outside the catalogue are what the code emits. test/integration/observability/emitted-metrics.test.ts
    // drives the emitters and reads their EMF lines; test/infra/observability.test.ts ties the dashboard to this list.
    const named = new Set<string>();
    for (const file of sourceFiles(['lib', 'functions'])) {
      if (file.endsWith('lib/observability/metrics.ts')) continue;
      for (const [, literal] of readFileSync(file, 'utf8').matchAll(/'([A-Z][A-Za-z]+)'/g)) {
        if ((METRIC_NAMES as readonly string[]).includes(literal!)) named.add(literal!);
      }
    }
    expect([...named].sort()).toEqual([...EMITTED_METRICS].sort());
    expect(new Set(EMITTED_METRICS).size).toBe(EMITTED_METRICS.length);
    for (const name of EMITTED_METRICS) expect(METRIC_NAMES).toContain(name);
  });
});

describe('README "Operating shardlog"', () => {
  const readme = readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('## Operating shardlog'), readme.indexOf('\n## ', readme.indexOf('## Operating shardlog') + 1));

  it('lists every catalogued metric', () => {
    for (const name of METRIC_NAMES) expect(section, name).toContain(`\`${name}\``);
  });

  it('lists exactly the emitted metrics between its markers', () => {
    const list = section.slice(section.indexOf('<!-- emitted-metrics:start -->'), section.indexOf('<!-- emitted-metrics:end -->'));
    const bullets = [...list.matchAll(/^> - (.+)$/gm)].map((m) => m[1]!.trim());
    expect(bullets).toEqual(EMITTED_METRICS.length === 0 ? ['none yet'] : EMITTED_METRICS.map((name) => `\`${name}\``));
  });
});

describe('metricPoint', () => {
  it('builds a point with the unit of the catalogue', () => {
    expect(metricPoint('RecordsBehind', 42, { ConsumerGroup: 'billing', Topic: 'orders' })).toEqual({
      name: 'RecordsBehind',
      unit: 'Count',
      value: 42,
      dimensions: { ConsumerGroup: 'billing', Topic: 'orders' },
    });
    expect(metricPoint('ErrorResponses', 1, { ErrorCode: 'FENCED' }).unit).toBe('Count');
    expect(metricPoint('MaintenancePassDuration', 1234.5, {}).unit).toBe('Milliseconds');
  });

  it('accepts every finite value ≥ 0 and refuses negative, NaN and infinite ones', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }), (value) => {
        expect(metricPoint('BytesTiered', value, {}).value).toBe(value);
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.double({ max: -Number.MIN_VALUE, noNaN: true }), fc.constantFrom(Number.NaN, Infinity)), (value) => {
        expect(() => metricPoint('BytesTiered', value, {})).toThrow(RangeError);
      }),
    );
  });

  it('refuses dimensions other than the declared ones, and empty values', () => {
    // Casts stand for an emitter that bypassed the types (a per-partition dimension is what the catalogue forbids).
    const loose = metricPoint as (name: MetricName, value: number, dimensions: Record<string, string>) => unknown;
    expect(() => loose('RecordsProduced', 1, {})).toThrow(/exactly \[Topic\]/);
    expect(() => loose('RecordsProduced', 1, { Topic: 'orders', Partition: '3' })).toThrow(/exactly \[Topic\]/);
    expect(() => loose('ProduceLatency', 1, { Topic: 'orders' })).toThrow(/exactly \[\]/);
    expect(() => loose('RecordsProduced', 1, { Topic: '' })).toThrow(/empty/);
  });
});

describe('estimateCustomMetrics', () => {
  it('counts 12 deployment-wide metrics, 2 table ones, 4 per topic, 2 per group and topic, 1 per error code', () => {
    expect(estimateCustomMetrics({ topics: 0, groupTopicPairs: 0, errorCodes: 0 })).toBe(14);
    expect(estimateCustomMetrics({ topics: 10, groupTopicPairs: 20, errorCodes: 5 })).toBe(99);
    expect(99 * CUSTOM_METRIC_USD_PER_MONTH).toBeCloseTo(29.7);
  });

  it('grows linearly in topics, pairs, codes and share groups, never with partitions', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.nat(18), fc.nat(100), (topics, pairs, codes, shareGroups) => {
        expect(estimateCustomMetrics({ topics, groupTopicPairs: pairs, errorCodes: codes, shareGroups })).toBe(
          14 + 4 * topics + 2 * pairs + codes + 3 * shareGroups,
        );
      }),
    );
  });
});
