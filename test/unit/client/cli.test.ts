import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../../lib/client/cli/args.js';
import { table } from '../../../lib/client/cli/format.js';
import { runCli } from '../../../lib/client/cli/main.js';
import { keyFrom, recordFromLine } from '../../../lib/client/cli/produce-command.js';
import type { GroupFetchRequest } from '../../../lib/client/types.js';
import { settle } from './fakes/fake-clock.js';
import { InMemoryShardlog } from './fakes/in-memory-shardlog.js';

/** Runs the CLI in-process against `api`, like `printf stdin | shardlog argv…`; the fake clock moves when it waits. */
async function cli(
  api: InMemoryShardlog,
  argv: string[],
  stdin = '',
  options: { signal?: AbortSignal; tty?: boolean; env?: Record<string, string> } = {},
) {
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: options.tty ?? false, columns: 100 });
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  const urls: string[] = [];
  const running = runCli(argv, {
    stdin: Readable.from([stdin]),
    stdout,
    stderr,
    env: options.env ?? {},
    connect: (url) => (urls.push(url), api),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const code = options.signal ? await running : await api.clock.drive(running, 5);
  return { code, stdout: out.join(''), stderr: err.join(''), urls };
}

function lines(text: string) {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { partition: number; offset: number; key: string | null; value: unknown; headers: object; timestamp: number });
}

