import type { TopicPartition } from '../groups/assignment.js';
// A registry entry has the consumer groups' registry's attributes, and is written by the same update.
import { REGISTRY } from '../groups/lease-table.js';
import { PARTITION_KEY, SORT_KEY } from '../storage/tables.js';
import type { ShareConfig, SharePartitionRecord, Subscription, SubscriptionStart } from './share-store.js';
import { DEFAULT_MAX_DELIVERIES, type ArchiveReason, type RecordState, type StateRun } from './share-window.js';

/*
 * The share groups' items in the lease table, in one place: every key, attribute name and codec
 * (`DynamoShareStore` writes through these; nothing else spells them). Beside the consumer groups' items of
 * lib/groups/lease-table.ts, under partition keys of their own, so neither kind ever reads the other's:
 *
 * | item            | pk              | sk                        | attributes                                   |
 * |-----------------|-----------------|---------------------------|----------------------------------------------|
 * | configuration   | `share#<group>` | `cfg`                     | `CONFIG`: maxDeliveries, deadLetterTopic     |
 * | subscription    | `share#<group>` | `sub#<topic>`             | `SUBSCRIPTION`: incarnation, start offsets   |
 * | share-partition | `share#<group>` | `win#<topic>#<partition>` | `PARTITION`: version, window, pending DLQ    |
 * | registry entry  | `share-groups`  | `<group>`                 | `REGISTRY`: the group, when first registered |
 *
 * `cfg` < `sub#` < `win#`, so one Query with `sk < "win#"` reads a group's configuration and subscriptions
 * without its windows, and `begins_with(sk, "win#")` its windows. Names are `[A-Za-z0-9._-]`: `#` never
 * occurs in one. docs/design.md ("Share groups") describes what the items serve.
 *
 * ## The window attribute `w`
 * One string of runs (lib/share-groups/share-window.ts), numbers in base 36, so that the largest window (2,000
 * runs of one record each, every one a different lock) stays near 70 KB, far below DynamoDB's 400 KB item:
 * ```
 * window := "" | run (";" run)*
 * run    := count kind
 * kind   := "v" deliveries                                    available
 *         | "a" deliveries "," receipt "," deadline "," lockMs  acquired (receipt: [A-Za-z0-9_-]+)
 *         | "c"                                                accepted
 *         | "z" deliveries "," batch "," ("r" | "m")            archiving (rejected | max-deliveries)
 *         | "x"                                                archived
 * ```
 */

/** A lease table key: `{ pk, sk }`. */
export type ShareTableKey = Record<typeof PARTITION_KEY | typeof SORT_KEY, string>;

const GROUP_PREFIX = 'share#';
const CONFIG_SK = 'cfg';
export const SUBSCRIPTION_PREFIX = 'sub#';
export const PARTITION_PREFIX = 'win#';
/** The partition key of the registry read by `GET /v1/share-groups`. */
export const SHARE_REGISTRY_PK = 'share-groups';

export const sharePk = (group: string): string => `${GROUP_PREFIX}${group}`;
export const configKey = (group: string): ShareTableKey => ({ [PARTITION_KEY]: sharePk(group), [SORT_KEY]: CONFIG_SK });
export const subscriptionKey = (group: string, topic: string): ShareTableKey => ({ [PARTITION_KEY]: sharePk(group), [SORT_KEY]: `${SUBSCRIPTION_PREFIX}${topic}` });
export const partitionKey = (group: string, p: TopicPartition): ShareTableKey => ({
  [PARTITION_KEY]: sharePk(group),
  [SORT_KEY]: `${PARTITION_PREFIX}${p.topic}#${p.partition}`,
});
/** The sort-key prefix of one topic's share-partitions (`#` ends the name: `a` does not match `a.b`). */
export const topicPartitionsPrefix = (topic: string): string => `${PARTITION_PREFIX}${topic}#`;
export const shareRegistryKey = (group: string): ShareTableKey => ({ [PARTITION_KEY]: SHARE_REGISTRY_PK, [SORT_KEY]: group });

