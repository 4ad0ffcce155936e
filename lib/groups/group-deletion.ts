import { GroupNotEmptyError, GroupNotFoundError } from '../errors.js';
import type { GroupContext } from './context.js';
import { isEmptyGroup } from './group-records.js';
import type { GroupItemKind, GroupRecords, RegistryEntry } from './lease-store.js';
import { ACTIVITY_RESOLUTION_MS, liveMembers, MAX_SESSION_TIMEOUT_MS } from './session.js';

/*
 * The end of a group (docs/api.md v1.1): `DELETE /v1/groups/{group}`, and expiry by the maintenance pass of a
 * group with no live member and no sign of life for GROUP_RETENTION_MS. Both remove the same items in the same
 * order (docs/design.md, "Consumer groups"):
 *
 *   1. member records whose session has ended, each on that condition: a member that joined since the check
 *      keeps its record and the deletion stops with GROUP_NOT_EMPTY (only records no read counts are gone);
 *   2. subscriptions: from here on nothing reads the group's topics;
 *   3. leases, with their committed offsets; 4. the activity item;
 *   5. the registry entry, last, so that a deletion stopped anywhere (a crash, a timeout, the pass's budget)
 *      leaves a listed group that the next DELETE or pass finishes;
 *   6. a re-check: a request that raced the deletion (a subscription whose items landed after step 2, a
 *      heartbeat that took a lease after step 3) left items behind: the group is registered again, so it stays
 *      listed and expires (or is deleted) later. The group never ends unlisted with items.
 */

/** Kafka's `offsets.retention.minutes` default (10,080 minutes): how long an idle group is kept. */
export const GROUP_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/**
 * How long after its last sign of life a group is deleted: the retention, plus the staleness its activity
 * item may have (refreshed at most hourly) and the longest session after the last heartbeat, so that a group is
 * never deleted less than {@link GROUP_RETENTION_MS} after its last member went silent.
 */
export const GROUP_IDLE_BEFORE_EXPIRY_MS = GROUP_RETENTION_MS + ACTIVITY_RESOLUTION_MS + MAX_SESSION_TIMEOUT_MS;
/** Registry entries one maintenance pass examines (one strongly consistent Query of each group). */
export const EXPIRY_GROUPS_PER_PASS = 25;
/** Items one maintenance pass deletes at most, so that a pass stays Lambda-sized whatever the groups hold. */
export const EXPIRY_ITEMS_PER_PASS = 2_000;
/** After a whole round of the registry, the next round starts this much later: an idle registry costs one read per pass. */
export const EXPIRY_ROUND_REST_MS = 60 * 60 * 1000;
/** Items deleted per Query page (then 25 per BatchWriteItem). */
const DELETE_PAGE = 100;
const ITEM_KINDS: readonly GroupItemKind[] = ['subscriptions', 'leases', 'activity'];

/**
 * `DELETE /v1/groups/{group}`: the group, its subscriptions, leases and committed offsets are gone. A group
 * holding tens of thousands of leases may outlast one request; the DELETE can be sent again and finishes it.
 * @throws GroupNotFoundError when nothing of the group is stored (and it is not registered); GroupNotEmptyError
 *   while a member's session is live (as Kafka's DeleteGroups), having deleted nothing a read counts.
 */
export async function deleteGroup(ctx: GroupContext, group: string): Promise<void> {
  const now = ctx.now();
  const records = await ctx.store.loadGroup(group);
  if (isEmptyGroup(records, now) && (await ctx.store.getRegistryEntry(group)) === null) {
    throw new GroupNotFoundError(group);
  }
  const live = liveMembers(records.members, now).length;
  if (live > 0) throw new GroupNotEmptyError(group, live);
  await removeGroup(ctx, group, records, now, Number.POSITIVE_INFINITY);
}

/**
 * The last time a group showed life: its registration, subscriptions, recorded activity, lease takes, commits
 * and resets, and the end of every session still on record. Pure.
 */
