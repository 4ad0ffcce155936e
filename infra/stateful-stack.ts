import { Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { SEGMENT_PREFIX, UPLOAD_PREFIX } from '../lib/storage/prefixes.js';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../lib/storage/tables.js';
import { MAX_RETENTION_HOURS } from '../lib/topics/topic.js';

/*
 * The S3 prefixes come from the code that writes them (lib/storage/prefixes.ts, also read by the grants of
 * api-stack.ts), so the lifecycle rules and the grants cannot drift:
 * - SPILL_PREFIX ('spill/', lib/storage/prefixes.ts): batches too large for a DynamoDB item, written by produce before the append
 *   commits; one that no hot item references is the orphan of a failed append. Never expired by age.
 * - SEGMENT_PREFIX ('segments/'): cold segments written by the maintenance pass.
 * - UPLOAD_PREFIX ('upload/'): batches clients PUT with a presigned URL before appending them; an append reads
 *   one, checks it and stores its own copy, so nothing ever references an upload: expired after a day.
 */

/** Uploads live this long: a presigned PUT is valid for minutes, and the append follows it at once. */
const UPLOAD_EXPIRATION_DAYS = 1;

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
      // SSE-S3: encrypted at rest with no key to manage or pay for per request; the bucket is private to this
      // app's functions, so a customer-managed key would add cost (a KMS request per GET and PUT) but no reader.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Bucket-owner-enforced: ACLs are off, so no object can be shared by an ACL either.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Versioning stays off. Segment and spill objects are written once under fresh random keys and never
      // overwritten, so versions could only keep DELETED objects; the only deletes are retention's (the
      // maintenance role is the one role allowed s3:DeleteObject, see infra/api-stack.ts ACCESS), and keeping
      // what retention removed would bill its storage for as long as versions are kept, against the point of
      // retention. A deleted segment is unreachable anyway once its index entry (log table) is gone.
      versioned: false,
      removalPolicy,
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // No expiry on spill/: a spilled batch is referenced by its hot item until the maintenance pass has
        // folded it into a segment, however late that pass runs; expiring it by age could lose acknowledged
        // records (an acknowledged record stays readable until its retention ends). Orphans of failed appends stay until removed by hand (rare: only a
        // batch over 350 KB whose append then failed).
        { id: 'expire-uploads', prefix: UPLOAD_PREFIX, expiration: Duration.days(UPLOAD_EXPIRATION_DAYS) },
        {
          id: 'expire-segments-backstop',
          prefix: SEGMENT_PREFIX,
          expiration: Duration.days(segmentExpirationDays),
        },
      ],
    });
    Validations.of(this.segmentBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "No server access logs: the bucket is private to the app's own Lambda roles (no public access, TLS only, " +
        'least-privilege prefixes), every read is a ranged GET of a segment, so a log line per GET would cost ' +
        'about as much as the reads, and the log bucket would need a policy of its own. Who calls the API is in ' +
        "the API's access log; CloudTrail S3 data events can be switched on per account where an audit needs them.",
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
    // Point-in-time recovery on: 35 days of restore points for ~$0.20 per GB-month, against a bug or a wrong
    // manual write that deletes acknowledged records or committed offsets (RETAIN only covers the stack).
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // A `DeleteTable` (console, CLI, a replaced resource) fails until this is turned off on purpose.
    deletionProtection: true,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    removalPolicy,
  });
}
