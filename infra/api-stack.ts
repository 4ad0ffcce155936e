import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FUNCTIONS, ROUTES, type FunctionName, type FunctionSpec, type RouteGrant } from '../functions/routes.js';
import { ENV } from '../lib/config.js';
import { SEGMENT_PREFIX, SPILL_PREFIX, UPLOAD_PREFIX } from '../lib/storage/prefixes.js';
import { bindBucket, bindTable, type BucketAccess, type TableAccess } from './constructs/bind.js';
import { Observability, type ObservabilityOptions } from './constructs/observability.js';
import { ADMIN_RESOURCE, grantResources, type GrantNames } from './grants.js';

/** The repository root: `entry` paths in the route table are relative to it, and esbuild runs from it. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The newest Node.js runtime this aws-cdk-lib offers (2.276: NODEJS_24_X). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;


interface RoleAccess {
  readonly logTable: TableAccess;
  readonly leaseTable: TableAccess;
  readonly segmentBucket: BucketAccess;
}

/** Cold reads: segments, and spilled batches not yet tiered. `list` so that a key removed by retention between
 * the index lookup and the GET reads as 404 NoSuchKey (handled as "gone") rather than 403 (a 500). */
const COLD_READS: BucketAccess = { get: [SEGMENT_PREFIX, SPILL_PREFIX], list: [SEGMENT_PREFIX, SPILL_PREFIX] };

/**
 * Least privilege, per function role: the DynamoDB item actions and S3 key prefixes each function's code really
 * uses (from the `*Command` calls reachable from its routes; test/infra/least-privilege.test.ts fails when a file
 * of lib/ starts sending a command it did not send before, so that this table is looked at again).
 * `satisfies Record<FunctionName, …>` makes a new entry in FUNCTIONS fail to compile until its access is decided.
 */
