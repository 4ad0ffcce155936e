import { mapLimit } from '../concurrency.js';
import { MemberNotFoundError, OffsetOutOfRangeError } from '../errors.js';
import type { ReadOptions, ReadResult, StartPosition } from '../log/log-types.js';
import type { RecordEncoding } from '../log/wire-size.js';
import type { Topic } from '../topics/topic.js';
import { compare } from './assignment.js';
import type { TopicPartitionOffset } from './commits.js';
import { CONCURRENCY, type GroupContext, type ResetPolicy } from './context.js';
import { trim, trimBatches, type GroupBatch } from './group-batch.js';
import { emitLag, fetchLag } from './group-lag.js';
import { currentLeases, partitionKey, resolveTopics } from './group-records.js';
import type { LeaseRecord } from './lease-store.js';
import { liveMembers } from './session.js';
import { requireSubscribed, subscribedTopics } from './subscriptions.js';

export interface GroupFetchInput {
  readonly limit: number;
  /** Bounds the records' total wire size in `encoding` (at least one record comes back). */
  readonly maxBytes: number;
  /** The encoding the response will use: it decides each record's size (default `json`). */
  readonly encoding?: RecordEncoding;
  readonly waitMs: number;
  readonly positions?: readonly TopicPartitionOffset[];
  /** Where partitions with nothing committed start in this fetch; the service's policy when absent. */
  readonly resetPolicy?: ResetPolicy;
  /** Called once if the fetch finds nothing and starts to long-poll (the handler leaves such fetches out of `FetchLatency`). */
  readonly onWait?: () => void;
  /** Hand back stored batches instead of records (`ReadOptions.batches`, docs/api.md "Binary record batches"). */
  readonly batches?: ReadOptions['batches'];
}

/**
 * Reads the member's partitions of subscribed topics: from `positions` where given, else from the committed
 * offset, else by the reset policy. Leases on topics the group is not subscribed to (any more, or not since a
 * group created before v1.1 was subscribed) are never read, and positions naming such a topic refuse the whole
 * fetch. `limit` and `maxBytes` bound the whole response (a single record may exceed `maxBytes`, as
 * in the plain fetch); `waitMs` long-polls all the member's partitions at once. Whatever is asked, records
 * and per-partition envelopes stay within what a Lambda response carries (see {@link trim}).
 * @throws MemberNotFoundError, NotSubscribedError (a position on a topic the group is not subscribed to),
 *   OffsetOutOfRangeError (an explicit position outside the readable range)
 */
export async function fetch(ctx: GroupContext, group: string, memberId: string, input: GroupFetchInput): Promise<GroupBatch[]> {
  const now = ctx.now();
  const records = await ctx.store.loadGroup(group);
  const member = liveMembers(records.members, now).find((m) => m.memberId === memberId);
  if (!member) throw new MemberNotFoundError(group, memberId);
  const subscribed = subscribedTopics(records.subscriptions);
  requireSubscribed(group, subscribed, (input.positions ?? []).map((p) => p.topic));
  const names = new Set(records.leases.map((l) => l.topic).filter((topic) => subscribed.has(topic)));
  const topics = await resolveTopics(ctx.topics, names, records.leases);
  const held = [...currentLeases(records.leases, topics).values()]
    .filter((l) => l.owner === memberId && l.ownerSession === member.session)
    .sort(compare);
  if (held.length === 0) {
    if (input.waitMs > 0) {
      input.onWait?.();
      await ctx.log.waitForAny([], input.waitMs); // nothing to read: a polite wait
    }
    return [];
  }
  const encoding = input.encoding ?? 'json';
  const positions = new Map((input.positions ?? []).map((p) => [partitionKey(p), p.offset]));
  const share: ReadShare = {
    limit: Math.max(1, Math.ceil(input.limit / held.length)),
    maxBytes: Math.max(1, Math.floor(input.maxBytes / held.length)),
    encoding,
    resetPolicy: input.resetPolicy ?? ctx.resetPolicy,
    ...(input.batches ? { batches: input.batches } : {}),
  };
  const readAll = () =>
    mapLimit(held, CONCURRENCY, (lease) => readLease(ctx, lease, topics.get(lease.topic)!, positions.get(partitionKey(lease)), share));
  let batches = await readAll();
  if (input.waitMs > 0 && batches.every((b) => b.records.length === 0 && (b.batches ?? []).length === 0)) {
    const waitOn = batches.map((b) => ({ topic: topics.get(b.topic)!, partition: b.partition, offset: b.nextOffset }));
    input.onWait?.();
    if (await ctx.log.waitForAny(waitOn, input.waitMs)) {
      for (const b of batches) positions.set(partitionKey(b), b.nextOffset);
      batches = await readAll();
    }
  }
  // Every held partition was read (before the response's cut): the lag metric sees them all, for free.
  if (ctx.metrics) emitLag(ctx.metrics, group, fetchLag(batches, ctx.now()));
  return input.batches ? trimBatches(batches, input.limit, input.maxBytes) : trim(batches, input.limit, input.maxBytes, encoding);
}

/** How each partition is read: an even share of `limit` and `maxBytes`, and where nothing committed starts. */
interface ReadShare {
  readonly limit: number;
  readonly maxBytes: number;
  readonly encoding: RecordEncoding;
  readonly resetPolicy: ResetPolicy;
  readonly batches?: ReadOptions['batches'];
}

/** One held partition, from `position` if given, else from its committed offset, else by `share.resetPolicy`. */
async function readLease(
  ctx: GroupContext,
  lease: LeaseRecord,
  topic: Topic,
  position: number | undefined,
  share: ReadShare,
): Promise<GroupBatch> {
  const policy: StartPosition = { kind: share.resetPolicy };
  const { limit, maxBytes, encoding } = share;
  const read = (start: StartPosition): Promise<ReadResult> =>
    ctx.log.read(topic, lease.partition, { start, limit, maxBytes, encoding, waitMs: 0, direction: 'forward', ...(share.batches ? { batches: share.batches } : {}) });
  let result: ReadResult;
  if (position !== undefined) result = await read({ kind: 'offset', offset: position });
  else if (lease.committedOffset === null) result = await read(policy);
  else {
    try {
      result = await read({ kind: 'offset', offset: lease.committedOffset });
    } catch (error) {
      // Retention overtook the committed offset: the reset policy applies, as Kafka's auto.offset.reset.
      if (!(error instanceof OffsetOutOfRangeError)) throw error;
      result = await read(policy);
    }
  }
  const { records, nextOffset, endOffset, batches, firstOffset } = result;
  return {
    topic: lease.topic,
    partition: lease.partition,
    leaseToken: lease.leaseToken,
    records,
    ...(batches ? { batches, firstOffset: firstOffset ?? nextOffset } : {}),
    nextOffset,
    endOffset,
  };
}
