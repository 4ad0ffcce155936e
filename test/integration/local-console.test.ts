import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleHandler, CONSOLE_CSP } from '../../infra/local/console/serve.js';
import { ShardlogClient } from '../../lib/client/index.js';
import { fakeDocument, type FakeElement } from '../support/fake-dom.js';
import { startTestLocalServer, type TestLocalServer } from '../support/local-server.js';

/*
 * The local console as `npm start` serves it (the console handler before routing), in front of the real handlers:
 * its files with the right content types, the API routes untouched, and every API request the page makes
 * (built by the page's own api-paths.js) answered with what its views (render.js) need.
 */
interface RecordQuery {
  offset?: number;
  timestamp?: number;
  from?: 'earliest' | 'latest';
  direction?: 'forward' | 'backward';
  limit?: number;
}
interface ApiPaths {
  paths: {
    topics(): string;
    topic(name: string): string;
    groups(): string;
    group(name: string): string;
    shareGroups(): string;
    shareGroup(name: string): string;
    records(topic: string, partition: number, query: RecordQuery): string;
  };
}
interface Render {
  recordsView(doc: typeof fakeDocument, response: unknown): FakeElement;
  topicsView(doc: typeof fakeDocument, topics: unknown[]): FakeElement;
  groupDetailView(doc: typeof fakeDocument, group: unknown, now: number): FakeElement;
  shareGroupsView(doc: typeof fakeDocument, groups: unknown[]): FakeElement;
}
const { paths } = (await import('../../infra/local/console/api-paths.js' as string)) as ApiPaths;
const render = (await import('../../infra/local/console/render.js' as string)) as Render;

let server: TestLocalServer;
beforeAll(async () => {
  server = await startTestLocalServer({ beforeRouting: createConsoleHandler() });
});
afterAll(() => server?.stop());

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function get(path: string): Promise<{ status: number; type: string | null; text: string; headers: Headers }> {
  const response = await fetch(server.url + path);
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text(), headers: response.headers };
}

describe('the local console on the local stack', () => {
  it('serves the page and every file it loads, with their content types', async () => {
    const page = await get('/');
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);

    // The files the page names, and the modules those import, transitively.
    const pending = [...page.text.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
    const seen = new Map<string, string | null>();
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      const file = await get(path);
      expect(file.status, path).toBe(200);
      seen.set(path, file.type);
      for (const m of file.text.matchAll(/from '\.\/([a-z-]+\.js)'/g)) pending.push(`/console/${m[1]}`);
    }
    expect(Object.fromEntries(seen)).toEqual({
      '/console/console.css': 'text/css; charset=utf-8',
      '/console/console.js': 'text/javascript; charset=utf-8',
      '/console/render.js': 'text/javascript; charset=utf-8',
      '/console/api-paths.js': 'text/javascript; charset=utf-8',
    });
    // Nothing from elsewhere: no absolute URL in the page.
    expect(page.text).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });

  it('leaves the API as it was: routes answer, unknown paths get the JSON 404', async () => {
    expect(await get('/v1/health')).toMatchObject({ status: 200, text: '{"status":"ok"}' });
    const unknown = await get('/console/missing.js');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers every request the page makes, with what its views need, binary and hostile records included', async () => {
    const client = new ShardlogClient({ url: server.url });
    const topic = unique('console');
    const group = unique('console-g');
    await client.createTopic({ name: topic, partitions: 2 });
    const hostile = '<img src=x onerror="window.pwned=1">';
    const before = Date.now();
    await client.produce(topic, [
      { partition: 0, key: 'order-1', value: { orderId: 1, note: hostile }, headers: { source: hostile } },
      { partition: 0, key: hostile, value: hostile },
    ]);
    // Bytes that are neither JSON nor UTF-8, for the key and the value.
    const raw = await fetch(`${server.url}/v1/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encoding: 'base64', records: [{ partition: 0, key: '/w==', value: '3q2+7w==' }] }),
    });
    expect(raw.status).toBe(200);
    const consumer = client.consumer({ waitMs: 0 });
    await consumer.run({ group, topics: [topic], eachBatch: async ({ records, resolveOffset }) => { resolveOffset(records[0]!.offset); void consumer.stop(); } });

    const topics = (await (await fetch(server.url + paths.topics())).json()) as { topics: Array<{ name: string }> };
    expect(topics.topics.map((t) => t.name)).toContain(topic);
    const described = await (await fetch(server.url + paths.topic(topic))).json();
    expect(render.topicsView(fakeDocument, [described]).textContent).toContain('3 record(s) readable');

    const groups = (await (await fetch(server.url + paths.groups())).json()) as { groups: Array<{ group: string }> };
    expect(groups.groups.map((g) => g.group)).toContain(group);
    const groupView = render.groupDetailView(fakeDocument, await (await fetch(server.url + paths.group(group))).json(), Date.now());
    expect(groupView.textContent).toContain(`${topic}: lag 2 record(s)`);

    // A share group that acquired one record and archived another: the page's two requests, and its view.
    const shareGroup = unique('mailers');
    expect(await client.subscribeShareGroup(shareGroup, topic, 'earliest')).toMatchObject({ group: shareGroup, topic });
    const { records: shared } = await client.shareFetch(shareGroup, { maxRecords: 2, lockMs: 60_000 });
    expect(shared).toHaveLength(2);
    await client.shareAck(shareGroup, [{ topic, partition: 0, offset: shared[1]!.offset, receipt: shared[1]!.receipt, type: 'reject' }]);
    const shareGroups = (await (await fetch(server.url + paths.shareGroups())).json()) as { groups: Array<{ group: string }> };
    expect(shareGroups.groups.map((g) => g.group)).toContain(shareGroup);
    const shareView = render.shareGroupsView(fakeDocument, [await (await fetch(server.url + paths.shareGroup(shareGroup))).json()]);
    expect(shareView.textContent).toContain('1 available · 1 acquired · 1 archived');

    for (const query of [{ offset: 0 }, { timestamp: before - 1 }, { from: 'earliest' }, { from: 'latest', direction: 'backward' }] as RecordQuery[]) {
      const response = await fetch(server.url + paths.records(topic, 0, { ...query, limit: 20 }));
      expect(response.status, JSON.stringify(query)).toBe(200);
      const page = (await response.json()) as { records: Array<{ offset: number }> };
      expect(page.records.map((r) => r.offset).sort(), JSON.stringify(query)).toEqual([0, 1, 2]);
      const view = render.recordsView(fakeDocument, page);
      expect(view.all('img')).toEqual([]);
      expect(view.texts()).toEqual(expect.arrayContaining([hostile, 'binary value, shown as base64', 'bytes, base64', '3q2+7w==', '/w==']));
    }
  });
});
