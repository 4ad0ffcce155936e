/**
 * The shardlog metric catalogue: the one source of truth for every custom metric shardlog publishes, as
 * functions/routes.ts is for routes. The CloudWatch dashboard and alarms (infra/constructs/observability.ts)
 * read their metric names, units and dimensions from here, and the emitting code names them through a
 * `MetricsSink` typed by this catalogue (lib/observability/metrics-sink.ts; in Lambda, Powertools Metrics writes
 * them in Embedded Metric Format: functions/telemetry.ts), so the three cannot drift. This module has no AWS or
 * Powertools import: it is data and types.
 *
 * Namespace and identity. Every metric lives in the CloudWatch namespace {@link METRICS_NAMESPACE} (`shardlog`)
 * and carries, besides the dimensions listed per metric, the dimension {@link SERVICE_DIMENSION} (`service`):
 * Powertools Metrics always adds it, from `POWERTOOLS_SERVICE_NAME`. The CDK app sets that variable to the API
 * stack's name (`Shardlog-Api`, `Shardlog-dev-Api`), so two deployments in one account and region do not mix
 * their numbers, and the dashboard of each reads only its own.
 *
 * Dimensions, chosen for the bill. CloudWatch bills every unique combination of metric name and dimension
 * values as one custom metric: $0.30 a month each (first 10,000; prorated by the hour, so a combination that
 * publishes nothing in an hour costs nothing for that hour, and an idle deployment costs next to nothing).
 * A dimension multiplies the count by the number of values it takes, so:
 * - `Topic` only on throughput (records and bytes produced and fetched): an operator asks "which topic is
 *   busy", and four metrics per topic is the price. Latency, races, retries and empty long polls are per
 *   service: they are about the deployment, and per-topic latency would cost more than it tells.
 * - `ConsumerGroup` + `Topic` only on lag ({@link METRICS.RecordsBehind}, {@link METRICS.OldestUnreadRecordAge}):
 *   "how far behind is group g on topic t" is the question an alarm must answer per group. Two metrics per
 *   (group, subscribed topic) pair.
 * - `ShareGroup` alone on a share group's outcomes (accepted, redelivered, archived): "is group g's handler
 *   failing" is per group whatever topics it reads. Three metrics per share group.
 * - `ErrorCode` on error responses: a closed set (lib/errors.ts `ErrorCode`, 18 codes), and only the codes
 *   that occur cost anything.
 * - `Table` (`log` | `lease`) on DynamoDB throttles: two values.
 * - Never a partition, a member id, a request id or a key: those are unbounded (1,024 partitions per topic,
 *   a member id per consumer start) and would turn a $10 bill into a $1,000 one. Per-partition detail is what
 *   `GET /v1/groups/{group}`, `shardlog top` and the local console show on demand, for free.
 *
 * Lag is emitted where it is cheap to know: a group fetch sees its partitions' end offsets and the member's
 * position (a commit follows the fetch that already emitted it). Each request sees only the partitions of one
 * member, so the emitted value is the LARGEST lag among the partitions it saw, read with the `Maximum`
 * statistic: "the worst partition of group g on topic t". A group whose consumers all stopped fetches nothing:
 * the lag sweep after each scheduled maintenance pass emits it (lib/groups/group-lag.ts). The total over
 * partitions (Kafka tools' sum) is what `shardlog top` and `groups describe` print.
 *
 * {@link estimateCustomMetrics} counts the metrics (and so the bill) for a deployment's shape.
 */
import type { ErrorCode } from '../errors.js';

/** The CloudWatch namespace of every shardlog metric. */
export const METRICS_NAMESPACE = 'shardlog';

/** The dimension Powertools Metrics adds to every metric; its value names the deployment. */
export const SERVICE_DIMENSION = 'service';

/** Where Powertools reads the value of {@link SERVICE_DIMENSION}; the CDK app sets it on every function. */
export const SERVICE_NAME_ENV = 'POWERTOOLS_SERVICE_NAME';

/** CloudWatch's price of one custom metric (one name + dimension values combination) per month, first 10,000. */
export const CUSTOM_METRIC_USD_PER_MONTH = 0.3;

