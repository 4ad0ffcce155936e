import { Aws, CfnOutput, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DEFAULT_TIER_AFTER_MS } from '../../lib/config.js';
import { isValidName } from '../../lib/names.js';
import {
  METRIC_NAMES,
  METRICS,
  METRICS_NAMESPACE,
  SERVICE_DIMENSION,
  SERVICE_NAME_ENV,
  type MetricArea,
  type MetricName,
  type MetricStatistic,
} from '../../lib/observability/metrics.js';

/*
 * The CloudWatch side of "Operating shardlog" (README): one dashboard and the alarms, built from the metric
 * catalogue (lib/observability/metrics.ts) and the AWS metrics of the stack's own resources.
 *
 * What CloudWatch allows, and so how the group alarms are built:
 * - A dashboard graph may use SEARCH(): the lag graphs search the `shardlog` namespace, so a new consumer group
 *   appears on the dashboard the minute it emits, without a redeploy.
 * - An alarm may NOT use SEARCH() (CDK refuses it: "Search expressions are not supported in CloudWatch
 *   Alarms"), and a metric-math alarm names at most 10 metrics. So an alarm for one group either names the
 *   group's (group, topic) metrics one by one, or uses a Metrics Insights query (SQL over a schema), which an
 *   alarm may use. We use queries: `groups` (props) gives per-group thresholds, each group gets its own two
 *   alarms whatever topics it reads (`WHERE ConsumerGroup = 'g'`), and one default pair covers every group NOT
 *   listed (`WHERE ConsumerGroup != 'a' AND …`) with `defaultGroupLag`'s thresholds. The default alarm says
 *   "some group is behind", not which one: the dashboard's lag graphs say which. List a group to have its name
 *   in the alarm. A Metrics Insights alarm is billed per metric the query analyzes (CloudWatch pricing,
 *   "Alarms"), and queries at most the last 3 hours of data (plenty for 5-minute periods).
 *
 * Every alarm gets a name starting with the stack's name (`Shardlog-Api-api-5xx-rate`): it is what an operator
 * reads in a notification, and the stack name keeps two deployments in one account apart.
 */

/** Thresholds of the alarms; every one has a documented default ({@link DEFAULT_ALARM_THRESHOLDS}). */
export interface AlarmThresholds {
  /** API Gateway 5xx responses, percent of requests, over two consecutive 5-minute periods. */
  readonly api5xxPercent: number;
  /** The 5xx-rate alarm ignores a 5-minute period with fewer requests than this (one 5xx in 3 requests is noise). */
  readonly api5xxMinRequests: number;
  /** Lambda `Errors` (crashes and timeouts: handled errors are responses) of one HTTP function in 5 minutes. */
  readonly functionErrors: number;
  /** Lambda `Throttles` of one function in 5 minutes (concurrency limit reached: callers get 429/503). */
  readonly functionThrottles: number;
  /** DynamoDB read + write throttle events of one table in 5 minutes (requests the SDK had to retry). */
  readonly dynamoDbThrottleEvents: number;
  /**
   * Oldest hot batch still waiting to be tiered, in milliseconds (`OldestUntieredBatchAge`).
   * Default: the stack's tier-after delay plus 30 minutes.
   */
  readonly maxUntieredBatchAgeMs: number;
  /** Consecutive 5-minute periods in which the maintenance pass failed before the alarm fires. */
  readonly maintenanceFailedPeriods: number;
}

/** Defaults of {@link AlarmThresholds} (but `maxUntieredBatchAgeMs`, which depends on the stack's tier delay). */
export const DEFAULT_ALARM_THRESHOLDS: Omit<AlarmThresholds, 'maxUntieredBatchAgeMs'> = {
  api5xxPercent: 1,
  api5xxMinRequests: 20,
  functionErrors: 5,
  functionThrottles: 1,
  dynamoDbThrottleEvents: 10,
  maintenanceFailedPeriods: 3,
};

/** How far a consumer group may fall behind before its alarms fire. */
export interface GroupLagThresholds {
  /** `RecordsBehind` (the worst partition of a topic) above this for 15 minutes (three 5-minute periods). */
  readonly maxRecordsBehind?: number;
  /** `OldestUnreadRecordAge` above this many milliseconds in a 5-minute period. */
  readonly maxOldestUnreadAgeMs?: number;
}

