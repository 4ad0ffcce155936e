import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { SEGMENT_PREFIX, SPILL_PREFIX } from '../lib/storage/prefixes.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../lib/storage/tables.js';
import { MAX_RETENTION_HOURS } from '../lib/topics/topic.js';

/*
 * The S3 prefixes come from the code that writes them, so the lifecycle rules and the grants cannot drift:
 * - SPILL_PREFIX ('spill/'): batches too large for a DynamoDB item, written by produce before the append
 *   commits; one that no hot item references is the orphan of a failed append. Never expired by age.
 * - SEGMENT_PREFIX ('segments/'): cold segments written by the maintenance pass.
 */
export { SEGMENT_PREFIX, SPILL_PREFIX };

/**
 * Default segment backstop: the maintenance pass deletes expired segments itself; this only catches leaks. It
 * must stay above the longest retention a topic may have (MAX_RETENTION_HOURS, 365 days), which the stack checks.
 */
export const DEFAULT_SEGMENT_EXPIRATION_DAYS = 400;

export interface StatefulStackProps extends StackProps {
  /**
   * What CloudFormation does with the tables and the bucket when they leave the stack.
   * @default RemovalPolicy.RETAIN — the log is data, not a cache. `DESTROY` suits throwaway dev stages only,
   * and deleting the bucket then still fails while it holds objects.
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Lifecycle expiry of objects under `segments/`. Must exceed the longest topic retention the API accepts
   * (`MAX_RETENTION_HOURS`), or S3 would delete records that are still within retention.
   * @default 400
   */
  readonly segmentExpirationDays?: number;
}

/**
 * The stateful half of shardlog: the log table, the lease table and the segment bucket. Kept apart from the
 * API stack so that code deploys never put data at risk and the data outlives a torn-down API stack.
 *
 * No physical names are fixed: CloudFormation generates them and the API stack passes them to the functions
 * through environment variables (`lib/config.ts` `ENV`).
 */
export class StatefulStack extends Stack {
  /** Topics, partitions' batches, idempotency records and the segment index. */
  public readonly logTable: dynamodb.Table;
  /** Consumer-group leases and members (the KCL-style coordinator). */
  public readonly leaseTable: dynamodb.Table;
  /** Cold segments (`segments/`) and spilled large batches (`spill/`). */
  public readonly segmentBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StatefulStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const segmentExpirationDays = props.segmentExpirationDays ?? DEFAULT_SEGMENT_EXPIRATION_DAYS;
    if (!Number.isInteger(segmentExpirationDays) || segmentExpirationDays * 24 <= MAX_RETENTION_HOURS) {
      throw new Error(
        `segmentExpirationDays must be a whole number of days above the longest topic retention ` +
          `(${MAX_RETENTION_HOURS / 24} days), got ${segmentExpirationDays}`,
      );
    }

    this.logTable = shardlogTable(this, 'LogTable', removalPolicy);
    this.leaseTable = shardlogTable(this, 'LeaseTable', removalPolicy);

    this.segmentBucket = new s3.Bucket(this, 'SegmentBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Segments are written once under fresh keys and deleted by retention; versions would only keep
      // deleted data (and its cost) around.
      versioned: false,
      removalPolicy,
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // No expiry on spill/: a spilled batch is referenced by its hot item until the maintenance pass has
        // folded it into a segment, however late that pass runs; expiring it by age could lose acknowledged
        // records (DESIGN.md invariant 2). Orphans of failed appends stay until removed by hand (rare: only a
        // batch over 350 KB whose append then failed).
        {
          id: 'expire-segments-backstop',
          prefix: SEGMENT_PREFIX,
          expiration: Duration.days(segmentExpirationDays),
        },
      ],
    });
  }
}

/**
 * Both tables share one schema (lib/storage/tables.ts), so the cloud, the embedded local stack and the
 * integration tests cannot disagree on it.
 */
function shardlogTable(scope: Construct, id: string, removalPolicy: RemovalPolicy): dynamodb.Table {
  // `Table` (AWS::DynamoDB::Table) rather than `TableV2` (AWS::DynamoDB::GlobalTable): one region, and the
  // resource type cannot be switched later without replacing the table and its data.
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
    sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    removalPolicy,
  });
}
