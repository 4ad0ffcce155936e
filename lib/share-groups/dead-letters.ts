import { createHash } from 'node:crypto';
import { IdempotencyKeyReusedError, OffsetOutOfRangeError, TopicNotFoundError } from '../errors.js';
import type { StoredRecord } from '../log/batch-format.js';
import type { ProduceRecord } from '../log/log-types.js';
import { partitionFor } from '../log/partitioner.js';
import { MAX_MAX_BYTES } from '../contract/limits.js';
import type { TopicPartition } from '../groups/assignment.js';
import type { Topic } from '../topics/topic.js';
import { step, type ShareContext } from './share-context.js';
import type { SharePartitionRecord } from './share-store.js';
import { asWritten } from './share-table.js';
import { completeArchive, pendingArchives, type PendingArchive } from './share-window.js';

/**
 * Dead letters: the archived records' copies in the group's dead-letter topic, exactly once.
 *
 * The archive (a state write in the lease table) and the append (a produce to the log table) cannot be one
 * transaction without reaching into the append protocol, so they are ordered, and each is safe to repeat:
 * ```
 * (1) write: records → archiving, batch B = this write's version, dl[B] = <topic>   (in the fetch/ack step)
 *       ── crash: the next fetch or ack on the partition finds dl[B] and resumes at (2)
 * (2) produce the copies to <topic> with Idempotency-Key K(group, topic, partition, incarnation, B, chunk)
 *       ── crash: the retry of (2) appends nothing new: the key replays the first append's response
 * (3) write: archiving(B) → archived, dl[B] removed, conditional on the version
 *       ── lost race: re-read; whoever completes B next repeats (2) (a replay) and (3)
 * ```
 * The copy's body is a function of the stored state alone (the source records, their delivery counts and
 * reasons, in offset order, their own timestamps), so a repeated (2) sends the same request and the log's
 * idempotency record answers it. Records wait in `archiving`, never delivered again, between (1) and (3).
 * Limits: an idempotency record lives 24 hours (docs/api.md), so a batch left at (2) for longer could be
 * appended twice; the next fetch or ack on the partition resumes it, so only a share group nobody fetches
 * from or acknowledges to for a day gets there. A dead-letter topic deleted meanwhile, or source records
 * retention removed first, leave nothing to copy: the records are archived without one (a warning is logged).
 */

/** Headers naming a copy's origin (docs/api.md, "Share groups"); `shardlog-origin-group` is an addition (README). */
export const ORIGIN_HEADERS = {
  group: 'shardlog-origin-group',
  topic: 'shardlog-origin-topic',
  partition: 'shardlog-origin-partition',
  offset: 'shardlog-origin-offset',
  deliveryCount: 'shardlog-origin-delivery-count',
  reason: 'shardlog-origin-reason',
} as const;

/** One produce request holds at most this many copies, and this many bytes of them (a 6 MB request's worth). */
const MAX_COPIES_PER_APPEND = 500;
const MAX_COPY_BYTES_PER_APPEND = 4 * 1024 * 1024;
/** ...and touches at most this many partitions of the dead-letter topic (a keyed append is one transaction of ≤ 100 items). */
const MAX_PARTITIONS_PER_APPEND = 90;
/** Conditional writes one completion tries before it leaves the rest to the next step. */
const MAX_ATTEMPTS = 8;

/** A partition of a subscribed topic (what dead letters need of share-partitions.ts's `Target`). */
export interface SourcePartition {
  readonly topic: Topic;
  readonly partition: number;
}

/** The store's key of a share-partition: topic by name. */
export const storeKey = (source: SourcePartition): TopicPartition => ({ topic: source.topic.name, partition: source.partition });

/**
 * Completes every pending dead-letter batch of `record` ((2) and (3) above), oldest first.
 * @returns the share-partition as it stands after the last write, or `null` when another step changed it so
 *   that it no longer has the batches (it completed them, or the subscription ended).
 */
export async function completeDeadLetters(
  ctx: ShareContext,
  group: string,
  source: SourcePartition,
  record: SharePartitionRecord,
): Promise<SharePartitionRecord | null> {
  let current: SharePartitionRecord | null = record;
  for (let attempt = 0; current && attempt < MAX_ATTEMPTS; attempt++) {
    const batch = Object.keys(current.deadLetters).map(Number).sort((a, b) => a - b)[0];
    if (batch === undefined) return current;
    await appendCopies(ctx, group, source, current, batch);
    await step(ctx, 'archive.appended', { group, topic: source.topic.name, partition: source.partition });
    const { [batch]: _done, ...rest } = current.deadLetters;
    const next = { ...current, window: completeArchive(current.window, batch), deadLetters: rest };
    const writer = ctx.newId();
    if ((await ctx.store.writePartition(group, next, current.version, writer)) === 'ok') current = asWritten(next, current.version + 1, writer);
    else {
      const stored = await ctx.store.getPartition(group, storeKey(source));
      current = stored && stored.incarnation === record.incarnation ? stored : null;
    }
  }
  return current;
}

