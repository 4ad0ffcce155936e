import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations, type PolicyViolation } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/routes.js';
import { ApiStack, REPO_ROOT, type ApiStackProps } from '../../infra/api-stack.js';
import { DEFAULT_ALARM_THRESHOLDS, DEFAULT_GROUP_LAG } from '../../infra/constructs/observability.js';
import { StatefulStack } from '../../infra/stateful-stack.js';
import { DEFAULT_TIER_AFTER_MS } from '../../lib/config.js';
import { EMITTED_METRICS, METRIC_NAMES, METRICS, METRICS_NAMESPACE, SERVICE_DIMENSION, SERVICE_NAME_ENV, type MetricName } from '../../lib/observability/metrics.js';

/*
 * The dashboard and alarms of infra/constructs/observability.ts, in the API stack as infra/app.ts wires it, with
 * cdk.json's feature flags. Bundling is skipped (these tests read alarms and the dashboard, not the code), so
 * each synth takes about a second.
 */

type Json = Record<string, any>;
const STACK = 'Shardlog-Api';

type ObservabilityProps = ApiStackProps['observability'];

/**
 * The app of infra/app.ts, unsynthesized (cdk-nag reads it before synthesis resolves cross-stack references).
 * `observability` may be built from the stateful stack (e.g. a topic imported into it).
 */
function buildApp(
  observability?: ObservabilityProps | ((stateful: StatefulStack) => ObservabilityProps),
  extra: Partial<ApiStackProps> = {},
): { app: App; stack: ApiStack } {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Json };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] } });
  const stateful = new StatefulStack(app, 'Shardlog-Stateful');
  const props = typeof observability === 'function' ? observability(stateful) : observability;
  const stack = new ApiStack(app, STACK, {
    logTable: stateful.logTable,
    leaseTable: stateful.leaseTable,
    segmentBucket: stateful.segmentBucket,
    ...extra,
    ...(props ? { observability: props } : {}),
  });
  return { app, stack };
}

function synth(observability?: ApiStackProps['observability'], extra: Partial<ApiStackProps> = {}) {
  const { app, stack } = buildApp(observability, extra);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const alarms = new Map<string, Json>();
  for (const resource of Object.values(resources)) {
    if (resource.Type === 'AWS::CloudWatch::Alarm') alarms.set(String(resource.Properties.AlarmName).replace(`${STACK}-`, ''), resource.Properties);
  }
  return { app, stack, template, resources, alarms };
}

/** The dashboard body as JSON, each CloudFormation token inside it replaced by a readable `{{…}}` string. */
function dashboardBody(resources: Record<string, { Type: string; Properties: Json }>): Json {
  const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof body === 'string') return JSON.parse(body) as Json;
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `{{${JSON.stringify(part).replace(/"/g, "'")}}}`)).join('');
  return JSON.parse(text) as Json;
}

/** Every metric array of every graph widget, flattened: `[namespace, name, dim, value, …, {options}]` or `[{expression}]`. */
function graphMetrics(body: Json): unknown[][] {
  return (body.widgets as Json[]).filter((w) => w.type === 'metric').flatMap((w) => (w.properties.metrics ?? []) as unknown[][]);
}

const FUNCTION_COUNT = Object.keys(FUNCTIONS).length + 1; // and the scheduled maintenance pass

const defaults = synth();

