import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FUNCTIONS, ROUTES, type FunctionName, type FunctionSpec } from '../functions/routes.js';
import { ENV } from '../lib/config.js';
import { bindBucket, bindTable, type BucketAccess, type TableAccess } from './constructs/bind.js';
import { SPILL_PREFIX } from './stateful-stack.js';

/** The repository root: `entry` paths in the route table are relative to it, and esbuild runs from it. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The newest Node.js runtime this aws-cdk-lib offers (2.276: NODEJS_24_X). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;


interface RoleAccess {
  readonly logTable: TableAccess;
  readonly leaseTable: TableAccess;
  readonly segmentBucket: BucketAccess;
}

const ALL_KEYS = '*';

/**
 * Least privilege, per function role. `satisfies Record<FunctionName, …>` makes a new entry in FUNCTIONS fail to
 * compile until its access is decided here.
 */
export const ACCESS = {
  // Creates, alters and deletes topics; the storage of a deleted topic is reclaimed by maintenance.
  topics: { logTable: 'readWrite', leaseTable: 'none', segmentBucket: {} },
  // Appends; batches too large for an item are spilled to S3 before the append commits.
  produce: { logTable: 'readWrite', leaseTable: 'none', segmentBucket: { put: `${SPILL_PREFIX}*` } },
  // Reads hot batches, spilled batches and cold segments.
  fetch: { logTable: 'read', leaseTable: 'none', segmentBucket: { read: ALL_KEYS } },
  // Leases, members and commits live in the lease table; a member's fetch reads the log like `fetch`.
  groups: { logTable: 'read', leaseTable: 'readWrite', segmentBucket: { read: ALL_KEYS } },
  // Tiers hot batches to segments, applies retention, reclaims deleted topics and expired leases.
  maintenance: {
    logTable: 'readWrite',
    leaseTable: 'readWrite',
    segmentBucket: { read: ALL_KEYS, put: ALL_KEYS, delete: ALL_KEYS },
  },
} as const satisfies Record<FunctionName, RoleAccess>;

export interface ApiStackProps extends StackProps {
  readonly logTable: dynamodb.ITable;
  readonly leaseTable: dynamodb.ITable;
  readonly segmentBucket: s3.IBucket;
  /**
   * Sets `SHARDLOG_TIER_AFTER_MS` on every function; at most {@link MAX_TIER_AFTER_MS}.
   * @default unset: the functions use `DEFAULT_TIER_AFTER_MS` from lib/config.ts
   */
  readonly tierAfterMs?: number;
  /**
   * Sets `SHARDLOG_TOPIC_CACHE_MS` on every function.
   * @default unset: the functions use `DEFAULT_TOPIC_CACHE_MS` from lib/config.ts
   */
  readonly topicCacheMs?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The stateless half of shardlog: one Lambda function per entry of `FUNCTIONS`, one IAM-authorized HTTP API
 * route per entry of `ROUTES` (both from functions/routes.ts, the table the local server reads too), and the
 * scheduled maintenance pass.
 */
export class ApiStack extends Stack {
  /** The function serving each role of the route table. */
  public readonly functions: Readonly<Record<FunctionName, NodejsFunction>>;
  /** The maintenance pass run by the schedule (`scheduledHandler` of the maintenance entry). */
  public readonly maintenanceSchedule: NodejsFunction;
  public readonly httpApi: apigwv2.HttpApi;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    assertEntriesExist();
    if (props.tierAfterMs !== undefined && !(Number.isInteger(props.tierAfterMs) && props.tierAfterMs >= 0)) {
      throw new Error(`tierAfterMs must be a non-negative integer of milliseconds, got ${props.tierAfterMs}`);
    }

