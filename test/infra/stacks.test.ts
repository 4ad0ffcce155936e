import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnResource, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, ROUTES, routeKey, type FunctionName } from '../../functions/routes.js';
import { ApiStack, REPO_ROOT, type ApiStackProps } from '../../infra/api-stack.js';
import { StatefulStack } from '../../infra/stateful-stack.js';
import { ENV } from '../../lib/config.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../../lib/storage/tables.js';

/*
 * Template tests of both stacks, wired exactly as infra/app.ts wires them, with the feature flags of cdk.json.
 *
 * Bundling is real (esbuild, as in `cdk synth`): it runs once, in beforeAll, and the tests then read the
 * synthesized templates. So these tests need every entry file of FUNCTIONS to exist; when one is missing the
 * ApiStack fails with one message naming them all.
 */

type Json = Record<string, unknown>;
interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

const SYNTH_TIMEOUT_MS = 120_000;
/** What the schedule-only function is called in these tests, next to the FUNCTIONS names. */
type Role = FunctionName | 'maintenanceSchedule';
const ROLES: readonly Role[] = [...(Object.keys(FUNCTIONS) as FunctionName[]), 'maintenanceSchedule'];

let app: App;
let statefulStack: StatefulStack;
let apiStack: ApiStack;
let stateful: Template;
let api: Template;
let apiResources: Record<string, { Type: string; Properties: Json; Metadata?: Json }>;
let ids: { logTable: string; leaseTable: string; bucket: string };

beforeAll(() => {
  // CDK announces each bundle on stderr ("Bundling asset …"); keep the test output to what tests say.
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
    String(chunk).startsWith('Bundling asset ') ? true : (write as (...args: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stderr.write;
  try {
    synthesize();
  } finally {
    process.stderr.write = write;
  }
}, SYNTH_TIMEOUT_MS);

function synthesize(): void {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Json };
  // Asset metadata (set by the CLI, not by a bare App) lets the bundling test find the bundles.
  app = new App({ context: { ...cdkJson.context, 'aws:cdk:enable-asset-metadata': true } });
  statefulStack = new StatefulStack(app, 'Test-Stateful');
  apiStack = new ApiStack(app, 'Test-Api', {
    logTable: statefulStack.logTable,
    leaseTable: statefulStack.leaseTable,
    segmentBucket: statefulStack.segmentBucket,
  });
  stateful = Template.fromStack(statefulStack);
  api = Template.fromStack(apiStack);
  apiResources = api.toJSON().Resources;
  ids = {
    logTable: logicalId(statefulStack, statefulStack.logTable.node.defaultChild),
    leaseTable: logicalId(statefulStack, statefulStack.leaseTable.node.defaultChild),
    bucket: logicalId(statefulStack, statefulStack.segmentBucket.node.defaultChild),
  };
}

function logicalId(stack: Stack, child: unknown): string {
  return stack.getLogicalId(child as CfnResource);
}

function functionOf(role: Role) {
  return role === 'maintenanceSchedule' ? apiStack.maintenanceSchedule : apiStack.functions[role];
}

function functionId(role: Role): string {
  return logicalId(apiStack, functionOf(role).node.defaultChild);
}

function functionProps(role: Role): Json {
  const resource = apiResources[functionId(role)];
  if (resource?.Type !== 'AWS::Lambda::Function') throw new Error(`no function for ${role}`);
  return resource.Properties;
}

/**
 * Renders a CloudFormation value of the API stack as a readable string, following cross-stack imports into
 * the stateful stack's outputs: `{ "Fn::ImportValue": … }` of the log table's ARN becomes `LogTableXXXX.Arn`,
 * a `Fn::Join` of the bucket ARN and `/spill/*` becomes `SegmentBucketXXXX.Arn/spill/*`.
 */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if ('Fn::ImportValue' in v) {
    const name = v['Fn::ImportValue'];
    const outputs = stateful.toJSON().Outputs as Record<string, { Value: unknown; Export?: { Name: string } }>;
    const output = Object.values(outputs).find((o) => o.Export?.Name === name);
    if (output === undefined) throw new Error(`no stateful export named ${String(name)}`);
    return render(output.Value);
  }
  if ('Ref' in v) return String(v.Ref);
  if ('Fn::GetAtt' in v) return (v['Fn::GetAtt'] as string[]).join('.');
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  return JSON.stringify(value);
}

