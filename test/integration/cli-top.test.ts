import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShardlog } from '../support/cli.js';
import { startTestLocalServer, type TestLocalServer } from '../support/local-server.js';

/**
 * `shardlog top` and `groups describe --watch`, run as `npx shardlog` runs them (a child process whose stdout is
 * a pipe, so not a terminal), against the real handlers behind the local API Gateway.
 */
let server: TestLocalServer;
beforeAll(async () => {
  server = await startTestLocalServer();
});
afterAll(() => server?.stop());

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

const shardlog = (args: string[], stdin = '') => runShardlog(server.url, args, stdin);

/** `key=value` fields of one plain output line. */
function fields(line: string): Record<string, string> {
  return Object.fromEntries(line.split(' ').slice(1).map((pair) => pair.split('=') as [string, string]));
}

describe('shardlog top against the local stack', () => {
  it('prints plain lines per refresh when stdout is a pipe: records per topic, lag and members per group', async () => {
    const topic = unique('top');
    const group = unique('top-g');
    expect((await shardlog(['topics', 'create', topic, '--partitions', '2'])).code).toBe(0);
    expect((await shardlog(['produce', topic], 'a\nb\nc\nd\ne\n')).code).toBe(0);
    expect((await shardlog(['consume', topic, '--group', group, '--max', '2'])).code).toBe(0);

    const result = await shardlog(['top', '--topic', topic, '--interval', '0.5', '--iterations', '2']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).not.toContain('\u001b');
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(4); // per refresh: the topic and the group
    const [firstTopic, firstGroup, secondTopic, secondGroup] = lines.map(fields);
    expect(firstTopic).toEqual({ topic, partitions: '2', records: '5', end_offset: '5', in_per_s: '-' });
    expect(firstGroup).toMatchObject({ group, topic, members: '0', lag: '3', out_per_s: '-' });
    // Nothing moved between the two refreshes: rates are known now, and zero.
    expect(secondTopic).toMatchObject({ in_per_s: '0' });
    expect(secondGroup).toMatchObject({ lag: '3', out_per_s: '0' });
    const times = lines.map((line) => Date.parse(line.split(' ')[0]!));
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(500);
  });

  it('watches one group with groups describe --watch, as JSON lines with --json', async () => {
    const topic = unique('watch');
    const group = unique('watch-g');
    await shardlog(['topics', 'create', topic]);
    await shardlog(['produce', topic], '1\n2\n3\n');
    await shardlog(['consume', topic, '--group', group, '--max', '1']);

    const result = await shardlog(['groups', 'describe', group, '--watch', '--interval', '0.5', '--iterations', '2', '--json']);

    expect(result.code, result.stderr).toBe(0);
    const refreshes = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { topics: Array<{ topic: string }>; groups: Array<Record<string, unknown>> });
    expect(refreshes).toHaveLength(2);
    expect(refreshes[1]!.topics.map((t) => t.topic)).toEqual([topic]);
    expect(refreshes[1]!.groups).toEqual([{ group, topic, members: 0, partitions: 1, owned: 0, lag: 2, outPerSecond: 0 }]);
  });

  it('fails with one line when the group does not exist', async () => {
    const result = await shardlog(['groups', 'describe', unique('nobody'), '--watch', '--iterations', '1']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('[GROUP_NOT_FOUND]');
  });
});
