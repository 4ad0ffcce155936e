/**
 * Process configuration, read once at cold start from the environment.
 *
 * AWS endpoints are not configured here: the AWS SDK reads `AWS_ENDPOINT_URL` (and the per-service
 * `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3`) itself, so the same code runs against AWS, LocalStack
 * and the embedded local stack.
 */
export interface ShardlogConfig {
  /** DynamoDB table holding topics, partitions' batches, idempotency records and the segment index. */
  readonly logTable: string;
  /** DynamoDB table holding consumer-group leases and members. */
  readonly leaseTable: string;
  /** S3 bucket holding cold segments and spilled (large) batches. */
  readonly segmentBucket: string;
  /** Hot batches older than this move to S3 at the next maintenance pass. */
  readonly tierAfterMs: number;
  /** How long a process may reuse a topic's metadata before reading it again. */
  readonly topicCacheMs: number;
  /** Use path-style S3 URLs (s3rver, LocalStack). */
  readonly s3ForcePathStyle: boolean;
  /**
   * Topics whose retention is at most this many hours stay in DynamoDB for their whole life and expire by a TTL
   * written with each batch (free); longer ones are tiered to S3. 0 tiers every topic. See `lib/topics/topic.ts`.
   */
  readonly hotRetentionLimitHours: number;
  /**
   * Batches larger than this (bytes, encoded and compressed) are written to S3 and the DynamoDB item only points
   * at them. See {@link DEFAULT_SPILL_THRESHOLD_BYTES}.
   */
  readonly spillThresholdBytes: number;
}

export const ENV = {
  logTable: 'SHARDLOG_LOG_TABLE',
  leaseTable: 'SHARDLOG_LEASE_TABLE',
  segmentBucket: 'SHARDLOG_SEGMENT_BUCKET',
  tierAfterMs: 'SHARDLOG_TIER_AFTER_MS',
  topicCacheMs: 'SHARDLOG_TOPIC_CACHE_MS',
  s3ForcePathStyle: 'SHARDLOG_S3_FORCE_PATH_STYLE',
  hotRetentionLimitHours: 'SHARDLOG_HOT_RETENTION_LIMIT_HOURS',
  spillThresholdBytes: 'SHARDLOG_SPILL_THRESHOLD_BYTES',
} as const;

export const DEFAULT_TIER_AFTER_MS = 15 * 60 * 1000;
export const DEFAULT_TOPIC_CACHE_MS = 1000;
/**
 * Twelve weeks: where keeping a GB in DynamoDB ($0.25/GB-month) starts to cost more than moving it to S3, which
 * pays a rewrite of every item to set its TTL (~$0.64/GB) and then $0.023/GB-month:
 * 0.25·m = 0.64 + 0.023·m  ⇒  m ≈ 2.8 months.
 */
export const DEFAULT_HOT_RETENTION_LIMIT_HOURS = 12 * 7 * 24;
/**
 * 8 KiB: where an S3 PUT ($0.005 per 1,000) plus a one-unit pointer item costs less than writing the batch into
 * DynamoDB at one write unit per KB ($0.625 per million): 5 + 0.625 < 0.625·KB ⇒ KB > 9. Reading it back is
 * cheaper from S3 too (a GET is $0.0004 per 1,000; a strongly consistent read $0.125 per million per 4 KB).
 * The price is latency: such a produce waits for the PUT before its one DynamoDB write.
 */
export const DEFAULT_SPILL_THRESHOLD_BYTES = 8 * 1024;
/** DynamoDB's item limit is 400 KB including attribute names: batches above this always go to S3. */
export const MAX_INLINE_BATCH_BYTES = 350 * 1024;

/**
 * Reads the configuration from `env`; fails loudly, naming the variable, when a required one is missing.
 * @throws Error when a required variable is missing or a number is malformed.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): ShardlogConfig {
  return {
    logTable: required(env, ENV.logTable),
    leaseTable: required(env, ENV.leaseTable),
    segmentBucket: required(env, ENV.segmentBucket),
    tierAfterMs: numberOr(env, ENV.tierAfterMs, DEFAULT_TIER_AFTER_MS),
    topicCacheMs: numberOr(env, ENV.topicCacheMs, DEFAULT_TOPIC_CACHE_MS),
    s3ForcePathStyle: env[ENV.s3ForcePathStyle] === 'true',
    hotRetentionLimitHours: numberOr(env, ENV.hotRetentionLimitHours, DEFAULT_HOT_RETENTION_LIMIT_HOURS),
    spillThresholdBytes: Math.min(MAX_INLINE_BATCH_BYTES, numberOr(env, ENV.spillThresholdBytes, DEFAULT_SPILL_THRESHOLD_BYTES)),
  };
}

function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') {
    throw new Error(`environment variable ${name} is required but not set`);
  }
  return value;
}

function numberOr(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`environment variable ${name} must be a non-negative number, got '${raw}'`);
  }
  return value;
}

