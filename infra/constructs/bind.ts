import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { nagResourceFinding } from './nag.js';

/**
 * Binding a resource to a function: the environment variable that names it and the IAM grant that lets the
 * function use it are written in one call, so the two cannot drift (Powertools' `bindTable` idea).
 *
 * Grants name actions one by one, never with a wildcard and never through CDK's `grantReadData` /
 * `grantReadWriteData` (which add `Scan`, stream reads, `DescribeTable` and more): each function gets exactly
 * the item API calls its code makes (infra/api-stack.ts `ACCESS` lists them, with the code that makes them).
 */

/**
 * The DynamoDB item actions a function may be granted. `TransactWriteItems` has no IAM action of its own: each
 * of its items is authorized as the `PutItem`, `UpdateItem`, `DeleteItem` or `ConditionCheckItem` it contains.
 */
export type ItemAction =
  | 'GetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'ConditionCheckItem'
  | 'BatchWriteItem';

/**
 * The item actions a function may perform on a table. `[]` sets the variable without any grant:
 * `loadConfig()` (lib/config.ts) requires every resource name at cold start, even in a function whose role never
 * touches that resource (e.g. produce and the lease table). A name is not a permission.
 */
export type TableAccess = readonly ItemAction[];

/**
 * Sets `envName` on `fn` to the table's name and allows exactly `actions` on the table's items.
 * @example bindTable(fetchFn, ENV.logTable, logTable, ['GetItem', 'Query']);
 */
export function bindTable(fn: lambda.Function, envName: string, table: dynamodb.ITable, actions: TableAccess): void {
  fn.addEnvironment(envName, table.tableName);
  if (actions.length === 0) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: [...new Set(actions)].sort().map((a) => `dynamodb:${a}`), resources: [table.tableArn] }),
  );
}

/**
 * What a function may do with a bucket's objects, per key prefix (e.g. `'spill/'`). Absent: nothing.
 */
export interface BucketAccess {
  /** `s3:GetObject` on keys under these prefixes. */
  readonly get?: readonly string[];
  /** `s3:PutObject` on keys under these prefixes (single PUTs: no multipart, so no `s3:AbortMultipartUpload`). */
  readonly put?: readonly string[];
  /** `s3:DeleteObject` on keys under these prefixes (`DeleteObjects` is authorized per key as `DeleteObject`). */
  readonly delete?: readonly string[];
  /**
   * `s3:ListBucket`, with an `s3:prefix` condition naming these prefixes. Needed by `ListObjectsV2`, and by
   * `GetObject` callers that must see a missing key as 404 `NoSuchKey`: without `s3:ListBucket` S3 answers 403
   * for a key that does not exist, so as not to reveal whether it does.
   */
  readonly list?: readonly string[];
}

/**
 * Sets `envName` on `fn` to the bucket's name and grants the object access described by `access`. Object grants
 * are necessarily `<bucket>/<prefix>*` (keys are generated per batch and segment); each such resource is
 * acknowledged to cdk-nag (AwsSolutions-IAM5) on the function's role, with the reason.
 * @example bindBucket(produceFn, ENV.segmentBucket, bucket, { put: ['spill/'] });
 */
export function bindBucket(fn: lambda.Function, envName: string, bucket: s3.IBucket, access: BucketAccess): void {
  fn.addEnvironment(envName, bucket.bucketName);
  const objectGrants: Array<[string, readonly string[] | undefined]> = [
    ['s3:GetObject', access.get],
    ['s3:PutObject', access.put],
    ['s3:DeleteObject', access.delete],
  ];
  for (const [action, prefixes] of objectGrants) {
    if (!prefixes || prefixes.length === 0) continue;
    const resources = prefixes.map((prefix) => bucket.arnForObjects(`${assertPrefix(prefix)}*`));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: [action], resources }));
    for (const [i, resource] of resources.entries()) {
      // On the role: cdk-nag reports the finding on the role's policy, and looks for acknowledgements upwards.
      Validations.of(fn.role ?? fn).acknowledge({
        id: `AwsSolutions-IAM5[${nagResourceFinding(Stack.of(fn), resource)}]`,
        reason:
          `Object keys under '${prefixes[i]}' are generated per batch or segment, so the key prefix is the narrowest ` +
          `resource there is; the actions on it are named one by one (${action}).`,
      });
    }
  }
  if (access.list && access.list.length > 0) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': access.list.map((prefix) => `${assertPrefix(prefix)}*`) } },
      }),
    );
  }
}

/** A key prefix is a literal ending in `/`: never a wildcard, never the whole bucket. */
function assertPrefix(prefix: string): string {
  if (!/^[a-z0-9-]+\/$/.test(prefix)) throw new Error(`bucket grants take key prefixes like 'spill/', got '${prefix}'`);
  return prefix;
}