/** The statements of a function role's policies (all Allow: the functions' roles carry no Deny). */
function statementsOf(role: Role): Statement[] {
  const roleRef = (functionProps(role).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const statements: Statement[] = [];
  for (const resource of Object.values(apiResources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles = resource.Properties.Roles as { Ref: string }[];
    if (!roles.some((r) => r.Ref === roleRef)) continue;
    statements.push(...(resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  return statements;
}

/** The actions a function's role is allowed, per rendered resource (e.g. `LogTableXXXX.Arn`). */
function grantsOf(role: Role): Map<string, Set<string>> {
  const grants = new Map<string, Set<string>>();
  for (const statement of statementsOf(role)) {
    expect(statement.Effect).toBe('Allow');
    const actions = ([] as string[]).concat(statement.Action);
    const resources = ([] as unknown[]).concat(statement.Resource).map(render);
    for (const r of resources) {
      const set = grants.get(r) ?? new Set<string>();
      for (const a of actions) set.add(a);
      grants.set(r, set);
    }
  }
  return grants;
}

/** The rendered ARN of the log group a function writes to (its LoggingConfig). */
function logGroupArn(role: Role): string {
  return `${(functionProps(role).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref}.Arn`;
}

const ddb = (action: string) => `dynamodb:${action}`;

const tableArn = (id: string) => `${id}.Arn`;
const objectsArn = (pattern: string) => `${ids.bucket}.Arn/${pattern}`;

describe('StatefulStack', () => {
  it('creates the log and lease tables with the shared pk/sk schema, on-demand, TTL on expiresAt and PITR', () => {
    stateful.resourceCountIs('AWS::DynamoDB::Table', 2);
    for (const id of [ids.logTable, ids.leaseTable]) {
      const table = stateful.toJSON().Resources[id];
      expect(table.Type).toBe('AWS::DynamoDB::Table');
      expect(table.Properties).toMatchObject({
        KeySchema: [
          { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: SORT_KEY, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: SORT_KEY, AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // AWS_MANAGED: SSE on with no key of our own = KMS with the aws/dynamodb key.
        SSESpecification: { SSEEnabled: true },
      });
      expect(table.Properties.SSESpecification).not.toHaveProperty('KMSMasterKeyId');
    }
  });

  it('protects both tables from deletion', () => {
    for (const id of [ids.logTable, ids.leaseTable]) {
      expect(stateful.toJSON().Resources[id].Properties).toMatchObject({ DeletionProtectionEnabled: true });
    }
  });

  it('turns ACLs off on the bucket, so no object can be shared by an ACL', () => {
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
  });

  it('retains tables and bucket when they leave the stack, and fixes no physical names', () => {
    for (const id of [ids.logTable, ids.leaseTable, ids.bucket]) {
      const resource = stateful.toJSON().Resources[id];
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(resource.Properties).not.toHaveProperty('TableName');
      expect(resource.Properties).not.toHaveProperty('BucketName');
    }
  });

  it('encrypts the segment bucket, blocks all public access and keeps versioning off', () => {
    stateful.resourceCountIs('AWS::S3::Bucket', 1);
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: Match.absent(),
    });
  });

  it('denies every request to the bucket that does not use TLS', () => {
    stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires segments after 400 days as a backstop, aborts stale multipart uploads, and never expires spilled batches', () => {
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'segments/', ExpirationInDays: 400, Status: 'Enabled' }),
        ]),
      },
    });
    // A spilled batch is referenced by its hot item until it is tiered; expiring it by age could lose records.
    const [bucket] = Object.values(stateful.findResources('AWS::S3::Bucket'));
    const rules = (bucket as { Properties: { LifecycleConfiguration: { Rules: Array<{ Prefix?: string }> } } }).Properties
      .LifecycleConfiguration.Rules;
    expect(rules.filter((r) => r.Prefix === 'spill/')).toEqual([]);
  });

  it('expires client uploads after a day: nothing references an object under upload/', () => {
    stateful.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-uploads', Prefix: 'upload/', ExpirationInDays: 1, Status: 'Enabled' })]),
      },
    });
  });
});

