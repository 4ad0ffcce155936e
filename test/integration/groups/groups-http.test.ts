import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, routeKey } from '../../../functions/routes.js';
import { groupsHandler } from '../../../functions/groups.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * The "Consumer groups" contract of API.md through the local API Gateway and the real `groups` Lambda handler,
 * against DynamoDB Local (real clock: no session expires during these tests).
 */
let server: TestLocalServer;

beforeAll(async () => {
  server = await startTestLocalServer();
});

afterAll(() => server?.stop());

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('consumer groups over HTTP', () => {
  it('serves every route the route table gives the groups function', async () => {
    const handler = groupsHandler(server.engine);
    for (const route of ROUTES.filter((r) => r.function === 'groups')) {
      const event = { routeKey: routeKey(route), rawPath: route.path, headers: {}, requestContext: { requestId: 'r' } };
      const response = await handler(event as never);
      // Whatever the answer to an empty request is, it is not "no route for …".
      const code = response.body ? JSON.parse(response.body).error?.code : undefined;
      expect(code, routeKey(route)).not.toBe('NOT_FOUND');
    }
  });

  it('joins, heartbeats, fetches, commits, describes, lists, resets and leaves', async () => {
    expect((await call('POST', '/v1/topics', { name: 'orders', partitions: 2 })).status).toBe(201);
    const produced = await call('POST', '/v1/topics/orders/records', {
      records: [0, 1, 2].map((i) => ({ value: { i }, partition: 0 })),
    });
    expect(produced.status).toBe(200);

    expect(await call('PUT', '/v1/groups/billing/subscriptions/orders')).toEqual({ status: 200, body: { group: 'billing', topic: 'orders' } });
    const joined = await call('POST', '/v1/groups/billing/members', { topics: ['orders'], sessionTimeoutMs: 9_000 });
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ memberId: expect.any(String), heartbeatIntervalMs: 3_000 });
    expect(joined.body.assignments).toEqual([
      { topic: 'orders', partition: 0, leaseToken: expect.any(String), committedOffset: null },
      { topic: 'orders', partition: 1, leaseToken: expect.any(String), committedOffset: null },
    ]);
    const member = joined.body.memberId as string;
    const token0 = joined.body.assignments[0].leaseToken as string;

    const beat = await call('POST', `/v1/groups/billing/members/${member}/heartbeat`);
    expect(beat.status).toBe(200);
    expect(beat.body.assignments[0].leaseToken).toBe(token0);

    const fetched = await call('POST', `/v1/groups/billing/members/${member}/fetch`, { limit: 10 });
    expect(fetched.status).toBe(200);
    expect(fetched.body.batches[0]).toMatchObject({ topic: 'orders', partition: 0, leaseToken: token0, nextOffset: 3, endOffset: 3 });
    expect(fetched.body.batches[0].records.map((r: { value: unknown }) => r.value)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);

    const committed = await call('POST', `/v1/groups/billing/members/${member}/commit`, {
      offsets: [{ topic: 'orders', partition: 0, offset: 2, leaseToken: token0 }],
    });
    expect(committed).toEqual({ status: 200, body: { results: [{ topic: 'orders', partition: 0, offset: 2, ok: true }] } });

    const described = await call('GET', '/v1/groups/billing');
    expect(described.status).toBe(200);
    expect(described.body.subscriptions).toEqual(['orders']);
    expect(described.body.members).toEqual([{ memberId: member, expiresAt: expect.any(Number), partitions: 2 }]);
    expect(described.body.partitions[0]).toEqual({ topic: 'orders', partition: 0, owner: member, committedOffset: 2, endOffset: 3, lag: 1 });
    expect((await call('GET', '/v1/groups')).body.groups).toContainEqual({ group: 'billing', members: 1 });

    const reset = await call('POST', '/v1/groups/billing/offsets', { topic: 'orders', partition: 0, to: 'earliest' });
    expect(reset).toEqual({ status: 200, body: { group: 'billing', offsets: [{ topic: 'orders', partition: 0, offset: 0 }] } });

    const fenced = await call('POST', `/v1/groups/billing/members/${member}/commit`, {
      offsets: [{ topic: 'orders', partition: 0, offset: 3, leaseToken: token0 }],
    });
    expect(fenced.status).toBe(409);
    expect(fenced.body.error).toMatchObject({ code: 'FENCED', retriable: false });
    expect(fenced.body.error.results).toEqual([
      expect.objectContaining({ topic: 'orders', partition: 0, offset: 3, ok: false, error: expect.objectContaining({ code: 'FENCED' }) }),
    ]);

    expect((await call('DELETE', `/v1/groups/billing/members/${member}`)).status).toBe(204);
    expect((await call('POST', `/v1/groups/billing/members/${member}/heartbeat`)).body.error.code).toBe('MEMBER_NOT_FOUND');
    expect((await call('GET', '/v1/groups/billing')).body.partitions.every((p: { owner: unknown }) => p.owner === null)).toBe(true);
  });

  it('answers bad requests with 4xx and the contract’s codes', async () => {
    expect((await call('POST', '/v1/groups/g/members', { topics: [] })).status).toBe(400);
    expect((await call('POST', '/v1/groups/g/members', { topics: ['t'], sessionTimeoutMs: 1_000 })).status).toBe(400);
    expect((await call('POST', '/v1/groups/g/members', { topics: ['t'], extra: 1 })).status).toBe(400);
    expect((await call('POST', '/v1/groups/g/members', { topics: ['no-such-topic'] })).body.error.code).toBe('NOT_SUBSCRIBED');
    expect((await call('PUT', '/v1/groups/g/subscriptions/no-such-topic')).body.error.code).toBe('TOPIC_NOT_FOUND');
    expect((await call('PUT', '/v1/groups/g/subscriptions/orders', { from: 'earliest' })).status).toBe(400);
    expect((await call('DELETE', '/v1/groups/never-seen')).body.error.code).toBe('GROUP_NOT_FOUND');
    expect((await call('POST', '/v1/groups/g/members/nobody/heartbeat')).status).toBe(404);
    expect((await call('POST', '/v1/groups/g/members/nobody/fetch', {})).body.error.code).toBe('MEMBER_NOT_FOUND');
    expect((await call('POST', '/v1/groups/g/members/nobody/commit', { offsets: [] })).status).toBe(400);
    expect((await call('GET', '/v1/groups/never-seen')).body.error.code).toBe('GROUP_NOT_FOUND');
    expect((await call('POST', '/v1/groups/g/offsets', { topic: 'orders', to: 'middle' })).status).toBe(400);
  });
});
