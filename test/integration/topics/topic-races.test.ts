import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestError, TopicNotFoundError } from '../../../lib/errors.js';
import { DynamoTopicStore } from '../../../lib/topics/dynamo-topic-store.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';

/** Topic administration racing itself, against DynamoDB Local. */
let storage: TestStorage;

beforeAll(async () => {
  storage = await createTestStorage();
});

afterAll(() => storage?.cleanup());

const storeOn = (doc: DynamoDBDocumentClient) => new DynamoTopicStore({ doc, tableName: storage.config.logTable });

/**
 * A document client that runs `meanwhile` once, just before the first transaction it is asked to send: a
 * deterministic stand-in for another request landing between this store's read and its write.
 */
function interleaved(meanwhile: () => Promise<unknown>): DynamoDBDocumentClient {
  let pending: (() => Promise<unknown>) | undefined = meanwhile;
  return {
    send: async (command: unknown) => {
      if (pending && command instanceof TransactWriteCommand) {
        const run = pending;
        pending = undefined;
        await run();
      }
      return storage.doc.send(command as TransactWriteCommand);
    },
  } as unknown as DynamoDBDocumentClient;
}

describe('topic updates that lose a race', () => {
  it('re-applies a retention change that lost its race to a concurrent grow, instead of refusing it', async () => {
    const name = `race-${Date.now()}-a`;
    const other = storeOn(storage.doc);
    await other.create({ name, partitions: 2, retentionHours: 168 });
    const store = storeOn(interleaved(() => other.update(name, { partitions: 5 })));

    const updated = await store.update(name, { retentionHours: 24 });

    expect(updated).toMatchObject({ partitions: 5, retentionHours: 24 });
    expect(await other.get(name)).toMatchObject({ partitions: 5, retentionHours: 24 });
    expect(await other.list()).toContainEqual({ name, partitions: 5 });
  });

  it('judges a grow that lost its race against the winner: asking for fewer partitions than it set is a 400', async () => {
    const name = `race-${Date.now()}-b`;
    const other = storeOn(storage.doc);
    await other.create({ name, partitions: 2, retentionHours: 168 });
    const store = storeOn(interleaved(() => other.update(name, { partitions: 8 })));

    await expect(store.update(name, { partitions: 4 })).rejects.toThrow(InvalidRequestError);
    expect(await other.get(name)).toMatchObject({ partitions: 8 });
  });

  it('answers 404 when the topic was deleted and re-created between the read and the write', async () => {
    const name = `race-${Date.now()}-c`;
    const other = storeOn(storage.doc);
    await other.create({ name, partitions: 2, retentionHours: 168 });
    const store = storeOn(
      interleaved(async () => {
        await other.delete(name);
        await other.create({ name, partitions: 1, retentionHours: 1 });
      }),
    );

    await expect(store.update(name, { retentionHours: 24 })).rejects.toThrow(TopicNotFoundError);
    expect(await other.get(name)).toMatchObject({ partitions: 1, retentionHours: 1 });
  });
});
