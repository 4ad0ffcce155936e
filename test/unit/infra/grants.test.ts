import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROUTES, type DeployedRouteSpec, type HttpMethod, type RouteGrant } from '../../../functions/routes.js';
import {
  ADMIN_RESOURCE,
  FREE_PARAMS,
  GRANT_PARAMS,
  grantResources,
  type GrantNames,
} from '../../../infra/grants.js';
import { isValidName } from '../../../lib/names.js';
import { evaluate, wildcardMatch, type PolicyStatement } from '../../support/iam-policy.js';

/*
 * Grants as code, evaluated: the statements infra/grants.ts describes are checked against request ARNs with a
 * model of IAM's evaluation (test/support/iam-policy.ts: `*` spans `/`, explicit Deny wins). The same
 * statements are what ApiStack attaches to a role (test/infra/api-grants.test.ts checks the template).
 */

const API = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/';
const STAGE = '$default';
const INVOKE = 'execute-api:Invoke';

/**
 * The routes docs/api.md v1.1 adds, tagged as they are to be added to functions/routes.ts (their handlers do not exist
 * yet). Listing them here proves the tags put each into the right grant before it ships.
 */
const V1_1_ROUTES: readonly DeployedRouteSpec[] = [
  { method: 'PUT', path: '/v1/groups/{group}/subscriptions/{topic}', function: 'groups', grants: ['consume'] },
  { method: 'DELETE', path: '/v1/groups/{group}/subscriptions/{topic}', function: 'groups', grants: ['consume'] },
  { method: 'DELETE', path: '/v1/groups/{group}', function: 'groups', grants: [] },
  { method: 'PUT', path: '/v1/share-groups/{group}/subscriptions/{topic}', function: 'groups', grants: ['shareConsume'] },
  { method: 'DELETE', path: '/v1/share-groups/{group}/subscriptions/{topic}', function: 'groups', grants: ['shareConsume'] },
  { method: 'POST', path: '/v1/share-groups/{group}/fetch', function: 'groups', grants: ['shareConsume'] },
  { method: 'POST', path: '/v1/share-groups/{group}/acks', function: 'groups', grants: ['shareConsume'] },
  { method: 'GET', path: '/v1/share-groups/{group}', function: 'groups', grants: ['shareConsume'] },
  // Sets the group's dead-letter topic, i.e. where its records get written: an operator's decision.
  { method: 'PATCH', path: '/v1/share-groups/{group}', function: 'groups', grants: [] },
  { method: 'DELETE', path: '/v1/share-groups/{group}', function: 'groups', grants: [] },
  { method: 'GET', path: '/v1/share-groups', function: 'groups', grants: [] },
];
const routeId = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
const ALL_ROUTES: readonly DeployedRouteSpec[] = [
  ...ROUTES,
  ...V1_1_ROUTES.filter((v) => !ROUTES.some((r) => routeId(r) === routeId(v))),
];

/** The identity policy a grant puts on a role, as ApiStack writes it. */
function policy(grant: RouteGrant | 'admin', names: GrantNames = {}, routes = ALL_ROUTES): PolicyStatement[] {
  if (grant === 'admin') return [{ Effect: 'Allow', Action: INVOKE, Resource: `${API}${STAGE}/${ADMIN_RESOURCE}` }];
  const { allow, deny } = grantResources(grant, names, routes);
  return [
    { Effect: 'Allow', Action: INVOKE, Resource: allow.map((path) => `${API}${STAGE}/${path}`) },
    { Effect: 'Deny', Action: INVOKE, Resource: deny.map((pattern) => `${API}${pattern}`) },
  ];
}

/** The request ARN API Gateway authorizes for `METHOD /path`. */
const request = (method: string, path: string) => `${API}${STAGE}/${method}${path}`;
const decide = (statements: PolicyStatement[], method: string, path: string) =>
  evaluate(statements, INVOKE, request(method, path));

