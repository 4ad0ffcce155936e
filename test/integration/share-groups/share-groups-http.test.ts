import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, routeKey } from '../../../functions/routes.js';
import { shareGroupsHandler } from '../../../functions/share-groups.js';
import { call as callAt } from '../../support/http.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * docs/api.md's "Share groups (v1.1)" through the local API Gateway and the real `shareGroups` handler, against
 * DynamoDB Local (real clock; locks of a second at least, so expiry is waited for only where it is the point).
 */
let server: TestLocalServer;
let seq = 0;
beforeAll(async () => {
  server = await startTestLocalServer();
});
afterAll(() => server?.stop());

const call = (method: string, path: string, body?: unknown) => callAt(server.url, method, path, body);
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now()}`;

async function topicWith(partitions: number, values: unknown[], partition = 0): Promise<string> {
  const topic = unique('sg-topic');
  expect((await call('POST', '/v1/topics', { name: topic, partitions })).status).toBe(201);
  if (values.length > 0) {
    expect((await call('POST', `/v1/topics/${topic}/records`, { records: values.map((v) => ({ value: v, partition })) })).status).toBe(200);
  }
  return topic;
}

interface Shared {
  topic: string;
  partition: number;
  offset: number;
  deliveryCount: number;
  receipt: string;
  value: unknown;
}

const fetchShared = async (group: string, body: Record<string, unknown> = {}): Promise<Shared[]> => {
  const answer = await call('POST', `/v1/share-groups/${group}/fetch`, body);
  expect(answer.status, answer.text).toBe(200);
  return answer.body.records;
};
const ack = (group: string, acks: Array<Shared & { type: string }>) =>
  call('POST', `/v1/share-groups/${group}/acks`, { acks: acks.map(({ topic, partition, offset, receipt, type }) => ({ topic, partition, offset, receipt, type })) });

describe('share groups over HTTP', () => {
  it('serves every route the route table gives the shareGroups function', async () => {
    const handler = shareGroupsHandler(server.engine);
    for (const route of ROUTES.filter((r) => r.function === 'shareGroups')) {
      const event = { routeKey: routeKey(route), rawPath: route.path, headers: {}, requestContext: { requestId: 'r' } };
      const response = await handler(event as never);
      const code = response.body ? JSON.parse(response.body).error?.code : undefined;
      expect(code, routeKey(route)).not.toBe('NOT_FOUND');
    }
  });

  it('subscribes at the end unless from earliest, hands each record to one fetch, and accepts', async () => {
    const topic = await topicWith(1, [0, 1, 2]);
    const late = unique('late');
    const early = unique('early');
    expect(await call('PUT', `/v1/share-groups/${late}/subscriptions/${topic}`)).toMatchObject({ status: 200, body: { group: late, topic } });
    expect((await call('PUT', `/v1/share-groups/${early}/subscriptions/${topic}`, { from: 'earliest' })).status).toBe(200);
    // Idempotent: subscribing again changes nothing.
    expect((await call('PUT', `/v1/share-groups/${early}/subscriptions/${topic}`)).status).toBe(200);
    expect(await fetchShared(late)).toEqual([]);

    const first = await fetchShared(early, { maxRecords: 2 });
    expect(first.map((r) => [r.offset, r.value, r.deliveryCount])).toEqual([[0, 0, 1], [1, 1, 1]]);
    expect(first[0]).toMatchObject({ topic, partition: 0, receipt: expect.any(String), headers: {}, key: null, timestamp: expect.any(Number) });
    const second = await fetchShared(early);
    expect(second.map((r) => r.offset)).toEqual([2]);
    expect(await fetchShared(early)).toEqual([]);

    const accepted = await ack(early, [...first, ...second].map((r) => ({ ...r, type: 'accept' })));
    expect(accepted.status).toBe(200);
    expect(accepted.body.results).toEqual([0, 1, 2].map((offset) => ({ topic, partition: 0, offset, ok: true })));
    const described = await call('GET', `/v1/share-groups/${early}`);
    expect(described.body).toEqual({
      group: early,
      subscriptions: [topic],
      maxDeliveries: 5,
      deadLetterTopic: null,
      partitions: [{ topic, partition: 0, startOffset: 3, endOffset: 3, inFlight: 0, acquired: 0, available: 0, archived: 0, oldestUnackedTimestamp: null }],
    });

    await call('POST', `/v1/topics/${topic}/records`, { records: [{ value: 3 }] });
    expect((await fetchShared(late)).map((r) => r.value)).toEqual([3]);
  });

  it('fences a stale receipt, releases for redelivery, renews and rejects', async () => {
    const topic = await topicWith(1, [10, 11, 12]);
    const group = unique('g');
    await call('PUT', `/v1/share-groups/${group}/subscriptions/${topic}`, { from: 'earliest' });
    const [a, b, c] = await fetchShared(group, { lockMs: 60_000 });
    const stale = await ack(group, [{ ...a!, receipt: 'not-the-receipt', type: 'accept' }]);
    expect(stale.status).toBe(200);
    expect(stale.body.results[0]).toMatchObject({ ok: false, error: { code: 'FENCED' } });

    const mixed = await ack(group, [
      { ...a!, type: 'release' },
      { ...b!, type: 'renew' },
      { ...c!, type: 'reject' },
    ]);
    expect(mixed.body.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, true, true]);
    // Released: delivered again, with its count grown; rejected: never again.
    const again = await fetchShared(group);
    expect(again.map((r) => [r.offset, r.deliveryCount])).toEqual([[0, 2]]);
    // The old receipt of the redelivered record is fenced; the new one accepts.
    expect((await ack(group, [{ ...a!, type: 'accept' }])).body.results[0].ok).toBe(false);
    expect((await ack(group, [{ ...again[0]!, type: 'accept' }])).body.results[0].ok).toBe(true);
    const described = (await call('GET', `/v1/share-groups/${group}`)).body;
    expect(described.partitions[0]).toMatchObject({ startOffset: 1, inFlight: 1, acquired: 1, available: 0, archived: 1 });
  });

  it('redelivers a record whose lock expired, and archives it after maxDeliveries into the dead-letter topic', async () => {
    const topic = await topicWith(1, [{ order: 7 }]);
    const dlq = await topicWith(1, []);
    const group = unique('g');
    await call('PUT', `/v1/share-groups/${group}/subscriptions/${topic}`, { from: 'earliest' });
    const patched = await call('PATCH', `/v1/share-groups/${group}`, { maxDeliveries: 2, deadLetterTopic: dlq });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ maxDeliveries: 2, deadLetterTopic: dlq });
    const one = await fetchShared(group, { lockMs: 1_000 });
    expect(one.map((r) => r.deliveryCount)).toEqual([1]);
    // A long poll wakes when the lock expires.
    const two = await fetchShared(group, { lockMs: 1_000, waitMs: 5_000 });
    expect(two.map((r) => [r.offset, r.deliveryCount])).toEqual([[0, 2]]);
    expect((await ack(group, [{ ...two[0]!, type: 'release' }])).body.results[0].ok).toBe(true);
    expect(await fetchShared(group)).toEqual([]);
    const dead = await call('GET', `/v1/topics/${dlq}/partitions/0/records`);
    expect(dead.body.records).toEqual([
      {
        offset: 0,
        timestamp: expect.any(Number),
        key: null,
        value: { order: 7 },
        headers: {
          'shardlog-origin-group': group,
          'shardlog-origin-topic': topic,
          'shardlog-origin-partition': '0',
          'shardlog-origin-offset': '0',
          'shardlog-origin-delivery-count': '2',
          'shardlog-origin-reason': 'max-deliveries',
        },
      },
    ]);
    expect((await call('GET', `/v1/share-groups/${group}`)).body.partitions[0]).toMatchObject({ startOffset: 1, archived: 1, inFlight: 0 });
  });

  it('lists, unsubscribes and deletes; refuses bad input with 4xx', async () => {
    const topic = await topicWith(2, [1]);
    const group = unique('g');
    expect((await call('GET', `/v1/share-groups/${group}`)).status).toBe(404);
    expect((await call('POST', `/v1/share-groups/${group}/fetch`, {})).status).toBe(404);
    expect((await call('PUT', `/v1/share-groups/${group}/subscriptions/no-such-topic`)).status).toBe(404);
    expect((await call('PUT', `/v1/share-groups/${group}/subscriptions/${topic}`, { from: 'middle' })).status).toBe(400);
    expect((await call('PUT', `/v1/share-groups/${group}/subscriptions/${topic}`)).status).toBe(200);
    expect((await call('GET', '/v1/share-groups')).body.groups).toContainEqual({ group, subscriptions: [topic] });
    for (const body of [{ maxRecords: 0 }, { maxRecords: 1001 }, { lockMs: 999 }, { waitMs: 20_001 }, { encoding: 'xml' }, { limit: 1 }]) {
      expect((await call('POST', `/v1/share-groups/${group}/fetch`, body)).status, JSON.stringify(body)).toBe(400);
    }
    const good = { topic, partition: 0, offset: 0, receipt: 'r', type: 'accept' };
    for (const body of [{ acks: [] }, { acks: [{ ...good, type: 'ack' }] }, { acks: [good, good] }, { acks: [{ ...good, receipt: 'a b' }] }, {}]) {
      expect((await call('POST', `/v1/share-groups/${group}/acks`, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await call('PATCH', `/v1/share-groups/${group}`, {})).status).toBe(400);
    expect((await call('PATCH', `/v1/share-groups/${group}`, { maxDeliveries: 0 })).status).toBe(400);
    expect((await call('PATCH', `/v1/share-groups/${group}`, { deadLetterTopic: 'no-such-topic' })).status).toBe(404);
    expect((await call('DELETE', `/v1/share-groups/${group}/subscriptions/${topic}`)).status).toBe(204);
    expect((await call('GET', `/v1/share-groups/${group}`)).body.subscriptions).toEqual([]);
    expect((await call('DELETE', `/v1/share-groups/${group}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/share-groups/${group}`)).status).toBe(404);
    expect((await call('GET', '/v1/share-groups')).body.groups.map((g: { group: string }) => g.group)).not.toContain(group);
  });
});
