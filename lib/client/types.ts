/**
 * The wire types of the shardlog HTTP API, version 1, as the client SDK sees them: the client's own
 * declaration of the contract (docs/api.md; a field here is a field there). They are not imported from the
 * server, whose types describe its decoded inputs (bytes, defaults applied) and would pull server modules into
 * the client's `dist/`; the contract's numeric limits are shared instead (lib/contract/limits.ts).
 */

/** Any JSON value: what a record's `value` may be with the default `json` encoding. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** `json` (default): keys are strings, values any JSON. `base64`: keys and values are base64 of raw bytes. */
export type Encoding = 'json' | 'base64';

/** One record to append (`POST /v1/topics/{topic}/records`). */
export interface ProduceRecord {
  /** Records with the same key go to the same partition (murmur2, as Kafka). `null`/absent: spread. */
  key?: string | null;
  value: JsonValue;
  headers?: Record<string, string>;
  /** An explicit partition wins over the key. */
  partition?: number;
  /** Milliseconds since the epoch; the server's clock when absent. */
  timestamp?: number;
}

/** Where one produced record landed, in request order. */
export interface RecordMetadata {
  partition: number;
  offset: number;
  timestamp: number;
}

/** Options of one produce request beside its records. */
export interface ProduceOptions {
  /**
   * Makes the request safe to retry: a retry with the same key appends nothing and returns the first
   * response. Generated when absent, so the client's own retries never duplicate.
   */
  idempotencyKey?: string;
  /** Append only if each named partition's end offset is this (optimistic concurrency). */
  expectedOffsets?: Record<number, number>;
  encoding?: Encoding;
  signal?: AbortSignal;
}

export interface ProduceResponse {
  records: RecordMetadata[];
}

/** A record as read back by a fetch. */
export interface ConsumedRecord {
  offset: number;
  timestamp: number;
  key: string | null;
  value: JsonValue;
  headers: Record<string, string>;
  /** In a JSON fetch: the key's bytes are not UTF-8, so `key` is their base64. */
  keyEncoding?: 'base64';
  /** In a JSON fetch: the value's bytes (produced with base64) are not JSON, so `value` is their base64. */
  valueEncoding?: 'base64';
}

export interface TopicSummary {
  name: string;
  partitions: number;
}

export interface PartitionStats {
  partition: number;
  /** First offset still readable (Kafka's log-start offset). */
  startOffset: number;
  /** Offset the next appended record gets (Kafka's log-end offset). */
  endOffset: number;
}

export interface TopicDescription {
  name: string;
  partitions: number;
  retentionHours: number;
  createdAt: number;
  partitionStats: PartitionStats[];
}

export interface CreateTopicRequest {
  name: string;
  /** 1..1024, default 1. */
  partitions?: number;
  /** Default 168 (7 days). */
  retentionHours?: number;
}

export interface UpdateTopicRequest {
  /** Partitions only grow, as in Kafka. */
  partitions?: number;
  retentionHours?: number;
}

/** Query of `GET /v1/topics/{topic}/partitions/{partition}/records`; one start option at most. */
export interface FetchOptions {
  offset?: number;
  from?: 'earliest' | 'latest';
  timestamp?: number;
  limit?: number;
  maxBytes?: number;
  /** Long poll: wait up to this long (max 20,000) for at least one record. */
  waitMs?: number;
  direction?: 'forward' | 'backward';
  encoding?: Encoding;
}

export interface FetchResponse {
  records: ConsumedRecord[];
  nextOffset: number;
  startOffset: number;
  endOffset: number;
}

/** A lease the group coordinator granted to a member. */
export interface Assignment {
  topic: string;
  partition: number;
  leaseToken: string;
  committedOffset: number | null;
}

export interface JoinGroupRequest {
  /** Topics the group is subscribed to; absent: every subscription of the group (v1.1). */
  topics?: string[];
  /** A stable id to rejoin with after the session expired. */
  memberId?: string;
  /** 3,000..300,000, default 30,000. */
  sessionTimeoutMs?: number;
}

export interface MembershipResponse {
  memberId: string;
  heartbeatIntervalMs: number;
  assignments: Assignment[];
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** Where a partition with nothing committed starts (Kafka's `auto.offset.reset`). */
export type AutoOffsetReset = 'earliest' | 'latest';

export interface GroupFetchRequest {
  limit?: number;
  maxBytes?: number;
  waitMs?: number;
  /** Where to read each partition from; the committed offset (or the reset policy) where absent. */
  positions?: TopicPartitionOffset[];
  /**
   * The reset policy of this fetch, for partitions the group never committed (or whose committed offset
   * retention has passed); `earliest` when absent. An addition to docs/api.md: see README, "Behaviour where
   * the contract is silent".
   */
  autoOffsetReset?: AutoOffsetReset;
}

export interface GroupBatch {
  topic: string;
  partition: number;
  leaseToken: string;
  records: ConsumedRecord[];
  nextOffset: number;
  endOffset: number;
}

export interface GroupFetchResponse {
  batches: GroupBatch[];
}

export interface CommitOffset extends TopicPartitionOffset {
  leaseToken: string;
}

export interface CommitResult {
  topic: string;
  partition: number;
  offset: number;
  ok: boolean;
  /** Present when `ok` is false, e.g. `{ code: 'FENCED', ... }`. */
  error?: { code: string; message?: string; [extra: string]: unknown } | string;
}

export interface CommitResponse {
  results: CommitResult[];
}

export interface GroupMemberDescription {
  memberId: string;
  expiresAt: number;
  partitions: number;
}

export interface GroupPartitionDescription {
  topic: string;
  partition: number;
  owner: string | null;
  committedOffset: number | null;
  endOffset: number;
  lag: number;
}

export interface GroupDescription {
  group: string;
  /** The topics the group is subscribed to (v1.1). */
  subscriptions: string[];
  members: GroupMemberDescription[];
  partitions: GroupPartitionDescription[];
}

export interface GroupSummary {
  group: string;
  members: number;
}

/** Target of a seek/reset (`POST /v1/groups/{group}/offsets`). */
export type ResetTarget = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

export interface ResetOffsetsRequest {
  topic: string;
  /** All partitions of the topic when absent. */
  partition?: number;
  to: ResetTarget;
}

/** The new committed offsets after a reset (docs/api.md leaves the exact shape open; see `ShardlogClient.resetOffsets`). */
export type ResetOffsetsResponse = { offsets?: TopicPartitionOffset[] } & Record<string, unknown>;

export interface MaintenanceRequest {
  topic?: string;
  tierOlderThanMs?: number;
}

export interface MaintenanceResponse {
  tiered: { segments: number; records: number; bytes: number };
  expired: { records: number; segments: number };
}

/** `PUT /v1/groups/{group}/subscriptions/{topic}` answers the subscription. */
export interface Subscription {
  group: string;
  topic: string;
}