describe('shardlog CLI', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const fake = new InMemoryShardlog();

    const created = await cli(fake, ['topics', 'create', 'orders', '--partitions', '3', '--retention-hours', '24']);
    expect(created).toMatchObject({ code: 0, stdout: 'created topic orders with 3 partition(s), retention 24 h\n' });
    expect(fake.adminCalls[0]).toEqual({ call: 'createTopic', args: [{ name: 'orders', partitions: 3, retentionHours: 24 }] });

    const listed = await cli(fake, ['topics', 'list']);
    expect(listed.stdout).toBe('TOPIC   PARTITIONS\norders           3\n');

    const described = await cli(fake, ['topics', 'describe', 'orders', '--json']);
    expect(JSON.parse(described.stdout)).toMatchObject({ name: 'orders', partitions: 3 });

    expect(await cli(fake, ['topics', 'delete', 'orders'])).toMatchObject({ code: 0, stdout: 'deleted topic orders\n' });
    expect(fake.log.topics.has('orders')).toBe(false);
  });

  it('prints one clear line and exits 1 when the server refuses', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('orders');

    const result = await cli(fake, ['topics', 'create', 'orders']);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe("shardlog: topic 'orders' already exists [TOPIC_EXISTS]\n");
  });

  it('exits 2 with a hint on a wrong command line', async () => {
    const fake = new InMemoryShardlog();
    for (const argv of [['topics', 'frob'], ['produce'], ['topics', 'list', '--max', '3'], ['consume', 't', '--offset', '3'], ['--bogus']]) {
      const result = await cli(fake, argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^shardlog: .+\nRun 'shardlog --help' for usage\.\n$/);
    }
    expect(fake.adminCalls).toHaveLength(0);
    expect(fake.log.fetched).toHaveLength(0);
    expect(fake.groups.calls).toHaveLength(0);
  });

  it('produces one record per line, JSON or string, keyed by --key, and prints a summary', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('orders', 4);
    const input = ['{"customer":"c1","n":1}', 'not json', '', '{"customer":"c2","n":2}', '42', '{"customer":"c1","n":3}'].join('\n');

    const result = await cli(fake, ['produce', 'orders', '--key', 'customer'], input);

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^produced 5 record\(s\) to orders in .+ records\/s\); per partition /);
    const stored = fake.log.topic('orders').partitions.flat();
    const asText = (values: unknown[]) => values.map((v) => JSON.stringify(v)).sort();
    expect(asText(stored.map((r) => r.value))).toEqual(asText([{ customer: 'c1', n: 1 }, 'not json', { customer: 'c2', n: 2 }, 42, { customer: 'c1', n: 3 }]));
    const c1 = fake.log.topic('orders').partitions.find((p) => p.some((r) => r.key === 'c1'))!;
    expect(c1.filter((r) => r.key === 'c1').map((r) => (r.value as { n: number }).n)).toEqual([1, 3]);
  });

  it('draws progress only when stderr is a terminal', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t');
    const input = Array.from({ length: 50 }, (_, i) => String(i)).join('\n');

    const piped = await cli(fake, ['produce', 't'], input, { tty: false });
    expect(piped.stderr).not.toContain('\r');

    const terminal = await cli(fake, ['produce', 't'], input, { tty: true });
    expect(terminal.stderr).toContain('records acknowledged');
    // The progress line is cleared so the summary stands alone on its line.
    expect(terminal.stderr).toMatch(/\r\u001b\[2Kproduced 50 record\(s\) to t in [^\r]+\n$/);
  });

  it('fails produce fast on a missing topic, before reading stdin', async () => {
    const fake = new InMemoryShardlog();

    const result = await cli(fake, ['produce', 'missing'], 'a\nb\n');

    expect(result.code).toBe(1);
    expect(result.stderr).toBe("shardlog: topic 'missing' does not exist [TOPIC_NOT_FOUND]\n");
    expect(fake.log.produced).toHaveLength(0);
  });

  it('consumes every partition from earliest as JSON lines and stops at the end', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t', 2);
    await cli(fake, ['produce', 't'], '{"a":1}\n"two"\n3\n');

    const result = await cli(fake, ['consume', 't']);

    expect(result.code).toBe(0);
    const out = lines(result.stdout);
    expect(out).toHaveLength(3);
    expect(Object.keys(out[0]!)).toEqual(['partition', 'offset', 'key', 'value', 'headers', 'timestamp']);
    expect(out.map((r) => r.value)).toEqual(expect.arrayContaining([{ a: 1 }, 'two', 3]));
  });

  it('consumes one partition from an offset, up to --max records', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t', 1);
    await cli(fake, ['produce', 't'], '0\n1\n2\n3\n4\n');

    const result = await cli(fake, ['consume', 't', '--partition', '0', '--offset', '1', '--max', '2']);

    expect(lines(result.stdout).map((r) => [r.offset, r.value])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('consumes with a group, commits exactly what it printed, and a second run continues from there', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t', 2);
    await cli(fake, ['produce', 't', '--key', 'k'], Array.from({ length: 10 }, (_, i) => `{"k":"k${i}","i":${i}}`).join('\n'));

    const first = await cli(fake, ['consume', 't', '--group', 'g', '--max', '4']);
    const second = await cli(fake, ['consume', 't', '--group', 'g']);

    expect(lines(first.stdout)).toHaveLength(4);
    const all = [...lines(first.stdout), ...lines(second.stdout)].map((r) => (r.value as { i: number }).i);
    expect(all.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(fake.groups.groups.get('g')!.members.size).toBe(0);
  });

  it('takes --from with --group as the reset policy of partitions the group never committed', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t', 1);
    fake.log.append('t', 0, 'old-1', 'old-2');

    const latest = await cli(fake, ['consume', 't', '--group', 'g', '--from', 'latest']);
    const earliest = await cli(fake, ['consume', 't', '--group', 'other', '--from', 'earliest']);

    expect(latest).toMatchObject({ code: 0, stdout: '' });
    expect(lines(earliest.stdout).map((r) => r.value)).toEqual(['old-1', 'old-2']);
    const policies = (group: string) =>
      fake.groups.calls.filter((c) => c.call === 'groupFetch' && c.group === group).map((c) => (c.body as GroupFetchRequest).autoOffsetReset);
    expect(new Set(policies('g'))).toEqual(new Set(['latest']));
    expect(new Set(policies('other'))).toEqual(new Set(['earliest']));
  });

  it('refuses --partition and --offset with --group and explains where offsets come from', async () => {
    const result = await cli(new InMemoryShardlog(), ['consume', 't', '--group', 'g', '--partition', '0', '--offset', '3']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('groups reset');
  });

  it('consume --follow long-polls for new records until interrupted', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t', 1);
    const controller = new AbortController();
    const running = cli(fake, ['consume', 't', '--follow'], '', { signal: controller.signal });
    await settle();
    expect(fake.log.fetched.map((f) => f.options.waitMs)).toEqual([20_000]); // waiting on the clock, which stands still

    controller.abort();
    const result = await running;

    expect(result.code).toBe(0);
    expect(fake.log.fetched).toHaveLength(1);
  });

  it('talks to --url, else $SHARDLOG_URL, else the local stack', async () => {
    const fake = new InMemoryShardlog();

    expect((await cli(fake, ['topics', 'list', '--url', 'http://example.test:9'])).urls).toEqual(['http://example.test:9']);
    expect((await cli(fake, ['topics', 'list'], '', { env: { SHARDLOG_URL: 'http://from-env.test:8' } })).urls).toEqual(['http://from-env.test:8']);
    expect((await cli(fake, ['topics', 'list'])).urls).toEqual(['http://127.0.0.1:4000']);
  });

  it('describes a group as a table and resets its offsets', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t', 1);
    await cli(fake, ['produce', 't'], '1\n2\n3\n');
    await cli(fake, ['consume', 't', '--group', 'g']);

    const described = await cli(fake, ['groups', 'describe', 'g']);
    expect(described.stdout).toBe(
      'group g: 0 member(s), subscribed to t\nTOPIC  PARTITION  OWNER  COMMITTED  END  LAG\nt              0  -              3    3    0\n',
    );

    const reset = await cli(fake, ['groups', 'reset', 'g', 't', '--to', '1']);
    expect(reset.code).toBe(0);
    expect(fake.adminCalls.find((c) => c.call === 'resetOffsets')!.args).toEqual(['g', { topic: 't', to: { offset: 1 } }]);
    expect(fake.groups.committed('g', 't', 0)).toBe(1);

    const listed = await cli(fake, ['groups', 'list']);
    expect(listed.stdout).toBe('GROUP  MEMBERS\ng            0\n');
  });

  it('subscribes a group at `consume --group`, and subscribes, unsubscribes and deletes groups by command', async () => {
    const fake = new InMemoryShardlog();
    fake.log.createTopic('t', 1);
    fake.log.createTopic('u', 1);
    await cli(fake, ['consume', 't', '--group', 'g']);
    expect((await fake.describeGroup('g')).subscriptions).toEqual(['t']);

    expect((await cli(fake, ['groups', 'subscribe', 'g', 'u'])).stdout).toBe('subscribed group g to u\n');
    expect((await fake.describeGroup('g')).subscriptions).toEqual(['t', 'u']);
    expect((await cli(fake, ['groups', 'unsubscribe', 'g', 't'])).stdout).toBe('unsubscribed group g from t (its committed offsets stay)\n');
    expect((await fake.describeGroup('g')).subscriptions).toEqual(['u']);

    expect((await cli(fake, ['groups', 'delete', 'g'])).stdout).toBe('deleted group g\n');
    expect((await cli(fake, ['groups', 'list'])).stdout).toBe('no groups\n');
    expect((await cli(fake, ['groups', 'subscribe', 'g'])).code).not.toBe(0);
  });

  it('runs maintenance for one topic', async () => {
    const fake = new InMemoryShardlog();

    const result = await cli(fake, ['maintenance', '--topic', 'orders']);

    expect(result.stdout).toBe('tiered 0 segment(s) (0 records, 0 B); expired 0 record(s), 0 segment(s)\n');
    expect(fake.adminCalls).toEqual([{ call: 'runMaintenance', args: [{ topic: 'orders' }] }]);
  });
});

