import { mapLimit } from '../concurrency.js';
import { GroupNotFoundError, OffsetOutOfRangeError } from '../errors.js';
import { CONCURRENCY, type ShareContext } from './share-context.js';
import { baseOf, configOf, subscribedTargets, type Target } from './share-partitions.js';
import type { SharePartitionRecord } from './share-store.js';
import { skipTo, windowEnd, windowStats } from './share-window.js';

/** One share-partition as `GET /v1/share-groups/{group}` describes it (docs/api.md; README defines each count). */
export interface SharePartitionDescription {
  readonly topic: string;
  readonly partition: number;
  /** Every record below is accepted or archived (or removed by retention). */
  readonly startOffset: number;
  readonly endOffset: number;
  /** Records of the window not yet accepted or archived: acquired, waiting for redelivery, or for their dead-letter copy. */
  readonly inFlight: number;
  /** Held under a live lock now. */
  readonly acquired: number;
  /** Records a fetch may acquire: released or expired ones in the window, and those past it up to `endOffset`. */
  readonly available: number;
  /** Records archived (dead-lettered, or only archived without a dead-letter topic) over the group's life. */
  readonly archived: number;
  /** The timestamp of the record at `startOffset`, the oldest one not done; `null` when there is none. */
  readonly oldestUnackedTimestamp: number | null;
}

export interface ShareGroupDescription {
  readonly group: string;
  readonly subscriptions: string[];
  readonly maxDeliveries: number;
  readonly deadLetterTopic: string | null;
  readonly partitions: SharePartitionDescription[];
}

/**
 * A share group's settings and each subscribed partition's window, read without changing anything: locks
 * that expired count as available (as the next fetch will see them), records retention removed as gone.
 * @throws GroupNotFoundError when the share group does not exist.
 */
export async function describe(ctx: ShareContext, group: string): Promise<ShareGroupDescription> {
  const records = await ctx.store.loadGroup(group);
  if (!records) throw new GroupNotFoundError(group);
  const config = configOf(records);
  const targets = await subscribedTargets(ctx, records.subscriptions);
  const stored = new Map((await ctx.store.loadPartitions(group)).map((r) => [`${r.topic}#${r.partition}`, r]));
  const now = ctx.now();
  const partitions = await mapLimit(targets, CONCURRENCY, (target) =>
    describePartition(ctx, target, stored.get(`${target.topic.name}#${target.partition}`) ?? null, now),
  );
  return {
    group,
    subscriptions: records.subscriptions.map((s) => s.topic).sort(),
    maxDeliveries: config.maxDeliveries,
    deadLetterTopic: config.deadLetterTopic,
    partitions,
  };
}

async function describePartition(ctx: ShareContext, target: Target, stored: SharePartitionRecord | null, now: number): Promise<SharePartitionDescription> {
  const bounds = await ctx.log.bounds(target.topic, target.partition);
  const window = skipTo(baseOf(ctx, target, stored).record.window, bounds.startOffset);
  const stats = windowStats(window, now);
  const startOffset = window.startOffset;
  return {
    topic: target.topic.name,
    partition: target.partition,
    startOffset,
    endOffset: bounds.endOffset,
    inFlight: stats.inFlight,
    acquired: stats.acquired,
    available: stats.available + Math.max(0, bounds.endOffset - windowEnd(window)),
    archived: window.archived,
    oldestUnackedTimestamp: startOffset < bounds.endOffset ? await timestampAt(ctx, target, startOffset) : null,
  };
}

async function timestampAt(ctx: ShareContext, target: Target, offset: number): Promise<number | null> {
  try {
    const { records } = await ctx.log.read(target.topic, target.partition, {
      start: { kind: 'offset', offset },
      limit: 1,
      maxBytes: 1,
      encoding: 'base64',
      waitMs: 0,
      direction: 'forward',
    });
    return records[0]?.timestamp ?? null;
  } catch (error) {
    if (error instanceof OffsetOutOfRangeError) return null;
    throw error;
  }
}

/** Every share group with the topics it is subscribed to (`GET /v1/share-groups`, an addition: README). */
export async function list(ctx: ShareContext): Promise<Array<{ group: string; subscriptions: string[] }>> {
  const groups = (await ctx.store.listGroups()).sort();
  const described = await mapLimit(groups, CONCURRENCY, async (group) => {
    const records = await ctx.store.loadGroup(group);
    return records ? { group, subscriptions: records.subscriptions.map((s) => s.topic).sort() } : undefined;
  });
  return described.filter((g): g is { group: string; subscriptions: string[] } => g !== undefined);
}
