import type { StoredCatalogEntry, StoredDeletedTopic, StoredTopic } from '../storage/log-items.js';

/** A topic: its item in the log table (lib/storage/log-table.ts). `topicId` names this incarnation; a re-created topic gets a new one. */
export type Topic = StoredTopic;
/** A topic as listed: its catalog entry. */
export type TopicSummary = StoredCatalogEntry;
/** A deleted topic whose storage maintenance has not reclaimed yet. */
export type DeletedTopic = StoredDeletedTopic;

export interface CreateTopicInput {
  readonly name: string;
  readonly partitions: number;
  readonly retentionHours: number;
}

export interface UpdateTopicInput {
  readonly partitions?: number;
  readonly retentionHours?: number;
}

export const MAX_PARTITIONS = 1024;
export const DEFAULT_PARTITIONS = 1;
export const DEFAULT_RETENTION_HOURS = 168;
/** Kinesis's maximum retention (365 days); the S3 lifecycle backstop (400 days) stays above it. */
export const MAX_RETENTION_HOURS = 8760;
/** One minute: short retention is for tests and demos. */
export const MIN_RETENTION_HOURS = 1 / 60;

/**
 * A TTL written with each batch of a hot-retention topic lets DynamoDB delete it for free, instead of a
 * rewrite per item later. It lies this long past the retention: retention itself is enforced by the
 * maintenance pass moving `startOffset` (readers never see records below it), and the margin gives that pass
 * a day to record the partition's end offset before the newest item can disappear (offsets are never reused).
 */
export const HOT_TTL_MARGIN_MS = 24 * 60 * 60 * 1000;

/** True when the topic's records stay in DynamoDB for their whole retention (see `hotRetentionLimitHours`). */
export function isHotRetention(topic: Pick<Topic, 'retentionHours'>, hotRetentionLimitHours: number): boolean {
  return topic.retentionHours <= hotRetentionLimitHours;
}

/** The `expiresAt` (epoch seconds) of a batch appended at `appendedAtMs`, or undefined for a tiered topic. */
export function appendExpiry(topic: Pick<Topic, 'retentionHours'>, hotRetentionLimitHours: number, appendedAtMs: number): number | undefined {
  if (!isHotRetention(topic, hotRetentionLimitHours)) return undefined;
  return Math.ceil((appendedAtMs + topic.retentionHours * 60 * 60 * 1000 + HOT_TTL_MARGIN_MS) / 1000);
}

/** Topic metadata storage (the role); {@link DynamoTopicStore} is its DynamoDB implementation. */
export interface TopicStore {
  /** @throws TopicExistsError */
  create(input: CreateTopicInput): Promise<Topic>;
  /**
   * The topic as stored, possibly from a short-lived cache; `{ fresh: true }` reads past the cache (e.g. when a
   * lease names an incarnation the cached topic does not know).
   * @throws TopicNotFoundError
   */
  get(name: string, options?: { readonly fresh?: boolean }): Promise<Topic>;
  list(): Promise<TopicSummary[]>;
  /** @throws TopicNotFoundError, InvalidRequestError (partitions may only grow) */
  update(name: string, input: UpdateTopicInput): Promise<Topic>;
  /** @throws TopicNotFoundError */
  delete(name: string): Promise<DeletedTopic>;
  /** Records when the next scheduled maintenance pass needs to look at this incarnation of the topic. */
  scheduleMaintenance(topic: Topic, maintainAfter: number): Promise<void>;
  /** Topics deleted but whose storage is not reclaimed yet (for the maintenance pass). */
  listDeleted(): Promise<DeletedTopic[]>;
  /** Forgets a deleted topic once its storage is reclaimed. */
  forgetDeleted(topicId: string): Promise<void>;
}