export const ACCESS = {
  // lib/topics/dynamo-topic-store.ts: create/update/delete are TransactWriteItems of Put, Update and Delete
  // (catalog entry, deleted-topic marker); get is GetItem, list a Query. Describe reads each partition's meta item
  // (GetItem) and tail (Query) through lib/log. Storage of a deleted topic is reclaimed by maintenance.
  topics: {
    logTable: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'],
    leaseTable: [],
    segmentBucket: {},
  },
  // lib/log/dynamo-append.ts: one conditional PutItem per append, or a TransactWriteItems of Puts and
  // ConditionChecks (several partitions, expectedOffsets, Idempotency-Key); the tail is a Query, the topic and an
  // idempotency record are GetItems. Batches too large for an item are PUT under spill/ before the append.
  // lib/log/upload-store.ts: a presigned PUT under upload/ carries this role's s3:PutObject there (a presigned
  // URL can do only what its signer may), and an append of an upload GETs it (docs/api.md, "Binary record batches").
  produce: {
    logTable: ['GetItem', 'Query', 'PutItem', 'ConditionCheckItem'],
    leaseTable: [],
    segmentBucket: { put: [SPILL_PREFIX, UPLOAD_PREFIX], get: [UPLOAD_PREFIX] },
  },
  // lib/log: topic and partition meta (GetItem), batches and tail (Query), the segment index (Query, GetItem),
  // then ranged GETs of segments and GETs of spilled batches.
  fetch: { logTable: ['GetItem', 'Query'], leaseTable: [], segmentBucket: COLD_READS },
  // lib/groups/dynamo-lease-store.ts: members (PutItem, UpdateItem, DeleteItem), leases and commits (conditional
  // UpdateItem, GetItem after a lost race), a group in one Query, the registry (UpdateItem, Query), subscriptions
  // (UpdateItem, DeleteItem, Query); deleting a group takes its items by Query + BatchWriteItem. A member's
  // fetch and a reset read the log like `fetch`.
  groups: {
    logTable: ['GetItem', 'Query'],
    leaseTable: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
    segmentBucket: COLD_READS,
  },
  // lib/share-groups/dynamo-share-store.ts: share-partitions (GetItem, conditional PutItem), a group's items and
  // the registry (Query), subscriptions and settings (PutItem, UpdateItem, DeleteItem), a group's deletion (Query +
  // BatchWriteItem). Fetch reads the log like `fetch`; dead-letter copies are appended like `produce` (conditional
  // PutItem or TransactWriteItems with an idempotency record, GetItem of that record, spill PUTs of large batches).
  shareGroups: {
    logTable: ['GetItem', 'Query', 'PutItem', 'ConditionCheckItem'],
    leaseTable: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
    segmentBucket: { get: [SEGMENT_PREFIX, SPILL_PREFIX], put: [SPILL_PREFIX], list: [SEGMENT_PREFIX, SPILL_PREFIX] },
  },
  // lib/maintenance: reads hot batches (Query) and spilled ones (GET spill/) to tier them; PUTs segments and
  // indexes them (conditional PutItem); advances partition meta and sets batch TTLs (conditional UpdateItem);
  // deletes expired segments and spill objects (the only function that may delete objects: ListObjectsV2 and
  // DeleteObjects), their index entries (DeleteItem) and a deleted topic's items (Query + BatchWriteItem).
  // Group expiry (lib/groups/group-deletion.ts): pages the registry and reads a group (Query), its cursor (GetItem,
  // UpdateItem), deletes ended sessions and registry entries (DeleteItem) and a group's items (Query +
  // BatchWriteItem); it never writes a member or a lease (no PutItem there). After each scheduled pass, the lag
  // sweep (lib/groups/group-lag.ts) reads the group registry and each group (lease-table Query, nothing written)
  // and the record at each committed offset behind the end, hot or tiered (GET segments/).
  maintenance: {
    logTable: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
    leaseTable: ['GetItem', 'Query', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'],
    segmentBucket: {
      get: [SPILL_PREFIX, SEGMENT_PREFIX],
      put: [SEGMENT_PREFIX],
      delete: [SEGMENT_PREFIX, SPILL_PREFIX],
      list: [SEGMENT_PREFIX, SPILL_PREFIX],
    },
  },
} as const satisfies Record<FunctionName, RoleAccess>;

/** The functions of the stack: one per FUNCTIONS entry, and the scheduled maintenance pass. */
export type StackFunctionName = FunctionName | 'maintenanceSchedule';

/**
 * Stage-wide default throttling (requests per second, token-bucket burst). One tenth of API Gateway's default
 * account-level quota (10,000 rps, burst 5,000 per region, shared by every API of the account): shardlog cannot
 * starve the account's other APIs, and a runaway client costs at most ~$3.60 an hour in API requests.
 */
export const DEFAULT_THROTTLE_RATE_LIMIT = 1_000;
export const DEFAULT_THROTTLE_BURST_LIMIT = 500;

/**
 * The stage's access log line: one JSON object per request. Only values API Gateway produces go in (no path,
 * no user agent: a caller could put quotes in those and forge or break a line); the function's own request
 * line carries the path, under the same `requestId`.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
 */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTimeEpoch: '$context.requestTimeEpoch',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatencyMs: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatencyMs: '$context.integrationLatency',
  callerArn: '$context.identity.userArn',
  caller: '$context.identity.caller',
  callerAccountId: '$context.identity.accountId',
  sourceIp: '$context.identity.sourceIp',
} as const;

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
  /** Retention of the functions' logs and of the API's access log. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Stage-wide steady-state request rate (requests per second) above which API Gateway answers 429.
   * @default DEFAULT_THROTTLE_RATE_LIMIT (1,000)
   */
  readonly throttleRateLimit?: number;
  /** Stage-wide burst (token bucket size). @default DEFAULT_THROTTLE_BURST_LIMIT (500) */
  readonly throttleBurstLimit?: number;
  /**
   * Reserved concurrency per function, e.g. `{ produce: 50, fetch: 100 }`: a cap that long polls on one route
   * cannot exceed, and a floor no other function of the account can take away. Unset functions share the
   * account's unreserved pool. Reserving fails to deploy if it would leave the account fewer than 100 unreserved
   * executions (new accounts may have a limit of 10 in all).
   * @default none reserved
   */
  readonly reservedConcurrency?: Partial<Readonly<Record<StackFunctionName, number>>>;
  /**
   * The dashboard and alarms (infra/constructs/observability.ts): thresholds, consumer groups with alarms of their
   * own, and where alarms notify. README "Operating shardlog" describes each alarm.
   * @default every alarm with its default threshold, no notifications
   */
  readonly observability?: ObservabilityOptions;
}

/**
 * The stateless half of shardlog: one Lambda function per entry of `FUNCTIONS`, one IAM-authorized HTTP API
 * route per entry of `ROUTES` (both from functions/routes.ts, the table the local server reads too), and the
 * scheduled maintenance pass. README "Security" describes the model; the grant methods below give a caller's
 * role exactly one job.
 */