describe('ApiStack functions', () => {
  it('creates one function per FUNCTIONS entry plus the scheduled maintenance function, and nothing else', () => {
    api.resourceCountIs('AWS::Lambda::Function', Object.keys(FUNCTIONS).length + 1);
  });

  it.each(ROLES)('runs %s on arm64 with the newest Node.js runtime and its spec from the route table', (role) => {
    const spec = FUNCTIONS[role === 'maintenanceSchedule' ? 'maintenance' : role];
    const props = functionProps(role);
    expect(props).toMatchObject({
      Architectures: ['arm64'],
      Runtime: 'nodejs24.x',
      Handler: role === 'maintenanceSchedule' ? 'index.scheduledHandler' : 'index.handler',
      MemorySize: spec.memoryMb,
      Timeout: spec.timeoutSeconds,
    });
    expect(props.Description).toContain(spec.description);
    expect(props).not.toHaveProperty('FunctionName');
  });

  it.each(ROLES)('gives %s the names of both tables and the bucket in its environment', (role) => {
    const variables = (functionProps(role).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(render(variables[ENV.logTable])).toBe(ids.logTable);
    expect(render(variables[ENV.leaseTable])).toBe(ids.leaseTable);
    expect(render(variables[ENV.segmentBucket])).toBe(ids.bucket);
    expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it.each(ROLES)('keeps the logs of %s for one month', (role) => {
    const logGroup = (functionProps(role).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    expect(apiResources[logGroup]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
    });
  });

  it('bundles each entry as an ESM module with a require shim, the AWS SDK inside, and a source map', () => {
    const assembly = app.synth();
    for (const role of ROLES) {
      const assetPath = apiResources[functionId(role)]?.Metadata?.['aws:asset:path'];
      expect(typeof assetPath).toBe('string');
      const dir = join(assembly.directory, assetPath as string);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire } from 'node:module';")).toBe(true);
      const exportName = role === 'maintenanceSchedule' ? 'scheduledHandler' : 'handler';
      expect(code).toMatch(new RegExp(`export\\s*\\{[^}]*\\b${exportName}\\b[^}]*\\}`));
      // externalModules: [] — the SDK is bundled, never imported from the runtime.
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    }
  });
});

describe('ApiStack least-privilege grants', () => {

  /**
   * Every action each role is allowed, per resource, written out in full (not derived from ACCESS), from what
   * each function's code calls (see ACCESS in infra/api-stack.ts for the calls).
   */
  const expected = (): Record<Role, Record<string, string[]>> => {
    const cold = {
      [objectsArn('segments/*')]: ['s3:GetObject'],
      [objectsArn('spill/*')]: ['s3:GetObject'],
      [`${ids.bucket}.Arn`]: ['s3:ListBucket'],
    };
    const maintenance = {
      [tableArn(ids.logTable)]: ['BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'].map(ddb),
      // Group expiry: no PutItem (it never writes a member or a lease); the lag sweep after each scheduled pass
      // (lib/groups/group-lag.ts): groups read, the oldest unread record read, tiered or not.
      [tableArn(ids.leaseTable)]: ['BatchWriteItem', 'DeleteItem', 'GetItem', 'Query', 'UpdateItem'].map(ddb),
      [objectsArn('segments/*')]: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      [objectsArn('spill/*')]: ['s3:DeleteObject', 's3:GetObject'],
      [`${ids.bucket}.Arn`]: ['s3:ListBucket'],
    };
    return {
      topics: { [tableArn(ids.logTable)]: ['DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'].map(ddb) },
      produce: {
        [tableArn(ids.logTable)]: ['ConditionCheckItem', 'GetItem', 'PutItem', 'Query'].map(ddb),
        [objectsArn('spill/*')]: ['s3:PutObject'],
        // Presigned upload PUTs carry this role's permission; an append GETs the upload it names.
        [objectsArn('upload/*')]: ['s3:GetObject', 's3:PutObject'],
      },
      fetch: { [tableArn(ids.logTable)]: ['GetItem', 'Query'].map(ddb), ...cold },
      groups: {
        [tableArn(ids.logTable)]: ['GetItem', 'Query'].map(ddb),
        [tableArn(ids.leaseTable)]: ['BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'].map(ddb),
        ...cold,
      },
      shareGroups: {
        [tableArn(ids.logTable)]: ['ConditionCheckItem', 'GetItem', 'PutItem', 'Query'].map(ddb),
        [tableArn(ids.leaseTable)]: ['BatchWriteItem', 'DeleteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'].map(ddb),
        [objectsArn('segments/*')]: ['s3:GetObject'],
        [objectsArn('spill/*')]: ['s3:GetObject', 's3:PutObject'],
        [`${ids.bucket}.Arn`]: ['s3:ListBucket'],
      },
      maintenance,
      maintenanceSchedule: maintenance,
    };
  };

  it.each(ROLES)('allows %s exactly the item actions and object prefixes its code uses, and its own log group', (role) => {
    const grants = grantsOf(role);
    const actual = Object.fromEntries([...grants].map(([resource, actions]) => [resource, [...actions].sort()]));
    expect(actual).toEqual({
      ...expected()[role],
      [logGroupArn(role)]: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    });
  });

  it.each(ROLES)('attaches no managed policy to the role of %s (no AWSLambdaBasicExecutionRole)', (role) => {
    const roleId = (functionProps(role).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(apiResources[roleId]?.Type).toBe('AWS::IAM::Role');
    expect(apiResources[roleId]?.Properties).not.toHaveProperty('ManagedPolicyArns');
    expect(apiResources[roleId]?.Properties).not.toHaveProperty('Policies');
  });

  it('lets only the maintenance functions delete objects', () => {
    for (const role of ROLES) {
      const deletes = [...grantsOf(role).values()].some((actions) => [...actions].some((a) => a.startsWith('s3:Delete')));
      expect(deletes, role).toBe(role === 'maintenance' || role === 'maintenanceSchedule');
    }
  });

  it.each(['fetch', 'groups', 'shareGroups', 'maintenance', 'maintenanceSchedule'] as const)(
    'limits the bucket listing of %s to the segments/ and spill/ prefixes',
    (role) => {
      const listing = statementsOf(role).filter((st) => ([] as string[]).concat(st.Action).includes('s3:ListBucket'));
      expect(listing).toHaveLength(1);
      expect(listing[0]?.Condition).toEqual({ StringLike: { 's3:prefix': ['segments/*', 'spill/*'] } });
    },
  );

  it('never allows Scan, stream reads, table administration or a wildcard action', () => {
    for (const role of ROLES) {
      for (const actions of grantsOf(role).values()) {
        for (const action of actions) {
          expect(action, role).not.toMatch(/\*|Scan|GetRecords|GetShardIterator|DescribeStream|DescribeTable|CreateTable/);
        }
      }
    }
  });
});

describe('ApiStack HTTP API', () => {
  it('creates exactly one route per ROUTES entry', () => {
    api.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    const keys = Object.values(api.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(keys.sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it('requires IAM authorization on every route', () => {
    const routes = Object.values(api.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes).toHaveLength(ROUTES.length);
    for (const route of routes) {
      expect(route.Properties.AuthorizationType, route.Properties.RouteKey).toBe('AWS_IAM');
    }
  });

  it.each(ROUTES.map((r) => [routeKey(r), r.function] as const))(
    'sends %s to the %s function through a payload 2.0 Lambda proxy integration',
    (key, fn) => {
      const route = Object.values(api.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: key } }));
      expect(route).toHaveLength(1);
      const target = route[0]?.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
      expect(target['Fn::Join'][1][0]).toBe('integrations/');
      const integration = apiResources[target['Fn::Join'][1][1].Ref];
      expect(integration).toMatchObject({
        Type: 'AWS::ApiGatewayV2::Integration',
        Properties: {
          IntegrationType: 'AWS_PROXY',
          PayloadFormatVersion: '2.0',
          IntegrationUri: { 'Fn::GetAtt': [functionId(fn), 'Arn'] },
        },
      });
    },
  );

  it('lets only this API invoke each routed function', () => {
    const apiId = logicalId(apiStack, apiStack.httpApi.node.defaultChild);
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      api.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [functionId(name), 'Arn'] },
        Principal: 'apigateway.amazonaws.com',
        SourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: apiId }])] },
      });
    }
  });

  it('throttles the stage at 1,000 requests per second with a burst of 500 by default', () => {
    api.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    api.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 500 },
    });
  });

  it('keeps the default stage at its construct path, so a deployed stage is updated rather than replaced', () => {
    expect(apiStack.stage.node.path).toBe('Test-Api/HttpApi/DefaultStage');
  });

  it('writes a JSON access log line per request with the caller, route, status, latencies and request id', () => {
    const [stage] = Object.values(api.findResources('AWS::ApiGatewayV2::Stage'));
    const settings = stage?.Properties.AccessLogSettings as { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    const line = JSON.parse(settings.Format) as Record<string, string>;
    expect(line).toMatchObject({
      requestId: '$context.requestId',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLatencyMs: '$context.responseLatency',
      integrationLatencyMs: '$context.integrationLatency',
      callerArn: '$context.identity.userArn',
      caller: '$context.identity.caller',
      callerAccountId: '$context.identity.accountId',
    });
    // Every value is quoted, so a missing one ('-') still leaves valid JSON; none is text a caller controls.
    expect(Object.values(line).every((v) => /^\$context\.[a-zA-Z.]+$/.test(v))).toBe(true);
    expect(Object.values(line)).not.toContain('$context.path');
    expect(Object.values(line)).not.toContain('$context.identity.userAgent');
    expect(apiResources[settings.DestinationArn['Fn::GetAtt'][0]]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
    });
  });

  it('outputs the API URL', () => {
    const apiId = logicalId(apiStack, apiStack.httpApi.node.defaultChild);
    api.hasOutput('*', { Value: { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] } });
  });
});