export const CONFIG = { maxDeliveries: 'maxDeliveries', deadLetterTopic: 'deadLetterTopic', updatedAt: 'updatedAt' } as const;
export const SUBSCRIPTION = {
  topic: 'topic',
  topicId: 'topicId',
  subscriptionId: 'subscriptionId',
  from: 'from',
  startOffsets: 'startOffsets',
  createdAt: 'createdAt',
} as const;
/** Short names: every fetch and ack rewrites the whole item. */
export const PARTITION = {
  topic: 'topic',
  partition: 'partition',
  topicId: 'tid',
  subscriptionId: 'sid',
  incarnation: 'inc',
  version: 'v',
  startOffset: 'so',
  window: 'w',
  archived: 'ar',
  deadLetters: 'dl',
  /** The ids of the last few writes (see `DynamoShareStore.writePartition`). */
  writers: 'ws',
} as const;

/** How many write ids a share-partition remembers: enough to recognise an SDK retry of our own write. */
export const REMEMBERED_WRITERS = 8;

export function encodeSubscription(group: string, s: Subscription): Record<string, unknown> {
  return {
    ...subscriptionKey(group, s.topic),
    [SUBSCRIPTION.topic]: s.topic,
    [SUBSCRIPTION.topicId]: s.topicId,
    [SUBSCRIPTION.subscriptionId]: s.subscriptionId,
    [SUBSCRIPTION.from]: s.from,
    [SUBSCRIPTION.startOffsets]: [...s.startOffsets],
    [SUBSCRIPTION.createdAt]: s.createdAt,
  };
}

export function decodeSubscription(item: Record<string, unknown>): Subscription {
  const starts = item[SUBSCRIPTION.startOffsets];
  return {
    topic: String(item[SUBSCRIPTION.topic]),
    topicId: String(item[SUBSCRIPTION.topicId]),
    subscriptionId: String(item[SUBSCRIPTION.subscriptionId]),
    from: (item[SUBSCRIPTION.from] === 'earliest' ? 'earliest' : 'latest') satisfies SubscriptionStart,
    startOffsets: Array.isArray(starts) ? starts.map(Number) : [],
    createdAt: Number(item[SUBSCRIPTION.createdAt]),
  };
}

export function decodeConfig(item: Record<string, unknown>): ShareConfig {
  const dlq = item[CONFIG.deadLetterTopic];
  const max = item[CONFIG.maxDeliveries];
  return { maxDeliveries: typeof max === 'number' ? max : DEFAULT_MAX_DELIVERIES, deadLetterTopic: typeof dlq === 'string' ? dlq : null };
}

/** A group's configuration and subscriptions from the Query `sk < "win#"` (other kinds skipped). */
export function decodeGroupItems(items: readonly Record<string, unknown>[]): { config: ShareConfig | null; subscriptions: Subscription[] } {
  let config: ShareConfig | null = null;
  const subscriptions: Subscription[] = [];
  for (const item of items) {
    const sk = String(item[SORT_KEY]);
    if (sk === CONFIG_SK) config = decodeConfig(item);
    else if (sk.startsWith(SUBSCRIPTION_PREFIX)) subscriptions.push(decodeSubscription(item));
  }
  return { config, subscriptions };
}

/** The whole item of a share-partition at `version`, written by `writer` (remembered with the last few). */
export function encodePartition(group: string, p: SharePartitionRecord, version: number, writer: string): Record<string, unknown> {
  return {
    ...partitionKey(group, p),
    [PARTITION.topic]: p.topic,
    [PARTITION.partition]: p.partition,
    [PARTITION.topicId]: p.topicId,
    [PARTITION.subscriptionId]: p.subscriptionId,
    [PARTITION.incarnation]: p.incarnation,
    [PARTITION.version]: version,
    [PARTITION.startOffset]: p.window.startOffset,
    [PARTITION.window]: encodeRuns(p.window.runs),
    [PARTITION.archived]: p.window.archived,
    ...(Object.keys(p.deadLetters).length > 0 ? { [PARTITION.deadLetters]: { ...p.deadLetters } } : {}),
    [PARTITION.writers]: [...p.writers, writer].slice(-REMEMBERED_WRITERS),
  };
}

