import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApiStack } from '../../infra/api-stack.js';
import { StatefulStack } from '../../infra/stateful-stack.js';
import { evaluate, type Decision, type PolicyStatement } from '../support/iam-policy.js';

/*
 * The grant methods of ApiStack, as a platform team uses them (README "Security"): roles in a stack of their
 * own, granted on the API of the shardlog stacks. The roles' synthesized policies are rendered with a fixed
 * partition, region, account and API id, and evaluated against request ARNs with the IAM model of
 * test/support/iam-policy.ts. test/unit/infra/grants.test.ts covers every route and names at random; this file
 * proves the CDK statements are those.
 */

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const API_ID = 'a1b2c3d4e5';
const INVOKE = 'execute-api:Invoke';

let policies: Record<'producer' | 'consumer' | 'reader' | 'operator' | 'twoJobs', PolicyStatement[]>;
let api: ApiStack;

beforeAll(() => {
  // No bundling and no built-in template validation (seconds of WebAssembly): this file reads IAM policies only.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const data = new StatefulStack(app, 'Shardlog-Stateful');
  api = new ApiStack(app, 'Shardlog-Api', {
    logTable: data.logTable,
    leaseTable: data.leaseTable,
    segmentBucket: data.segmentBucket,
  });
  const teams = new Stack(app, 'Teams');
  const role = (id: string) => new iam.Role(teams, id, { assumedBy: new iam.AccountRootPrincipal() });
  const producer = role('Checkout');
  const consumer = role('Billing');
  const reader = role('Audit');
  const operator = role('Operator');
  const twoJobs = role('Fulfilment');
  api.grantProduce(producer, 'orders');
  api.grantConsume(consumer, 'orders', 'billing');
  api.grantRead(reader, 'orders');
  api.grantAdmin(operator);
  api.grantConsume(twoJobs, 'orders', 'fulfilment');
  api.grantProduce(twoJobs, 'shipments');

  const template = Template.fromStack(teams).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const apiRef = teams.resolve(api.httpApi.apiId) as unknown;
  const statementsOf = (r: iam.Role): PolicyStatement[] => {
    const roleId = teams.getLogicalId(r.node.defaultChild as iam.CfnRole);
    return Object.values(template)
      .filter((res) => res.Type === 'AWS::IAM::Policy' && (res.Properties.Roles as { Ref: string }[]).some((x) => x.Ref === roleId))
      .flatMap((res) => (res.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
      .map((st) => ({
        Effect: st.Effect as 'Allow' | 'Deny',
        Action: st.Action as string | string[],
        Resource: ([] as unknown[]).concat(st.Resource).map((value) => render(value, apiRef)),
      }));
  };
  policies = {
    producer: statementsOf(producer),
    consumer: statementsOf(consumer),
    reader: statementsOf(reader),
    operator: statementsOf(operator),
    twoJobs: statementsOf(twoJobs),
  };
});

/** A rendered resource: pseudo parameters and the API id (a cross-stack import) replaced by fixed values. */
function render(value: unknown, apiRef: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (JSON.stringify(v) === JSON.stringify(apiRef) || 'Fn::ImportValue' in v) return API_ID;
  if ('Ref' in v) {
    const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT };
    const out = pseudo[String(v.Ref)];
    if (out === undefined) throw new Error(`unexpected Ref ${String(v.Ref)}`);
    return out;
  }
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => render(p, apiRef)).join(separator);
  }
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

const arn = (method: string, path: string, apiId = API_ID) =>
  `arn:aws:execute-api:${REGION}:${ACCOUNT}:${apiId}/$default/${method}${path}`;
const decide = (who: keyof typeof policies, method: string, path: string): Decision =>
  evaluate(policies[who], INVOKE, arn(method, path));

describe('ApiStack.grantProduce(role, "orders")', () => {
  it('allows POST /v1/topics/orders/records', () => {
    expect(decide('producer', 'POST', '/v1/topics/orders/records')).toBe('allow');
  });

  it('denies orders2, orders/../x, other methods, group routes and admin routes', () => {
    for (const [method, path] of [
      ['POST', '/v1/topics/orders2/records'],
      ['POST', '/v1/topics/orders/../x/records'],
      ['POST', '/v1/topics/orders/../orders2/records'],
      ['GET', '/v1/topics/orders/records'],
      ['DELETE', '/v1/topics/orders'],
      ['POST', '/v1/groups/billing/members'],
      ['POST', '/v1/groups/billing/members/m/fetch'],
      ['POST', '/v1/admin/maintenance'],
      ['POST', '/v1/topics'],
    ] as const) {
      expect(decide('producer', method, path), `${method} ${path}`).not.toBe('allow');
    }
  });

  it('states each allowed route as an exact ARN, with no wildcard in it', () => {
    const allowed = policies.producer.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Resource as string[]);
    expect(allowed.sort()).toEqual([
      arn('GET', '/v1/health'),
      arn('GET', '/v1/topics/orders'),
      arn('POST', '/v1/topics/orders/records'),
      arn('POST', '/v1/topics/orders/uploads'),
    ]);
  });
});

