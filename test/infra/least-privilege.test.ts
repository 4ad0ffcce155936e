import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../../functions/routes.js';
import { ACCESS, REPO_ROOT } from '../../infra/api-stack.js';

/*
 * Least privilege, checked against the code. DynamoDB Local and s3rver ignore IAM, so no integration test would
 * notice a function whose role lacks an action its code needs; the cloud would (AccessDenied, a 500). So this
 * file holds the call inventory: every AWS SDK command sent from lib/, where, with the IAM actions it needs and
 * the functions that reach it. Two checks keep it honest:
 * 1. the commands found in lib/ are exactly those listed (a new `*Command` in a file fails here, to be placed);
 * 2. infra/api-stack.ts ACCESS grants each function exactly the actions its calls need: nothing missing,
 *    nothing extra.
 */

type Resource = 'logTable' | 'leaseTable' | 'bucket';

interface Call {
  readonly file: string;
  readonly command: string;
  /** IAM actions, e.g. `dynamodb:PutItem`; for S3 objects `s3:GetObject@spill/` (action on a key prefix). */
  readonly actions: readonly string[];
  readonly resource: Resource;
  readonly functions: readonly FunctionName[];
  readonly why: string;
}

const ALL: readonly FunctionName[] = ['topics', 'produce', 'fetch', 'groups', 'shareGroups', 'maintenance'];
/** Functions that read records: plain fetch, group fetch, share-group fetch (and its dead-letter copies' sources). */
const READERS: readonly FunctionName[] = ['fetch', 'groups', 'shareGroups'];
/** Functions that append: produce, and share groups' dead-letter copies. */
const APPENDERS: readonly FunctionName[] = ['produce', 'shareGroups'];

/** Not Lambda code: the client SDK runs in the caller, bootstrap creates tables for the local stack and tests. */
const NOT_IN_LAMBDA = ['lib/client/', 'lib/storage/bootstrap.ts', 'lib/storage/capacity-meter.ts'];