/** Defaults for a group's lag thresholds: 10,000 records, 15 minutes. */
export const DEFAULT_GROUP_LAG: Required<GroupLagThresholds> = {
  maxRecordsBehind: 10_000,
  maxOldestUnreadAgeMs: 15 * 60 * 1000,
};

/** What the API stack passes through from its own props (`ApiStackProps.observability`). */
export interface ObservabilityOptions {
  /** Alarm thresholds; each one left out takes its default. */
  readonly thresholds?: Partial<AlarmThresholds>;
  /**
   * Consumer groups with alarms of their own, and their thresholds (a missing one takes `defaultGroupLag`'s):
   * `{ billing: { maxOldestUnreadAgeMs: 60_000 } }`. Names follow the contract's name rules.
   * @default none: only the default alarms over every group
   */
  readonly groups?: Readonly<Record<string, GroupLagThresholds>>;
  /**
   * Thresholds of the default lag alarms, over every group not listed in `groups`; `false`: no default alarms.
   * @default DEFAULT_GROUP_LAG
   */
  readonly defaultGroupLag?: GroupLagThresholds | false;
  /** An existing SNS topic for alarm and OK notifications (e.g. one your on-call tool subscribes to). */
  readonly alarmTopic?: sns.ITopic;
  /**
   * An email address: creates a topic that mails it (the address must confirm the subscription). Ignored when
   * `alarmTopic` is given. @default no notifications: alarms show on the dashboard and in the console only
   */
  readonly alarmEmail?: string;
}

export interface ObservabilityProps extends ObservabilityOptions {
  readonly httpApi: apigwv2.IHttpApi;
  /** Every function of the stack, by the name the alarms and the dashboard use (`produce`, `maintenanceSchedule`…). */
  readonly functions: Readonly<Record<string, lambda.Function>>;
  /** The scheduled maintenance function: "maintenance failing" and "maintenance stalled" watch it. */
  readonly maintenanceSchedule: lambda.Function;
  readonly logTable: dynamodb.ITable;
  readonly leaseTable: dynamodb.ITable;
  readonly segmentBucket: s3.IBucket;
  /** The tier-after delay the functions run with, for the default of `maxUntieredBatchAgeMs`. */
  readonly tierAfterMs?: number;
}

const FIVE_MINUTES = Duration.minutes(5);
/** CloudWatch's limit on an alarm name. */
const MAX_ALARM_NAME_LENGTH = 255;
const ONE_MINUTE = Duration.minutes(1);
/** Headroom over the tier delay before "maintenance behind" fires: several missed one-minute passes. */
const UNTIERED_AGE_HEADROOM_MS = 30 * 60 * 1000;

/**
 * A CloudWatch dashboard and alarms for one shardlog API stack, and the binding of its functions to the metric
 * catalogue: every function gets `POWERTOOLS_SERVICE_NAME` (the `service` dimension) set to the stack name, so the
 * metrics of this deployment are the ones its dashboard and alarms read.
 */