/** (2): the copies of batch `batch`'s records, appended to its dead-letter topic under deterministic keys. */
async function appendCopies(ctx: ShareContext, group: string, source: SourcePartition, record: SharePartitionRecord, batch: number): Promise<void> {
  const pending = pendingArchives(record.window).get(batch) ?? [];
  const topicName = record.deadLetters[batch];
  if (pending.length === 0 || topicName === undefined) return;
  let deadLetterTopic: Topic;
  try {
    deadLetterTopic = await ctx.topics.get(topicName);
  } catch (error) {
    if (!(error instanceof TopicNotFoundError)) throw error;
    ctx.logger.warn('dead-letter topic is gone: records archived without a copy', { group, deadLetterTopic: topicName, records: pending.length });
    return;
  }
  const originals = await readPending(ctx, source, pending);
  const copies = pending.flatMap((p) => {
    const original = originals.get(p.offset);
    return original ? [copyOf(original, p, group, source)] : [];
  });
  if (copies.length < pending.length) {
    ctx.logger.warn('records removed by retention before their dead-letter copy', { group, topic: source.topic.name, missing: pending.length - copies.length });
  }
  for (const [i, chunk] of chunks(copies, deadLetterTopic.partitions).entries()) {
    const idempotencyKey = deadLetterKey(group, record, batch, i);
    try {
      await ctx.log.produce(deadLetterTopic, { records: chunk, idempotencyKey });
    } catch (error) {
      // The key was used with another body: the source records changed under it (retention), and that first
      // append stands. Anything else (throttling, an outage) fails the step, to be resumed.
      if (!(error instanceof IdempotencyKeyReusedError)) throw error;
      ctx.logger.warn('dead-letter copies appended before under this key', { group, idempotencyKey });
    }
  }
}

/** The source records of `pending`, by offset; those retention removed are missing. */
async function readPending(ctx: ShareContext, source: SourcePartition, pending: readonly PendingArchive[]): Promise<Map<number, StoredRecord>> {
  const wanted = new Set(pending.map((p) => p.offset));
  const found = new Map<number, StoredRecord>();
  const last = pending[pending.length - 1]!.offset;
  let next = pending[0]!.offset;
  while (next <= last) {
    let records: StoredRecord[];
    try {
      const result = await ctx.log.read(source.topic, source.partition, {
        start: { kind: 'offset', offset: next },
        limit: last - next + 1,
        maxBytes: MAX_MAX_BYTES,
        encoding: 'base64',
        waitMs: 0,
        direction: 'forward',
      });
      records = result.records;
    } catch (error) {
      if (!(error instanceof OffsetOutOfRangeError)) throw error;
      const start = Number(error.details.startOffset);
      if (!(start > next)) break;
      next = start;
      continue;
    }
    if (records.length === 0) break;
    for (const r of records) if (wanted.has(r.offset)) found.set(r.offset, r);
    next = records[records.length - 1]!.offset + 1;
  }
  return found;
}

/** The copy of `original`: its key, value, headers and timestamp, and the headers naming its origin. */
function copyOf(original: StoredRecord, p: PendingArchive, group: string, source: SourcePartition): ProduceRecord {
  return {
    key: original.key,
    value: original.value,
    valueIsJson: original.valueIsJson,
    // The origin headers add a few hundred bytes at most: a record that fit a response (≤ 4 MiB, README) still does.
    headers: {
      ...original.headers,
      [ORIGIN_HEADERS.group]: group,
      [ORIGIN_HEADERS.topic]: source.topic.name,
      [ORIGIN_HEADERS.partition]: String(source.partition),
      [ORIGIN_HEADERS.offset]: String(p.offset),
      [ORIGIN_HEADERS.deliveryCount]: String(p.deliveries),
      [ORIGIN_HEADERS.reason]: p.reason,
    },
    timestamp: original.timestamp,
  };
}

/** Copies split into produce requests, deterministically (the same copies give the same requests). */
function chunks(copies: readonly ProduceRecord[], partitions: number): ProduceRecord[][] {
  const out: ProduceRecord[][] = [];
  let current: ProduceRecord[] = [];
  let bytes = 0;
  let touched = new Set<number>();
  for (const copy of copies) {
    const size = (copy.key?.length ?? 0) + copy.value.length + Object.entries(copy.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
    // Keyless copies of one request share one partition (the sticky partitioner): count them as -1.
    const partition = copy.key === null ? -1 : partitionFor(copy.key, partitions);
    const full =
      current.length >= MAX_COPIES_PER_APPEND ||
      (current.length > 0 && bytes + size > MAX_COPY_BYTES_PER_APPEND) ||
      (!touched.has(partition) && touched.size >= MAX_PARTITIONS_PER_APPEND);
    if (full) {
      out.push(current);
      current = [];
      bytes = 0;
      touched = new Set();
    }
    current.push(copy);
    bytes += size;
    touched.add(partition);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The Idempotency-Key of one dead-letter append: the same for every attempt at the same chunk of the same
 * batch of the same share-partition incarnation (a group deleted and re-created, or a new subscription, gets
 * new keys: its archives are new records). 47 visible ASCII characters (docs/api.md: 1..128).
 */
export function deadLetterKey(group: string, record: Pick<SharePartitionRecord, 'topicId' | 'partition' | 'incarnation'>, batch: number, chunk: number): string {
  const digest = createHash('sha256').update([group, record.topicId, record.partition, record.incarnation, batch, chunk].join('\n')).digest('base64url');
  return `dlq-${digest}`;
}
