import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConcurrentUpdateError, TopicExistsError } from '../../../lib/errors.js';
import { DynamoTopicStore, MAX_TOPIC_UPDATE_ATTEMPTS } from '../../../lib/topics/dynamo-topic-store.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);
const store = () => new DynamoTopicStore({ doc, tableName: 'log', now: () => 1_000 });

/** DynamoDB cancels a transaction with TransactionConflict when another one is changing the same item. */
const conflict = () =>
  new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] });
const conditionFailed = () =>
  new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] });
const topicItem = { pk: 'topic#t', sk: 'meta', name: 't', topicId: 'id1', partitions: 2, retentionHours: 168, createdAt: 1 };

beforeEach(() => ddb.reset());

describe('DynamoTopicStore under concurrent transactions', () => {
  it('creates a topic after a transaction conflict instead of failing with a 500', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(conflict()).resolves({});
    await expect(store().create({ name: 't', partitions: 1, retentionHours: 1 })).resolves.toMatchObject({ name: 't' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('answers TOPIC_EXISTS when the retry after a conflict finds the topic created', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(conflict()).rejects(conditionFailed());
    await expect(store().create({ name: 't', partitions: 1, retentionHours: 1 })).rejects.toThrow(TopicExistsError);
  });

  it('re-applies an update that a transaction conflict cancelled', async () => {
    ddb.on(GetCommand).resolves({ Item: topicItem });
    ddb.on(TransactWriteCommand).rejectsOnce(conflict()).resolves({});
    await expect(store().update('t', { retentionHours: 24 })).resolves.toMatchObject({ partitions: 2, retentionHours: 24 });
  });

  it('gives up with a retriable 409 CONCURRENT_UPDATE after losing every attempt', async () => {
    ddb.on(GetCommand).resolves({ Item: topicItem });
    ddb.on(TransactWriteCommand).rejects(conditionFailed());
    const error = await store().update('t', { retentionHours: 24 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentUpdateError);
    expect((error as ConcurrentUpdateError).retriable).toBe(true);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(MAX_TOPIC_UPDATE_ATTEMPTS);
  });
});
