import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../../lib/client/cli/args.js';
import type { CliIo } from '../../../lib/client/cli/io.js';
import { runTop, takeSnapshot, topOptions, wantsLiveView, type TopClock, type TopSource } from '../../../lib/client/cli/top-command.js';
import { ANSI } from '../../../lib/client/cli/top-view.js';
import type { GroupDescription, TopicDescription } from '../../../lib/client/types.js';
import { GroupNotFoundError, TopicNotFoundError, UnavailableError } from '../../../lib/errors.js';

const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

/** An in-memory shardlog as `top` reads it: topics' end offsets and groups' committed offsets, mutable by tests. */
class FakeSource implements TopSource {
  readonly ends = new Map<string, number[]>();
  readonly committed = new Map<string, { topic: string; offsets: Array<number | null>; members: number }>();
  /** Topics that vanish between list and describe. */
  readonly vanishing = new Set<string>();
  failNext = 0;
  calls = 0;

  private check() {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new UnavailableError('cannot reach http://fake');
    }
  }

  async listTopics() {
    this.check();
    return [...this.ends.keys(), ...this.vanishing].map((name) => ({ name, partitions: 1 }));
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    this.check();
    const ends = this.ends.get(name);
    if (ends === undefined) throw new TopicNotFoundError(name);
    return {
      name,
      partitions: ends.length,
      retentionHours: 168,
      createdAt: 1,
      partitionStats: ends.map((endOffset, partition) => ({ partition, startOffset: 0, endOffset })),
    };
  }

  async listGroups() {
    this.check();
    return [...this.committed.entries()].map(([group, g]) => ({ group, members: g.members }));
  }

  async describeGroup(group: string): Promise<GroupDescription> {
    this.check();
    const g = this.committed.get(group);
    if (g === undefined) throw new GroupNotFoundError(group);
    const ends = this.ends.get(g.topic) ?? [];
    return {
      group,
      subscriptions: [g.topic],
      members: Array.from({ length: g.members }, (_, i) => ({ memberId: `m${i}`, expiresAt: T0, partitions: 1 })),
      partitions: g.offsets.map((committedOffset, partition) => ({
        topic: g.topic,
        partition,
        owner: g.members > 0 ? 'm0' : null,
        committedOffset,
        endOffset: ends[partition] ?? 0,
        lag: (ends[partition] ?? 0) - (committedOffset ?? 0),
      })),
    };
  }
}

/** A clock whose sleep advances time at once and lets the test change the world in between. */
function fakeClock(onSleep: (slept: number) => void = () => {}): TopClock & { sleeps: number[] } {
  let now = T0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      onSleep(sleeps.length);
    },
  };
}

function terminal(tty: boolean) {
  const stdout = Object.assign(new PassThrough(), { isTTY: tty, columns: 100 });
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
  return { stdout, stderr, out: () => out.join(''), err: () => err.join('') };
}

function io(term: ReturnType<typeof terminal>, signal?: AbortSignal): CliIo {
  return { stdin: Readable.from([]), stdout: term.stdout, stderr: term.stderr, env: { SHARDLOG_URL: 'http://fake' }, ...(signal ? { signal } : {}) };
}

function retail(): FakeSource {
  const source = new FakeSource();
  source.ends.set('orders', [10, 10]);
  source.committed.set('email-sender', { topic: 'orders', offsets: [4, 6], members: 1 });
  return source;
}

