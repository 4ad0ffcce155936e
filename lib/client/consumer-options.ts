import type { MembershipCalls } from './group-membership.js';
import type { AutoOffsetReset, ConsumedRecord, GroupFetchRequest, GroupFetchResponse, Subscription } from './types.js';

/*
 * What a {@link Consumer} (consumer.ts) is configured with, what it hands to `eachBatch`, and the calls it makes.
 */

export interface ConsumerOptions {
  /** A stable member id (kept across rejoins). Default: a random UUID per consumer. */
  memberId?: string;
  /** The server drops the member after this long without a heartbeat (3,000..300,000; server default 30,000). */
  sessionTimeoutMs?: number;
  /** Records per partition per fetch (server default 1,000). */
  maxRecords?: number;
  /** Bytes per fetch (server default 1 MB). */
  maxBytes?: number;
  /**
   * Long poll: how long a fetch waits for records when all partitions are caught up (max 20,000). Default 0: a
   * fetch that finds nothing is followed by a 1 s pause instead, so a caught-up member polls once a second. A
   * long poll delivers a new record sooner but keeps the groups function billed for every second it waits.
   */
  waitMs?: number;
  /**
   * Where a partition starts that the group has never committed (or whose committed offset retention has
   * passed): `earliest` or `latest`, as Kafka's `auto.offset.reset`. A committed offset always wins. Default:
   * the server's policy, `earliest`.
   */
  autoOffsetReset?: AutoOffsetReset;
  /** Failures the consumer survives on its own (a heartbeat that failed, a commit that could not be sent). */
  onError?: (error: unknown) => void;
}

/** What `eachBatch` receives: the records of one partition, in offset order. */
export interface EachBatchPayload {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The lease the batch was read under; its commit is fenced by it. */
  leaseToken: string;
  /** The partition's end offset when the batch was read (lag = endOffset − last offset − 1). */
  endOffset: number;
  /** Heartbeats now. Rarely needed: heartbeats run on their own timer while the handler works. */
  heartbeat(): Promise<void>;
  /**
   * Marks the records up to `offset` as processed; only those are committed. Without a call the whole batch
   * is committed when the handler returns.
   */
  resolveOffset(offset: number): void;
  /** False once `stop()` was called: finish (or resolve what is done) and return. */
  isRunning(): boolean;
  /** True once this partition moved to another member: nothing of it will be committed; return early. */
  isStale(): boolean;
}

export interface RunOptions {
  group: string;
  /** The topics this member reads. `run()` subscribes the group to each first (docs/api.md v1.1). */
  topics: string[];
  /**
   * `false`: do not subscribe the group to `topics` before joining (an operator manages its subscriptions, and
   * an unsubscribe must not be undone by a consumer that starts). Default true.
   */
  subscribe?: boolean;
  /**
   * Called per non-empty partition batch. When it returns, the batch (or what `resolveOffset` marked) is
   * committed: at-least-once. When it throws, nothing of that batch is committed and `run()` stops and rejects
   * with the error, after committing earlier batches and leaving the group.
   */
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /**
   * Called when the member is caught up: a fetch found no new record on any assigned partition, or it holds no
   * partition at all.
   */
  onIdle?(): void;
}

/**
 * The six calls a {@link Consumer} makes: what it needs of the API, not the whole client. `ShardlogClient`
 * has them; unit tests give an in-memory fake.
 */
export interface ConsumerCalls extends MembershipCalls {
  subscribe(group: string, topic: string, signal?: AbortSignal): Promise<Subscription>;
  groupFetch(group: string, memberId: string, request: GroupFetchRequest, signal?: AbortSignal): Promise<GroupFetchResponse>;
}
