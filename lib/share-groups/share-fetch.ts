import { MAX_MAX_BYTES } from '../contract/limits.js';
import { GroupNotFoundError, OffsetOutOfRangeError } from '../errors.js';
import type { StoredRecord } from '../log/batch-format.js';
import type { ReadResult } from '../log/log-types.js';
import { ResponseCut } from '../log/response-cut.js';
import { bodyTextSize, digits, jsonStringSize, MAX_RESPONSE_RECORD_BYTES, type RecordEncoding } from '../log/wire-size.js';
import type { Topic } from '../topics/topic.js';
import type { ShareContext } from './share-context.js';
import { baseOf, configOf, policyOf, sameWindow, subscribedTargets, writeStep, type Target } from './share-partitions.js';
import type { ShareConfig, SharePartitionRecord } from './share-store.js';
import { completeDeadLetters, storeKey } from './dead-letters.js';
import { acquirable, acquire, settle, skipTo, type ShareWindow } from './share-window.js';

export interface ShareFetchInput {
  /** Records to acquire at most (docs/api.md: 1..1,000). */
  readonly maxRecords: number;
  /** How long each acquired record stays locked to this fetch's receipt. */
  readonly lockMs: number;
  /** Long poll: wait up to this long for a record to acquire. */
  readonly waitMs: number;
  readonly encoding: RecordEncoding;
}

/** A record acquired by a fetch: the log record and the lock it is held under. */
export interface SharedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly deliveryCount: number;
  readonly receipt: string;
  readonly record: StoredRecord;
}

export interface ShareFetchResult {
  readonly records: SharedRecord[];
  /** Conditional writes this fetch lost to concurrent ones (each retried or moved past): the bench's contention figure. */
  readonly lostRaces: number;
}

/** Tries on one share-partition per pass before a fetch moves on to the next (a lost race means another fetch acquired). */
const MAX_ATTEMPTS_PER_PARTITION = 3;

/**
 * Acquires up to `maxRecords` available records across the group's subscribed partitions (docs/api.md,
 * "Share groups"). Partitions are visited from a random one on, so members do not all contend for the first;
 * per partition one conditional write acquires what that partition gives (share-window.ts `acquire`), and a
 * lost race re-reads and tries again, then moves on. Expired locks are noticed here, lazily (`settle`), and
 * pending dead letters of a crashed step completed first. When nothing is available the fetch long-polls: it
 * waits for an append at any partition's end or the next lock expiry, whichever comes first, up to `waitMs`.
 * The records with their per-record fields stay within what a Lambda response carries (the log's ResponseCut).
 * @throws GroupNotFoundError when the share group does not exist.
 */
export async function fetch(ctx: ShareContext, group: string, input: ShareFetchInput): Promise<ShareFetchResult> {
  const deadline = ctx.now() + input.waitMs;
  let lostRaces = 0;
  for (;;) {
    const pass = await fetchOnce(ctx, group, input);
    lostRaces += pass.lostRaces;
    const redelivered = pass.records.filter((r) => r.deliveryCount > 1).length;
    if (redelivered > 0) ctx.metrics.add('ShareRecordsRedelivered', redelivered, { ShareGroup: group });
    const now = ctx.now();
    if (pass.records.length > 0 || now >= deadline) return { records: pass.records, lostRaces };
    const until = Math.min(deadline, pass.nextExpiry ?? deadline);
    await ctx.log.waitForAny(pass.tails, Math.max(0, until - now));
  }
}

/** What one pass over the partitions found: records, where to wait for appends, the next lock to expire. */
interface Pass {
  readonly records: SharedRecord[];
  readonly tails: Array<{ topic: Topic; partition: number; offset: number }>;
  readonly nextExpiry: number | undefined;
  readonly lostRaces: number;
}

async function fetchOnce(ctx: ShareContext, group: string, input: ShareFetchInput): Promise<Pass> {
  const records = await ctx.store.loadGroup(group);
  if (!records) throw new GroupNotFoundError(group);
  const config = configOf(records);
  const targets = await subscribedTargets(ctx, records.subscriptions);
  const windows = targets.length === 0 ? new Map() : new Map((await ctx.store.loadPartitions(group)).map((r) => [`${r.topic}#${r.partition}`, r]));
  const pass = { records: [] as SharedRecord[], tails: [] as Pass['tails'], nextExpiry: undefined as number | undefined, lostRaces: 0 };
  let cut = new ResponseCut({ limit: input.maxRecords, maxBytes: MAX_RESPONSE_RECORD_BYTES, encoding: input.encoding });
  const first = Math.floor(ctx.random() * targets.length);
  for (let i = 0; i < targets.length && !cut.full; i++) {
    const target = targets[(first + i) % targets.length]!;
    const got = await acquireFrom(ctx, group, target, windows.get(`${target.topic.name}#${target.partition}`) ?? null, config, input, cut);
    cut = got.cut;
    pass.records.push(...got.records);
    pass.lostRaces += got.lostRaces;
    if (got.tail !== undefined) pass.tails.push({ topic: target.topic, partition: target.partition, offset: got.tail });
    if (got.nextExpiry !== undefined) pass.nextExpiry = Math.min(pass.nextExpiry ?? Infinity, got.nextExpiry);
  }
  return pass;
}

interface Acquired {
  readonly records: SharedRecord[];
  /** The response's cut with these records counted. */
  readonly cut: ResponseCut;
  /** Where the partition ends, when the window has room for its next appends (a long poll waits there). */
  readonly tail: number | undefined;
  readonly nextExpiry: number | undefined;
  readonly lostRaces: number;
}