describe('shardlog top', () => {
  it('prints plain lines per refresh when stdout is not a terminal, with rates from the second refresh on', async () => {
    const source = retail();
    const clock = fakeClock(() => {
      source.ends.get('orders')![0]! += 20; // 20 records in 2 s
      source.committed.get('email-sender')!.offsets[1]! += 4; // 4 committed in 2 s
    });
    const term = terminal(false);

    await runTop(source, parseCommandLine(['top', '--iterations', '3']), io(term), clock);

    expect(clock.sleeps).toEqual([2_000, 2_000]);
    expect(term.out().split('\n').filter(Boolean)).toEqual([
      '2026-11-22T12:00:00.000Z topic=orders partitions=2 records=20 end_offset=20 in_per_s=-',
      '2026-11-22T12:00:00.000Z group=email-sender topic=orders members=1 owned=2/2 lag=10 out_per_s=-',
      '2026-11-22T12:00:02.000Z topic=orders partitions=2 records=40 end_offset=40 in_per_s=10',
      '2026-11-22T12:00:02.000Z group=email-sender topic=orders members=1 owned=2/2 lag=26 out_per_s=2',
      '2026-11-22T12:00:04.000Z topic=orders partitions=2 records=60 end_offset=60 in_per_s=10',
      '2026-11-22T12:00:04.000Z group=email-sender topic=orders members=1 owned=2/2 lag=42 out_per_s=2',
    ]);
    expect(term.out()).not.toContain('\u001b');
  });

  it('redraws in place on a terminal and shows the cursor again at the end', async () => {
    const term = terminal(true);
    await runTop(retail(), parseCommandLine(['top', '--iterations', '2', '--interval', '0.5']), io(term), fakeClock());

    const out = term.out();
    expect(out.startsWith(ANSI.hideCursor + ANSI.clearScreen)).toBe(true);
    expect(out.endsWith(ANSI.showCursor)).toBe(true);
    expect(out.split(ANSI.home)).toHaveLength(3); // two frames, each drawn from the top-left corner
    expect(out).toContain('shardlog top  http://fake  every 0.5 s');
    expect(out).toContain('email-sender');
    expect(out).not.toContain('group=email-sender');
  });

  it('stops at Ctrl-C during the wait, cleanly, with the cursor shown again', async () => {
    const controller = new AbortController();
    const term = terminal(true);
    const clock = fakeClock((n) => {
      if (n === 2) controller.abort();
    });

    await expect(runTop(retail(), parseCommandLine(['top']), io(term, controller.signal), clock)).resolves.toBeUndefined();

    expect(clock.sleeps).toHaveLength(2);
    expect(term.out().split(ANSI.home)).toHaveLength(3);
    expect(term.out().endsWith(ANSI.showCursor)).toBe(true);
  });

  it('stops at Ctrl-C during a refresh without waiting for it', async () => {
    const controller = new AbortController();
    const term = terminal(false);
    const source = retail();
    const hanging: TopSource = { ...source, listGroups: () => new Promise(() => {}), listTopics: () => source.listTopics(), describeTopic: (t) => source.describeTopic(t), describeGroup: (g) => source.describeGroup(g) };
    const run = runTop(hanging, parseCommandLine(['top']), io(term, controller.signal), fakeClock());
    controller.abort();
    await expect(run).resolves.toBeUndefined();
    expect(term.out()).toBe('');
  });

  it('fails when the first refresh fails: a wrong URL or an unknown group is the command failing', async () => {
    const source = retail();
    source.failNext = 1;
    await expect(runTop(source, parseCommandLine(['top', '--iterations', '2']), io(terminal(false)), fakeClock())).rejects.toThrow(UnavailableError);
    await expect(
      runTop(retail(), parseCommandLine(['groups', 'describe', 'nobody', '--watch', '--iterations', '1']), io(terminal(false)), fakeClock()),
    ).rejects.toThrow(GroupNotFoundError);
  });

  it('keeps going when a later refresh fails: says so on the terminal frame, or on stderr', async () => {
    const source = retail();
    const term = terminal(false);
    await runTop(source, parseCommandLine(['top', '--iterations', '3']), io(term), fakeClock((n) => (source.failNext = n === 1 ? 1 : 0)));
    expect(term.err()).toBe('shardlog top: refresh failed: cannot reach http://fake\n');
    expect(term.out().split('\n').filter(Boolean)).toHaveLength(4); // refreshes 1 and 3

    const ttySource = retail();
    const tty = terminal(true);
    await runTop(ttySource, parseCommandLine(['top', '--iterations', '2']), io(tty), fakeClock(() => (ttySource.failNext = 1)));
    const frames = tty.out().split(ANSI.home);
    expect(frames).toHaveLength(3);
    expect(frames[2]).toContain('! refresh failed: cannot reach http://fake');
    expect(frames[2]).toContain('email-sender'); // the last good view stays
  });

  it('prints one JSON line per refresh with --json', async () => {
    const term = terminal(true);
    await runTop(retail(), parseCommandLine(['top', '--iterations', '2', '--json']), io(term), fakeClock());
    const lines = term.out().split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1]!)).toMatchObject({ sinceMs: 2_000, groups: [{ group: 'email-sender', lag: 10, outPerSecond: 0 }] });
  });
});