/** Units as Embedded Metric Format and CloudWatch spell them. */
export type MetricUnit = 'Count' | 'Bytes' | 'Milliseconds';

/**
 * The dimensions a shardlog metric may carry besides `service`. A closed union: a partition or member
 * dimension cannot be declared (see the module comment for why).
 */
export type MetricDimension = 'Topic' | 'ConsumerGroup' | 'ShareGroup' | 'ErrorCode' | 'Table';

/** The two DynamoDB tables, as the `Table` dimension names them. */
export type TableRole = 'log' | 'lease';

/** Statistics a dashboard or alarm reads a metric with; the first one listed is its default. */
export type MetricStatistic = 'Sum' | 'Maximum' | 'Average' | 'p50' | 'p99';

/** Which part of shardlog a metric describes (the dashboard groups its widgets by this). */
export type MetricArea = 'produce' | 'fetch' | 'groups' | 'errors' | 'storage' | 'maintenance';

/** One catalogued metric. Its name is its key in {@link METRICS}. */
export interface MetricDefinition {
  readonly area: MetricArea;
  readonly unit: MetricUnit;
  /** Dimensions besides `service`, in the order CloudWatch shows them. */
  readonly dimensions: readonly MetricDimension[];
  /** How to read it: the first is the default statistic of the dashboard and of alarms. */
  readonly statistics: readonly [MetricStatistic, ...MetricStatistic[]];
  /** What one data point means. */
  readonly description: string;
  /** Where it is to be emitted: the code that knows the value cheaply. */
  readonly emittedBy: string;
}

/**
 * Every shardlog metric. Adding one here is the first step of emitting it: the dashboard picks it up by its
 * area, and `EMITTED_METRICS` lists it once the code publishes it.
 */