describe('ApiStack maintenance schedule', () => {
  it('runs the maintenance pass every minute through the scheduledHandler function', () => {
    api.resourceCountIs('AWS::Events::Rule', 1);
    api.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId('maintenanceSchedule'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      ],
    });
    api.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [functionId('maintenanceSchedule'), 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it("retries no failed pass: Lambda's own asynchronous retries are off too, and stale ticks expire", () => {
    api.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    api.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId('maintenanceSchedule') },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });
});

describe('StatefulStack props', () => {
  it('refuses a segment backstop that would expire segments still within the longest topic retention', () => {
    expect(() => new StatefulStack(new App(), 'Data', { segmentExpirationDays: 365 })).toThrow(
      /segmentExpirationDays/,
    );
    expect(() => new StatefulStack(new App(), 'Data', { segmentExpirationDays: 366 })).not.toThrow();
  });
});

/**
 * Stacks synthesized without bundling (the CLI's `aws:cdk:bundling-stacks`) nor the built-in template validation
 * (both run once, in beforeAll): for tests of props alone.
 */
function unbundledApi(props: Partial<ApiStackProps> = {}): ApiStack {
  const other = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const data = new StatefulStack(other, 'Data');
  return new ApiStack(other, 'Api', {
    logTable: data.logTable,
    leaseTable: data.leaseTable,
    segmentBucket: data.segmentBucket,
    ...props,
  });
}