describe('Observability dashboard', () => {
  const { resources, template } = defaults;
  const body = dashboardBody(resources);
  const widgets = body.widgets as Json[];
  const text = JSON.stringify(body);

  it('is named after the stack and shows the last three hours', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: STACK });
    expect(body.start).toBe('-PT3H');
  });

  it('shows consumer lag per group first: SEARCH expressions over the shardlog namespace, so new groups appear without a redeploy', () => {
    const firstGraphs = widgets.filter((w) => w.type === 'metric').slice(0, 2);
    const expressions = firstGraphs.map((w) => (w.properties.metrics[0][0] as Json).expression as string);
    expect(expressions).toEqual([
      `SEARCH('{${METRICS_NAMESPACE},ConsumerGroup,Topic,service} MetricName="RecordsBehind" service="${STACK}"', 'Maximum', 60)`,
      `SEARCH('{${METRICS_NAMESPACE},ConsumerGroup,Topic,service} MetricName="OldestUnreadRecordAge" service="${STACK}"', 'Maximum', 60)`,
    ]);
    // Each line is named by its group and topic (a dynamic label), not by the expression.
    expect(firstGraphs.map((w) => (w.properties.metrics[0][0] as Json).label)).toEqual([
      "${PROP('Dim.ConsumerGroup')} · ${PROP('Dim.Topic')}",
      "${PROP('Dim.ConsumerGroup')} · ${PROP('Dim.Topic')}",
    ]);
    // Only the header and the alarm overview come before them.
    expect(widgets.indexOf(firstGraphs[0]!)).toBe(2);
    expect(widgets.slice(0, 2).map((w) => w.type)).toEqual(['text', 'alarm']);
  });

  it('graphs every metric of the catalogue', () => {
    for (const name of METRIC_NAMES) expect(text, name).toContain(name);
  });

  it('graphs API Gateway requests, 4xx, 5xx and latency', () => {
    const apiMetrics = graphMetrics(body).filter((m) => m[0] === 'AWS/ApiGateway').map((m) => m[1]);
    expect(new Set(apiMetrics)).toEqual(new Set(['Count', '4xx', '5xx', 'Latency', 'IntegrationLatency']));
  });

  it('graphs invocations, errors, throttles, duration p50 and p99 and concurrency of each function', () => {
    const lambda = graphMetrics(body).filter((m) => m[0] === 'AWS/Lambda');
    const count = (name: string, stat?: string) =>
      lambda.filter((m) => m[1] === name && (stat === undefined || (m[m.length - 1] as Json).stat === stat)).length;
    expect(count('Invocations')).toBe(FUNCTION_COUNT);
    expect(count('Errors')).toBe(FUNCTION_COUNT);
    expect(count('Throttles')).toBe(FUNCTION_COUNT);
    expect(count('Duration', 'p50')).toBe(FUNCTION_COUNT);
    expect(count('Duration', 'p99')).toBe(FUNCTION_COUNT);
    expect(count('ConcurrentExecutions', 'Maximum')).toBe(FUNCTION_COUNT);
  });

  it('graphs consumed units and throttle events of both tables, and the bucket', () => {
    const dynamo = graphMetrics(body).filter((m) => m[0] === 'AWS/DynamoDB');
    for (const name of ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents']) {
      const tables = dynamo.filter((m) => m[1] === name).map((m) => String(m[3]));
      expect(tables, name).toHaveLength(2);
      expect(tables.some((t) => t.includes('LogTable')) && tables.some((t) => t.includes('LeaseTable')), name).toBe(true);
    }
    const s3 = graphMetrics(body).filter((m) => m[0] === 'AWS/S3').map((m) => m[1]);
    expect(s3.sort()).toEqual(['BucketSizeBytes', 'NumberOfObjects']);
  });

  it('lists every alarm in its alarm overview', () => {
    const overview = widgets.find((w) => w.type === 'alarm');
    expect(overview?.properties.alarms).toHaveLength(defaults.alarms.size);
  });

  it('sets the service dimension of every function to the stack name', () => {
    const functions = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(FUNCTION_COUNT);
    for (const fn of functions) expect(fn.Properties.Environment.Variables[SERVICE_NAME_ENV]).toBe(STACK);
  });
});

/**
 * Every reference to a `shardlog` metric in the dashboard body and the alarms, as (metric name, dimension names):
 * plain metrics (`[namespace, name, dim, value, …]` in a graph, `MetricStat` in an alarm), SEARCH expressions
 * (`{shardlog,dims…} MetricName="…"`) and Metrics Insights queries (`SELECT MAX("…") FROM SCHEMA("shardlog", dims…)`).
 */
