import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoShareStore } from '../../../lib/share-groups/dynamo-share-store.js';
import type { SharePartitionRecord } from '../../../lib/share-groups/share-store.js';
import { decodeRuns, encodePartition, encodeRuns } from '../../../lib/share-groups/share-table.js';
import { emptyWindow, type StateRun } from '../../../lib/share-groups/share-window.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);
const store = new DynamoShareStore({ doc, tableName: 'leases' });

const partition: SharePartitionRecord = {
  topic: 'orders',
  partition: 0,
  topicId: 't1',
  subscriptionId: 's1',
  incarnation: 'i1',
  version: 7,
  window: emptyWindow(10),
  deadLetters: {},
  writers: ['w-old'],
};

const conditionFailed = (item: Record<string, unknown>) =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall(item, { removeUndefinedValues: true }) });

beforeEach(() => ddb.reset());

describe('DynamoShareStore.writePartition', () => {
  it('writes the next version conditional on the version read, naming the condition attribute it defines', async () => {
    ddb.on(PutCommand).resolves({});
    expect(await store.writePartition('g', partition, 7, 'w-new')).toBe('ok');
    const input = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input.Item).toMatchObject({ v: 8, ws: ['w-old', 'w-new'] });
    // Every #name in the condition is defined (the first version of this write used #v and defined #version).
    for (const name of input.ConditionExpression!.match(/#\w+/g) ?? []) expect(input.ExpressionAttributeNames).toHaveProperty(name);
    expect(input.ExpressionAttributeValues).toEqual({ ':expected': 7 });
  });

  it('reads a failed condition as a lost race, unless the item holds its own writer id (an SDK retry of a write that won)', async () => {
    ddb.on(PutCommand).rejects(conditionFailed(encodePartition('g', partition, 8, 'w-other')));
    expect(await store.writePartition('g', partition, 7, 'w-mine')).toBe('lost');
    ddb.reset();
    ddb.on(PutCommand).rejects(conditionFailed(encodePartition('g', partition, 8, 'w-mine')));
    expect(await store.writePartition('g', partition, 7, 'w-mine')).toBe('ok');
  });
});

describe('the window codec', () => {
  it('decodes what it encodes, and keeps the largest window far below the 400 KB item limit', () => {
    const runs: StateRun[] = Array.from({ length: 2000 }, (_, i) => ({
      count: 1,
      state: { kind: 'acquired', deliveries: 1 + (i % 5), receipt: `R${i.toString(36).padStart(15, 'x')}`, deadline: 1_800_000_000_000 + i, lockMs: 43_200_000 },
    }));
    const text = encodeRuns(runs);
    expect(decodeRuns(text)).toEqual(runs);
    expect(Buffer.byteLength(text)).toBeLessThan(100_000);
  });

  it('refuses text that is not of its grammar instead of reading it as an empty window', () => {
    for (const bad of ['1q', 'xa1', '1a1,r', '1z1,2,k', '1a1,bad receipt,1,1']) expect(() => decodeRuns(bad)).toThrow();
  });
});

describe('DynamoShareStore.putSubscription', () => {
  it('returns the subscription that won a race, decoded from the failed condition', async () => {
    const winner = { topic: 'orders', topicId: 't1', subscriptionId: 'first', from: 'earliest' as const, startOffsets: [], createdAt: 1 };
    ddb.on(PutCommand).rejects(conditionFailed({ pk: 'share#g', sk: 'sub#orders', ...winner }));
    expect(await store.putSubscription('g', { ...winner, subscriptionId: 'second', from: 'latest', startOffsets: [4] })).toEqual(winner);
  });
});
