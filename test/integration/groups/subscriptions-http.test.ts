import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMember, LEASE, leaseKey, REGISTRY, registryKey } from '../../../lib/groups/lease-table.js';
import { call as callAt } from '../../support/http.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * docs/api.md v1.1 "Subscriptions", `DELETE /v1/groups/{group}` and group expiry, through the local API Gateway
 * and the real handlers against DynamoDB Local. The engine's clock is the test's, so that 7 idle days pass at once.
 */
let server: TestLocalServer;
let clock = Date.now();
const DAY_MS = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  server = await startTestLocalServer({ engine: { now: () => clock } });
  for (const [name, partitions] of [['public', 2], ['secret', 1]] as const) {
    expect((await call('POST', '/v1/topics', { name, partitions })).status).toBe(201);
    const records = [0, 1, 2, 3].map((i) => ({ value: { i }, partition: 0 }));
    expect((await call('POST', `/v1/topics/${name}/records`, { records })).status).toBe(200);
  }
});

afterAll(() => server?.stop());

const call = (method: string, path: string, body?: unknown) => callAt(server.url, method, path, body);

function expectNotSubscribed(response: { status: number; body: any }, group: string, topic: string) {
  expect(response.status).toBe(409);
  expect(response.body.error).toMatchObject({ code: 'NOT_SUBSCRIBED', retriable: false, group, topic });
  expect(response.body.error.message).toContain(`PUT /v1/groups/${group}/subscriptions/${topic}`);
}

describe('subscriptions over HTTP', () => {
  it('lets a group read only the topics it is subscribed to: join, fetch, commit and reset on another are 409', async () => {
    expect(await call('PUT', '/v1/groups/reader/subscriptions/public')).toMatchObject({ status: 200, body: { group: 'reader', topic: 'public' } });
    expectNotSubscribed(await call('POST', '/v1/groups/reader/members', { topics: ['public', 'secret'] }), 'reader', 'secret');

    const joined = await call('POST', '/v1/groups/reader/members', {});
    expect(joined.status).toBe(200);
    expect(joined.body.assignments.map((a: { topic: string }) => a.topic)).toEqual(['public', 'public']);
    const member = joined.body.memberId as string;
    const token = joined.body.assignments[0].leaseToken as string;

    const positions = [{ topic: 'secret', partition: 0, offset: 0 }];
    expectNotSubscribed(await call('POST', `/v1/groups/reader/members/${member}/fetch`, { positions }), 'reader', 'secret');
    const offsets = [{ topic: 'secret', partition: 0, offset: 1, leaseToken: token }];
    expectNotSubscribed(await call('POST', `/v1/groups/reader/members/${member}/commit`, { offsets }), 'reader', 'secret');
    expectNotSubscribed(await call('POST', '/v1/groups/reader/offsets', { topic: 'secret', to: 'earliest' }), 'reader', 'secret');

    const fetched = await call('POST', `/v1/groups/reader/members/${member}/fetch`, {});
    expect(fetched.body.batches.map((b: { topic: string }) => b.topic)).toEqual(['public', 'public']);
    const described = await call('GET', '/v1/groups/reader');
    expect(described.body.subscriptions).toEqual(['public']);
    expect(described.body.partitions.map((p: { topic: string }) => p.topic)).toEqual(['public', 'public']);
    expect((await call('DELETE', `/v1/groups/reader/members/${member}`)).status).toBe(204);
  });

  it('ends a topic’s leases at DELETE subscription, keeps its committed offsets, and resumes there at a new PUT', async () => {
    await call('PUT', '/v1/groups/mover/subscriptions/secret');
    const joined = await call('POST', '/v1/groups/mover/members', {});
    const member = joined.body.memberId as string;
    const token = joined.body.assignments[0].leaseToken as string;
    const committed = await call('POST', `/v1/groups/mover/members/${member}/commit`, {
      offsets: [{ topic: 'secret', partition: 0, offset: 2, leaseToken: token }],
    });
    expect(committed.status).toBe(200);

    expect((await call('DELETE', '/v1/groups/mover/subscriptions/secret')).status).toBe(204);
    expect((await call('DELETE', '/v1/groups/mover/subscriptions/secret')).status).toBe(204);
    expect((await call('POST', `/v1/groups/mover/members/${member}/heartbeat`)).body.assignments).toEqual([]);
    expectNotSubscribed(
      await call('POST', `/v1/groups/mover/members/${member}/commit`, { offsets: [{ topic: 'secret', partition: 0, offset: 3, leaseToken: token }] }),
      'mover',
      'secret',
    );
    const described = (await call('GET', '/v1/groups/mover')).body;
    expect(described.subscriptions).toEqual([]);
    expect(described.partitions).toEqual([{ topic: 'secret', partition: 0, owner: null, committedOffset: 2, endOffset: 4, lag: 2 }]);

    await call('PUT', '/v1/groups/mover/subscriptions/secret');
    const back = await call('POST', `/v1/groups/mover/members/${member}/heartbeat`);
    expect(back.body.assignments).toEqual([{ topic: 'secret', partition: 0, leaseToken: expect.any(String), committedOffset: 2 }]);
    expect(back.body.assignments[0].leaseToken).not.toBe(token);
    const fetched = await call('POST', `/v1/groups/mover/members/${member}/fetch`, {});
    expect(fetched.body.batches[0].records.map((r: { offset: number }) => r.offset)).toEqual([2, 3]);
    expect((await call('DELETE', `/v1/groups/mover/members/${member}`)).status).toBe(204);
  });
});

