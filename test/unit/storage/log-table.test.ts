import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoLogStore } from '../../../lib/log/dynamo-log-store.js';
import { DynamoPartitionMetaWriter } from '../../../lib/maintenance/dynamo-partition-meta-writer.js';
import {
  decodeBatchItem,
  decodeCatalogItem,
  decodeDeletedTopicItem,
  decodeIdempotencyItem,
  decodePartitionMeta,
  decodeSegmentItem,
  decodeTopicItem,
  encodeBatchItem,
  encodeCatalogItem,
  encodeDeletedTopicItem,
  encodeIdempotencyItem,
  encodeSegmentItem,
  encodeTopicItem,
  idempotencyPk,
  LOG_TABLE_ITEMS,
  META_ATTR,
  offsetSk,
  PARTITION_META_SK,
  partitionPk,
  segmentPk,
  topicPk,
} from '../../../lib/storage/log-table.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);
beforeEach(() => ddb.reset());

/** A meta item of a partition that was tiered to 5, then switched to hot retention, which recorded a floor at 9. */
const metaItem = {
  pk: 'p#t#0',
  sk: PARTITION_META_SK,
  [META_ATTR.startOffset]: 2,
  [META_ATTR.tieredOffset]: 5,
  [META_ATTR.tieredEndOffset]: 5,
  [META_ATTR.tieredMaxTimestamp]: 50,
  [META_ATTR.releasedOffset]: 4,
  [META_ATTR.hotFloorOffset]: 9,
  [META_ATTR.hotFloorMaxTimestamp]: 90,
};

describe('the partition meta item', () => {
  it('reads the same for the log store and for maintenance, the end floor being the larger of both floors', async () => {
    ddb.on(GetCommand).resolves({ Item: metaItem });
    const store = new DynamoLogStore({ doc, tableName: 'log', metaCacheMs: 0 });
    const writer = new DynamoPartitionMetaWriter({ doc, tableName: 'log' });
    const forReaders = await store.readMeta('p#t#0');
    const forMaintenance = await writer.read('p#t#0');
    expect(forReaders).toEqual(forMaintenance);
    expect(forReaders).toEqual({
      startOffset: 2,
      tieredOffset: 5,
      releasedOffset: 4,
      hotFloorOffset: 9,
      endFloor: { endOffset: 9, maxTimestamp: 90 },
    });
  });

  it('gives the end floor as the tail of a partition whose batches are all gone', async () => {
    ddb.on(QueryCommand).resolves({ Items: [metaItem] });
    const store = new DynamoLogStore({ doc, tableName: 'log' });
    expect(await store.readTail('p#t#0', true)).toEqual(decodePartitionMeta(metaItem).endFloor);
  });

  it('decodes a partition never maintained as all zeros, with no timestamp yet', () => {
    expect(decodePartitionMeta(undefined)).toEqual({
      startOffset: 0,
      tieredOffset: 0,
      releasedOffset: 0,
      hotFloorOffset: 0,
      endFloor: { endOffset: 0, maxTimestamp: -Infinity },
    });
  });

  it('counts a pass interrupted before its first release as released up to nothing past the tiered mark', () => {
    const { releasedOffset: _, ...withoutRelease } = metaItem;
    expect(decodePartitionMeta(withoutRelease).releasedOffset).toBe(5);
  });
});

