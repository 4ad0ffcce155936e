import { describe, expect, it } from 'vitest';
import { ShardlogClient } from '../../../lib/client/client.js';
import { ScriptedFetch } from './fakes/scripted-fetch.js';

/**
 * Each typed call of the client is one route of docs/api.md: these pin the method, path, query and body it
 * sends (what the Producer, Consumer and CLI unit tests, which run on in-memory fakes of these calls, take
 * as given).
 */
describe('ShardlogClient', () => {
  const offsets = [{ topic: 'orders', partition: 1, offset: 7, leaseToken: 't' }];
  const cases: Array<[string, (c: ShardlogClient) => Promise<unknown>, string, unknown]> = [
    ['health', (c) => c.health(), 'GET /v1/health', undefined],
    ['createTopic', (c) => c.createTopic({ name: 'orders', partitions: 3 }), 'POST /v1/topics', { name: 'orders', partitions: 3 }],
    ['listTopics', (c) => c.listTopics(), 'GET /v1/topics', undefined],
    ['describeTopic', (c) => c.describeTopic('orders'), 'GET /v1/topics/orders', undefined],
    ['updateTopic', (c) => c.updateTopic('orders', { partitions: 4 }), 'PATCH /v1/topics/orders', { partitions: 4 }],
    ['deleteTopic', (c) => c.deleteTopic('orders'), 'DELETE /v1/topics/orders', undefined],
    [
      'produce',
      (c) => c.produce('orders', [{ key: 'k', value: 1 }], { idempotencyKey: 'key-1', expectedOffsets: { 0: 3 }, encoding: 'json' }),
      'POST /v1/topics/orders/records',
      { records: [{ key: 'k', value: 1 }], encoding: 'json', expectedOffsets: { 0: 3 } },
    ],
    ['fetch', (c) => c.fetch('orders', 2, { from: 'latest', waitMs: 10 }), 'GET /v1/topics/orders/partitions/2/records?from=latest&waitMs=10', undefined],
    ['joinGroup', (c) => c.joinGroup('g', { topics: ['orders'], memberId: 'm' }), 'POST /v1/groups/g/members', { topics: ['orders'], memberId: 'm' }],
    ['heartbeat', (c) => c.heartbeat('g', 'm'), 'POST /v1/groups/g/members/m/heartbeat', {}],
    ['leaveGroup', (c) => c.leaveGroup('g', 'm'), 'DELETE /v1/groups/g/members/m', undefined],
    [
      'groupFetch',
      (c) => c.groupFetch('g', 'm', { limit: 5, waitMs: 0, autoOffsetReset: 'latest' }),
      'POST /v1/groups/g/members/m/fetch',
      { limit: 5, waitMs: 0, autoOffsetReset: 'latest' },
    ],
    ['commit', (c) => c.commit('g', 'm', offsets), 'POST /v1/groups/g/members/m/commit', { offsets }],
    ['describeGroup', (c) => c.describeGroup('g'), 'GET /v1/groups/g', undefined],
    ['listGroups', (c) => c.listGroups(), 'GET /v1/groups', undefined],
    ['resetOffsets', (c) => c.resetOffsets('g', { topic: 'orders', to: 'earliest' }), 'POST /v1/groups/g/offsets', { topic: 'orders', to: 'earliest' }],
    ['runMaintenance', (c) => c.runMaintenance({ topic: 'orders' }), 'POST /v1/admin/maintenance', { topic: 'orders' }],
  ];

  it.each(cases)('sends %s as its route', async (_name, call, line, body) => {
    const api = new ScriptedFetch({ status: 200, body: { topics: [], groups: [] } });
    await call(new ShardlogClient({ url: 'http://127.0.0.1:4000', fetch: api.fetch }));

    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]!.line).toBe(line);
    expect(api.requests[0]!.body).toEqual(body);
  });

  it('sends the given Idempotency-Key with a produce, or a fresh one per call', async () => {
    const api = new ScriptedFetch({ status: 200, body: { records: [] } });
    const client = new ShardlogClient({ url: 'http://127.0.0.1:4000', fetch: api.fetch });

    await client.produce('orders', [{ value: 1 }], { idempotencyKey: 'mine' });
    await client.produce('orders', [{ value: 1 }]);
    await client.produce('orders', [{ value: 1 }]);

    const keys = api.requests.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toBe('mine');
    expect(keys[1]).not.toBe(keys[2]);
  });

  it('escapes path segments, so a bad name fails at the server, not as another route', async () => {
    const api = new ScriptedFetch();
    await new ShardlogClient({ url: 'http://127.0.0.1:4000', fetch: api.fetch }).describeGroup('a/b');

    expect(api.requests[0]!.line).toBe('GET /v1/groups/a%2Fb');
  });
});