export function lastSignOfLife(records: GroupRecords, entry: Pick<RegistryEntry, 'createdAt'>): number {
  return Math.max(
    entry.createdAt,
    records.activeAt ?? 0,
    ...records.subscriptions.map((s) => s.subscribedAt),
    ...records.leases.map((l) => l.updatedAt ?? 0),
    ...records.members.map((m) => m.sessionExpiresAtMs),
  );
}

/** True when maintenance may delete the group at `now`: no live member, and idle for {@link GROUP_IDLE_BEFORE_EXPIRY_MS}. Pure. */
export function isExpired(records: GroupRecords, entry: Pick<RegistryEntry, 'createdAt'>, now: number): boolean {
  return liveMembers(records.members, now).length === 0 && lastSignOfLife(records, entry) + GROUP_IDLE_BEFORE_EXPIRY_MS <= now;
}

/**
 * One step of group expiry, for the maintenance pass (one iteration per call, as KCL's `runLeaseTaker()`):
 * examines the next {@link EXPIRY_GROUPS_PER_PASS} registry entries after where the last pass stopped, starts
 * the clock of a group created before v1.1 (it gets an activity item at its first pass) and deletes those expired, within {@link EXPIRY_ITEMS_PER_PASS} items (a group cut short is finished by a later
 * round). After a whole round of the registry it rests {@link EXPIRY_ROUND_REST_MS}. Passes may overlap: each
 * deletion step is idempotent, and the cursor is a hint (the last writer wins, at worst a group is examined twice).
 * @returns how many groups it deleted.
 */
export async function expireIdleGroups(ctx: GroupContext): Promise<number> {
  const now = ctx.now();
  const cursor = await ctx.store.getExpiryCursor();
  if (cursor.restUntil > now) return 0;
  const page = await ctx.store.listRegistry(cursor.after, EXPIRY_GROUPS_PER_PASS);
  let budget = EXPIRY_ITEMS_PER_PASS;
  let deleted = 0;
  for (const entry of page.entries) {
    if (budget <= 0) break;
    const records = await ctx.store.loadGroup(entry.group);
    if (records.activeAt === null && !isEmptyGroup(records, now)) {
      // Created before v1.1 (no activity item, and a v1.0 heartbeat wrote no lease): when it was last used is
      // unknown, so its 7 days count from now, never from its registration (docs/design.md, "Consumer groups").
      await ctx.store.recordActivity(entry.group, now, { create: true });
      continue;
    }
    if (!isExpired(records, entry, now)) continue;
    try {
      const removed = await removeGroup(ctx, entry.group, records, now, budget);
      budget -= removed.items;
      if (removed.complete) deleted++;
    } catch (error) {
      if (!(error instanceof GroupNotEmptyError)) throw error; // a member joined just now: the group lives on
    }
  }
  const last = page.entries.at(-1)?.group;
  await ctx.store.putExpiryCursor(
    page.more && last !== undefined ? { after: last, restUntil: 0 } : { after: null, restUntil: now + EXPIRY_ROUND_REST_MS },
  );
  return deleted;
}

/**
 * Steps 1 to 6 above, deleting at most `budget` items of steps 2 to 4.
 * @returns how many items it deleted, and whether the group is gone (else the registry entry is left).
 * @throws GroupNotEmptyError when a member joined since `records` were read.
 */
async function removeGroup(
  ctx: GroupContext,
  group: string,
  records: GroupRecords,
  now: number,
  budget: number,
): Promise<{ items: number; complete: boolean }> {
  for (const member of records.members) {
    if (!(await ctx.store.deleteMemberIfExpired(group, member.memberId, now))) throw new GroupNotEmptyError(group, 1);
  }
  let items = 0;
  for (const kind of ITEM_KINDS) {
    for (;;) {
      if (items >= budget) return { items, complete: false };
      const page = Math.min(DELETE_PAGE, budget - items);
      const n = await ctx.store.deleteGroupItems(group, kind, page);
      items += n;
      if (n < page) break;
    }
  }
  await ctx.store.unregisterGroup(group);
  if (!isEmptyGroup(await ctx.store.loadGroup(group), now)) await ctx.store.registerGroup(group, now);
  return { items, complete: true };
}
