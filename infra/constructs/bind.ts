import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Binding a resource to a function: the environment variable that names it and the IAM grant that lets the
 * function use it are written in one call, so the two cannot drift (Powertools' `bindTable` idea).
 *
 * `'none'` sets the variable without any grant: `loadConfig()` (lib/config.ts) requires every resource name at
 * cold start, even in a function whose role never touches that resource (e.g. produce and the lease table).
 * A name is not a permission; the role stays least-privilege.
 */
export type TableAccess = 'none' | 'read' | 'readWrite';

/**
 * Sets `envName` on `fn` to the table's name and grants `access` on its items (data plane only: the
 * `grant*Data` methods, never table administration).
 * @example bindTable(fetchFn, ENV.logTable, logTable, 'read');
 */
export function bindTable(
  fn: lambda.Function,
  envName: string,
  table: dynamodb.ITable,
  access: TableAccess,
): void {
  fn.addEnvironment(envName, table.tableName);
  switch (access) {
    case 'none':
      return;
    case 'read':
      table.grantReadData(fn);
      return;
    case 'readWrite':
      table.grantReadWriteData(fn);
      return;
  }
}

/**
 * What a function may do with a bucket's objects. Each field is an S3 key pattern (e.g. `'spill/*'`, `'*'`)
 * or absent for no access, so a grant is as narrow as the role needs.
 */
export interface BucketAccess {
  /** `s3:GetObject*` on matching keys, plus `s3:GetBucket*` / `s3:List*` (via `grantRead`). */
  readonly read?: string;
  /** `s3:PutObject` (and tagging, `s3:Abort*`) on matching keys (via `grantPut`). */
  readonly put?: string;
  /** `s3:DeleteObject*` on matching keys (via `grantDelete`). */
  readonly delete?: string;
}

/**
 * Sets `envName` on `fn` to the bucket's name and grants the object access described by `access`.
 * @example bindBucket(produceFn, ENV.segmentBucket, bucket, { put: 'spill/*' });
 */
export function bindBucket(
  fn: lambda.Function,
  envName: string,
  bucket: s3.IBucket,
  access: BucketAccess,
): void {
  fn.addEnvironment(envName, bucket.bucketName);
  if (access.read !== undefined) bucket.grantRead(fn, access.read);
  if (access.put !== undefined) bucket.grantPut(fn, access.put);
  if (access.delete !== undefined) bucket.grantDelete(fn, access.delete);
}