export function decodePartition(item: Record<string, unknown>): SharePartitionRecord {
  const deadLetters: Record<number, string> = {};
  const dl = item[PARTITION.deadLetters];
  if (dl && typeof dl === 'object') for (const [batch, topic] of Object.entries(dl)) deadLetters[Number(batch)] = String(topic);
  return {
    topic: String(item[PARTITION.topic]),
    partition: Number(item[PARTITION.partition]),
    topicId: String(item[PARTITION.topicId]),
    subscriptionId: String(item[PARTITION.subscriptionId]),
    incarnation: String(item[PARTITION.incarnation]),
    version: Number(item[PARTITION.version]),
    window: { startOffset: Number(item[PARTITION.startOffset]), runs: decodeRuns(String(item[PARTITION.window] ?? '')), archived: Number(item[PARTITION.archived] ?? 0) },
    deadLetters,
    writers: decodeWriters(item),
  };
}

/** `p` as {@link encodePartition} stores it at `version` by `writer`: what the next step starts from. */
export function asWritten(p: SharePartitionRecord, version: number, writer: string): SharePartitionRecord {
  return { ...p, version, writers: [...p.writers, writer].slice(-REMEMBERED_WRITERS) };
}

/** The write ids a stored share-partition remembers. */
export function decodeWriters(item: Record<string, unknown>): string[] {
  const ws = item[PARTITION.writers];
  return Array.isArray(ws) ? ws.map(String) : [];
}

export function decodeRegistryEntry(item: Record<string, unknown>): string {
  return String(item[REGISTRY.group]);
}

// ------------------------------------------------------------------------------------------ the window codec

const b36 = (n: number): string => n.toString(36);
const RECEIPT = /^[A-Za-z0-9_-]+$/;

/** The `w` attribute of `runs` (grammar above). */
export function encodeRuns(runs: readonly StateRun[]): string {
  return runs.map(({ count, state }) => b36(count) + encodeState(state)).join(';');
}

function encodeState(s: RecordState): string {
  switch (s.kind) {
    case 'available':
      return `v${b36(s.deliveries)}`;
    case 'acquired':
      if (!RECEIPT.test(s.receipt)) throw new Error(`a receipt is [A-Za-z0-9_-]+, got '${s.receipt}'`);
      return `a${b36(s.deliveries)},${s.receipt},${b36(s.deadline)},${b36(s.lockMs)}`;
    case 'accepted':
      return 'c';
    case 'archiving':
      return `z${b36(s.deliveries)},${b36(s.batch)},${s.reason === 'rejected' ? 'r' : 'm'}`;
    case 'archived':
      return 'x';
  }
}

const RUN = /^([0-9a-z]+)([vaczx])(.*)$/;

/**
 * The runs of a `w` attribute.
 * @throws Error on text that is not of the grammar (a corrupt item is not silently read as an empty window).
 */
export function decodeRuns(text: string): StateRun[] {
  if (text === '') return [];
  return text.split(';').map((part) => {
    const m = RUN.exec(part);
    if (!m) throw new Error(`share window: bad run '${part}'`);
    return { count: int36(m[1]!), state: decodeState(m[2]!, m[3]!.split(',')) };
  });
}

function decodeState(kind: string, f: string[]): RecordState {
  switch (kind) {
    case 'v':
      return { kind: 'available', deliveries: int36(f[0]) };
    case 'a':
      if (f.length !== 4 || !RECEIPT.test(f[1] ?? '')) throw new Error(`share window: bad acquired run '${f.join(',')}'`);
      return { kind: 'acquired', deliveries: int36(f[0]), receipt: f[1]!, deadline: int36(f[2]), lockMs: int36(f[3]) };
    case 'c':
      return { kind: 'accepted' };
    case 'z':
      if (f[2] !== 'r' && f[2] !== 'm') throw new Error(`share window: bad archiving run '${f.join(',')}'`);
      return { kind: 'archiving', deliveries: int36(f[0]), batch: int36(f[1]), reason: (f[2] === 'r' ? 'rejected' : 'max-deliveries') satisfies ArchiveReason };
    default:
      return { kind: 'archived' };
  }
}

function int36(text: string | undefined): number {
  if (text === undefined || !/^[0-9a-z]+$/.test(text)) throw new Error(`share window: bad number '${String(text)}'`);
  return parseInt(text, 36);
}

