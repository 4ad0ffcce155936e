import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../lib/client/cli/main.js';
import { call } from '../../support/http.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/** `shardlog consume --share-group` and `shardlog share-groups …`, in-process, against the local stack. */
let server: TestLocalServer;
beforeAll(async () => {
  server = await startTestLocalServer();
});
afterAll(() => server?.stop());

async function shardlog(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await runCli(argv, { stdin: new PassThrough(), stdout, stderr, env: { SHARDLOG_URL: server.url } });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe('the share-group CLI', () => {
  it('consumes with --share-group: two runs with --max split the records, each written once; then describes, lists and deletes', async () => {
    const topic = `sg-cli-${Date.now()}`;
    const group = `${topic}-workers`;
    expect((await call(server.url, 'POST', '/v1/topics', { name: topic, partitions: 2 })).status).toBe(201);
    const records = Array.from({ length: 10 }, (_, i) => ({ value: { i } }));
    expect((await call(server.url, 'POST', `/v1/topics/${topic}/records`, { records })).status).toBe(200);

    const first = await shardlog(['consume', topic, '--share-group', group, '--from', 'earliest', '--max', '4']);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const second = await shardlog(['consume', topic, '--share-group', group]);
    expect(second).toMatchObject({ code: 0, stderr: '' });
    const lines = [...first.stdout.split('\n'), ...second.stdout.split('\n')].filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.slice(0, 4)).toHaveLength(4);
    expect(lines.map((l) => l.value.i).sort((a: number, b: number) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(lines[0]).toMatchObject({ topic, deliveryCount: expect.any(Number), headers: {} });

    const described = await shardlog(['share-groups', 'describe', group]);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`share group ${group}: subscribed to ${topic}`);
    const json = JSON.parse((await shardlog(['share-groups', 'describe', group, '--json'])).stdout);
    expect(json.partitions.map((p: { startOffset: number; endOffset: number }) => p.startOffset === p.endOffset)).toEqual([true, true]);
    expect((await shardlog(['share-groups', 'list'])).stdout).toContain(group);
    expect(await shardlog(['share-groups', 'delete', group])).toMatchObject({ code: 0, stdout: `deleted share group ${group}\n` });
    expect((await shardlog(['share-groups', 'describe', group])).code).toBe(1);
    expect((await shardlog(['consume', topic, '--share-group', group, '--group', 'g'])).code).toBe(2);
  });
});
