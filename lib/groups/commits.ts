import { mapLimit } from '../concurrency.js';
import { errorToBody, FencedError, OffsetOutOfRangeError, PartitionNotFoundError, ShardlogError, TopicNotFoundError } from '../errors.js';
import type { Topic } from '../topics/topic.js';
import type { TopicPartition } from './assignment.js';
import { CONCURRENCY, type GroupContext } from './context.js';
import { requireSubscribed, subscribedTopics } from './subscriptions.js';

/** An offset of one partition: a commit, a fetch position, a reset's result. */
export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

export interface CommitInput extends TopicPartitionOffset {
  readonly leaseToken: string;
}

export interface CommitResult extends TopicPartitionOffset {
  readonly ok: boolean;
  readonly error?: Record<string, unknown>;
}

/** How one offset of a commit request ended: stored (`refusal: null`), or refused with a non-retriable error. */
export interface CommitOutcome {
  readonly commit: TopicPartitionOffset;
  readonly refusal: ShardlogError | null;
}

/**
 * Commits offsets (the next offset to read, Kafka's convention), each fenced by its lease token and by the
 * topic's incarnation: a token of a deleted topic is `FENCED`, even once a topic of the same name exists
 * again. Offsets must lie within the partition's [startOffset, endOffset]. `ok: true` means stored. A request
 * naming a topic the group is not subscribed to stores nothing (one strongly consistent read of the group's
 * subscriptions, before any write).
 * @returns one result per offset, in request order (see {@link commitResults}).
 * @throws NotSubscribedError; FencedError (with `details.results`) when every offset was refused and at least
 *   one was fenced; the first refusal's error when every offset was refused for another reason; a retriable
 *   error as is.
 */
export async function commit(ctx: GroupContext, group: string, memberId: string, offsets: readonly CommitInput[]): Promise<CommitResult[]> {
  requireSubscribed(group, subscribedTopics(await ctx.store.loadSubscriptions(group)), offsets.map((o) => o.topic));
  const outcomes = await mapLimit(offsets, CONCURRENCY, async (o): Promise<CommitOutcome> => {
    const commit = { topic: o.topic, partition: o.partition, offset: o.offset };
    try {
      await commitOne(ctx, group, memberId, o);
      return { commit, refusal: null };
    } catch (error) {
      if (!(error instanceof ShardlogError) || error.retriable) throw error;
      return { commit, refusal: error };
    }
  });
  return commitResults(outcomes);
}

/**
 * The answer to a commit request, from each offset's outcome: a result per offset when at least one was
 * stored (a partial success is a 200 that names each refusal); an error when none was, so that a member whose
 * leases all moved learns it from the status alone.
 * @throws FencedError (with `details.results`) when every offset was refused and at least one was fenced;
 *   otherwise, when every offset was refused, the first refusal, with `details.results` added.
 */
export function commitResults(outcomes: readonly CommitOutcome[]): CommitResult[] {
  const results: CommitResult[] = outcomes.map(({ commit, refusal }) =>
    refusal === null ? { ...commit, ok: true } : { ...commit, ok: false, error: errorToBody(refusal).error },
  );
  const refusals = outcomes.flatMap((o) => (o.refusal === null ? [] : [o.refusal]));
  if (outcomes.length === 0 || refusals.length < outcomes.length) return results;
  if (refusals.some((e) => e instanceof FencedError)) {
    throw new FencedError('every commit was refused: this member does not hold those leases (any more)', { details: { results } });
  }
  const first = refusals[0]!;
  Object.assign(first.details, { results });
  throw first;
}

/**
 * One committed offset: `FENCED` unless this member holds the lease, with this token, for the topic's
 * current incarnation. A refusal is checked once more against the topic read past the cache, so that a
 * container whose cached topic is an incarnation behind the lease never calls a valid token fenced (the
 * member would drop its partition for good).
 */
async function commitOne(ctx: GroupContext, group: string, memberId: string, o: CommitInput): Promise<void> {
  const partition = { topic: o.topic, partition: o.partition };
  let tried: string | undefined;
  for (const fresh of [false, true]) {
    const topic = await commitTarget(ctx, group, o, fresh);
    if (topic.topicId === tried) break;
    tried = topic.topicId;
    const outcome = await ctx.store.commitOffset(group, {
      partition,
      topicId: topic.topicId,
      memberId,
      leaseToken: o.leaseToken,
      offset: o.offset,
      now: ctx.now(),
    });
    if (outcome === 'ok') return;
  }
  throw new FencedError(`member '${memberId}' does not hold ${o.topic}/${o.partition} with that lease token`, { details: partition });
}

/**
 * The topic a commit applies to, with its offset checked against the partition's bounds. A topic or
 * partition that is gone while the group still has a lease there was deleted under its members: their
 * leases ended, which is `FENCED` (what a member handles by dropping the partition), not a 404.
 */
async function commitTarget(ctx: GroupContext, group: string, o: CommitInput, fresh: boolean): Promise<Topic> {
  const partition = { topic: o.topic, partition: o.partition };
  try {
    const topic = await ctx.topics.get(o.topic, { fresh });
    await ctx.log.checkOffset(topic, o.partition, o.offset);
    return topic;
  } catch (error) {
    if (error instanceof OffsetOutOfRangeError) {
      throw new OffsetOutOfRangeError(o.offset, Number(error.details.startOffset), Number(error.details.endOffset), { details: partition });
    }
    if ((error instanceof TopicNotFoundError || error instanceof PartitionNotFoundError) && (await ctx.store.getLease(group, partition))) {
      throw new FencedError(`the lease on ${o.topic}/${o.partition} ended: that topic was deleted`, { details: partition, cause: error });
    }
    throw error;
  }
}