export class Observability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, by its name without the stack prefix (`api-5xx-rate`, `function-produce-errors`, `group-billing-records-behind`…). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Where alarms notify, when anywhere. */
  public readonly alarmTopic: sns.ITopic | undefined;
  /** The value of the `service` dimension of this deployment's metrics. */
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.serviceName = stack.stackName;
    const thresholds = resolveThresholds(props);
    const groups = resolveGroups(props.groups ?? {});
    const defaultGroupLag = props.defaultGroupLag === false ? undefined : { ...DEFAULT_GROUP_LAG, ...props.defaultGroupLag };
    if (defaultGroupLag) checkLag(defaultGroupLag, 'defaultGroupLag');

    for (const fn of Object.values(props.functions)) fn.addEnvironment(SERVICE_NAME_ENV, this.serviceName);

    this.alarmTopic = props.alarmTopic ?? (props.alarmEmail !== undefined ? this.emailTopic(props.alarmEmail) : undefined);

    const catalogue = new CatalogueMetrics(this.serviceName);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const alarm = (name: string, alarmProps: Omit<cloudwatch.AlarmProps, 'alarmName'>): cloudwatch.Alarm => {
      const alarmName = `${stack.stackName}-${name}`;
      if (alarmName.length > MAX_ALARM_NAME_LENGTH) throw new Error(`alarm name '${alarmName}' is longer than CloudWatch's ${MAX_ALARM_NAME_LENGTH} characters`);
      const created = new cloudwatch.Alarm(this, `Alarm-${name}`, { ...alarmProps, alarmName });
      if (this.alarmTopic) {
        created.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
        created.addOkAction(new cwActions.SnsAction(this.alarmTopic));
      }
      alarms[name] = created;
      return created;
    };

    // ------------------------------------------------------------------------------------------ API Gateway
    const api = props.httpApi;
    const requests = api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum', label: 'requests' });
    const errors5xx = api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum', label: '5xx' });
    const errors4xx = api.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum', label: '4xx' });
    const rate5xx = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${thresholds.api5xxMinRequests}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: { requests, errors: errors5xx },
      period: FIVE_MINUTES,
      label: '5xx % of requests',
    });
    alarm('api-5xx-rate', {
      alarmDescription:
        `More than ${thresholds.api5xxPercent}% of API requests answered 5xx for 10 minutes (periods with at least ` +
        `${thresholds.api5xxMinRequests} requests). README "Operating shardlog": api-5xx-rate.`,
      metric: rate5xx,
      threshold: thresholds.api5xxPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // -------------------------------------------------------------------------------------------- functions
    const functionNames = Object.keys(props.functions);
    for (const name of functionNames) {
      const fn = props.functions[name] as lambda.Function;
      const slug = kebab(name);
      if (fn !== props.maintenanceSchedule) {
        alarm(`function-${slug}-errors`, {
          alarmDescription:
            `Function ${name}: ${thresholds.functionErrors} or more crashes or timeouts in 5 minutes (handled errors are ` +
            `HTTP answers and do not count). README "Operating shardlog": function errors.`,
          metric: fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
          threshold: thresholds.functionErrors,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      }
      alarm(`function-${slug}-throttles`, {
        alarmDescription:
          `Function ${name}: ${thresholds.functionThrottles} or more invocations throttled in 5 minutes (concurrency ` +
          `limit reached). README "Operating shardlog": function throttles.`,
        metric: fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }),
        threshold: thresholds.functionThrottles,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // ------------------------------------------------------------------------------------------- DynamoDB
    const tables = { log: props.logTable, lease: props.leaseTable } as const;
    for (const [role, table] of Object.entries(tables)) {
      alarm(`dynamodb-${role}-throttles`, {
        alarmDescription:
          `The ${role} table: ${thresholds.dynamoDbThrottleEvents} or more read/write throttle events in 5 minutes. ` +
          'README "Operating shardlog": DynamoDB throttling.',
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(reads, 0) + FILL(writes, 0)',
          usingMetrics: {
            reads: dynamoMetric(table, 'ReadThrottleEvents', 'Sum'),
            writes: dynamoMetric(table, 'WriteThrottleEvents', 'Sum'),
          },
          period: FIVE_MINUTES,
          label: `${role} table throttle events`,
        }),
        threshold: thresholds.dynamoDbThrottleEvents,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    // ---------------------------------------------------------------------------------------- group lag
    const lagQuery = (metric: 'RecordsBehind' | 'OldestUnreadRecordAge', where: string) =>
      new cloudwatch.MathExpression({
        expression:
          `SELECT MAX("${metric}") FROM SCHEMA("${METRICS_NAMESPACE}", ${schemaDimensions(metric)}) ` +
          `WHERE "${SERVICE_DIMENSION}" = '${this.serviceName}'${where}`,
        period: FIVE_MINUTES,
        label: `${metric} (worst)`,
      });
    const lagAlarms = (prefix: string, who: string, lag: Required<GroupLagThresholds>, where: string) => {
      alarm(`${prefix}-records-behind`, {
        alarmDescription:
          `${who} more than ${lag.maxRecordsBehind} records behind on a partition for 15 minutes. ` +
          'README "Operating shardlog": group lag.',
        metric: lagQuery('RecordsBehind', where),
        threshold: lag.maxRecordsBehind,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm(`${prefix}-oldest-unread-age`, {
        alarmDescription:
          `${who} has not read a record older than ${formatMs(lag.maxOldestUnreadAgeMs)}. ` +
          'README "Operating shardlog": group lag.',
        metric: lagQuery('OldestUnreadRecordAge', where),
        threshold: lag.maxOldestUnreadAgeMs,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    };
    for (const [group, own] of Object.entries(groups)) {
      const lag = { ...(defaultGroupLag ?? DEFAULT_GROUP_LAG), ...own };
      checkLag(lag, `groups.${group}`);
      lagAlarms(`group-${group}`, `Consumer group ${group} is`, lag, ` AND "ConsumerGroup" = '${group}'`);
    }
    if (defaultGroupLag) {
      const others = Object.keys(groups).map((group) => ` AND "ConsumerGroup" != '${group}'`).join('');
      lagAlarms('any-group', Object.keys(groups).length > 0 ? 'A consumer group not listed in `groups` is' : 'A consumer group is', defaultGroupLag, others);
    }

    // ------------------------------------------------------------------------------------------ maintenance
    const schedule = props.maintenanceSchedule;
    alarm('maintenance-failing', {
      alarmDescription:
        `The scheduled maintenance pass failed in each of ${thresholds.maintenanceFailedPeriods} consecutive 5-minute ` +
        'periods (Lambda errors or shardlog MaintenanceFailures). README "Operating shardlog": maintenance.',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(errors, 0) + FILL(failures, 0)',
        usingMetrics: {
          errors: schedule.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }),
          failures: catalogue.metric('MaintenanceFailures', 'Sum', FIVE_MINUTES),
        },
        period: FIVE_MINUTES,
        label: 'failed passes',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: thresholds.maintenanceFailedPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('maintenance-stalled', {
      alarmDescription:
        'The maintenance schedule invoked no pass for 10 minutes (rule disabled, function deleted, or account ' +
        'concurrency exhausted). README "Operating shardlog": maintenance.',
      metric: schedule.metricInvocations({ period: FIVE_MINUTES, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      // No data at all is exactly the failure: a function that is never invoked publishes nothing.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm('maintenance-behind', {
      alarmDescription:
        `The oldest hot batch due for tiering has waited more than ${formatMs(thresholds.maxUntieredBatchAgeMs)}: ` +
        'maintenance falls behind. README "Operating shardlog": maintenance.',
      metric: catalogue.metric('OldestUntieredBatchAge', 'Maximum', FIVE_MINUTES),
      threshold: thresholds.maxUntieredBatchAgeMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.alarms = alarms;
    this.dashboard = this.buildDashboard(props, catalogue, { requests, errors4xx, errors5xx, rate5xx }, Object.values(alarms));
    new CfnOutput(this, 'DashboardUrl', {
      description: 'CloudWatch dashboard of this shardlog deployment',
      value: Fn.join('', [
        'https://console.aws.amazon.com/cloudwatch/home?region=',
        Aws.REGION,
        '#dashboards:name=',
        this.dashboard.dashboardName,
      ]),
    });
  }

  private emailTopic(email: string): sns.Topic {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new Error(`alarmEmail must be an email address, got '${email}'`);
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${Stack.of(this).stackName} alarms`,
      enforceSSL: true,
    });
    const subscription = topic.addSubscription(new subscriptions.EmailSubscription(email));
    Validations.of(subscription).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'An alarm mail that cannot be delivered is not worth replaying later: the alarm state stays on the dashboard and ' +
        'in the CloudWatch console, and the OK or next ALARM notification follows. A dead-letter queue would add an SQS ' +
        'queue of stale notifications that nobody reads.',
    });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names, thresholds and metric values, never records. CloudWatch cannot publish ' +
        'to a topic encrypted with the AWS-managed key (aws/sns), so encryption would need a customer-managed KMS key ' +
        '($1 a month and a key policy for cloudwatch.amazonaws.com) to protect nothing secret; pass alarmTopic to bring ' +
        'an encrypted topic where a policy requires one.',
    });
    return topic;
  }

  private buildDashboard(
    props: ObservabilityProps,
    catalogue: CatalogueMetrics,
    api: { requests: cloudwatch.IMetric; errors4xx: cloudwatch.IMetric; errors5xx: cloudwatch.IMetric; rate5xx: cloudwatch.IMetric },
    alarms: cloudwatch.IAlarm[],
  ): cloudwatch.Dashboard {
    const stackName = Stack.of(this).stackName;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: stackName,
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8, extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6, ...extra });
    const fns = Object.entries(props.functions);

    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# shardlog: ${stackName}\n` +
          'Consumer lag first, then the API, throughput, the functions, the tables, the bucket and maintenance. ' +
          'Lag and per-topic graphs search the `shardlog` namespace, so new groups and topics appear without a redeploy. ' +
          'What each alarm means and what to do: README, "Operating shardlog".',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 6 }));

    // Lag per group first: the question operators ask most.
    dashboard.addWidgets(
      graph('Consumer lag: records behind (worst partition), per group and topic', [catalogue.search('RecordsBehind')], 12),
      graph('Consumer lag: age of the oldest unread record, per group and topic', [catalogue.search('OldestUnreadRecordAge')], 12),
    );

    dashboard.addWidgets(
      graph('API requests', [api.requests], 6),
      graph('API 4xx and 5xx', [api.errors4xx, api.errors5xx], 6, { right: [api.rate5xx] }),
      graph(
        'API latency (p50, p99)',
        [
          props.httpApi.metricLatency({ statistic: 'p50', label: 'latency p50' }),
          props.httpApi.metricLatency({ statistic: 'p99', label: 'latency p99' }),
          props.httpApi.metricIntegrationLatency({ statistic: 'p99', label: 'integration p99' }),
        ],
        12,
      ),
    );

    // The rest of the catalogue, by area, three graphs a row: every catalogued metric is on the dashboard.
    const rest = (['produce', 'fetch', 'groups', 'errors', 'storage'] as const satisfies readonly MetricArea[]).flatMap((area) =>
      METRIC_NAMES.filter((name) => METRICS[name].area === area && !isLag(name)),
    );
    for (let i = 0; i < rest.length; i += 3) {
      dashboard.addWidgets(...rest.slice(i, i + 3).map((name) => graph(title(name), catalogue.graphMetrics(name))));
    }

    const perFunction = (label: string, metric: (fn: lambda.Function, name: string) => cloudwatch.IMetric) =>
      graph(label, fns.map(([name, fn]) => metric(fn, name)));
    dashboard.addWidgets(
      perFunction('Lambda invocations', (fn, name) => fn.metricInvocations({ statistic: 'Sum', label: name })),
      perFunction('Lambda errors', (fn, name) => fn.metricErrors({ statistic: 'Sum', label: name })),
      perFunction('Lambda throttles', (fn, name) => fn.metricThrottles({ statistic: 'Sum', label: name })),
    );
    dashboard.addWidgets(
      perFunction('Lambda duration p50', (fn, name) => fn.metricDuration({ statistic: 'p50', label: name })),
      perFunction('Lambda duration p99', (fn, name) => fn.metricDuration({ statistic: 'p99', label: name })),
      perFunction('Lambda concurrent executions (max)', (fn, name) =>
        fn.metric('ConcurrentExecutions', { statistic: 'Maximum', label: name }),
      ),
    );

    const tables = { log: props.logTable, lease: props.leaseTable };
    dashboard.addWidgets(
      graph(
        'DynamoDB consumed read units',
        Object.entries(tables).map(([role, table]) => dynamoMetric(table, 'ConsumedReadCapacityUnits', 'Sum', `${role} table`)),
      ),
      graph(
        'DynamoDB consumed write units',
        Object.entries(tables).map(([role, table]) => dynamoMetric(table, 'ConsumedWriteCapacityUnits', 'Sum', `${role} table`)),
      ),
      graph(
        'DynamoDB throttle events',
        Object.entries(tables).flatMap(([role, table]) => [
          dynamoMetric(table, 'ReadThrottleEvents', 'Sum', `${role} reads`),
          dynamoMetric(table, 'WriteThrottleEvents', 'Sum', `${role} writes`),
        ]),
      ),
    );

    // S3 storage metrics are free and daily; request metrics would need a paid metrics configuration on the bucket.
    const bucketMetric = (metricName: string, storageType: string, label: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/S3',
        metricName,
        dimensionsMap: { BucketName: props.segmentBucket.bucketName, StorageType: storageType },
        statistic: 'Average',
        period: Duration.days(1),
        label,
      });
    dashboard.addWidgets(
      graph('Segment bucket size (daily)', [bucketMetric('BucketSizeBytes', 'StandardStorage', 'bytes')], 12),
      graph('Segment bucket objects (daily)', [bucketMetric('NumberOfObjects', 'AllStorageTypes', 'objects')], 12),
    );

    const maintenance = METRIC_NAMES.filter((name) => METRICS[name].area === 'maintenance');
    dashboard.addWidgets(...maintenance.slice(0, 3).map((name) => graph(title(name), catalogue.graphMetrics(name))));
    dashboard.addWidgets(...maintenance.slice(3).map((name) => graph(title(name), catalogue.graphMetrics(name))));
    return dashboard;
  }
}

/**
 * Metrics of the catalogue for this deployment: a plain metric when the only dimension is `service`, else a
 * SEARCH over the namespace (per topic, per group and topic, per error code, per table), which a dashboard may use.
 */
class CatalogueMetrics {
  constructor(private readonly serviceName: string) {}

  /** A metric with only the `service` dimension, read with `statistic`. */
  metric(name: MetricName, statistic: MetricStatistic, period: Duration = ONE_MINUTE): cloudwatch.Metric {
    if (METRICS[name].dimensions.length > 0) throw new Error(`${name} has dimensions ${METRICS[name].dimensions.join(', ')}: search it`);
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { [SERVICE_DIMENSION]: this.serviceName },
      statistic,
      period,
      label: `${name} ${statistic}`,
    });
  }

  /** Every time series of `name` in this deployment, one per value of its dimensions. */
  search(name: MetricName, statistic: MetricStatistic = METRICS[name].statistics[0]): cloudwatch.SearchExpression {
    const schema = [METRICS_NAMESPACE, ...METRICS[name].dimensions, SERVICE_DIMENSION].join(',');
    return new cloudwatch.SearchExpression({
      expression: `SEARCH('{${schema}} MetricName="${name}" ${SERVICE_DIMENSION}="${this.serviceName}"', '${statistic}', 60)`,
      // A dynamic label: each line is named by its dimension values (`billing · orders`, `FENCED`).
      label: METRICS[name].dimensions.map((d) => `\${PROP('Dim.${d}')}`).join(' · '),
      period: ONE_MINUTE,
    });
  }

  /** What the dashboard graphs for `name`: each listed statistic of a plain metric, or a search. */
  graphMetrics(name: MetricName): cloudwatch.IMetric[] {
    const spec = METRICS[name];
    if (spec.dimensions.length > 0) return [this.search(name)];
    return spec.statistics.map((statistic) => this.metric(name, statistic));
  }
}

function dynamoMetric(table: dynamodb.ITable, metricName: string, statistic: string, label?: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/DynamoDB',
    metricName,
    dimensionsMap: { TableName: table.tableName },
    statistic,
    period: FIVE_MINUTES,
    ...(label !== undefined ? { label } : {}),
  });
}

/** `SCHEMA(...)` dimension list of a Metrics Insights query: the metric's dimensions and `service`, quoted. */
function schemaDimensions(name: MetricName): string {
  return [...METRICS[name].dimensions, SERVICE_DIMENSION].map((d) => `"${d}"`).join(', ');
}

function isLag(name: MetricName): boolean {
  return name === 'RecordsBehind' || name === 'OldestUnreadRecordAge';
}

function title(name: MetricName): string {
  const spec = METRICS[name];
  const by = spec.dimensions.length > 0 ? ` by ${spec.dimensions.join(' and ')}` : '';
  return `${name} (${spec.unit}${by})`;
}

function resolveThresholds(props: ObservabilityProps): AlarmThresholds {
  const tierAfterMs = props.tierAfterMs ?? DEFAULT_TIER_AFTER_MS;
  const thresholds: AlarmThresholds = {
    ...DEFAULT_ALARM_THRESHOLDS,
    maxUntieredBatchAgeMs: tierAfterMs + UNTIERED_AGE_HEADROOM_MS,
    ...props.thresholds,
  };
  for (const [name, value] of Object.entries(thresholds)) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`thresholds.${name} must be a positive number, got ${value}`);
  }
  if (!Number.isInteger(thresholds.maintenanceFailedPeriods)) {
    throw new Error(`thresholds.maintenanceFailedPeriods must be a whole number, got ${thresholds.maintenanceFailedPeriods}`);
  }
  return thresholds;
}

function resolveGroups(groups: Readonly<Record<string, GroupLagThresholds>>): Readonly<Record<string, GroupLagThresholds>> {
  for (const group of Object.keys(groups)) {
    // The name goes into a Metrics Insights string literal: the contract's alphabet has no quote to escape.
    if (!isValidName(group)) throw new Error(`groups: '${group}' is not a valid group name (docs/api.md, "Conventions")`);
  }
  return groups;
}

function checkLag(lag: Required<GroupLagThresholds>, where: string): void {
  for (const [name, value] of Object.entries(lag)) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`${where}.${name} must be a positive number, got ${value}`);
  }
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
