import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitDynamoDbLocalCommits } from '../../../infra/local/commit-barrier.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../../infra/local/dynamodb-local.js';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/local-env.js';

/*
 * DynamoDB Local answers a write before SQLite commits it; a power cut (SIGKILL of java) right after the answer
 * rolled the write back at the next start. The local stack's engine client waits for the commit
 * (infra/local/commit-barrier.ts), so what it acknowledged survives the cut.
 */
let dir: string;
/** The DynamoDB Local running now (stopped after the test, also when it fails). */
let ddb: DynamoDbLocal | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shardlog-ddb-commit-'));
});
afterAll(async () => {
  await ddb?.stop();
  await rm(dir, { recursive: true, force: true });
});

function clientOf(ddb: DynamoDbLocal): { doc: DynamoDBDocumentClient; destroy(): void } {
  const base = new DynamoDBClient({ endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(base);
  const stopBarrier = awaitDynamoDbLocalCommits(doc, ddb.endpoint);
  return {
    doc,
    destroy() {
      base.destroy();
      stopBarrier();
    },
  };
}

describe('the local stack DynamoDB client', () => {
  it('acknowledges a write only once DynamoDB Local has committed it, so a power cut right after keeps it', async () => {
    ddb = await startDynamoDbLocal({ dataDir: dir });
    let client = clientOf(ddb);
    await client.doc.send(
      new CreateTableCommand({
        TableName: 'commits',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const written: string[] = [];
    try {
      for (const round of [0, 1, 2]) {
        // Both shapes the engine writes with: a transaction (an append) and a single put.
        await client.doc.send(new PutCommand({ TableName: 'commits', Item: { pk: `put-${round}` } }));
        await client.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: 'commits', Item: { pk: `tx-${round}` } } },
              { Put: { TableName: 'commits', Item: { pk: `tx-meta-${round}` } } },
            ],
          }),
        );
        written.push(`put-${round}`, `tx-${round}`, `tx-meta-${round}`);
        process.kill(-ddb.pid, 'SIGKILL'); // the power cut, at once after the acknowledgement
        client.destroy();
        await ddb.stop(); // only waits for the killed process to be gone
        ddb = undefined;
        ddb = await startDynamoDbLocal({ dataDir: dir });
        client = clientOf(ddb);
        for (const pk of written) {
          const { Item } = await client.doc.send(new GetCommand({ TableName: 'commits', Key: { pk } }));
          expect(Item, pk).toEqual({ pk });
        }
      }
    } finally {
      client.destroy();
    }
  }, 120_000);
});