describe('item codecs', () => {
  it('decode what they encode', () => {
    const topic = { name: 'orders', topicId: 'abc', partitions: 3, retentionHours: 24, createdAt: 7, maintainAfter: 9 };
    expect(decodeTopicItem(encodeTopicItem(topic))).toEqual(topic);
    const { maintainAfter: _, ...unscheduled } = topic;
    expect(decodeTopicItem(encodeTopicItem(unscheduled))).toEqual(unscheduled);
    expect(decodeCatalogItem(encodeCatalogItem({ name: 'orders', partitions: 3 }))).toEqual({ name: 'orders', partitions: 3 });
    const deleted = { name: 'orders', topicId: 'abc', partitions: 3, deletedAt: 11 };
    expect(decodeDeletedTopicItem(encodeDeletedTopicItem(deleted))).toEqual(deleted);
    const record = { response: { records: [{ partition: 0, offset: 1 }] }, digest: 'd1', expiresAt: 99 };
    expect(decodeIdempotencyItem(encodeIdempotencyItem('idem#abc#k', record, 5))).toEqual(record);
    const segment = {
      topicId: 'abc',
      partition: 1,
      baseOffset: 10,
      endOffset: 20,
      key: 'segments/abc/1/x.seg',
      size: 100,
      maxTimestamp: 5,
      lastAppendedAt: 6,
      spillKeys: ['spill/p/abc/1/y.batch'],
      index: new Uint8Array([1, 2]),
    };
    expect(decodeSegmentItem('abc', 1, encodeSegmentItem(segment, 1, 0))).toEqual(segment);
  });

  it('round-trips any batch item, inline or spilled, with or without a TTL', () => {
    const batch = fc.record(
      {
        baseOffset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        count: fc.integer({ min: 1, max: 10_000 }),
        maxTimestamp: fc.nat(),
        appendedAt: fc.nat(),
        bytes: fc.nat(),
        data: fc.uint8Array({ minLength: 1 }),
        spillKey: fc.string({ minLength: 1 }),
        expiresAt: fc.nat(),
      },
      { requiredKeys: ['baseOffset', 'count', 'maxTimestamp', 'appendedAt', 'bytes'] },
    );
    fc.assert(
      fc.property(batch, (b) => {
        const decoded = decodeBatchItem(encodeBatchItem({ pk: 'p#t#0', writer: 'w1', ...b }));
        const { data, ...rest } = b;
        // An item holds the bytes inline or points at them, never both.
        expect(decoded).toEqual(b.spillKey !== undefined ? rest : b);
      }),
    );
  });
});

describe('the layout', () => {
  it('spells every key as the layout table says', () => {
    const byItem = Object.fromEntries(LOG_TABLE_ITEMS.map((row) => [row.item, row]));
    const fill = (pattern: string, values: Record<string, string | number>) =>
      pattern.replace(/<(\w+)>/g, (_, name: string) => String(values[name]));
    expect(topicPk('orders')).toBe(fill(byItem.topic!.pk, { name: 'orders' }));
    expect(partitionPk('abc', 7)).toBe(fill(byItem['record batch']!.pk, { topicId: 'abc', partition: 7 }));
    expect(partitionPk('abc', 7)).toBe(fill(byItem['partition meta']!.pk, { topicId: 'abc', partition: 7 }));
    expect(segmentPk('abc', 7)).toBe(fill(byItem['segment index entry']!.pk, { topicId: 'abc', partition: 7 }));
    expect(idempotencyPk('abc', 'k-1')).toBe(fill(byItem['idempotency record']!.pk, { topicId: 'abc', key: 'k-1' }));
    // Offsets sort as strings in offset order, and the meta item before every batch.
    const sks = [0, 9, 10, 123_456_789_012, Number.MAX_SAFE_INTEGER].map(offsetSk);
    expect([...sks].sort()).toEqual(sks);
    expect([PARTITION_META_SK, ...sks].sort()[0]).toBe(PARTITION_META_SK);
  });
});

describe('docs/design.md', () => {
  it('lists the log table\'s items exactly as the schema module lays them out', () => {
    const doc = readFileSync(new URL('../../../docs/design.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Log table'), doc.indexOf('### Lease table'));
    const unquote = (cell: string) => cell.trim().replace(/^`|`$/g, '');
    const rows = section
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| item '))
      .map((line) => line.split('|').slice(1, -1))
      .map(([item, pk, sk, attributes]) => ({
        item: item!.trim(),
        pk: unquote(pk!),
        sk: unquote(sk!),
        attributes: attributes!.split(',').map(unquote),
      }));
    expect(rows).toEqual(LOG_TABLE_ITEMS.map((row) => ({ ...row, attributes: [...row.attributes] })));
  });
});