describe('CLI helpers', () => {
  it('reads a line as JSON, else as a string', () => {
    expect(recordFromLine('{"a":1}')).toEqual({ value: { a: 1 } });
    expect(recordFromLine('hello world')).toEqual({ value: 'hello world' });
    expect(recordFromLine('"quoted"')).toEqual({ value: 'quoted' });
    expect(recordFromLine('{"id":7}', 'id')).toEqual({ key: '7', value: { id: 7 } });
  });

  it('takes the key from a field, a dotted path, or leaves the record keyless', () => {
    expect(keyFrom({ customer: 'c1' }, 'customer')).toBe('c1');
    expect(keyFrom({ order: { customer: 'c2' } }, 'order.customer')).toBe('c2');
    expect(keyFrom({ 'a.b': 'exact' }, 'a.b')).toBe('exact');
    expect(keyFrom({ id: { x: 1 } }, 'id')).toBe('{"x":1}');
    expect(keyFrom('a string', 'id')).toBeNull();
    expect(keyFrom({ id: null }, 'id')).toBeNull();
  });

  it('accepts options before or after the command', () => {
    expect(parseCommandLine(['--url', 'http://x', 'topics', 'create', 'a', '--partitions', '2'])).toEqual({
      command: 'topics create',
      args: ['a'],
      values: { url: 'http://x', partitions: '2' },
    });
    expect(() => parseCommandLine(['produce', 't', '--group', 'g'])).toThrow(UsageError);
  });

  it('aligns tables with numbers to the right', () => {
    expect(table(['NAME', 'N'], [['a', 1], ['bbb', 100]])).toBe('NAME    N\na       1\nbbb   100');
  });
});
