import { App, Tags } from 'aws-cdk-lib';
import { ApiStack } from './api-stack.js';
import { StatefulStack } from './stateful-stack.js';

/**
 * The CDK app (`cdk.json`: `npx tsx infra/app.ts`).
 *
 *   npx cdk deploy --all                 → stacks Shardlog-Stateful, Shardlog-Api
 *   npx cdk deploy --all -c stage=dev    → stacks Shardlog-dev-Stateful, Shardlog-dev-Api
 *   npx cdk deploy --all -c alarmEmail=ops@example.com
 *                                        → alarms also mail that address (README "Operating shardlog")
 *
 * The stacks are environment-agnostic (no account/region lookups), so `cdk synth` works offline.
 */
const app = new App();
const stage: unknown = app.node.tryGetContext('stage');
if (stage !== undefined && (typeof stage !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,30}$/.test(stage))) {
  throw new Error(`context 'stage' must match /^[A-Za-z][A-Za-z0-9-]{0,30}$/, got ${JSON.stringify(stage)}`);
}
const alarmEmail: unknown = app.node.tryGetContext('alarmEmail');
if (alarmEmail !== undefined && typeof alarmEmail !== 'string') {
  throw new Error(`context 'alarmEmail' must be an email address, got ${JSON.stringify(alarmEmail)}`);
}
const prefix = stage === undefined ? 'Shardlog' : `Shardlog-${stage}`;

const stateful = new StatefulStack(app, `${prefix}-Stateful`, {
  description: 'shardlog: log table, lease table and segment bucket',
});
new ApiStack(app, `${prefix}-Api`, {
  description: 'shardlog: Lambda functions, HTTP API and maintenance schedule',
  logTable: stateful.logTable,
  leaseTable: stateful.leaseTable,
  segmentBucket: stateful.segmentBucket,
  ...(alarmEmail === undefined ? {} : { observability: { alarmEmail } }),
});

Tags.of(app).add('project', 'shardlog');
if (stage !== undefined) Tags.of(app).add('stage', stage);
