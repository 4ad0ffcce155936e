/**
 * The data and the drawing of `shardlog top`: pure functions of snapshots, with no I/O and no clock, so rates
 * and frames are tested with made-up snapshots (test/unit/client/top-view.test.ts).
 *
 * Rates come from two consecutive snapshots, like `kafka-consumer-groups` watched twice or Kinesis'
 * IncomingRecords / GetRecords.Records per period:
 * - in, per topic: the growth of the partitions' end offsets (records appended), per second;
 * - out, per (group, topic): the growth of the group's committed offsets (records consumed and committed), per second.
 * A rate is unknown (shown `-`) on the first snapshot, and whenever an offset went DOWN between the two (a topic
 * deleted and created again, a group reset to earlier offsets): the difference then says nothing about traffic.
 */
import type { GroupDescription, TopicDescription } from '../types.js';
import { table } from './format.js';

/** One topic as one refresh saw it. */
export interface TopicSample {
  readonly name: string;
  /** Changes when the topic is deleted and created again: offsets of two incarnations are not comparable. */
  readonly createdAt: number;
  readonly partitions: number;
  /** End offset (the next offset to be appended) by partition. */
  readonly endOffsets: ReadonlyMap<number, number>;
  /** Records still readable: Σ (endOffset − startOffset). */
  readonly records: number;
}

/** One (group, topic) as one refresh saw it. */
export interface GroupTopicSample {
  readonly group: string;
  readonly topic: string;
  /** Live members of the group (all its topics). */
  readonly members: number;
  readonly partitions: number;
  /** Partitions whose lease a live member holds. */
  readonly owned: number;
  /** Committed offset by partition; `null` where the group never committed. */
  readonly committed: ReadonlyMap<number, number | null>;
  /** Σ lag over the topic's partitions, as `GET /v1/groups/{group}` computes it. */
  readonly lag: number;
}

/** Everything one refresh read, and when (ms since the epoch, from the injected clock). */
export interface Snapshot {
  readonly takenAt: number;
  readonly topics: readonly TopicSample[];
  readonly groups: readonly GroupTopicSample[];
}

/** A row of the topics table. */
export interface TopicRow {
  readonly topic: string;
  readonly partitions: number;
  readonly records: number;
  readonly endOffset: number;
  /** Records appended per second since the previous refresh; undefined when unknown. */
  readonly inPerSecond: number | undefined;
}

/** A row of the groups table. */
export interface GroupRow {
  readonly group: string;
  readonly topic: string;
  readonly members: number;
  readonly partitions: number;
  readonly owned: number;
  readonly lag: number;
  /** Records committed per second since the previous refresh; undefined when unknown. */
  readonly outPerSecond: number | undefined;
}

/** What one refresh shows. */
export interface TopView {
  readonly takenAt: number;
  /** Time between the two snapshots the rates come from; undefined on the first refresh. */
  readonly sinceMs: number | undefined;
  readonly topics: readonly TopicRow[];
  readonly groups: readonly GroupRow[];
}

/** A topic description as a sample. */
export function topicSample(description: TopicDescription): TopicSample {
  const endOffsets = new Map<number, number>();
  let records = 0;
  for (const stats of description.partitionStats) {
    endOffsets.set(stats.partition, stats.endOffset);
    records += stats.endOffset - stats.startOffset;
  }
  return { name: description.name, createdAt: description.createdAt, partitions: description.partitions, endOffsets, records };
}

/** A group description as one sample per topic it holds partitions of, in topic order. */
export function groupSamples(description: GroupDescription): GroupTopicSample[] {
  const byTopic = new Map<string, { committed: Map<number, number | null>; lag: number; owned: number }>();
  for (const p of description.partitions) {
    const entry = byTopic.get(p.topic) ?? { committed: new Map<number, number | null>(), lag: 0, owned: 0 };
    entry.committed.set(p.partition, p.committedOffset);
    entry.lag += p.lag;
    if (p.owner !== null) entry.owned++;
    byTopic.set(p.topic, entry);
  }
  return [...byTopic.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, entry]) => ({
      group: description.group,
      topic,
      members: description.members.length,
      partitions: entry.committed.size,
      owned: entry.owned,
      committed: entry.committed,
      lag: entry.lag,
    }));
}

/**
 * Offsets per second between two readings of the same partitions: the sum of each partition's growth over the
 * elapsed time. Partitions absent from either reading (added since) or never committed are left out.
 * @returns undefined when no time passed, nothing is comparable, or any offset went down.
 */
export function offsetRate(
  before: ReadonlyMap<number, number | null>,
  after: ReadonlyMap<number, number | null>,
  elapsedMs: number,
): number | undefined {
  if (!(elapsedMs > 0)) return undefined;
  let delta = 0;
  let compared = 0;
  for (const [partition, next] of after) {
    const previous = before.get(partition);
    if (previous === undefined || previous === null || next === null) continue;
    if (next < previous) return undefined;
    delta += next - previous;
    compared++;
  }
  return compared === 0 ? undefined : (delta * 1000) / elapsedMs;
}

