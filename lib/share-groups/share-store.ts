import type { TopicPartition } from '../groups/assignment.js';
import type { ShareWindow } from './share-window.js';

/**
 * Storage of share groups (the role), apart from its DynamoDB implementation (`DynamoShareStore` in
 * dynamo-share-store.ts; the items are those of share-table.ts).
 *
 * A share-partition changes only by {@link ShareStore.writePartition}, a conditional write on its version: a
 * lost race is the return value `'lost'`, never an exception, so two fetches can never both acquire a record.
 */
export interface ShareStore {
  /** The group's configuration and subscriptions (strongly consistent); `null` when the group does not exist. */
  loadGroup(group: string): Promise<ShareGroupRecords | null>;
  /** The group's share-partitions (of one topic, when given), strongly consistent. */
  loadPartitions(group: string, topic?: string): Promise<SharePartitionRecord[]>;
  /** One share-partition, strongly consistent; `null` when it was never written. */
  getPartition(group: string, partition: TopicPartition): Promise<SharePartitionRecord | null>;
  /**
   * Writes `next` if the stored share-partition is still at `expectedVersion` (`null`: none is stored), with
   * version `expectedVersion + 1` (a stale one, of an earlier subscription or topic, is replaced the same way).
   * @returns `'ok'` when `next` was written (by this call, or by an earlier attempt of it whose response was
   *   lost: `writer` identifies the attempt), `'lost'` when another write came first.
   */
  writePartition(group: string, next: SharePartitionRecord, expectedVersion: number | null, writer: string): Promise<'ok' | 'lost'>;
  /**
   * Creates the subscription unless the group is subscribed to the topic already.
   * @returns the stored subscription: `subscription`, or the one that existed (which wins).
   */
  putSubscription(group: string, subscription: Subscription): Promise<Subscription>;
  /** Removes the subscription and then the topic's share-partitions. @returns false when there was none. */
  deleteSubscription(group: string, topic: string): Promise<boolean>;
  /** Creates or updates the configuration; fields absent from `patch` keep their value (or the default). */
  putConfig(group: string, patch: ConfigPatch, now: number): Promise<ShareConfig>;
  /** Records that the group exists, for {@link ShareStore.listGroups} (idempotent). */
  registerGroup(group: string, now: number): Promise<void>;
  /** Every registered share group, in no particular order. */
  listGroups(): Promise<string[]>;
  /** Deletes every item of the group, then its registry entry. @returns false when it had none. */
  deleteGroup(group: string): Promise<boolean>;
}

/** A share group's settings (docs/api.md: `PATCH /v1/share-groups/{group}`). */
export interface ShareConfig {
  readonly maxDeliveries: number;
  /** Where archived records are appended; `null`: nowhere (they are only archived). */
  readonly deadLetterTopic: string | null;
}

export interface ConfigPatch {
  readonly maxDeliveries?: number;
  readonly deadLetterTopic?: string | null;
}

/** Where a new subscription starts: at each partition's end (docs/api.md's default), or at the log's start. */
export type SubscriptionStart = 'latest' | 'earliest';

/** A subscription of the group to a topic: where each share-partition starts when first used. */
export interface Subscription {
  readonly topic: string;
  /** The topic incarnation subscribed to: a topic re-created since starts over from its log start. */
  readonly topicId: string;
  /** Unique per subscription: share-partitions written for an earlier subscription are replaced, not resumed. */
  readonly subscriptionId: string;
  readonly from: SubscriptionStart;
  /** With `from: latest`, each partition's end offset when subscribed (partitions added since start at 0). */
  readonly startOffsets: readonly number[];
  readonly createdAt: number;
}

export interface ShareGroupRecords {
  /** `null`: never configured, the defaults apply. */
  readonly config: ShareConfig | null;
  readonly subscriptions: readonly Subscription[];
}

/** One share-partition as stored: its window and what identifies the incarnation it belongs to. */
export interface SharePartitionRecord extends TopicPartition {
  readonly topicId: string;
  readonly subscriptionId: string;
  /** Random per share-partition created: part of every dead-letter idempotency key (dead-letters.ts). */
  readonly incarnation: string;
  readonly version: number;
  readonly window: ShareWindow;
  /** Pending dead-letter batches (share-window.ts `archiving`): batch id → the topic their copies go to. */
  readonly deadLetters: Readonly<Record<number, string>>;
  /** The ids of the last few writes, as read (the store's own bookkeeping: see `writePartition`). */
  readonly writers: readonly string[];
}