export const METRICS = {
  // ------------------------------------------------------------------------------------------- produce
  RecordsProduced: {
    area: 'produce',
    unit: 'Count',
    dimensions: ['Topic'],
    statistics: ['Sum'],
    description: 'Records acknowledged by produce requests (an Idempotency-Key replay appends nothing and counts nothing).',
    emittedBy: 'LogService.produce (lib/log/log-service.ts), once per acknowledged request',
  },
  BytesProduced: {
    area: 'produce',
    unit: 'Bytes',
    dimensions: ['Topic'],
    statistics: ['Sum'],
    description: 'Bytes of the acknowledged records: keys, values, header names and values, as stored (lib/observability/metrics-sink.ts `recordBytes`, the same measure as BytesFetched).',
    emittedBy: 'LogService.produce (lib/log/log-service.ts), once per acknowledged request',
  },
  ProduceLatency: {
    area: 'produce',
    unit: 'Milliseconds',
    dimensions: [],
    statistics: ['p99', 'p50'],
    description: "Time from a validated produce request to its acknowledgement, inside the function (no Lambda init, no API Gateway).",
    emittedBy: 'the produce route (functions/produce.ts, through functions/http/route-metrics.ts `timed`), every validated request, answered or failed',
  },
  AppendRacesLost: {
    area: 'produce',
    unit: 'Count',
    dimensions: [],
    statistics: ['Sum'],
    description: 'Conditional appends that lost to a concurrent producer on the same partition (a return value, not an error).',
    emittedBy: 'AppendRaces.backOff (lib/log/append-races.ts), per lost race',
  },
  AppendRetries: {
    area: 'produce',
    unit: 'Count',
    dimensions: [],
    statistics: ['Sum'],
    description: 'Appends tried again after a lost race (lib/log/append-retry.ts decided to retry within its time budget).',
    emittedBy: 'AppendRaces.backOff (lib/log/append-races.ts), per retry decided',
  },
  // --------------------------------------------------------------------------------------------- fetch
  RecordsFetched: {
    area: 'fetch',
    unit: 'Count',
    dimensions: ['Topic'],
    statistics: ['Sum'],
    description: 'Records returned by plain fetches and group fetches.',
    emittedBy: 'fetch handler (functions/fetch.ts) and the group fetch route (functions/groups.ts), per response',
  },
  BytesFetched: {
    area: 'fetch',
    unit: 'Bytes',
    dimensions: ['Topic'],
    statistics: ['Sum'],
    description: 'Bytes of the records returned by plain and group fetches: keys, values, header names and values, as stored (what the response encoding adds is left out).',
    emittedBy: 'fetch handler (functions/fetch.ts) and the group fetch route (functions/groups.ts), per response',
  },
  FetchLatency: {
    area: 'fetch',
    unit: 'Milliseconds',
    dimensions: [],
    statistics: ['p99', 'p50'],
    description:
      'Time to answer a plain or group fetch that did not wait (records were there, or waitMs was 0): time spent in a long poll is the caller\'s choice, so it is left out.',
    emittedBy: 'fetch handler (functions/fetch.ts) and the group fetch route (functions/groups.ts)',
  },
  EmptyLongPolls: {
    area: 'fetch',
    unit: 'Count',
    dimensions: [],
    statistics: ['Sum'],
    description: 'Fetches with waitMs > 0 that returned no record when the wait ran out (idle consumers; each is a billed request).',
    emittedBy: 'fetch handler and group fetch route (functions/http/route-metrics.ts `recordFetch`), told by lib that the read long-polled (`onWait`)',
  },
  // -------------------------------------------------------------------------------------------- groups
  CommitLatency: {
    area: 'groups',
    unit: 'Milliseconds',
    dimensions: [],
    statistics: ['p99', 'p50'],
    description: 'Time to answer a group commit, inside the function.',
    emittedBy: 'the group commit route (functions/groups.ts)',
  },
  RecordsBehind: {
    area: 'groups',
    unit: 'Count',
    dimensions: ['ConsumerGroup', 'Topic'],
    statistics: ['Maximum'],
    description:
      "Consumer lag in records: endOffset minus the group's position, the largest over the partitions one group fetch (or the sweep) saw (read with Maximum: the group's worst partition on the topic).",
    emittedBy: 'group fetch (lib/groups/group-fetch.ts), which already sees endOffset and the position; and the lag sweep after each scheduled maintenance pass (lib/groups/group-lag.ts), for groups behind whose consumers stopped',
  },
  OldestUnreadRecordAge: {
    area: 'groups',
    unit: 'Milliseconds',
    dimensions: ['ConsumerGroup', 'Topic'],
    statistics: ['Maximum'],
    description:
      "Age of the oldest record the group has not read yet (now minus the timestamp of the first record a group fetch returned; 0 when caught up): Kinesis' IteratorAgeMilliseconds. Record timestamps may be set by producers, so a producer with a wrong clock skews it.",
    emittedBy: 'group fetch (lib/groups/group-fetch.ts), per (group, topic) read; the lag sweep (lib/groups/group-lag.ts) for groups behind',
  },
  ShareRecordsAccepted: {
    area: 'groups',
    unit: 'Count',
    dimensions: ['ShareGroup'],
    statistics: ['Sum'],
    description: "Records a share group's members accepted: done, never delivered again.",
    emittedBy: 'share acks (lib/share-groups/share-acks.ts), per ack call that applied accepts',
  },
  ShareRecordsRedelivered: {
    area: 'groups',
    unit: 'Count',
    dimensions: ['ShareGroup'],
    statistics: ['Sum'],
    description:
      'Records a share fetch handed out again (delivery 2 and later): a handler released them or did not answer within its lock. A steady rate means handlers fail.',
    emittedBy: 'share fetch (lib/share-groups/share-fetch.ts), per fetch that acquired such records',
  },
  ShareRecordsArchived: {
    area: 'groups',
    unit: 'Count',
    dimensions: ['ShareGroup'],
    statistics: ['Sum'],
    description:
      "Records a share group archived: rejected, or their last delivery (maxDeliveries) ended without an accept; copied to the group's dead-letter topic when it has one.",
    emittedBy: 'the one write of a share-partition step (lib/share-groups/share-partitions.ts `writeStep`), by the archived count it added, once written',
  },
  // -------------------------------------------------------------------------------------------- errors
  ErrorResponses: {
    area: 'errors',
    unit: 'Count',
    dimensions: ['ErrorCode'],
    statistics: ['Sum'],
    description: 'Responses with an error body, by its code (docs/api.md): 4xx the callers caused, 5xx shardlog did.',
    emittedBy: 'the shared handler wrapper (functions/http/handler.ts), where the error table maps errors',
  },
  // ------------------------------------------------------------------------------------------- storage
  DynamoDbThrottles: {
    area: 'storage',
    unit: 'Count',
    dimensions: ['Table'],
    statistics: ['Sum'],
    description:
      "DynamoDB requests refused for throughput after the SDK's own retries, as the storage boundary translates them (the table's own ThrottledRequests counts every attempt).",
    emittedBy: 'the storage boundary (lib/storage/aws-errors.ts `onThrottled`, mapped to the table role in lib/shardlog.ts), per translated throttling error',
  },
  // --------------------------------------------------------------------------------------- maintenance
  BytesTiered: {
    area: 'maintenance',
    unit: 'Bytes',
    dimensions: [],
    statistics: ['Sum'],
    description: 'Bytes of hot batches moved into S3 segments.',
    emittedBy: 'MaintenanceService.runOnce (lib/maintenance/maintenance-service.ts), per pass that tiered',
  },
  SegmentsWritten: {
    area: 'maintenance',
    unit: 'Count',
    dimensions: [],
    statistics: ['Sum'],
    description: 'S3 segments written and indexed.',
    emittedBy: 'MaintenanceService.runOnce (lib/maintenance/maintenance-service.ts), per pass that tiered',
  },
  RecordsExpired: {
    area: 'maintenance',
    unit: 'Count',
    dimensions: [],
    statistics: ['Sum'],
    description: 'Records removed by retention (hot and cold).',
    emittedBy: 'MaintenanceService.runOnce (lib/maintenance/maintenance-service.ts), per pass that expired',
  },
  MaintenancePassDuration: {
    area: 'maintenance',
    unit: 'Milliseconds',
    dimensions: [],
    statistics: ['Maximum', 'Average'],
    description: 'Wall time of one maintenance pass (the schedule runs one a minute; a pass over ~60 s overlaps the next).',
    emittedBy: 'MaintenanceService.runOnce (lib/maintenance/maintenance-service.ts), every pass, scheduled or requested',
  },
  MaintenanceFailures: {
    area: 'maintenance',
    unit: 'Count',
    dimensions: [],
    statistics: ['Sum'],
    description: 'Maintenance passes that ended in an error (the next pass redoes the work).',
    emittedBy: 'MaintenanceService.runOnce (lib/maintenance/maintenance-service.ts), per pass that threw',
  },
  OldestUntieredBatchAge: {
    area: 'maintenance',
    unit: 'Milliseconds',
    dimensions: [],
    statistics: ['Maximum'],
    description:
      'Age of the oldest hot batch that is due for tiering and still in DynamoDB: healthy is about tierAfterMs plus a pass interval; growing means maintenance falls behind.',
    emittedBy: 'MaintenanceService.runOnce (lib/maintenance/maintenance-service.ts), per pass that found a batch due (found by the read tiering makes anyway)',
  },
} as const satisfies Record<string, MetricDefinition>;