describe('the IAM policy model', () => {
  it('lets * match any run of characters, slashes included, and ? exactly one', () => {
    expect(wildcardMatch('a/*/c', 'a/b/c')).toBe(true);
    expect(wildcardMatch('a/*/c', 'a/b/x/y/c')).toBe(true);
    expect(wildcardMatch('a/*', 'a/')).toBe(true);
    expect(wildcardMatch('orders*', 'orders2/records')).toBe(true);
    expect(wildcardMatch('a?c', 'abc')).toBe(true);
    expect(wildcardMatch('a?c', 'ac')).toBe(false);
    expect(wildcardMatch('a/b', 'a/B')).toBe(false);
    expect(wildcardMatch('execute-api:invoke', 'execute-api:Invoke', true)).toBe(true);
  });

  it('matches a pattern without wildcards only against itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '/', '.') }), fc.string({ unit: fc.constantFrom('a', 'b', '/', '.') }), (p, v) => {
        expect(wildcardMatch(p, v)).toBe(p === v);
      }),
    );
  });

  it('lets an explicit Deny win over any Allow, and denies implicitly what nothing allows', () => {
    const statements: PolicyStatement[] = [
      { Effect: 'Allow', Action: 'execute-api:*', Resource: `${API}*` },
      { Effect: 'Deny', Action: INVOKE, Resource: `${API}*/../*` },
    ];
    expect(decide(statements, 'GET', '/v1/health')).toBe('allow');
    expect(decide(statements, 'GET', '/v1/a/../b')).toBe('explicit-deny');
    expect(evaluate(statements, INVOKE, 'arn:aws:execute-api:eu-west-1:123456789012:other/$default/GET/x')).toBe(
      'implicit-deny',
    );
  });
});

describe('grantProduce(role, "orders")', () => {
  const statements = policy('produce', { topic: 'orders' });

  it('allows producing to orders, describing it and the health check', () => {
    expect(decide(statements, 'POST', '/v1/topics/orders/records')).toBe('allow');
    expect(decide(statements, 'GET', '/v1/topics/orders')).toBe('allow');
    expect(decide(statements, 'GET', '/v1/health')).toBe('allow');
  });

  it('denies other topics, even ones whose name starts with orders', () => {
    for (const path of ['/v1/topics/orders2/records', '/v1/topics/order/records', '/v1/topics/ORDERS/records', '/v1/topics/x/records']) {
      expect(decide(statements, 'POST', path), path).not.toBe('allow');
    }
  });

  it('denies paths that climb out of orders or hide a segment behind an escape', () => {
    for (const path of [
      '/v1/topics/orders/../x/records',
      '/v1/topics/orders/../../v1/topics/x/records',
      '/v1/topics/orders/./records',
      '/v1/topics/orders//records',
      '/v1/topics/orders%2F..%2Fx/records',
      '/v1/topics/%6frders/records',
      '/v1/topics/orders/records/',
    ]) {
      expect(decide(statements, 'POST', path), path).not.toBe('allow');
    }
  });

  it('denies other methods on the produce path', () => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE']) {
      expect(decide(statements, method, '/v1/topics/orders/records'), method).not.toBe('allow');
    }
    expect(decide(statements, 'DELETE', '/v1/topics/orders')).not.toBe('allow');
    expect(decide(statements, 'PATCH', '/v1/topics/orders')).not.toBe('allow');
  });

  it('denies reading, group routes and admin routes', () => {
    expect(decide(statements, 'GET', '/v1/topics/orders/partitions/0/records')).not.toBe('allow');
    expect(decide(statements, 'POST', '/v1/groups/billing/members')).not.toBe('allow');
    expect(decide(statements, 'PUT', '/v1/groups/billing/subscriptions/orders')).not.toBe('allow');
    expect(decide(statements, 'POST', '/v1/admin/maintenance')).not.toBe('allow');
    expect(decide(statements, 'POST', '/v1/topics')).not.toBe('allow');
    expect(decide(statements, 'GET', '/v1/topics')).not.toBe('allow');
    expect(decide(statements, 'GET', '/v1/groups')).not.toBe('allow');
  });
});

