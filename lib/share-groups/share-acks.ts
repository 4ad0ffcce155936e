import { mapLimit } from '../concurrency.js';
import { ConcurrentUpdateError, errorToBody, FencedError, GroupNotFoundError, TopicNotFoundError } from '../errors.js';
import type { Topic } from '../topics/topic.js';
import { CONCURRENCY, type ShareContext } from './share-context.js';
import { completeDeadLetters, storeKey } from './dead-letters.js';
import { configOf, isCurrent, policyOf, writeStep, type Target } from './share-partitions.js';
import type { ShareConfig, Subscription } from './share-store.js';
import { acknowledge as applyAcks, type AckType } from './share-window.js';

export interface AckInput {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly receipt: string;
  readonly type: AckType;
}

export interface AckResult {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly ok: boolean;
  readonly error?: Record<string, unknown>;
}

/** Conditional writes one partition's acks try before the call gives up with a retriable 409. */
const MAX_ATTEMPTS = 16;

/**
 * Applies acknowledgements (docs/api.md, "Share groups"): per partition named, in request order, ONE
 * conditional write of the share-partition with all its acks applied (share-window.ts `acknowledge`), retried
 * on a lost race against the state as it then is. Each ack is fenced by its receipt: a record not held by
 * that receipt (its lock expired and another fetch took it, it was acknowledged already, its topic is not
 * subscribed or was deleted) gets `FENCED` for that record alone.
 * @returns one result per ack, in request order.
 * @throws GroupNotFoundError; ConcurrentUpdateError (retriable) when a partition kept changing under the call.
 */
export async function acknowledge(ctx: ShareContext, group: string, acks: readonly AckInput[]): Promise<AckResult[]> {
  const records = await ctx.store.loadGroup(group);
  if (!records) throw new GroupNotFoundError(group);
  const config = configOf(records);
  const byPartition = new Map<string, number[]>();
  acks.forEach((ack, i) => {
    const key = `${ack.topic}#${ack.partition}`;
    byPartition.set(key, [...(byPartition.get(key) ?? []), i]);
  });
  const applied = new Array<boolean>(acks.length).fill(false);
  const reasons = new Array<string>(acks.length);
  await mapLimit([...byPartition.values()], CONCURRENCY, async (indexes) => {
    const first = acks[indexes[0]!]!;
    const list = indexes.map((i) => acks[i]!);
    const outcome = await ackPartition(ctx, group, first, records.subscriptions, config, list);
    indexes.forEach((i, k) => {
      applied[i] = outcome.applied[k] ?? false;
      reasons[i] = outcome.reason;
    });
  });
  const accepted = acks.filter((ack, i) => applied[i] && ack.type === 'accept').length;
  if (accepted > 0) ctx.metrics.add('ShareRecordsAccepted', accepted, { ShareGroup: group });
  return acks.map((ack, i) => {
    const { topic, partition, offset } = ack;
    if (applied[i]) return { topic, partition, offset, ok: true };
    const fenced = new FencedError(reasons[i] ?? `receipt does not hold ${topic}/${partition}@${offset}`, { details: { topic, partition, offset } });
    return { topic, partition, offset, ok: false, error: errorToBody(fenced).error };
  });
}

/** What became of one partition's acks: applied or not, each, and why those that were not. */
interface Outcome {
  readonly applied: boolean[];
  readonly reason: string;
}

async function ackPartition(
  ctx: ShareContext,
  group: string,
  at: { topic: string; partition: number },
  subscriptions: readonly Subscription[],
  config: ShareConfig,
  acks: readonly AckInput[],
): Promise<Outcome> {
  const none = (reason: string): Outcome => ({ applied: acks.map(() => false), reason });
  const subscription = subscriptions.find((s) => s.topic === at.topic);
  if (!subscription) return none(`share group '${group}' is not subscribed to topic '${at.topic}': no receipt of it holds a record`);
  let topic: Topic;
  try {
    topic = await ctx.topics.get(at.topic);
  } catch (error) {
    if (error instanceof TopicNotFoundError) return none(`topic '${at.topic}' was deleted: its records are no longer held`);
    throw error;
  }
  const target: Target = { topic, partition: at.partition, subscription };
  const stale = `the receipt does not hold this record (its lock expired and another fetch took it, or it was acknowledged already)`;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let stored = await ctx.store.getPartition(group, storeKey(target));
    if (stored && isCurrent(stored, target) && Object.keys(stored.deadLetters).length > 0) {
      stored = await completeDeadLetters(ctx, group, target, stored);
    }
    if (!stored || !isCurrent(stored, target)) return none(stale);
    const base = { record: stored, expectedVersion: stored.version };
    const result = applyAcks(stored.window, acks, ctx.now(), policyOf(config, base));
    if (!result.applied.some(Boolean)) return { applied: result.applied, reason: stale };
    if ((await writeStep(ctx, group, target, base, result.window, config)) === 'ok') return { applied: result.applied, reason: stale };
  }
  throw new ConcurrentUpdateError(`share-partition ${at.topic}/${at.partition} kept changing under this acknowledgement; retry it`);
}