/** The name of a catalogued metric. */
export type MetricName = keyof typeof METRICS;

/** Every metric name, in catalogue order. */
export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/** The dimensions (besides `service`) of metric `N`. */
export type DimensionsOf<N extends MetricName> = (typeof METRICS)[N]['dimensions'][number];

/** The value type of each dimension: codes and tables are closed sets. */
export type DimensionValue<D extends MetricDimension> = D extends 'ErrorCode' ? ErrorCode : D extends 'Table' ? TableRole : string;

/** The dimension values one data point of metric `N` carries: exactly its declared dimensions. */
export type DimensionValues<N extends MetricName> = { readonly [D in DimensionsOf<N>]: DimensionValue<D> };

/** One data point, typed by its metric: the shape the emitting code hands to Powertools. */
export interface MetricPoint<N extends MetricName = MetricName> {
  readonly name: N;
  readonly unit: (typeof METRICS)[N]['unit'];
  readonly value: number;
  readonly dimensions: DimensionValues<N>;
}

/**
 * A data point of metric `name`, its unit from the catalogue.
 * @throws RangeError when `value` is negative or not finite (CloudWatch rejects NaN and Infinity; no shardlog
 *   metric is negative), or a dimension value is empty.
 * @example metricPoint('RecordsBehind', 42, { ConsumerGroup: 'billing', Topic: 'orders' })
 */