describe('grantConsume(role, "orders", "billing")', () => {
  const statements = policy('consume', { topic: 'orders', group: 'billing' });

  it('allows subscribing billing to orders, joining, heartbeating, fetching, committing, leaving and describing', () => {
    const allowed: Array<[HttpMethod, string]> = [
      ['PUT', '/v1/groups/billing/subscriptions/orders'],
      ['DELETE', '/v1/groups/billing/subscriptions/orders'],
      ['POST', '/v1/groups/billing/members'],
      ['POST', '/v1/groups/billing/members/worker-1/heartbeat'],
      ['POST', '/v1/groups/billing/members/worker-1/fetch'],
      ['POST', '/v1/groups/billing/members/worker-1/commit'],
      ['DELETE', '/v1/groups/billing/members/worker-1'],
      ['GET', '/v1/groups/billing'],
      ['GET', '/v1/topics/orders'],
      ['GET', '/v1/health'],
    ];
    for (const [method, path] of allowed) expect(decide(statements, method, path), `${method} ${path}`).toBe('allow');
  });

  it('denies other groups and subscribing to other topics', () => {
    for (const [method, path] of [
      ['POST', '/v1/groups/billing2/members'],
      ['POST', '/v1/groups/other/members/worker-1/fetch'],
      ['GET', '/v1/groups/bill'],
      ['PUT', '/v1/groups/billing/subscriptions/payments'],
      ['PUT', '/v1/groups/billing/subscriptions/orders2'],
      ['PUT', '/v1/groups/other/subscriptions/orders'],
      ['GET', '/v1/topics/payments'],
    ] as const) {
      expect(decide(statements, method, path), `${method} ${path}`).not.toBe('allow');
    }
  });

  it('denies a member path that climbs from billing into another group through the member wildcard', () => {
    for (const path of [
      '/v1/groups/billing/members/x/../../other/members/y/fetch',
      '/v1/groups/billing/members/x/../../../groups/other/members/y/fetch',
      '/v1/groups/billing/members/./fetch',
      '/v1/groups/billing/members//fetch',
      '/v1/groups/billing/members/x%2F..%2F..%2Fother/fetch',
    ]) {
      expect(decide(statements, 'POST', path), path).not.toBe('allow');
    }
  });

  it('denies plain fetch, producing, resets, group deletion and admin routes', () => {
    for (const [method, path] of [
      ['GET', '/v1/topics/orders/partitions/0/records'],
      ['POST', '/v1/topics/orders/records'],
      ['POST', '/v1/groups/billing/offsets'],
      ['DELETE', '/v1/groups/billing'],
      ['GET', '/v1/groups'],
      ['POST', '/v1/admin/maintenance'],
      ['POST', '/v1/share-groups/billing/fetch'],
    ] as const) {
      expect(decide(statements, method, path), `${method} ${path}`).not.toBe('allow');
    }
  });
});

describe('grantRead(role, "orders")', () => {
  const statements = policy('read', { topic: 'orders' });

  it('allows a plain fetch of any partition of orders and describing it', () => {
    expect(decide(statements, 'GET', '/v1/topics/orders/partitions/0/records')).toBe('allow');
    expect(decide(statements, 'GET', '/v1/topics/orders/partitions/17/records')).toBe('allow');
    expect(decide(statements, 'GET', '/v1/topics/orders')).toBe('allow');
  });

  it('denies other topics, including through the partition wildcard', () => {
    for (const path of [
      '/v1/topics/orders2/partitions/0/records',
      '/v1/topics/payments/partitions/0/records',
      '/v1/topics/orders/partitions/0/../../../payments/partitions/0/records',
      '/v1/topics/orders/partitions/%2E%2E/records',
      '/v1/topics/orders/partitions//records',
    ]) {
      expect(decide(statements, 'GET', path), path).not.toBe('allow');
    }
  });

  it('denies producing, groups and admin routes', () => {
    expect(decide(statements, 'POST', '/v1/topics/orders/records')).not.toBe('allow');
    expect(decide(statements, 'POST', '/v1/groups/billing/members')).not.toBe('allow');
    expect(decide(statements, 'DELETE', '/v1/topics/orders')).not.toBe('allow');
    expect(decide(statements, 'POST', '/v1/admin/maintenance')).not.toBe('allow');
  });
});