describe('ApiStack props', () => {
  it('sets the stage throttling from throttleRateLimit and throttleBurstLimit', () => {
    Template.fromStack(unbundledApi({ throttleRateLimit: 50, throttleBurstLimit: 20 })).hasResourceProperties(
      'AWS::ApiGatewayV2::Stage',
      { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 20 } },
    );
  });

  it('refuses a throttle that is not positive', () => {
    expect(() => unbundledApi({ throttleRateLimit: 0 })).toThrow(/throttleRateLimit/);
    expect(() => unbundledApi({ throttleBurstLimit: 1.5 })).toThrow(/throttleBurstLimit/);
  });

  it('reserves concurrency only for the functions named in reservedConcurrency', () => {
    const stack = unbundledApi({ reservedConcurrency: { produce: 50, maintenanceSchedule: 2 } });
    const template = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: Json }>;
    const reserved = (fn: { node: { defaultChild?: unknown } }) =>
      template[logicalId(stack, fn.node.defaultChild)]?.Properties.ReservedConcurrentExecutions;
    expect(reserved(stack.functions.produce)).toBe(50);
    expect(reserved(stack.maintenanceSchedule)).toBe(2);
    expect(reserved(stack.functions.fetch)).toBeUndefined();
    expect(reserved(stack.functions.maintenance)).toBeUndefined();
  });

  it('refuses a reserved concurrency that is not a positive integer', () => {
    expect(() => unbundledApi({ reservedConcurrency: { fetch: 0 } })).toThrow(/reservedConcurrency.fetch/);
  });

  it('refuses a negative tierAfterMs', () => {
    const other = new App();
    const data = new StatefulStack(other, 'Data');
    expect(
      () =>
        new ApiStack(other, 'Api', {
          logTable: data.logTable,
          leaseTable: data.leaseTable,
          segmentBucket: data.segmentBucket,
          tierAfterMs: -1,
        }),
    ).toThrow(/tierAfterMs/);
  });
});