/** One share-partition: settle, pick what is available and fits, acquire it with one conditional write. */
async function acquireFrom(
  ctx: ShareContext,
  group: string,
  target: Target,
  known: SharePartitionRecord | null,
  config: ShareConfig,
  input: ShareFetchInput,
  cut: ResponseCut,
): Promise<Acquired> {
  let stored = known;
  let lostRaces = 0;
  let tail: number | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS_PER_PARTITION; attempt++) {
    if (attempt > 0) stored = await ctx.store.getPartition(group, storeKey(target));
    let base = baseOf(ctx, target, stored);
    if (base.expectedVersion !== null && Object.keys(base.record.deadLetters).length > 0) {
      // A step archived records and stopped before their copies were appended: finish that first.
      await completeDeadLetters(ctx, group, target, base.record);
      base = baseOf(ctx, target, await ctx.store.getPartition(group, storeKey(target)));
    }
    const now = ctx.now();
    const plan = await planAcquisition(ctx, target, settle(base.record.window, now, policyOf(config, base)), input, cut);
    tail = plan.tail;
    const receipt = ctx.newId();
    const window = acquire(plan.window, plan.picked.map((r) => r.offset), { receipt, lockMs: input.lockMs }, now);
    if (plan.picked.length === 0 && sameWindow(window, base.record.window)) return { records: [], cut, tail, nextExpiry: nextExpiry(window, now), lostRaces };
    if ((await writeStep(ctx, group, target, base, window, config)) === 'lost') {
      lostRaces++;
      continue;
    }
    const records = plan.picked.map((record) => ({
      topic: target.topic.name,
      partition: target.partition,
      deliveryCount: deliveriesAt(window, record.offset),
      receipt,
      record,
    }));
    return { records, cut: plan.cut, tail, nextExpiry: nextExpiry(window, now), lostRaces };
  }
  return { records: [], cut, tail, nextExpiry: undefined, lostRaces };
}

interface Plan {
  /** The window to acquire from: settled, and moved past records retention removed. */
  readonly window: ShareWindow;
  readonly picked: StoredRecord[];
  readonly cut: ResponseCut;
  readonly tail: number | undefined;
}

/**
 * Which records to acquire: the window's acquirable offsets, read from the log in one read from the first of
 * them (records between that other fetches hold are read and skipped), cut on a fork of the response's cut.
 */
async function planAcquisition(ctx: ShareContext, target: Target, settled: ShareWindow, input: ShareFetchInput, cut: ResponseCut): Promise<Plan> {
  let window = settled;
  for (;;) {
    const candidates = acquirable(window, input.maxRecords - cut.count);
    if (candidates.length === 0) return { window, picked: [], cut, tail: undefined };
    let result: ReadResult;
    try {
      result = await ctx.log.read(target.topic, target.partition, {
        start: { kind: 'offset', offset: candidates[0]! },
        limit: candidates[candidates.length - 1]! - candidates[0]! + 1,
        maxBytes: MAX_MAX_BYTES,
        encoding: input.encoding,
        waitMs: 0,
        direction: 'forward',
      });
    } catch (error) {
      if (!(error instanceof OffsetOutOfRangeError)) throw error;
      // Retention removed the records before the first candidate: they can never be delivered again.
      const logStart = Number(error.details.startOffset);
      if (!(logStart > window.startOffset)) return { window, picked: [], cut, tail: undefined };
      window = skipTo(window, logStart);
      continue;
    }
    const wanted = new Set(candidates);
    const trial = cut.fork();
    const picked: StoredRecord[] = [];
    for (const record of result.records) {
      if (!wanted.has(record.offset)) continue;
      if (!trial.reserve(shareRecordEnvelopeSize(target.topic.name, target.partition)) || !trial.take(record)) break;
      picked.push(record);
    }
    return { window, picked, cut: trial, tail: result.endOffset };
  }
}

const deliveriesAt = (window: ShareWindow, offset: number): number => {
  let at = window.startOffset;
  for (const { count, state } of window.runs) {
    if (offset < at + count) return state.kind === 'acquired' ? state.deliveries : 0;
    at += count;
  }
  return 0;
};

/** When the first live lock of the window ends (a long poll wakes then: the record may be available again). */
function nextExpiry(window: ShareWindow, now: number): number | undefined {
  let next: number | undefined;
  for (const { state } of window.runs) if (state.kind === 'acquired' && state.deadline > now) next = Math.min(next ?? Infinity, state.deadline);
  return next;
}

/** Receipts are {@link RECEIPT_CHARS} characters (`ShareGroupService`'s ids). */
export const RECEIPT_CHARS = 16;
/** A delivery count has at most this many digits (`maxDeliveries` is at most 100). */
const MAX_DELIVERY_DIGITS = 3;

/**
 * Bytes a share-fetch record adds to the response besides what `wireSize` counts for it: the fields
 * `"topic":…,"partition":…,"deliveryCount":…,"receipt":…,` (functions/http/records.ts writes them), as
 * `wireSize` counts, with room for the longest delivery count.
 */
export function shareRecordEnvelopeSize(topic: string, partition: number): number {
  return SHARE_FIELDS + jsonStringSize(topic) + digits(partition) + MAX_DELIVERY_DIGITS + jsonStringSize('r'.repeat(RECEIPT_CHARS));
}

const SHARE_FIELDS = bodyTextSize('"topic":,"partition":,"deliveryCount":,"receipt":,');
