import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import type { StoredRecord } from '../../../lib/log/batch-format.js';
import { partitionPk, segmentPk } from '../../../lib/storage/log-table.js';
import type { ProduceRecord } from '../../../lib/log/log-types.js';
import { forward } from '../../support/read-options.js';
import { createMaintenance } from '../../../lib/maintenance/create-maintenance.js';
import type { MaintenanceService } from '../../../lib/maintenance/maintenance-service.js';
import type { MaintenanceStep } from '../../../lib/maintenance/maintenance-steps.js';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import type { TestStorage } from '../../support/storage.js';
import { readFrom } from '../../support/by-name.js';

/**
 * Shared fixtures of the maintenance and cold-read integration tests: a controllable clock, engines over one
 * storage, the TTL sweeper DynamoDB would run, and a byte-exact snapshot of a partition.
 */
export const HOUR_MS = 60 * 60 * 1000;
const utf8 = new TextEncoder();

export class Clock {
  constructor(public ms: number = Date.now()) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** An engine with no caches (each call sees storage as it is), on `clock`. */
export function engineAt(storage: TestStorage, clock: Clock, s3?: S3Client): Shardlog {
  return createShardlog(s3 ? { doc: storage.doc, s3 } : storage, storage.config, {
    now: clock.now,
    topicCacheMs: 0,
    tailCacheMs: 0,
    metaCacheMs: 0,
  });
}

/** A maintenance service whose `onStep` throws once at `crash.step` (its n-th occurrence for `crash.topicId`). */
export function crashingMaintenance(
  engine: Shardlog,
  clock: Clock,
  crash?: { step: MaintenanceStep; topicId?: string; occurrence?: number },
): MaintenanceService {
  let seen = 0;
  return createMaintenance({
    clients: engine.clients,
    config: engine.config,
    topics: engine.topics,
    store: engine.store,
    now: clock.now,
    onStep: (step, detail) => {
      if (!crash || step !== crash.step || (crash.topicId !== undefined && detail.topicId !== crash.topicId)) return;
      if (++seen === (crash.occurrence ?? 1)) throw new InjectedCrash(step);
    },
  });
}

export class InjectedCrash extends Error {
  constructor(readonly step: MaintenanceStep) {
    super(`injected crash after ${step}`);
    this.name = 'InjectedCrash';
  }
}

/**
 * What DynamoDB's TTL process does, eventually: deletes items whose `expiresAt` has passed. (DynamoDB Local
 * does not run it on our clock, and on AWS it may lag by ~2 days; reads must not depend on either.)
 */
export async function sweepExpired(storage: TestStorage, nowMs: number): Promise<number> {
  let deleted = 0;
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await storage.doc.send(
      new ScanCommand({
        TableName: storage.config.logTable,
        FilterExpression: 'expiresAt <= :now',
        ExpressionAttributeValues: { ':now': Math.floor(nowMs / 1000) },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      await storage.doc.send(new DeleteCommand({ TableName: storage.config.logTable, Key: { pk: item.pk, sk: item.sk } }));
      deleted++;
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return deleted;
}

export async function queryAll(doc: DynamoDBDocumentClient, table: string, pk: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ExclusiveStartKey }),
    );
    out.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

export const batchItems = async (storage: TestStorage, topicId: string, partition = 0) =>
  (await queryAll(storage.doc, storage.config.logTable, partitionPk(topicId, partition))).filter((i) => i.sk !== '#meta');
export const metaItem = async (storage: TestStorage, topicId: string, partition = 0) =>
  (await queryAll(storage.doc, storage.config.logTable, partitionPk(topicId, partition))).find((i) => i.sk === '#meta');
export const indexItems = (storage: TestStorage, topicId: string, partition = 0) =>
  queryAll(storage.doc, storage.config.logTable, segmentPk(topicId, partition));

export async function objectKeys(storage: TestStorage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await storage.s3.send(new ListObjectsV2Command({ Bucket: storage.config.segmentBucket, Prefix: prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

export { forward };

/** A record with every feature the format has: key or not, JSON or bytes, headers, explicit timestamps. */
export function sampleRecord(i: number, timestamp: number, size = 40): ProduceRecord {
  const binary = i % 3 === 0;
  return {
    key: i % 4 === 0 ? null : utf8.encode(`key-${i % 5}`),
    value: binary ? Uint8Array.from({ length: size }, (_, j) => (i * 31 + j) % 256) : utf8.encode(JSON.stringify({ i, pad: 'x'.repeat(size) })),
    valueIsJson: !binary,
    headers: i % 2 ? { trace: `t-${i}`, 'content-type': 'x/y' } : {},
    timestamp,
  };
}

/** A comparable, byte-exact form of records. */
export function fingerprint(records: readonly StoredRecord[]): string[] {
  return records.map(
    (r) =>
      `${r.offset}|${r.timestamp}|${r.key === null ? '-' : Buffer.from(r.key).toString('hex')}|${r.valueIsJson}|` +
      `${Buffer.from(r.value).toString('hex')}|${JSON.stringify(Object.entries(r.headers))}`,
  );
}

/** Every record of the partition, read forward in small pages (so reads start mid-batch and mid-segment). */
export async function readAll(engine: Shardlog, topic: string, partition = 0, pageLimit = 7): Promise<string[]> {
  const out: StoredRecord[] = [];
  let offset = (await readFrom(engine, topic, partition, forward({ kind: 'earliest' }, { limit: 1 }))).startOffset;
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await readFrom(engine, topic, partition, forward({ kind: 'offset', offset }, { limit: pageLimit }));
    if (page.records.length === 0) {
      expect(offset).toBe(page.endOffset);
      break;
    }
    out.push(...page.records);
    offset = page.nextOffset;
  }
  return fingerprint(out);
}