    const makeFunction = (
      id: string,
      spec: FunctionSpec,
      handler: string,
      access: RoleAccess,
      description = spec.description,
    ): NodejsFunction => {
      const fn = new NodejsFunction(this, id, {
        entry: join(REPO_ROOT, spec.entry),
        handler,
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        runtime: RUNTIME,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        description,
        logGroup: new logs.LogGroup(this, `${id}Logs`, {
          retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        }),
        environment: {
          // Stack traces point into the TypeScript sources (the bundle is minified).
          NODE_OPTIONS: '--enable-source-maps',
          ...(props.tierAfterMs === undefined ? {} : { [ENV.tierAfterMs]: String(props.tierAfterMs) }),
          ...(props.topicCacheMs === undefined ? {} : { [ENV.topicCacheMs]: String(props.topicCacheMs) }),
        },
        bundling: {
          // Bundle with the esbuild in node_modules: no Docker needed, and `cdk synth` works offline.
          forceDockerBundling: false,
          format: OutputFormat.ESM,
          // No `target`: NodejsFunction derives it from the runtime (node24), so the two cannot disagree.
          minify: true,
          sourceMap: true,
          // Mappings are enough for stack traces; embedding the sources would put all the source text in the zip.
          sourcesContent: false,
          // Prefer the ESM builds of dependencies (the AWS SDK v3 ships both).
          mainFields: ['module', 'main'],
          // CJS code inside an ESM bundle calls `require` (e.g. for Node built-ins); ESM has none, so define it.
          banner: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
          // The runtime ships an AWS SDK v3, but its version moves under us. Bundling our own pins the exact
          // version we test against (package-lock.json); the cost is a larger zip and a little cold start.
          externalModules: [],
        },
      });
      bindTable(fn, ENV.logTable, props.logTable, access.logTable);
      bindTable(fn, ENV.leaseTable, props.leaseTable, access.leaseTable);
      bindBucket(fn, ENV.segmentBucket, props.segmentBucket, access.segmentBucket);
      return fn;
    };

    const functions = {} as Record<FunctionName, NodejsFunction>;
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      functions[name] = makeFunction(`${pascalCase(name)}Function`, FUNCTIONS[name], 'handler', ACCESS[name]);
    }
    this.functions = functions;

    // A Lambda function has one handler, so the scheduled entry point (`scheduledHandler`, which takes an
    // EventBridge event rather than an HTTP request) gets its own function: same entry, hence the same bundle,
    // and the same grants as the maintenance route.
    this.maintenanceSchedule = makeFunction(
      'MaintenanceSchedule',
      FUNCTIONS.maintenance,
      'scheduledHandler',
      ACCESS.maintenance,
      `${FUNCTIONS.maintenance.description} (scheduled)`,
    );
    // An EventBridge rule rather than EventBridge Scheduler: a fixed rate needs none of Scheduler's features
    // (time zones, one-off schedules, flexible windows), a scheduled rule costs nothing, it invokes through the
    // function's resource policy instead of an extra IAM role, and LocalStack (cdklocal) supports it.
    // A pass may take longer than a minute (timeout 120 s), so passes can overlap, with each other and with
    // `POST /v1/admin/maintenance`: the pass must tolerate that (conditional writes, one iteration per call).
    // No reserved concurrency of 1 to prevent it: that fails to deploy on new accounts whose concurrency
    // limit is 10.
    new events.Rule(this, 'MaintenanceEveryMinute', {
      description: 'shardlog: run the maintenance pass (tiering, retention)',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [
        new targets.LambdaFunction(this.maintenanceSchedule, {
          // The next pass is at most a minute away; retrying a stale one would only pile up work.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });

    const iam = new HttpIamAuthorizer();
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: this.stackName,
      description: 'shardlog HTTP API v1 (IAM-authorized; sign requests with SigV4)',
      defaultAuthorizer: iam,
    });
    const integrations = {} as Record<FunctionName, HttpLambdaIntegration>;
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      integrations[name] = new HttpLambdaIntegration(`${pascalCase(name)}Integration`, functions[name], {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
        // One invoke permission per function for this API ("*/*/*") rather than one per route: the route ARN
        // would carry `{param}` templates, and a function with six routes would carry six near-identical
        // statements. Which route reaches which function is still decided by the routes below.
        scopePermissionToRoute: false,
      });
    }
    for (const route of ROUTES) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: integrations[route.function],
        // Explicit as well as the default: a route must never be public because a default changed.
        authorizer: iam,
      });
    }

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the shardlog HTTP API',
      value: this.httpApi.apiEndpoint,
    });
  }
}

/** Fails synthesis with one message naming every missing entry file, instead of esbuild's first failure. */
function assertEntriesExist(): void {
  const specs: readonly FunctionSpec[] = Object.values(FUNCTIONS);
  const missing = specs.map((spec) => spec.entry).filter((entry) => !existsSync(join(REPO_ROOT, entry)));
  if (missing.length > 0) {
    throw new Error(`ApiStack: Lambda entry file(s) missing under ${REPO_ROOT}: ${missing.join(', ')}`);
  }
}

function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
