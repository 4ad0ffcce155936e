import { randomBytes } from 'node:crypto';
import { SILENT_LOGGER, type Logger } from '../logger.js';
import { NO_METRICS, type MetricsSink } from '../observability/metrics-sink.js';
import type { TopicStore } from '../topics/topic.js';
import { acknowledge, type AckInput, type AckResult } from './share-acks.js';
import { configure, deleteGroup, subscribe, unsubscribe } from './share-admin.js';
import type { ShareContext, ShareLog, ShareStepHook } from './share-context.js';
import { describe, list, type ShareGroupDescription } from './share-description.js';
import { fetch, RECEIPT_CHARS, type ShareFetchInput, type ShareFetchResult } from './share-fetch.js';
import type { ConfigPatch, ShareStore, SubscriptionStart } from './share-store.js';

// lib/share-groups is used through this module: the types of the service's methods and the limits the handlers check.
export type { AckInput, AckResult } from './share-acks.js';
export type { ShareGroupDescription, SharePartitionDescription } from './share-description.js';
export type { ShareFetchInput, ShareFetchResult, SharedRecord } from './share-fetch.js';
export { shareRecordEnvelopeSize } from './share-fetch.js';
export type { ConfigPatch, SubscriptionStart } from './share-store.js';
export type { AckType } from './share-window.js';
export { DEFAULT_MAX_DELIVERIES, MAX_IN_FLIGHT_RECORDS } from './share-window.js';
export { ORIGIN_HEADERS } from './dead-letters.js';

/** docs/api.md, "Share groups": `maxRecords` default 100, max 1,000. */
export const DEFAULT_SHARE_FETCH_RECORDS = 100;
export const MAX_SHARE_FETCH_RECORDS = 1000;
/** docs/api.md: `lockMs` default 30,000 (Kafka's `group.share.record.lock.duration.ms`), 1,000..43,200,000 (12 h, SQS's maximum visibility timeout). */
export const DEFAULT_LOCK_MS = 30_000;
export const MIN_LOCK_MS = 1_000;
export const MAX_LOCK_MS = 43_200_000;
/** `maxDeliveries` may be set from 1 to this (README: Kafka allows 2..10; one delivery means "never retry"). */
export const MAX_MAX_DELIVERIES = 100;

export interface ShareGroupServiceOptions {
  readonly store: ShareStore;
  readonly topics: Pick<TopicStore, 'get'>;
  readonly log: ShareLog;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Crash injection in tests, after each step of the dead-letter protocol. */
  readonly onStep?: ShareStepHook;
  readonly logger?: Logger;
  /** Where the share metrics go (default: nowhere). */
  readonly metrics?: MetricsSink;
}

/**
 * Share groups (docs/api.md v1.1; Kafka's KIP-932): queue semantics over the log, each record handed to one
 * member at a time and acknowledged one by one. The class the handlers call; each concern is a module beside it:
 *
 * - share-window.ts: the pure state machine of one share-partition's in-flight window;
 * - share-fetch.ts and share-acks.ts: acquiring records and acknowledging them, one conditional write per
 *   partition; share-partitions.ts: what both see of a partition and how they write;
 * - dead-letters.ts: the crash-safe copy of archived records to the dead-letter topic;
 * - share-admin.ts: subscriptions, settings, deletion; share-description.ts: describe and list;
 * - share-store.ts / dynamo-share-store.ts / share-table.ts: the role, its DynamoDB implementation, the items.
 *
 * @example
 * await shareGroups.subscribe('mailers', 'orders', 'earliest');
 * const { records } = await shareGroups.fetch('mailers', { maxRecords: 10, lockMs: 30_000, waitMs: 5_000, encoding: 'json' });
 * await shareGroups.acknowledge('mailers', records.map((r) => ({ ...r, offset: r.record.offset, type: 'accept' })));
 */
export class ShareGroupService {
  private readonly ctx: ShareContext;

  constructor(options: ShareGroupServiceOptions) {
    this.ctx = {
      store: options.store,
      topics: options.topics,
      log: options.log,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      // 12 random bytes: 16 base64url characters, the receipt length responses are measured with.
      newId: () => randomBytes((RECEIPT_CHARS * 3) / 4).toString('base64url'),
      logger: options.logger ?? SILENT_LOGGER,
      metrics: options.metrics ?? NO_METRICS,
      ...(options.onStep ? { onStep: options.onStep } : {}),
    };
  }

  /** @throws TopicNotFoundError */
  async subscribe(group: string, topic: string, from: SubscriptionStart): Promise<{ group: string; topic: string }> {
    await subscribe(this.ctx, group, topic, from);
    return { group, topic };
  }

  /** @throws GroupNotFoundError */
  unsubscribe(group: string, topic: string): Promise<void> {
    return unsubscribe(this.ctx, group, topic);
  }

  /**
   * Acquires up to `maxRecords` available records, long-polling up to `waitMs`.
   * @throws GroupNotFoundError
   */
  fetch(group: string, input: ShareFetchInput): Promise<ShareFetchResult> {
    return fetch(this.ctx, group, input);
  }

  /**
   * Accepts, releases, rejects or renews records, each fenced by its receipt.
   * @returns one result per ack, in request order (`FENCED` per record for a stale receipt).
   * @throws GroupNotFoundError; ConcurrentUpdateError (retriable) under extreme contention.
   */
  acknowledge(group: string, acks: readonly AckInput[]): Promise<AckResult[]> {
    return acknowledge(this.ctx, group, acks);
  }

  /**
   * Sets `maxDeliveries` and/or the dead-letter topic, then describes the group.
   * @throws TopicNotFoundError for a dead-letter topic that does not exist.
   */
  async configure(group: string, patch: ConfigPatch): Promise<ShareGroupDescription> {
    await configure(this.ctx, group, patch);
    return describe(this.ctx, group);
  }

  /** @throws GroupNotFoundError */
  describe(group: string): Promise<ShareGroupDescription> {
    return describe(this.ctx, group);
  }

  list(): Promise<Array<{ group: string; subscriptions: string[] }>> {
    return list(this.ctx);
  }

  /** @throws GroupNotFoundError */
  delete(group: string): Promise<void> {
    return deleteGroup(this.ctx, group);
  }
}