describe('grantShareConsume(role, "orders", "workers") on the v1.1 share-group routes', () => {
  const statements = policy('shareConsume', { topic: 'orders', group: 'workers' });

  it('allows subscribing workers to orders, fetching, acknowledging and describing the share group', () => {
    for (const [method, path] of [
      ['PUT', '/v1/share-groups/workers/subscriptions/orders'],
      ['DELETE', '/v1/share-groups/workers/subscriptions/orders'],
      ['POST', '/v1/share-groups/workers/fetch'],
      ['POST', '/v1/share-groups/workers/acks'],
      ['GET', '/v1/share-groups/workers'],
      ['GET', '/v1/topics/orders'],
    ] as const) {
      expect(decide(statements, method, path), `${method} ${path}`).toBe('allow');
    }
  });

  it('denies other share groups, other topics, configuration and deletion', () => {
    for (const [method, path] of [
      ['POST', '/v1/share-groups/workers2/fetch'],
      ['PUT', '/v1/share-groups/workers/subscriptions/payments'],
      ['PATCH', '/v1/share-groups/workers'],
      ['DELETE', '/v1/share-groups/workers'],
      ['GET', '/v1/share-groups'],
      ['POST', '/v1/groups/workers/members'],
    ] as const) {
      expect(decide(statements, method, path), `${method} ${path}`).not.toBe('allow');
    }
  });
});

describe('grantAdmin(role)', () => {
  const statements = policy('admin');

  it('allows every route of the table, whatever the names', () => {
    for (const route of ALL_ROUTES) {
      const path = route.path.replace(/\{[^}]+\}/g, 'x');
      expect(decide(statements, route.method, path), routeId(route)).toBe('allow');
    }
  });

  it('allows nothing on another API', () => {
    expect(evaluate(statements, INVOKE, 'arn:aws:execute-api:eu-west-1:123456789012:other/$default/POST/v1/admin/maintenance')).toBe(
      'implicit-deny',
    );
  });
});

// ---------------------------------------------------------------------------------------------- properties

const NAME = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter(isValidName);
const SCOPED: readonly RouteGrant[] = ['produce', 'consume', 'read', 'shareConsume'];

/** A concrete request for a route: every parameter bound to a name from the pool (or a number for partitions). */
function requestFor(route: DeployedRouteSpec, pick: (param: string) => string) {
  const bindings: Record<string, string> = {};
  const path = route.path.replace(/\{([^}]+)\}/g, (_w, p: string) => (bindings[p] = pick(p)));
  return { method: route.method, path, bindings };
}

/** What a grant is meant to allow: routes tagged with it, whose topic and group (where present) are the granted ones. */
function intended(grant: RouteGrant, names: GrantNames, route: DeployedRouteSpec, bindings: Record<string, string>): boolean {
  if (!route.grants.includes(grant)) return false;
  return GRANT_PARAMS[grant].every((p) => !(p in bindings) || bindings[p] === names[p]);
}