describe('DELETE /v1/groups/{group}', () => {
  it('is refused with 409 GROUP_NOT_EMPTY while a member is live, then deletes subscriptions, leases and offsets', async () => {
    await call('PUT', '/v1/groups/doomed/subscriptions/public');
    const joined = await call('POST', '/v1/groups/doomed/members', {});
    const member = joined.body.memberId as string;
    await call('POST', `/v1/groups/doomed/members/${member}/commit`, {
      offsets: [{ topic: 'public', partition: 0, offset: 4, leaseToken: joined.body.assignments[0].leaseToken }],
    });

    const refused = await call('DELETE', '/v1/groups/doomed');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'GROUP_NOT_EMPTY', retriable: false, members: 1 });
    expect((await call('GET', '/v1/groups/doomed')).body.subscriptions).toEqual(['public']);

    expect((await call('DELETE', `/v1/groups/doomed/members/${member}`)).status).toBe(204);
    expect((await call('DELETE', '/v1/groups/doomed')).status).toBe(204);
    expect((await call('GET', '/v1/groups/doomed')).body.error.code).toBe('GROUP_NOT_FOUND');
    expect((await call('GET', '/v1/groups')).body.groups.map((g: { group: string }) => g.group)).not.toContain('doomed');
    expect((await call('DELETE', '/v1/groups/doomed')).body.error.code).toBe('GROUP_NOT_FOUND');

    await call('PUT', '/v1/groups/doomed/subscriptions/public');
    const again = await call('POST', '/v1/groups/doomed/members', {});
    expect(again.body.assignments.map((a: { committedOffset: unknown }) => a.committedOffset)).toEqual([null, null]);
    await call('DELETE', `/v1/groups/doomed/members/${again.body.memberId}`);
  });
});

describe('groups created before v1.1, and group expiry', () => {
  /** The items a v1.0 join and commit left: a member (long expired), a lease with an offset, a registry entry. */
  async function writePreV11Group(group: string, at: number): Promise<void> {
    const { topicId } = await server.engine.topics.get('secret');
    const { doc, config } = server.storage;
    const put = (Item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: config.leaseTable, Item }));
    await put({ ...registryKey(group), [REGISTRY.group]: group, [REGISTRY.createdAt]: at });
    await put(encodeMember(group, { memberId: 'old', session: 's', topics: ['secret'], sessionTimeoutMs: 30_000, sessionExpiresAtMs: at + 30_000 }));
    await put({
      ...leaseKey(group, { topic: 'secret', partition: 0 }),
      [LEASE.topic]: 'secret',
      [LEASE.partition]: 0,
      [LEASE.topicId]: topicId,
      [LEASE.leaseToken]: 'v1.0-token',
      [LEASE.committedOffset]: 3,
    });
  }

  it('refuses a pre-v1.1 group with NOT_SUBSCRIBED until the PUT, then reads on from its committed offset', async () => {
    await writePreV11Group('legacy', clock - 30 * DAY_MS);
    expectNotSubscribed(await call('POST', '/v1/groups/legacy/members', { topics: ['secret'] }), 'legacy', 'secret');
    expect((await call('GET', '/v1/groups/legacy')).body).toMatchObject({ subscriptions: [], partitions: [{ topic: 'secret', committedOffset: 3 }] });

    expect((await call('PUT', '/v1/groups/legacy/subscriptions/secret')).status).toBe(200);
    const joined = await call('POST', '/v1/groups/legacy/members', { topics: ['secret'] });
    expect(joined.body.assignments).toEqual([{ topic: 'secret', partition: 0, leaseToken: expect.any(String), committedOffset: 3 }]);
    const fetched = await call('POST', `/v1/groups/legacy/members/${joined.body.memberId}/fetch`, {});
    expect(fetched.body.batches[0].records.map((r: { offset: number }) => r.offset)).toEqual([3]);
    expect((await call('DELETE', `/v1/groups/legacy/members/${joined.body.memberId}`)).status).toBe(204);
  });

  it('expires a group idle for 7 days at a maintenance pass, and gives a pre-v1.1 group its 7 days from the first pass', async () => {
    await call('PUT', '/v1/groups/idle/subscriptions/public');
    await writePreV11Group('untouched', clock - 30 * DAY_MS);
    clock += 8 * DAY_MS;

    const pass = await call('POST', '/v1/admin/maintenance', {});
    expect(pass.status).toBe(200);
    expect(pass.body.expired).toEqual({ records: expect.any(Number), segments: expect.any(Number) });
    expect((await call('GET', '/v1/groups/idle')).body.error.code).toBe('GROUP_NOT_FOUND');
    const listed = (await call('GET', '/v1/groups')).body.groups.map((g: { group: string }) => g.group);
    expect(listed).toContain('untouched');
    expect(listed).not.toContain('idle');
    expect((await call('GET', '/v1/groups/untouched')).body.partitions).toMatchObject([{ committedOffset: 3 }]);
  });
});