describe('takeSnapshot', () => {
  it('reads every group and topic, leaving out a topic deleted between its listing and its description', async () => {
    const source = retail();
    source.vanishing.add('gone');
    const snapshot = await takeSnapshot(source, {}, { now: () => T0 });
    expect(snapshot.topics.map((t) => t.name)).toEqual(['orders']);
    expect(snapshot.groups.map((g) => `${g.group}/${g.topic}`)).toEqual(['email-sender/orders']);
    expect(snapshot.takenAt).toBe(T0);
  });

  it('with --group, reads that group and only the topics it reads', async () => {
    const source = retail();
    source.ends.set('payments', [3]);
    const snapshot = await takeSnapshot(source, { group: 'email-sender' }, { now: () => T0 });
    expect(snapshot.topics.map((t) => t.name)).toEqual(['orders']);
  });

  it('with --topic, reads that topic and the groups rows of that topic only; an unknown one is an error', async () => {
    const source = retail();
    source.ends.set('payments', [3]);
    source.committed.set('inventory', { topic: 'payments', offsets: [1], members: 1 });
    const snapshot = await takeSnapshot(source, { topic: 'payments' }, { now: () => T0 });
    expect(snapshot.topics.map((t) => t.name)).toEqual(['payments']);
    expect(snapshot.groups.map((g) => g.group)).toEqual(['inventory']);
    await expect(takeSnapshot(source, { topic: 'nope' }, { now: () => T0 })).rejects.toThrow(TopicNotFoundError);
  });
});

describe('top options', () => {
  it('defaults to a refresh every 2 seconds until Ctrl-C', () => {
    expect(topOptions(parseCommandLine(['top']))).toEqual({ filter: {}, intervalMs: 2_000, iterations: undefined });
  });

  it('takes a filter, an interval and a number of refreshes', () => {
    expect(topOptions(parseCommandLine(['top', '--group', 'g', '--topic', 't', '--interval', '1.5', '--iterations', '3']))).toEqual({
      filter: { group: 'g', topic: 't' },
      intervalMs: 1_500,
      iterations: 3,
    });
  });

  it('makes groups describe <g> --watch the live view of that group', () => {
    const parsed = parseCommandLine(['groups', 'describe', 'billing', '-w']);
    expect(wantsLiveView(parsed)).toBe(true);
    expect(topOptions(parsed).filter).toEqual({ group: 'billing' });
    expect(wantsLiveView(parseCommandLine(['groups', 'describe', 'billing']))).toBe(false);
  });

  it('refuses an interval under half a second, a bad count, extra arguments, and --interval without --watch', () => {
    expect(() => topOptions(parseCommandLine(['top', '--interval', '0.1']))).toThrow(/at least 0.5 seconds/);
    expect(() => topOptions(parseCommandLine(['top', '--interval', 'soon']))).toThrow(UsageError);
    expect(() => topOptions(parseCommandLine(['top', '--iterations', '0']))).toThrow(UsageError);
    expect(() => topOptions(parseCommandLine(['top', 'orders']))).toThrow(/unexpected argument 'orders'/);
    expect(() => wantsLiveView(parseCommandLine(['groups', 'describe', 'g', '--interval', '1']))).toThrow(/--interval needs --watch/);
    expect(() => parseCommandLine(['top', '--follow'])).toThrow(/'top' does not take --follow/);
  });
});
