import { mapLimit } from '../concurrency.js';
import { GroupNotFoundError } from '../errors.js';
import { partitionsOf } from '../groups/group-records.js';
import { CONCURRENCY, type ShareContext } from './share-context.js';
import type { ConfigPatch, ShareConfig, Subscription, SubscriptionStart } from './share-store.js';

/*
 * Subscribing, configuring and deleting a share group: the routes that change what a group reads and where its
 * dead letters go, not the records' states (share-fetch.ts and share-acks.ts do that).
 */

/**
 * Subscribes the group to `topicName` (docs/api.md: idempotent, creates the group on first use). A new
 * subscription starts at each partition's end offset, or at the log's start with `from: 'earliest'`; an
 * existing one stays as it is, wherever it started.
 * @throws TopicNotFoundError
 */
export async function subscribe(ctx: ShareContext, group: string, topicName: string, from: SubscriptionStart): Promise<Subscription> {
  const topic = await ctx.topics.get(topicName);
  const existing = (await ctx.store.loadGroup(group))?.subscriptions.find((s) => s.topic === topicName && s.topicId === topic.topicId);
  if (existing) return existing;
  // Where each partition ends now: its share-partition starts there when first used (share-partitions.ts).
  const startOffsets =
    from === 'latest' ? await mapLimit(partitionsOf(topic), CONCURRENCY, async (p) => (await ctx.log.bounds(topic, p)).endOffset) : [];
  const now = ctx.now();
  // Registered first, so that a group with items is always listed (a crash between leaves a listed empty group);
  // then its configuration (the defaults unless set), which keeps the group in existence when its last
  // subscription ends: describe, PATCH and DELETE still find it.
  await ctx.store.registerGroup(group, now);
  await ctx.store.putConfig(group, {}, now);
  return ctx.store.putSubscription(group, {
    topic: topicName,
    topicId: topic.topicId,
    subscriptionId: ctx.newId(),
    from,
    startOffsets,
    createdAt: now,
  });
}

/**
 * Ends the group's subscription to `topic`: fetches stop reading it, its records' states are dropped (their
 * receipts are `FENCED` from now on), and subscribing again starts over (docs/api.md: a new subscription).
 * Idempotent: 204 whether or not the group was subscribed.
 * @throws GroupNotFoundError when the share group does not exist.
 */
export async function unsubscribe(ctx: ShareContext, group: string, topic: string): Promise<void> {
  if (!(await ctx.store.loadGroup(group))) throw new GroupNotFoundError(group);
  await ctx.store.deleteSubscription(group, topic);
}

/**
 * Sets `maxDeliveries` and the dead-letter topic (creating the group if needed). A dead-letter topic must
 * exist when it is set; one deleted later makes archived records go without a copy (dead-letters.ts).
 * @throws TopicNotFoundError for a dead-letter topic that does not exist.
 */
export async function configure(ctx: ShareContext, group: string, patch: ConfigPatch): Promise<ShareConfig> {
  if (typeof patch.deadLetterTopic === 'string') await ctx.topics.get(patch.deadLetterTopic);
  const now = ctx.now();
  await ctx.store.registerGroup(group, now);
  return ctx.store.putConfig(group, patch, now);
}

/**
 * Deletes the group: its configuration, subscriptions and every record's state (receipts are `FENCED` from
 * now on). Dead-letter copies already appended stay in their topic.
 * @throws GroupNotFoundError when there was no such group.
 */
export async function deleteGroup(ctx: ShareContext, group: string): Promise<void> {
  if (!(await ctx.store.deleteGroup(group))) throw new GroupNotFoundError(group);
}