const CALLS: readonly Call[] = [
  // lib/log: the hot log (the append protocol, idempotency records, spill objects, the queries).
  { file: 'lib/log/dynamo-append.ts', command: 'PutCommand', actions: ['dynamodb:PutItem'], resource: 'logTable', functions: APPENDERS, why: 'append to one partition' },
  {
    file: 'lib/log/dynamo-append.ts',
    command: 'TransactWriteCommand',
    actions: ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
    resource: 'logTable',
    functions: APPENDERS,
    why: 'append to several partitions / expectedOffsets / Idempotency-Key: Puts and ConditionChecks',
  },
  { file: 'lib/log/idempotency-records.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'logTable', functions: APPENDERS, why: 'idempotency record' },
  { file: 'lib/log/dynamo-log-store.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'logTable', functions: [...READERS, 'topics', 'maintenance'], why: 'partition meta (maintenance: the lag sweep reads the record at a committed offset)' },
  { file: 'lib/log/dynamo-log-store.ts', command: 'QueryCommand', actions: ['dynamodb:Query'], resource: 'logTable', functions: ALL, why: 'tail and batches of a partition' },
  {
    file: 'lib/log/upload-store.ts',
    command: 'PutObjectCommand',
    actions: ['s3:PutObject@upload/'],
    resource: 'bucket',
    functions: ['produce'],
    why: 'presign the PUT of an upload: the URL carries the signing role\'s permission, for that one key',
  },
  { file: 'lib/log/upload-store.ts', command: 'GetObjectCommand', actions: ['s3:GetObject@upload/'], resource: 'bucket', functions: ['produce'], why: 'read an upload to check and append it' },
  { file: 'lib/log/spill-store.ts', command: 'PutObjectCommand', actions: ['s3:PutObject@spill/'], resource: 'bucket', functions: APPENDERS, why: 'spill a large batch' },
  {
    file: 'lib/log/spill-store.ts',
    command: 'GetObjectCommand',
    actions: ['s3:GetObject@spill/', 's3:ListBucket@spill/'],
    resource: 'bucket',
    functions: [...READERS, 'maintenance'],
    why: 'read a spilled batch; ListBucket so that one removed by retention meanwhile is NoSuchKey (503 retry), not 403',
  },
  // lib/topics/dynamo-topic-store.ts: topics.
  {
    file: 'lib/topics/dynamo-topic-store.ts',
    command: 'TransactWriteCommand',
    actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
    resource: 'logTable',
    functions: ['topics'],
    why: 'create (Put, Put), update (Update, Put), delete (Delete, Delete, Put)',
  },
  { file: 'lib/topics/dynamo-topic-store.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'logTable', functions: ALL, why: 'a topic by name' },
  { file: 'lib/topics/dynamo-topic-store.ts', command: 'UpdateCommand', actions: ['dynamodb:UpdateItem'], resource: 'logTable', functions: ['maintenance'], why: 'scheduleMaintenance' },
  { file: 'lib/topics/dynamo-topic-store.ts', command: 'DeleteCommand', actions: ['dynamodb:DeleteItem'], resource: 'logTable', functions: ['maintenance'], why: 'forgetDeleted' },
  // lib/storage/partition-key.ts: whole partition keys.
  { file: 'lib/storage/partition-key.ts', command: 'QueryCommand', actions: ['dynamodb:Query'], resource: 'logTable', functions: ['topics', 'maintenance'], why: 'topic catalog, deleted topics, a deleted topic\'s items' },
  { file: 'lib/storage/partition-key.ts', command: 'QueryCommand', actions: ['dynamodb:Query'], resource: 'leaseTable', functions: ['groups', 'maintenance'], why: 'a whole group, the group registry, a group\'s subscriptions (maintenance: the lag sweep, lib/groups/group-lag.ts, and group expiry)' },
  { file: 'lib/storage/partition-key.ts', command: 'BatchWriteCommand', actions: ['dynamodb:BatchWriteItem'], resource: 'logTable', functions: ['maintenance'], why: 'delete a deleted topic\'s items' },
  {
    file: 'lib/storage/partition-key.ts',
    command: 'BatchWriteCommand',
    actions: ['dynamodb:BatchWriteItem'],
    resource: 'leaseTable',
    functions: ['groups', 'maintenance'],
    why: 'delete a group\'s items (DELETE /v1/groups/{group}, group expiry)',
  },
  // lib/segments: cold storage.
  { file: 'lib/segments/dynamo-segment-index.ts', command: 'PutCommand', actions: ['dynamodb:PutItem'], resource: 'logTable', functions: ['maintenance'], why: 'index a segment' },
  { file: 'lib/segments/dynamo-segment-index.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'logTable', functions: [...READERS, 'maintenance'], why: 'a segment by base offset' },
  { file: 'lib/segments/dynamo-segment-index.ts', command: 'QueryCommand', actions: ['dynamodb:Query'], resource: 'logTable', functions: [...READERS, 'maintenance'], why: 'the segment containing an offset' },
  { file: 'lib/segments/dynamo-segment-index.ts', command: 'DeleteCommand', actions: ['dynamodb:DeleteItem'], resource: 'logTable', functions: ['maintenance'], why: 'retention' },
  {
    file: 'lib/segments/s3-segment-store.ts',
    command: 'GetObjectCommand',
    actions: ['s3:GetObject@segments/', 's3:ListBucket@segments/'],
    resource: 'bucket',
    functions: [...READERS, 'maintenance'],
    why: 'ranged GET of a segment (maintenance: the lag sweep reads the oldest unread record, tiered or not); ListBucket so that one removed by retention meanwhile is NoSuchKey ("gone"), not 403',
  },
  { file: 'lib/segments/s3-segment-store.ts', command: 'PutObjectCommand', actions: ['s3:PutObject@segments/'], resource: 'bucket', functions: ['maintenance'], why: 'write a segment' },
  {
    file: 'lib/segments/s3-segment-store.ts',
    command: 'DeleteObjectsCommand',
    actions: ['s3:DeleteObject@segments/', 's3:DeleteObject@spill/'],
    resource: 'bucket',
    functions: ['maintenance'],
    why: 'retention and reclaiming deleted topics: segments and the spill objects they absorbed',
  },
  {
    file: 'lib/segments/s3-segment-store.ts',
    command: 'ListObjectsV2Command',
    actions: ['s3:ListBucket@segments/', 's3:ListBucket@spill/'],
    resource: 'bucket',
    functions: ['maintenance'],
    why: 'objects below the start offset, objects of a deleted topic',
  },
  // lib/maintenance/dynamo-partition-meta-writer.ts
  { file: 'lib/maintenance/dynamo-partition-meta-writer.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'logTable', functions: ['maintenance'], why: 'partition meta' },
  { file: 'lib/maintenance/dynamo-partition-meta-writer.ts', command: 'UpdateCommand', actions: ['dynamodb:UpdateItem'], resource: 'logTable', functions: ['maintenance'], why: 'advance marks, set batch TTLs' },
  // lib/groups/dynamo-lease-store.ts: consumer groups.
  { file: 'lib/groups/dynamo-lease-store.ts', command: 'PutCommand', actions: ['dynamodb:PutItem'], resource: 'leaseTable', functions: ['groups'], why: 'join' },
  { file: 'lib/groups/dynamo-lease-store.ts', command: 'UpdateCommand', actions: ['dynamodb:UpdateItem'], resource: 'leaseTable', functions: ['groups'], why: 'heartbeat, take/release, commit, reset, registry' },
  { file: 'lib/groups/dynamo-lease-store.ts', command: 'DeleteCommand', actions: ['dynamodb:DeleteItem'], resource: 'leaseTable', functions: ['groups', 'maintenance'], why: 'leave; an ended session\'s record when a group is deleted or expires' },
  { file: 'lib/groups/dynamo-lease-store.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'leaseTable', functions: ['groups'], why: 're-read after a lost race' },
  // lib/share-groups/dynamo-share-store.ts: share groups.
  { file: 'lib/share-groups/dynamo-share-store.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'leaseTable', functions: ['shareGroups'], why: 'a share-partition' },
  { file: 'lib/share-groups/dynamo-share-store.ts', command: 'PutCommand', actions: ['dynamodb:PutItem'], resource: 'leaseTable', functions: ['shareGroups'], why: 'share-partition writes (conditional on version), subscriptions' },
  { file: 'lib/share-groups/dynamo-share-store.ts', command: 'QueryCommand', actions: ['dynamodb:Query'], resource: 'leaseTable', functions: ['shareGroups'], why: 'settings and subscriptions, share-partitions' },
  { file: 'lib/share-groups/dynamo-share-store.ts', command: 'UpdateCommand', actions: ['dynamodb:UpdateItem'], resource: 'leaseTable', functions: ['shareGroups'], why: 'settings, registry' },
  { file: 'lib/share-groups/dynamo-share-store.ts', command: 'DeleteCommand', actions: ['dynamodb:DeleteItem'], resource: 'leaseTable', functions: ['shareGroups'], why: 'unsubscribe, registry entry' },
  { file: 'lib/storage/partition-key.ts', command: 'QueryCommand', actions: ['dynamodb:Query'], resource: 'leaseTable', functions: ['shareGroups'], why: 'the share-group registry, a deleted share group\'s items' },
  { file: 'lib/storage/partition-key.ts', command: 'BatchWriteCommand', actions: ['dynamodb:BatchWriteItem'], resource: 'leaseTable', functions: ['shareGroups'], why: 'delete a share group\'s items' },
  // lib/groups/dynamo-group-items.ts: a group's registry entry, subscriptions, activity; the expiry cursor.
  {
    file: 'lib/groups/dynamo-group-items.ts',
    command: 'UpdateCommand',
    actions: ['dynamodb:UpdateItem'],
    resource: 'leaseTable',
    functions: ['groups', 'maintenance'],
    why: 'registry, subscribe, activity; maintenance: the expiry cursor, re-registering a group a race left items in',
  },
  { file: 'lib/groups/dynamo-group-items.ts', command: 'GetCommand', actions: ['dynamodb:GetItem'], resource: 'leaseTable', functions: ['groups', 'maintenance'], why: 'a registry entry; the expiry cursor' },
  { file: 'lib/groups/dynamo-group-items.ts', command: 'QueryCommand', actions: ['dynamodb:Query'], resource: 'leaseTable', functions: ['maintenance'], why: 'a page of the registry (group expiry)' },
  { file: 'lib/groups/dynamo-group-items.ts', command: 'DeleteCommand', actions: ['dynamodb:DeleteItem'], resource: 'leaseTable', functions: ['groups', 'maintenance'], why: 'unsubscribe; a deleted group\'s registry entry' },
];

function libFiles(dir = join(REPO_ROOT, 'lib')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return libFiles(path);
    return entry.name.endsWith('.ts') ? [relative(REPO_ROOT, path).split('\\').join('/')] : [];
  });
}

/** `file: Command` for every `new XCommand(` in Lambda code of lib/. */
function commandsInLib(): string[] {
  const found = new Set<string>();
  for (const file of libFiles()) {
    if (NOT_IN_LAMBDA.some((skip) => file.startsWith(skip))) continue;
    for (const match of readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/new\s+(\w+Command)\s*\(/g)) {
      found.add(`${file}: ${match[1]}`);
    }
  }
  return [...found].sort();
}

/** Per function, `resource action[@prefix]` as ACCESS grants it. */
function granted(fn: FunctionName): string[] {
  const access = ACCESS[fn];
  const out = [
    ...access.logTable.map((a) => `logTable dynamodb:${a}`),
    ...access.leaseTable.map((a) => `leaseTable dynamodb:${a}`),
  ];
  const bucket = access.segmentBucket as { get?: readonly string[]; put?: readonly string[]; delete?: readonly string[]; list?: readonly string[] };
  for (const [field, action] of [['get', 's3:GetObject'], ['put', 's3:PutObject'], ['delete', 's3:DeleteObject'], ['list', 's3:ListBucket']] as const) {
    for (const prefix of bucket[field] ?? []) out.push(`bucket ${action}@${prefix}`);
  }
  return [...new Set(out)].sort();
}

/** Per function, what its calls need. */
function needed(fn: FunctionName): string[] {
  const out = CALLS.filter((c) => c.functions.includes(fn)).flatMap((c) => c.actions.map((a) => `${c.resource} ${a}`));
  return [...new Set(out)].sort();
}

describe('least privilege against the code', () => {
  it('knows every AWS SDK command sent from Lambda code in lib/ (a new one must be placed in CALLS and ACCESS)', () => {
    const listed = [...new Set(CALLS.map((c) => `${c.file}: ${c.command}`))].sort();
    expect(commandsInLib()).toEqual(listed);
  });

  it.each(['topics', 'produce', 'fetch', 'groups', 'shareGroups', 'maintenance'] as const)(
    'grants %s exactly the actions its calls need, nothing missing and nothing extra',
    (fn) => {
      expect(granted(fn)).toEqual(needed(fn));
    },
  );
});