describe('ApiStack.grantConsume(role, "orders", "billing")', () => {
  it('allows subscribing, joining, heartbeating, fetching, committing, leaving and describing for billing', () => {
    for (const [method, path] of [
      ['POST', '/v1/groups/billing/members'],
      ['POST', '/v1/groups/billing/members/worker-1/heartbeat'],
      ['POST', '/v1/groups/billing/members/worker-1/fetch'],
      ['POST', '/v1/groups/billing/members/worker-1/commit'],
      ['DELETE', '/v1/groups/billing/members/worker-1'],
      ['GET', '/v1/groups/billing'],
      ['GET', '/v1/topics/orders'],
    ] as const) {
      expect(decide('consumer', method, path), `${method} ${path}`).toBe('allow');
    }
  });

  it('denies other groups, wildcard climbs out of billing, plain fetch, produce, resets and admin routes', () => {
    for (const [method, path] of [
      ['POST', '/v1/groups/billing2/members'],
      ['POST', '/v1/groups/other/members/worker-1/fetch'],
      ['POST', '/v1/groups/billing/members/x/../../other/members/y/fetch'],
      ['GET', '/v1/topics/orders/partitions/0/records'],
      ['POST', '/v1/topics/orders/records'],
      ['POST', '/v1/groups/billing/offsets'],
      ['GET', '/v1/groups'],
      ['POST', '/v1/admin/maintenance'],
    ] as const) {
      expect(decide('consumer', method, path), `${method} ${path}`).not.toBe('allow');
    }
  });
});

describe('ApiStack.grantRead(role, "orders")', () => {
  it('allows a plain fetch of any partition of orders and nothing of another topic', () => {
    expect(decide('reader', 'GET', '/v1/topics/orders/partitions/3/records')).toBe('allow');
    expect(decide('reader', 'GET', '/v1/topics/orders')).toBe('allow');
    expect(decide('reader', 'GET', '/v1/topics/orders2/partitions/3/records')).not.toBe('allow');
    expect(decide('reader', 'GET', '/v1/topics/orders/partitions/3/../../../x/partitions/0/records')).toBe('explicit-deny');
    expect(decide('reader', 'POST', '/v1/topics/orders/records')).not.toBe('allow');
  });
});

describe('ApiStack.grantAdmin(role)', () => {
  it('allows every route of this API and nothing of another API', () => {
    for (const [method, path] of [
      ['POST', '/v1/admin/maintenance'],
      ['POST', '/v1/topics'],
      ['DELETE', '/v1/topics/orders'],
      ['POST', '/v1/groups/billing/offsets'],
      ['GET', '/v1/groups'],
      ['POST', '/v1/topics/orders/records'],
    ] as const) {
      expect(decide('operator', method, path), `${method} ${path}`).toBe('allow');
    }
    expect(evaluate(policies.operator, INVOKE, arn('POST', '/v1/admin/maintenance', 'otherapi'))).toBe('implicit-deny');
  });
});

describe('ApiStack grants on one role', () => {
  it('add up without widening: consuming orders as fulfilment and producing to shipments', () => {
    expect(decide('twoJobs', 'POST', '/v1/groups/fulfilment/members')).toBe('allow');
    expect(decide('twoJobs', 'POST', '/v1/topics/shipments/records')).toBe('allow');
    expect(decide('twoJobs', 'POST', '/v1/topics/orders/records')).not.toBe('allow');
    expect(decide('twoJobs', 'POST', '/v1/groups/billing/members')).not.toBe('allow');
  });

  it('refuse a name that breaks the API name rule, before anything is granted', () => {
    const role = new iam.Role(new Stack(new App(), 'Other'), 'R', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => api.grantProduce(role, 'orders*')).toThrow(/topic must be a name/);
    expect(() => api.grantConsume(role, 'orders', '..')).toThrow(/group must be a name/);
    expect(() => api.grantRead(role, 'a/b')).toThrow(/topic must be a name/);
  });
});