function shardlogReferences(body: Json, alarms: Iterable<Json>): Array<{ name: string; dimensions: string[]; where: string }> {
  const found: Array<{ name: string; dimensions: string[]; where: string }> = [];
  const fromExpression = (expression: string, where: string) => {
    for (const m of expression.matchAll(/\{([^}]*)\} MetricName="([^"]+)"/g)) {
      const [namespace, ...dimensions] = m[1]!.split(',');
      if (namespace === METRICS_NAMESPACE) found.push({ name: m[2]!, dimensions, where });
    }
    for (const m of expression.matchAll(/SELECT \w+\("([^"]+)"\) FROM SCHEMA\("([^"]+)"((?:, "[^"]+")*)\)/g)) {
      if (m[2] === METRICS_NAMESPACE) found.push({ name: m[1]!, dimensions: [...m[3]!.matchAll(/"([^"]+)"/g)].map((d) => d[1]!), where });
    }
  };
  for (const metric of graphMetrics(body)) {
    if (metric[0] === METRICS_NAMESPACE) {
      const dims = metric.slice(2).filter((part) => typeof part === 'string');
      found.push({ name: String(metric[1]), dimensions: dims.filter((_, i) => i % 2 === 0) as string[], where: 'dashboard' });
    } else if (typeof (metric[0] as Json | undefined)?.expression === 'string') {
      fromExpression((metric[0] as Json).expression as string, 'dashboard');
    }
  }
  for (const alarm of alarms) {
    const where = `alarm ${String(alarm.AlarmName)}`;
    if (alarm.Namespace === METRICS_NAMESPACE) found.push({ name: alarm.MetricName, dimensions: (alarm.Dimensions ?? []).map((d: Json) => d.Name), where });
    for (const m of (alarm.Metrics ?? []) as Json[]) {
      if (m.MetricStat?.Metric?.Namespace === METRICS_NAMESPACE) {
        found.push({ name: m.MetricStat.Metric.MetricName, dimensions: (m.MetricStat.Metric.Dimensions ?? []).map((d: Json) => d.Name), where });
      }
      if (typeof m.Expression === 'string') fromExpression(m.Expression, where);
    }
  }
  return found;
}

describe('the dashboard and alarms read what the code emits', () => {
  // With a listed group too, so that its own alarms are checked as well as the default ones.
  const withGroup = synth({ groups: { billing: { maxRecordsBehind: 5 } } });
  const references = shardlogReferences(dashboardBody(withGroup.resources), withGroup.alarms.values());

  it('name only emitted metrics, each with exactly its catalogued dimensions and service', () => {
    expect(references.length).toBeGreaterThan(METRIC_NAMES.length);
    for (const { name, dimensions, where } of references) {
      expect(EMITTED_METRICS, `${where}: ${name}`).toContain(name);
      expect([...dimensions].sort(), `${where}: ${name}`).toEqual([...METRICS[name as MetricName].dimensions, SERVICE_DIMENSION].sort());
    }
  });

  it('graph every emitted metric, and alarm on lag, failed passes and the untiered age', () => {
    const graphed = new Set(references.filter((r) => r.where === 'dashboard').map((r) => r.name));
    expect([...graphed].sort()).toEqual([...EMITTED_METRICS].sort());
    const alarmed = new Set(references.filter((r) => r.where.startsWith('alarm')).map((r) => r.name));
    expect([...alarmed].sort()).toEqual(['MaintenanceFailures', 'OldestUnreadRecordAge', 'OldestUntieredBatchAge', 'RecordsBehind']);
  });
});

describe('Observability alarms', () => {

  it('creates these alarms by default, named after the stack', () => {
    expect([...defaults.alarms.keys()].sort()).toEqual(
      [
        'api-5xx-rate',
        ...['topics', 'produce', 'fetch', 'groups', 'share-groups', 'maintenance'].map((f) => `function-${f}-errors`),
        ...['topics', 'produce', 'fetch', 'groups', 'share-groups', 'maintenance', 'maintenance-schedule'].map((f) => `function-${f}-throttles`),
        'dynamodb-log-throttles',
        'dynamodb-lease-throttles',
        'any-group-records-behind',
        'any-group-oldest-unread-age',
        'maintenance-failing',
        'maintenance-stalled',
        'maintenance-behind',
      ].sort(),
    );
  });

  it('notifies nobody unless a topic or an email is given', () => {
    defaults.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of defaults.alarms.values()) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.OKActions).toBeUndefined();
    }
  });

  it('alarms on the 5xx share of requests above 1% for 10 minutes, ignoring periods with fewer than 20 requests', () => {
    const alarm = defaults.alarms.get('api-5xx-rate')!;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 2, TreatMissingData: 'notBreaching' });
    const metrics = alarm.Metrics as Json[];
    expect(metrics.find((m) => m.ReturnData)?.Expression).toBe('IF(requests >= 20, 100 * FILL(errors, 0) / requests, 0)');
    expect(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat.Metric.MetricName, m.MetricStat.Stat, m.MetricStat.Period])).toEqual([
      ['requests', 'Count', 'Sum', 300],
      ['errors', '5xx', 'Sum', 300],
    ]);
  });

  it('alarms on crashes of each HTTP function and on throttles of every function', () => {
    const errors = defaults.alarms.get('function-produce-errors')!;
    expect(errors).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Period: 300,
      Threshold: DEFAULT_ALARM_THRESHOLDS.functionErrors,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(defaults.alarms.get('function-maintenance-schedule-throttles')).toMatchObject({ MetricName: 'Throttles', Threshold: 1 });
  });

  it('alarms on read plus write throttle events of each table', () => {
    for (const role of ['log', 'lease']) {
      const alarm = defaults.alarms.get(`dynamodb-${role}-throttles`)!;
      expect(alarm.Threshold).toBe(DEFAULT_ALARM_THRESHOLDS.dynamoDbThrottleEvents);
      const stats = (alarm.Metrics as Json[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric);
      expect(stats.map((m) => m.MetricName)).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
      expect(JSON.stringify(stats[0].Dimensions)).toContain(role === 'log' ? 'LogTable' : 'LeaseTable');
    }
  });

  it('alarms on any group behind, with Metrics Insights queries (an alarm cannot use SEARCH)', () => {
    const records = defaults.alarms.get('any-group-records-behind')!;
    expect(records).toMatchObject({ Threshold: DEFAULT_GROUP_LAG.maxRecordsBehind, EvaluationPeriods: 3, TreatMissingData: 'notBreaching' });
    expect(records.Metrics).toEqual([
      {
        Id: 'expr_1',
        Expression: `SELECT MAX("RecordsBehind") FROM SCHEMA("shardlog", "ConsumerGroup", "Topic", "service") WHERE "service" = '${STACK}'`,
        Label: 'RecordsBehind (worst)',
        Period: 300,
        ReturnData: true,
      },
    ]);
    expect(defaults.alarms.get('any-group-oldest-unread-age')).toMatchObject({ Threshold: DEFAULT_GROUP_LAG.maxOldestUnreadAgeMs, EvaluationPeriods: 1 });
    for (const alarm of defaults.alarms.values()) expect(JSON.stringify(alarm)).not.toContain('SEARCH(');
  });

  it('alarms when maintenance fails three periods in a row, stops being invoked, or falls behind tiering', () => {
    const failing = defaults.alarms.get('maintenance-failing')!;
    expect(failing).toMatchObject({ Threshold: 1, EvaluationPeriods: 3 });
    const inputs = (failing.Metrics as Json[]).filter((m) => m.MetricStat).map((m) => `${m.MetricStat.Metric.Namespace}:${m.MetricStat.Metric.MetricName}`);
    expect(inputs).toEqual(['AWS/Lambda:Errors', 'shardlog:MaintenanceFailures']);
    expect(JSON.stringify(failing)).toContain('MaintenanceSchedule');

    expect(defaults.alarms.get('maintenance-stalled')).toMatchObject({
      MetricName: 'Invocations',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    const behind = defaults.alarms.get('maintenance-behind')!;
    expect(behind.Threshold).toBe(DEFAULT_TIER_AFTER_MS + 30 * 60 * 1000);
    expect((behind.Metrics as Json[])[0]!.MetricStat).toMatchObject({
      Metric: { Namespace: 'shardlog', MetricName: 'OldestUntieredBatchAge', Dimensions: [{ Name: 'service', Value: STACK }] },
      Stat: 'Maximum',
    });
  });

  it('derives the untiered-age threshold from the stack tierAfterMs', () => {
    const { alarms } = synth(undefined, { tierAfterMs: 60_000 });
    expect(alarms.get('maintenance-behind')?.Threshold).toBe(60_000 + 30 * 60 * 1000);
  });

  it('gives listed groups alarms of their own, and leaves them out of the default ones', () => {
    const { alarms } = synth({ groups: { billing: { maxRecordsBehind: 500 }, 'email-sender': { maxOldestUnreadAgeMs: 60_000 } } });
    expect(alarms.get('group-billing-records-behind')).toMatchObject({ Threshold: 500 });
    expect(alarms.get('group-billing-oldest-unread-age')).toMatchObject({ Threshold: DEFAULT_GROUP_LAG.maxOldestUnreadAgeMs });
    expect(alarms.get('group-email-sender-oldest-unread-age')).toMatchObject({ Threshold: 60_000 });
    expect((alarms.get('group-billing-records-behind')!.Metrics as Json[])[0]!.Expression).toBe(
      `SELECT MAX("RecordsBehind") FROM SCHEMA("shardlog", "ConsumerGroup", "Topic", "service") WHERE "service" = '${STACK}' AND "ConsumerGroup" = 'billing'`,
    );
    expect((alarms.get('any-group-records-behind')!.Metrics as Json[])[0]!.Expression).toMatch(
      /AND "ConsumerGroup" != 'billing' AND "ConsumerGroup" != 'email-sender'$/,
    );
  });

  it('makes no default group alarms with defaultGroupLag false', () => {
    const { alarms } = synth({ defaultGroupLag: false, groups: { billing: {} } });
    expect([...alarms.keys()].filter((name) => name.includes('group-'))).toEqual(['group-billing-records-behind', 'group-billing-oldest-unread-age']);
  });

  it('takes thresholds from props', () => {
    const { alarms } = synth({ thresholds: { api5xxPercent: 5, functionErrors: 1, dynamoDbThrottleEvents: 100, maxUntieredBatchAgeMs: 7_200_000 } });
    expect(alarms.get('api-5xx-rate')?.Threshold).toBe(5);
    expect(alarms.get('function-fetch-errors')?.Threshold).toBe(1);
    expect(alarms.get('dynamodb-log-throttles')?.Threshold).toBe(100);
    expect(alarms.get('maintenance-behind')?.Threshold).toBe(7_200_000);
  });

  it('refuses thresholds that are not positive and group names outside the contract', () => {
    expect(() => synth({ thresholds: { api5xxPercent: 0 } })).toThrow(/api5xxPercent must be a positive number/);
    expect(() => synth({ groups: { billing: { maxRecordsBehind: -1 } } })).toThrow(/groups\.billing\.maxRecordsBehind/);
    expect(() => synth({ groups: { "x' OR '1'='1": {} } })).toThrow(/not a valid group name/);
    expect(() => synth({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail must be an email address/);
  });

  it('with alarmEmail, mails alarm and OK notifications through a TLS-only topic', () => {
    const { template, alarms, resources } = synth({ alarmEmail: 'ops@example.com' });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const topicId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::SNS::Topic')![0];
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    for (const [name, alarm] of alarms) {
      expect(alarm.AlarmActions, name).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions, name).toEqual([{ Ref: topicId }]);
    }
  });

  it('with alarmTopic, notifies that topic and creates none', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:on-call';
    const { stack } = buildApp((stateful) => ({ alarmTopic: sns.Topic.fromTopicArn(stateful, 'OnCall', arn), alarmEmail: 'ignored@example.com' }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [arn], OKActions: [arn] });
  });

  it('passes cdk-nag with an alarm email topic, acknowledging only its encryption and its dead-letter queue', () => {
    const { app } = buildApp({ alarmEmail: 'ops@example.com' });
    for (const pack of [new AwsSolutionsChecks(), new ServerlessChecks()]) {
      const errors = pack
        .validateScope(app)
        .violations.filter((v: PolicyViolation) => v.severity === 'error')
        .flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
      expect(errors).toEqual([]);
    }
    const acknowledged: string[] = [];
    const visit = (node: IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const id of Object.keys(entry.data as Record<string, string>)) acknowledged.push(`${node.node.path}: ${id.replace(/^annotation::/i, '')}`);
      }
      node.node.children.forEach(visit);
    };
    visit(app.node.findChild(STACK).node.findChild('Observability'));
    expect(acknowledged.sort()).toEqual([
      `${STACK}/Observability/AlarmTopic: AwsSolutions-SNS2`,
      `${STACK}/Observability/AlarmTopic/ops@example.com: Serverless-SNSRedrivePolicy`,
    ].sort());
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const security = readme.slice(readme.indexOf('## Security'), readme.indexOf('\n## ', readme.indexOf('## Security') + 1));
    expect(security).toContain('`AwsSolutions-SNS2`');
    expect(security).toContain('`Serverless-SNSRedrivePolicy`');
  });
});
