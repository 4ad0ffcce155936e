import type { Logger } from '../logger.js';
import { partitionPk } from '../storage/log-table.js';
import { topicSegmentPrefix, topicSpillPrefix } from '../storage/prefixes.js';
import type { DeletedTopic, TopicStore } from '../topics/topic.js';
import type { MaintenanceContext } from './maintenance-steps.js';

/** A deleted topic's storage is reclaimed this long after the delete, so that no cached topic still appends to it. */
export const RECLAIM_AFTER_MS = 60 * 1000;
/** Items a pass deletes per deleted-topic partition before leaving the rest to the next pass. */
const RECLAIM_ITEMS_PER_PASS = 2_000;
/** Keys listed per S3 request. */
const LIST_PAGE = 1000;

/**
 * Reclaims a deleted topic's storage, {@link RECLAIM_AFTER_MS} after the delete: objects under
 * `segments/<topicId>/` and `spill/p/<topicId>/`, index entries, batch and meta items, then the `deleted`
 * record. Idempotency records expire by their own TTL. Each step may be cut short (a pass's share of items):
 * the `deleted` record stays until everything is gone, so the next pass goes on.
 */
export async function reclaimDeleted(ctx: MaintenanceContext, topics: TopicStore, deleted: DeletedTopic, log?: Logger): Promise<void> {
  const { topicId } = deleted;
  for (const prefix of [topicSegmentPrefix(topicId), topicSpillPrefix(topicId)]) {
    for (;;) {
      const keys = await ctx.segments.listKeys(prefix, { limit: LIST_PAGE });
      if (keys.length === 0) break;
      await ctx.segments.deleteObjects(keys);
    }
  }
  await ctx.step('reclaim.objects-deleted', topicId);
  let complete = true;
  for (let partition = 0; partition < deleted.partitions; partition++) {
    if ((await ctx.index.deleteSome(topicId, partition, RECLAIM_ITEMS_PER_PASS)) >= RECLAIM_ITEMS_PER_PASS) complete = false;
  }
  await ctx.step('reclaim.index-deleted', topicId);
  for (let partition = 0; partition < deleted.partitions; partition++) {
    const pk = partitionPk(topicId, partition);
    if ((await ctx.meta.deleteSome(pk, RECLAIM_ITEMS_PER_PASS)) >= RECLAIM_ITEMS_PER_PASS) complete = false;
    ctx.store.forgetMeta(pk);
  }
  await ctx.step('reclaim.items-deleted', topicId);
  if (!complete) return; // more than a pass's share: the next pass goes on
  await topics.forgetDeleted(topicId);
  await ctx.step('reclaim.forgotten', topicId);
  log?.info('reclaimed a deleted topic', { topicId, name: deleted.name });
}