describe('grants, for any names', () => {
  const scenario = fc.record({
    grant: fc.constantFrom(...SCOPED),
    topic: NAME,
    group: NAME,
    others: fc.array(NAME, { minLength: 1, maxLength: 3 }),
    partition: fc.nat({ max: 1023 }).map(String),
    member: NAME,
    route: fc.constantFrom(...ALL_ROUTES),
    choice: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  });

  it('allow exactly the tagged routes of the granted topic and group, on every route of the table', () => {
    fc.assert(
      fc.property(scenario, ({ grant, topic, group, others, partition, member, route, choice }) => {
        const names = { topic, group };
        const pool = { topic: [topic, ...others], group: [group, ...others] };
        let i = 0;
        const pick = (param: string): string => {
          const c = choice[i++ % choice.length]!;
          if (param === 'topic' || param === 'group') return pool[param][c % pool[param].length]!;
          return param === 'partition' ? partition : member;
        };
        const r = requestFor(route, pick);
        const decision = decide(policy(grant, names), r.method, r.path);
        expect(decision === 'allow', `${grant}(${topic}, ${group}) on ${r.method} ${r.path}`).toBe(
          intended(grant, names, route, r.bindings),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('deny an allowed request once its path carries a dot segment, an empty segment or an escape', () => {
    const mutation = fc.constantFrom(
      (s: string) => `${s}/..`,
      (s: string) => `${s}/../x`,
      (s: string) => `${s}/./x`,
      (s: string) => `/.${s}`,
      (s: string) => `${s}/`,
      (s: string) => `/${s}`,
      (s: string) => `${s}%2F..`,
      (s: string) => s.replace(/[A-Za-z]/, (ch) => `%${ch.charCodeAt(0).toString(16)}`),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...SCOPED),
        NAME,
        NAME,
        fc.nat(),
        fc.nat(),
        mutation,
        (grant, topic, group, which, at, mutate) => {
          const names = { topic, group };
          const routes = ALL_ROUTES.filter((route) => route.grants.includes(grant));
          const route = routes[which % routes.length]!;
          const r = requestFor(route, (p) => (p === 'topic' ? topic : p === 'group' ? group : p === 'partition' ? '0' : 'm'));
          expect(decide(policy(grant, names), r.method, r.path)).toBe('allow');
          const segments = r.path.split('/').slice(1);
          const k = at % segments.length;
          segments[k] = mutate(segments[k]!);
          const mutated = `/${segments.join('/')}`;
          if (mutated === r.path) return;
          expect(decide(policy(grant, names), r.method, mutated), `${r.method} ${mutated}`).not.toBe('allow');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('grant names and route tags', () => {
  it.each(['', '.', '..', 'a/b', 'orders*', 'ord?rs', 'a%2Fb', 'x'.repeat(201), 'a b', 'naïve'])(
    'refuses the name %j',
    (bad) => {
      expect(() => grantResources('produce', { topic: bad })).toThrow(/topic must be a name/);
      expect(() => grantResources('consume', { topic: 'orders', group: bad })).toThrow(/group must be a name/);
    },
  );

  it('refuses a grant without the names it needs', () => {
    expect(() => grantResources('consume', { topic: 'orders' })).toThrow(/group must be a name/);
    expect(() => grantResources('read', {})).toThrow(/topic must be a name/);
  });

  it('refuses to build a grant from a route whose topic or group the grant does not fix', () => {
    const leaky: DeployedRouteSpec = { method: 'GET', path: '/v1/groups/{group}', function: 'groups', grants: ['produce'] };
    expect(() => grantResources('produce', { topic: 'orders' }, [leaky])).toThrow(/does not fix \{group\}/);
  });

  it('tags every deployed route whose free parameters are the only ones its grants leave open', () => {
    for (const route of ALL_ROUTES) {
      for (const grant of route.grants) {
        const params = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
        const open = params.filter((p) => !(GRANT_PARAMS[grant] as readonly string[]).includes(p));
        expect(open.every((p) => FREE_PARAMS.includes(p)), `${routeId(route)} in ${grant}`).toBe(true);
      }
    }
  });
});