export function metricPoint<N extends MetricName>(name: N, value: number, dimensions: DimensionValues<N>): MetricPoint<N> {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`metric ${name}: value must be a finite number ≥ 0, got ${value}`);
  const declared: readonly string[] = METRICS[name].dimensions;
  const given = Object.keys(dimensions);
  if (given.length !== declared.length || !declared.every((d) => given.includes(d))) {
    throw new RangeError(`metric ${name}: dimensions must be exactly [${declared.join(', ')}], got [${given.join(', ')}]`);
  }
  for (const [dimension, dimensionValue] of Object.entries(dimensions) as Array<[string, string]>) {
    if (dimensionValue === '') throw new RangeError(`metric ${name}: dimension ${dimension} is empty`);
  }
  return { name, unit: METRICS[name].unit, value, dimensions };
}

/** The metrics of one area, in catalogue order. */
export function metricsOfArea(area: MetricArea): MetricName[] {
  return METRIC_NAMES.filter((name) => METRICS[name].area === area);
}

/**
 * The metrics the code publishes today: every one of the catalogue. test/unit/observability/metrics.test.ts holds
 * this list equal to the names the code of lib/ and functions/ passes to a `MetricsSink`, README "Operating
 * shardlog" lists it, and test/infra/observability.test.ts holds the dashboard and alarms to these names with
 * their catalogued dimensions.
 */
export const EMITTED_METRICS: readonly MetricName[] = [
  'RecordsProduced', 'BytesProduced', 'ProduceLatency', 'AppendRacesLost', 'AppendRetries', 'RecordsFetched',
  'BytesFetched', 'FetchLatency', 'EmptyLongPolls', 'CommitLatency', 'RecordsBehind', 'OldestUnreadRecordAge',
  'ShareRecordsAccepted', 'ShareRecordsRedelivered', 'ShareRecordsArchived', 'ErrorResponses', 'DynamoDbThrottles',
  'BytesTiered', 'SegmentsWritten', 'RecordsExpired', 'MaintenancePassDuration', 'MaintenanceFailures',
  'OldestUntieredBatchAge',
];

/** The shape of a deployment, for {@link estimateCustomMetrics}. */
export interface DeploymentShape {
  /** Topics that see traffic in a month. */
  readonly topics: number;
  /** (group, topic) subscriptions with a consumer running. */
  readonly groupTopicPairs: number;
  /** Distinct error codes answered in a month (at most the 18 of `ErrorCode`). */
  readonly errorCodes: number;
  /** Share groups with members running (default 0). */
  readonly shareGroups?: number;
}

/**
 * How many custom metrics (unique name + dimension values) the catalogue produces for a deployment's shape,
 * when every one of them publishes in every hour. The bill is this times {@link CUSTOM_METRIC_USD_PER_MONTH}.
 * @example estimateCustomMetrics({ topics: 10, groupTopicPairs: 20, errorCodes: 5 }) // 99 → ~$29.70 a month
 */
export function estimateCustomMetrics(shape: DeploymentShape): number {
  return METRIC_NAMES.reduce((count, name) => count + combinations(METRICS[name].dimensions, shape), 0);
}

/** The number of value combinations a dimension set takes: (ConsumerGroup, Topic) counts subscribed pairs. */
function combinations(dimensions: readonly MetricDimension[], shape: DeploymentShape): number {
  if (dimensions.includes('ConsumerGroup')) return shape.groupTopicPairs;
  if (dimensions.includes('ShareGroup')) return shape.shareGroups ?? 0;
  let count = 1;
  for (const dimension of dimensions) {
    count *= dimension === 'Topic' ? shape.topics : dimension === 'ErrorCode' ? shape.errorCodes : 2; // Table: log, lease
  }
  return count;
}
