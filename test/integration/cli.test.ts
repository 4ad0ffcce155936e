import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShardlog } from '../support/cli.js';
import { startTestLocalServer, type TestLocalServer } from '../support/local-server.js';

/**
 * The `shardlog` executable, exactly as `npx shardlog` runs it (`bin/shardlog.mjs`, a child process), against
 * the real handlers behind the in-process local API Gateway.
 */
let server: TestLocalServer;
beforeAll(async () => {
  server = await startTestLocalServer();
});
afterAll(() => server?.stop());

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const shardlog = (args: string[], stdin = '') => runShardlog(server.url, args, stdin);

interface OutputRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: { k: string; seq: number };
  headers: Record<string, string>;
  timestamp: number;
}
const parse = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OutputRecord);

describe('shardlog CLI against the local stack', () => {
  it('administers topics and fails with one clear line and a non-zero exit', async () => {
    const topic = unique('cli-admin');

    expect(await shardlog(['topics', 'create', topic, '--partitions', '3'])).toMatchObject({ code: 0, stdout: `created topic ${topic} with 3 partition(s), retention 168 h\n` });
    expect((await shardlog(['topics', 'list'])).stdout).toMatch(new RegExp(`^${topic}\\s+3$`, 'm'));
    expect((await shardlog(['topics', 'describe', topic])).stdout).toContain('PARTITION  START  END  RECORDS');

    const again = await shardlog(['topics', 'create', topic]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`shardlog: topic '${topic}' already exists [TOPIC_EXISTS]\n`);

    expect((await shardlog(['topics', 'delete', topic])).code).toBe(0);
    const gone = await shardlog(['topics', 'describe', topic]);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('pipes 10,000 lines through produce and gets each back once, in per-key order, from consume --group', async () => {
    const topic = unique('cli-10k');
    const group = unique('cli-g');
    await shardlog(['topics', 'create', topic, '--partitions', '4']);
    const lines = Array.from({ length: 10_000 }, (_, seq) => JSON.stringify({ k: `key-${seq % 97}`, seq }));

    const produced = await shardlog(['produce', topic, '--key', 'k'], lines.join('\n') + '\n');
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toMatch(new RegExp(`^produced 10,000 record\\(s\\) to ${topic} in `));

    const consumed = await shardlog(['consume', topic, '--group', group]);
    expect(consumed.code, consumed.stderr).toBe(0);
    const records = parse(consumed.stdout);

    expect(records).toHaveLength(10_000);
    expect(new Set(records.map((r) => r.value.seq)).size).toBe(10_000);
    const byKey = new Map<string, number[]>();
    for (const r of records) {
      expect(r.key).toBe(r.value.k);
      byKey.set(r.value.k, [...(byKey.get(r.value.k) ?? []), r.value.seq]);
    }
    for (const seqs of byKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // Committed as it went: the group is at the end, and a second run reads nothing.
    const described = await shardlog(['groups', 'describe', group, '--json']);
    const lag = (JSON.parse(described.stdout) as { partitions: Array<{ lag: number }> }).partitions.map((p) => p.lag);
    expect(lag).toEqual([0, 0, 0, 0]);
    expect((await shardlog(['consume', topic, '--group', group])).stdout).toBe('');
  }, 120_000);

  it('consumes a partition from an offset, and a group again after a reset, up to --max', async () => {
    const topic = unique('cli-consume');
    const group = unique('cli-g');
    await shardlog(['topics', 'create', topic]);
    await shardlog(['produce', topic], 'a\n{"b":2}\n3\n"d"\n');

    const direct = parse((await shardlog(['consume', topic, '--partition', '0', '--offset', '1', '--max', '2'])).stdout);
    expect(direct.map((r) => [r.offset, r.value])).toEqual([
      [1, { b: 2 }],
      [2, 3],
    ]);
    expect(Object.keys(direct[0]!)).toEqual(['partition', 'offset', 'key', 'value', 'headers', 'timestamp']);

    expect(parse((await shardlog(['consume', topic, '--group', group])).stdout)).toHaveLength(4);
    expect((await shardlog(['groups', 'reset', group, topic, '--to', '2'])).code).toBe(0);
    const afterReset = parse((await shardlog(['consume', topic, '--group', group, '--max', '1'])).stdout);
    expect(afterReset.map((r) => r.offset)).toEqual([2]);
    // --max 1 committed exactly the one record it printed.
    expect(parse((await shardlog(['consume', topic, '--group', group])).stdout).map((r) => r.offset)).toEqual([3]);

    const groups = await shardlog(['groups', 'list']);
    expect(groups.stdout).toMatch(new RegExp(`^${group}\\s+0$`, 'm'));
  }, 60_000);

  it('starts a group the way --from says where it has committed nothing, as Kafka\'s auto.offset.reset', async () => {
    const topic = unique('cli-reset');
    await shardlog(['topics', 'create', topic]);
    await shardlog(['produce', topic], '1\n2\n');

    const latest = await shardlog(['consume', topic, '--group', unique('cli-g'), '--from', 'latest']);
    const earliest = await shardlog(['consume', topic, '--group', unique('cli-g'), '--from', 'earliest']);

    expect(latest).toMatchObject({ code: 0, stdout: '' });
    expect(parse(earliest.stdout).map((r) => r.value as unknown)).toEqual([1, 2]);
  }, 60_000);

  it('runs a maintenance pass', async () => {
    const result = await shardlog(['maintenance']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^tiered \d+ segment\(s\) .*; expired \d+ record\(s\), \d+ segment\(s\)\n$/);
  });
});