export class ApiStack extends Stack {
  /** The function serving each role of the route table. */
  public readonly functions: Readonly<Record<FunctionName, NodejsFunction>>;
  /** The maintenance pass run by the schedule (`scheduledHandler` of the maintenance entry). */
  public readonly maintenanceSchedule: NodejsFunction;
  public readonly httpApi: apigwv2.HttpApi;
  /** The API's one stage (`$default`): throttling and the access log live here. */
  public readonly stage: apigwv2.HttpStage;
  /** The stage's JSON access log ({@link ACCESS_LOG_FIELDS}). */
  public readonly accessLog: logs.LogGroup;
  /** The CloudWatch dashboard and alarms of this deployment. */
  public readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    assertEntriesExist();
    if (props.tierAfterMs !== undefined && !(Number.isInteger(props.tierAfterMs) && props.tierAfterMs >= 0)) {
      throw new Error(`tierAfterMs must be a non-negative integer of milliseconds, got ${props.tierAfterMs}`);
    }
    const rateLimit = positive(props.throttleRateLimit ?? DEFAULT_THROTTLE_RATE_LIMIT, 'throttleRateLimit');
    const burstLimit = positiveInteger(props.throttleBurstLimit ?? DEFAULT_THROTTLE_BURST_LIMIT, 'throttleBurstLimit');
    for (const [name, reserved] of Object.entries(props.reservedConcurrency ?? {})) {
      positiveInteger(reserved, `reservedConcurrency.${name}`);
    }
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const makeFunction = (
      id: string,
      name: StackFunctionName,
      spec: FunctionSpec,
      handler: string,
      access: RoleAccess,
      description = spec.description,
    ): NodejsFunction => {
      // The function's own log group, and a role that may write to it and nothing else of CloudWatch Logs (in
      // place of AWSLambdaBasicExecutionRole, which allows CreateLogGroup and writing to every log group).
      const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention });
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${description}: its own log group, and the items and objects listed in ACCESS`,
      });
      logGroup.grantWrite(role);
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
        role,
        logGroup,
        ...(props.reservedConcurrency?.[name] !== undefined
          ? { reservedConcurrentExecutions: props.reservedConcurrency[name] }
          : {}),
        environment: {
          // Stack traces point into the TypeScript sources (the bundle is minified).
          NODE_OPTIONS: '--enable-source-maps',
          ...(props.tierAfterMs === undefined ? {} : { [ENV.tierAfterMs]: String(props.tierAfterMs) }),
          ...(props.topicCacheMs === undefined ? {} : { [ENV.topicCacheMs]: String(props.topicCacheMs) }),
        },
        bundling: {
          // Bundle with the esbuild in node_modules: no Docker needed, and `cdk synth` works offline.
          forceDockerBundling: false,
          // esbuild's warnings and errors, not its per-file size report (synth and the template tests stay readable).
          logLevel: LogLevel.WARNING,
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
      const fn = makeFunction(`${pascalCase(name)}Function`, name, FUNCTIONS[name], 'handler', ACCESS[name]);
      Validations.of(fn).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously by API Gateway only: the caller receives every failure as an HTTP error and ' +
          'retries; a dead-letter queue receives failed asynchronous invocations, of which this function has none.',
      });
      functions[name] = fn;
    }
    this.functions = functions;

    // A Lambda function has one handler, so the scheduled entry point (`scheduledHandler`, which takes an
    // EventBridge event rather than an HTTP request) gets its own function: same entry, hence the same bundle,
    // and the same grants as the maintenance route.
    this.maintenanceSchedule = makeFunction(
      'MaintenanceSchedule',
      'maintenanceSchedule',
      FUNCTIONS.maintenance,
      'scheduledHandler',
      ACCESS.maintenance,
      `${FUNCTIONS.maintenance.description} (scheduled)`,
    );
    // Retry policy: none, on both legs, and no dead-letter queue. The event is a clock tick that carries no data,
    // the next pass is at most a minute away and does the whole job again (passes are idempotent), and a retried
    // stale pass would only overlap the next one. A dead letter would hold nothing worth replaying; a failing
    // pass shows in the function's Errors metric and its log. EventBridge → Lambda: `retryAttempts: 0` on the
    // target. Lambda's own asynchronous retries (2 by default, on a function error): 0 here.
    this.maintenanceSchedule.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    const noDeadLetter =
      'The schedule sends a data-less tick every minute and retries nothing (retryAttempts 0 on the target and ' +
      'on the function): the next pass redoes the whole job, so a dead letter would hold nothing worth replaying. ' +
      "Failures show in the function's Errors metric and log.";
    Validations.of(this.maintenanceSchedule).acknowledge(
      { id: 'Serverless-LambdaDLQ', reason: noDeadLetter },
      { id: 'Serverless-LambdaAsyncFailureDestination', reason: noDeadLetter },
    );
    // An EventBridge rule rather than EventBridge Scheduler: a fixed rate needs none of Scheduler's features
    // (time zones, one-off schedules, flexible windows), a scheduled rule costs nothing, it invokes through the
    // function's resource policy instead of an extra IAM role, and LocalStack (cdklocal) supports it.
    // A pass may take longer than a minute (timeout 120 s), so passes can overlap, with each other and with
    // `POST /v1/admin/maintenance`: the pass must tolerate that (conditional writes, one iteration per call).
    // No reserved concurrency of 1 to prevent it: that fails to deploy on new accounts whose concurrency
    // limit is 10.
    const schedule = new events.Rule(this, 'MaintenanceEveryMinute', {
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
    Validations.of(schedule).acknowledge({ id: 'Serverless-EventBusDLQ', reason: noDeadLetter });

    const authorizer = new HttpIamAuthorizer();
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: this.stackName,
      description: 'shardlog HTTP API v1 (IAM-authorized; sign requests with SigV4)',
      defaultAuthorizer: authorizer,
      // The stage is made below, with throttling and an access log, at the construct path the default stage had
      // (HttpApi/DefaultStage), so an existing deployment updates it in place.
      createDefaultStage: false,
    });
    this.accessLog = new logs.LogGroup(this, 'AccessLog', { retention });
    this.stage = new apigwv2.HttpStage(this.httpApi, 'DefaultStage', {
      httpApi: this.httpApi,
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLog),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
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
        authorizer,
      });
    }

    this.observability = new Observability(this, 'Observability', {
      ...props.observability,
      httpApi: this.httpApi,
      functions: { ...functions, maintenanceSchedule: this.maintenanceSchedule },
      maintenanceSchedule: this.maintenanceSchedule,
      logTable: props.logTable,
      leaseTable: props.leaseTable,
      segmentBucket: props.segmentBucket,
      ...(props.tierAfterMs === undefined ? {} : { tierAfterMs: props.tierAfterMs }),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the shardlog HTTP API',
      value: this.httpApi.apiEndpoint,
    });
  }

  // ------------------------------------------------------------------------------------------------- grants

  /**
   * Lets `grantee` produce to `topic`: `POST /v1/topics/{topic}/records`, and describe the topic.
   * @example api.grantProduce(checkoutRole, 'orders');
   */
  public grantProduce(grantee: iam.IGrantable, topic: string): iam.Grant {
    return this.grantScoped(grantee, 'produce', { topic });
  }

  /**
   * Lets `grantee` consume `topic` as consumer group `group`: subscribe the group to the topic (and unsubscribe),
   * join, heartbeat, fetch, commit and leave as a member of the group, describe the group and the topic.
   * A group reads every topic it is subscribed to (docs/api.md v1.1), so give each group to one application.
   * @example api.grantConsume(billingRole, 'orders', 'billing');
   */
  public grantConsume(grantee: iam.IGrantable, topic: string, group: string): iam.Grant {
    return this.grantScoped(grantee, 'consume', { topic, group });
  }

  /**
   * Lets `grantee` read `topic` without a group: a plain fetch of any of its partitions, and describe it.
   * @example api.grantRead(auditRole, 'orders');
   */
  public grantRead(grantee: iam.IGrantable, topic: string): iam.Grant {
    return this.grantScoped(grantee, 'read', { topic });
  }

  /**
   * Lets `grantee` consume `topic` through share group `group` (docs/api.md v1.1 share groups: subscribe, fetch,
   * acknowledge, describe). Allows only the share-group routes present in the route table.
   */
  public grantShareConsume(grantee: iam.IGrantable, topic: string, group: string): iam.Grant {
    return this.grantScoped(grantee, 'shareConsume', { topic, group });
  }

  /**
   * Lets `grantee` call every route of this API, present and future: topic administration, maintenance, offset
   * resets, group deletion, listing all topics and groups, and everything the scoped grants allow.
   * @example api.grantAdmin(operatorRole);
   */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.executeApiArn(`${this.stage.stageName}/${ADMIN_RESOURCE}`)],
    });
  }

  private grantScoped(grantee: iam.IGrantable, grant: RouteGrant, names: GrantNames): iam.Grant {
    const { allow, deny } = grantResources(grant, names);
    const result = iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: allow.map((path) => this.executeApiArn(`${this.stage.stageName}/${path}`)),
    });
    // Wildcards in the allowed ARNs stand for one run-time value (a partition, a member id); this Deny keeps
    // them from spanning a `..` into another topic or group (infra/grants.ts explains why each pattern).
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['execute-api:Invoke'],
        resources: deny.map((pattern) => this.executeApiArn(pattern)),
      }),
    );
    return result;
  }

  /** `arn:<partition>:execute-api:<region>:<account>:<apiId>/<resourcePath>` */
  private executeApiArn(resourcePath: string): string {
    return this.formatArn({
      service: 'execute-api',
      resource: this.httpApi.apiId,
      resourceName: resourcePath,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`${name} must be a positive number, got ${value}`);
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`${name} must be a positive integer, got ${value}`);
  return value;
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