/** The view of `current`, with rates against `previous` (the snapshot before it, if any). */
export function buildView(previous: Snapshot | undefined, current: Snapshot): TopView {
  const elapsedMs = previous === undefined ? undefined : current.takenAt - previous.takenAt;
  const previousTopics = new Map(previous?.topics.map((t) => [t.name, t]));
  const previousGroups = new Map(previous?.groups.map((g) => [`${g.group}\u0000${g.topic}`, g]));
  const topics = current.topics.map((t): TopicRow => {
    const before = previousTopics.get(t.name);
    const comparable = before !== undefined && before.createdAt === t.createdAt && elapsedMs !== undefined;
    return {
      topic: t.name,
      partitions: t.partitions,
      records: t.records,
      endOffset: sum(t.endOffsets.values()),
      inPerSecond: comparable ? offsetRate(before.endOffsets, t.endOffsets, elapsedMs) : undefined,
    };
  });
  // A topic deleted and created again between the snapshots starts its offsets over: committed offsets of the
  // two incarnations are not comparable either (when the topic is in only one snapshot, offsetRate still refuses
  // offsets that went down).
  const currentTopics = new Map(current.topics.map((t) => [t.name, t]));
  const sameIncarnation = (topic: string) => {
    const [before, after] = [previousTopics.get(topic)?.createdAt, currentTopics.get(topic)?.createdAt];
    return before === undefined || after === undefined || before === after;
  };
  const groups = current.groups
    .map((g): GroupRow => {
      const before = previousGroups.get(`${g.group}\u0000${g.topic}`);
      const comparable = before !== undefined && elapsedMs !== undefined && sameIncarnation(g.topic);
      return {
        group: g.group,
        topic: g.topic,
        members: g.members,
        partitions: g.partitions,
        owned: g.owned,
        lag: g.lag,
        outPerSecond: comparable ? offsetRate(before.committed, g.committed, elapsedMs) : undefined,
      };
    })
    // The group furthest behind first: that is what one opens `top` to find.
    .sort((a, b) => b.lag - a.lag || compare(a.group, b.group) || compare(a.topic, b.topic));
  return { takenAt: current.takenAt, sinceMs: elapsedMs, topics, groups };
}

/** A rate for a table cell: one decimal below 100/s, whole numbers above; `null` (shown `-`) when unknown. */
export function formatRate(rate: number | undefined): number | null {
  if (rate === undefined) return null;
  return rate < 100 ? Math.round(rate * 10) / 10 : Math.round(rate);
}

/** The header line of a terminal frame. */
export interface FrameHeader {
  readonly url: string;
  readonly intervalMs: number;
  /** The last refresh failed: its message, shown under the header while the last good view stays. */
  readonly error?: string;
}

/**
 * The lines of one terminal frame: a header, the topics table and the groups table, each line cut to
 * `columns` so that nothing wraps (a wrapped line would break the redraw in place).
 */
export function renderFrame(view: TopView, header: FrameHeader, columns: number): string[] {
  const time = new Date(view.takenAt).toISOString().slice(11, 19);
  const lines = [
    `shardlog top  ${header.url}  every ${formatSeconds(header.intervalMs)}  ${time} UTC  (Ctrl-C to quit)`,
    header.error !== undefined ? `! refresh failed: ${header.error}` : '',
    view.topics.length === 0
      ? 'no topics'
      : table(
          ['TOPIC', 'PARTITIONS', 'RECORDS', 'END OFFSET', 'IN/s'],
          view.topics.map((t) => [t.topic, t.partitions, t.records, t.endOffset, formatRate(t.inPerSecond)]),
        ),
    '',
    view.groups.length === 0
      ? 'no consumer groups'
      : table(
          ['GROUP', 'TOPIC', 'MEMBERS', 'OWNED', 'LAG', 'OUT/s'],
          view.groups.map((g) => [g.group, g.topic, g.members, `${g.owned}/${g.partitions}`, g.lag, formatRate(g.outPerSecond)]),
        ),
  ];
  const width = Math.max(20, columns - 1);
  return lines.flatMap((block) => block.split('\n')).map((line) => (line.length > width ? line.slice(0, width - 1) + '…' : line));
}

/** ANSI sequences of the in-place redraw (ECMA-48): no dependency needed. */
export const ANSI = {
  hideCursor: '\u001b[?25l',
  showCursor: '\u001b[?25h',
  home: '\u001b[H',
  clearScreen: '\u001b[2J',
  clearToLineEnd: '\u001b[K',
  clearToScreenEnd: '\u001b[J',
} as const;

/**
 * A frame written over the previous one: cursor home, each line followed by clear-to-end-of-line (a shorter line
 * must not leave the tail of a longer one), then clear below (a shorter frame must not leave old rows).
 */
export function redraw(lines: readonly string[]): string {
  return ANSI.home + lines.map((line) => line + ANSI.clearToLineEnd).join('\n') + '\n' + ANSI.clearToScreenEnd;
}

/**
 * The plain lines of one refresh when stdout is not a terminal: one `key=value` line per topic and per (group,
 * topic), each with the refresh's time, so a log or `grep` reads them. Names never contain spaces (docs/api.md
 * name rules), so the values need no quoting.
 */
export function renderPlain(view: TopView): string[] {
  const at = new Date(view.takenAt).toISOString();
  const rate = (r: number | undefined) => (r === undefined ? '-' : String(formatRate(r)));
  return [
    ...view.topics.map(
      (t) => `${at} topic=${t.topic} partitions=${t.partitions} records=${t.records} end_offset=${t.endOffset} in_per_s=${rate(t.inPerSecond)}`,
    ),
    ...view.groups.map(
      (g) =>
        `${at} group=${g.group} topic=${g.topic} members=${g.members} owned=${g.owned}/${g.partitions} lag=${g.lag} out_per_s=${rate(g.outPerSecond)}`,
    ),
  ];
}

/** One refresh as a JSON line (`--json`). */
export function renderJson(view: TopView): string {
  return JSON.stringify({
    at: view.takenAt,
    sinceMs: view.sinceMs ?? null,
    topics: view.topics.map((t) => ({ ...t, inPerSecond: t.inPerSecond ?? null })),
    groups: view.groups.map((g) => ({ ...g, outPerSecond: g.outPerSecond ?? null })),
  });
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
