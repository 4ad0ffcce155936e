import { mapLimit } from '../../concurrency.js';
import { GroupNotFoundError, TopicNotFoundError } from '../../errors.js';
import { DEFAULT_URL, type ShardlogClient } from '../client.js';
import { intOption, noMoreArgs, numberOption, required, UsageError, type ParsedArgs } from './args.js';
import type { CliIo } from './io.js';
import {
  ANSI,
  buildView,
  groupSamples,
  redraw,
  renderFrame,
  renderJson,
  renderPlain,
  topicSample,
  type GroupTopicSample,
  type Snapshot,
  type TopicSample,
} from './top-view.js';

/** Seconds between refreshes unless `--interval` says otherwise. */
export const DEFAULT_TOP_INTERVAL_S = 2;
/** The shortest refresh interval: each refresh costs 2 + topics + groups requests. */
export const MIN_TOP_INTERVAL_S = 0.5;
/** Describe calls in flight at once during a refresh. */
const DESCRIBE_CONCURRENCY = 8;

/** What `top` reads: the admin calls of the client (a fake in unit tests). */
export type TopSource = Pick<ShardlogClient, 'listTopics' | 'describeTopic' | 'listGroups' | 'describeGroup'>;

/** Time, injected so that tests need no real clock or sleep. */
export interface TopClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void>;
}

const SYSTEM_CLOCK: TopClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** Which topics and groups to show. */
export interface TopFilter {
  readonly topic?: string;
  readonly group?: string;
}

/**
 * `shardlog top [--topic t] [--group g] [--interval S] [--iterations N]` and `shardlog groups describe <g> --watch`:
 * a live view of records/s in per topic, and lag and records/s out per (group, topic).
 *
 * On a terminal it redraws in place every `--interval` seconds (default 2); otherwise (a pipe, a file, CI) it
 * prints plain `key=value` lines per refresh, or one JSON line per refresh with `--json`. It runs until
 * Ctrl-C (the CLI's abort signal), or for `--iterations` refreshes. A refresh that fails after the first one is
 * shown and retried at the next interval; a failing first refresh is the command's failure (a wrong URL, an
 * unknown group).
 */
export async function runTop(client: TopSource, parsed: ParsedArgs, io: CliIo, clock: TopClock = SYSTEM_CLOCK): Promise<void> {
  const { filter, intervalMs, iterations } = topOptions(parsed);
  const url = (parsed.values.url as string | undefined) ?? (io.env.SHARDLOG_URL || DEFAULT_URL);
  const json = parsed.values.json === true;
  const tty = io.stdout.isTTY === true && !json;
  const signal = io.signal;
  const write = (text: string) => void io.stdout.write(text);

  let previous: Snapshot | undefined;
  let shown: ReturnType<typeof buildView> | undefined;
  if (tty) write(ANSI.hideCursor + ANSI.clearScreen);
  try {
    for (let refresh = 0; iterations === undefined || refresh < iterations; refresh++) {
      if (refresh > 0) await clock.sleep(intervalMs, signal);
      if (signal?.aborted) break;
      let snapshot: Snapshot | undefined;
      let failure: string | undefined;
      try {
        snapshot = await untilAborted(takeSnapshot(client, filter, clock), signal);
      } catch (error) {
        if (previous === undefined) throw error;
        failure = error instanceof Error ? error.message.replace(/\s*\n\s*/g, ' ') : String(error);
      }
      if (signal?.aborted) break;
      if (snapshot !== undefined) {
        shown = buildView(previous, snapshot);
        previous = snapshot;
      }
      if (shown === undefined) continue;
      if (tty) {
        write(redraw(renderFrame(shown, { url, intervalMs, ...(failure !== undefined ? { error: failure } : {}) }, io.stdout.columns ?? 80)));
      } else if (failure !== undefined) {
        io.stderr.write(`shardlog top: refresh failed: ${failure}\n`);
      } else {
        write(json ? renderJson(shown) + '\n' : renderPlain(shown).map((line) => line + '\n').join(''));
      }
    }
  } finally {
    if (tty) write(ANSI.showCursor);
  }
}

/**
 * Whether the command line asks for the live view: `top`, or `groups describe <g> --watch`.
 * @throws UsageError for `--interval` or `--iterations` on a `groups describe` without `--watch`.
 */
export function wantsLiveView(parsed: ParsedArgs): boolean {
  if (parsed.command === 'top') return true;
  if (parsed.command !== 'groups describe') return false;
  if (parsed.values.watch === true) return true;
  for (const option of ['interval', 'iterations'] as const) {
    if (parsed.values[option] !== undefined) throw new UsageError(`--${option} needs --watch`);
  }
  return false;
}

/** The options of `top` (and of `groups describe <g> --watch`), validated. */
export function topOptions(parsed: ParsedArgs): { filter: TopFilter; intervalMs: number; iterations: number | undefined } {
  const { values, args, command } = parsed;
  let group = typeof values.group === 'string' ? values.group : undefined;
  if (command === 'groups describe') {
    group = required(args, 0, 'group', command);
    noMoreArgs(args, 1, command);
  } else {
    noMoreArgs(args, 0, command);
  }
  const topic = typeof values.topic === 'string' ? values.topic : undefined;
  const intervalSeconds = numberOption(values, 'interval') ?? DEFAULT_TOP_INTERVAL_S;
  if (intervalSeconds < MIN_TOP_INTERVAL_S) throw new UsageError(`--interval must be at least ${MIN_TOP_INTERVAL_S} seconds, got '${String(values.interval)}'`);
  const iterations = intOption(values, 'iterations', 1);
  return {
    filter: { ...(topic !== undefined ? { topic } : {}), ...(group !== undefined ? { group } : {}) },
    intervalMs: Math.round(intervalSeconds * 1000),
    iterations,
  };
}

/**
 * One refresh: the groups (all, or the one asked for), then the topics (all, the one asked for, or those the
 * group reads), each described. A topic or group deleted between the list and its describe is left out; one
 * named on the command line that does not exist is an error.
 */
export async function takeSnapshot(client: TopSource, filter: TopFilter, clock: Pick<TopClock, 'now'>): Promise<Snapshot> {
  const groupNames = filter.group !== undefined ? [filter.group] : (await client.listGroups()).map((g) => g.group);
  const groupDescriptions = await mapLimit(groupNames, DESCRIBE_CONCURRENCY, async (group) => {
    try {
      return await client.describeGroup(group);
    } catch (error) {
      if (error instanceof GroupNotFoundError && filter.group === undefined) return undefined;
      throw error;
    }
  });
  let groups: GroupTopicSample[] = groupDescriptions.flatMap((d) => (d === undefined ? [] : groupSamples(d)));
  if (filter.topic !== undefined) groups = groups.filter((g) => g.topic === filter.topic);

  const topicNames =
    filter.topic !== undefined
      ? [filter.topic]
      : filter.group !== undefined
        ? [...new Set(groups.map((g) => g.topic))]
        : (await client.listTopics()).map((t) => t.name);
  const described = await mapLimit([...topicNames].sort(), DESCRIBE_CONCURRENCY, async (topic) => {
    try {
      return topicSample(await client.describeTopic(topic));
    } catch (error) {
      if (error instanceof TopicNotFoundError && filter.topic === undefined) return undefined;
      throw error;
    }
  });
  const topics = described.filter((t): t is TopicSample => t !== undefined);
  return { takenAt: clock.now(), topics, groups };
}

/** `promise`, or undefined as soon as `signal` aborts (Ctrl-C must not wait for a slow refresh). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

