import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { MiddlewareStack } from '@smithy/types';
import { FAKE_CREDENTIALS, LOCAL_REGION } from './local-env.js';

/*
 * DynamoDB Local answers a write before SQLite has committed it: the job that runs the write sends the
 * response, then commits. A SIGKILL of java (a power cut) in that window rolls the write back at the next start
 * (SQLite's hot journal), so a produce the stack had acknowledged would be gone. Measured with
 * `shared-local-instance.db`: a TransactWriteItems followed at once by `kill -9` of java was lost 7 times in 7
 * (and left a `-journal`); with a GetItem, a ListTables or another write answered in between, 0 times in 6.
 * Under load the window is long enough for test/integration/local-stack-recovery.test.ts's power cut to hit it.
 *
 * DynamoDB Local runs its SQLite work on one queue (sqlite4java), so the answer to a later request (here
 * ListTables, which reads the table catalogue from the same database) comes after the earlier write's commit.
 * test/integration/storage/dynamodb-local-commit.test.ts checks the outcome, not that ordering. The local
 * stack's engine client therefore waits for that answer after every write before it returns: what it
 * acknowledges is on disk. AWS is not affected (a DynamoDB write is durable when answered); the deployed
 * engine never gets this middleware.
 */

/** The commands that write to DynamoDB (base client names; the document client runs these underneath). */
const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'ExecuteStatementCommand',
  'BatchExecuteStatementCommand',
  'ExecuteTransactionCommand',
]);

/** The name of the middleware {@link awaitDynamoDbLocalCommits} adds. */
export const COMMIT_BARRIER_MIDDLEWARE = 'shardlogDynamoDbLocalCommitBarrier';

/**
 * Makes every write sent through `client` (a DynamoDB or document client of DynamoDB Local at `endpoint`)
 * return only once DynamoDB Local has committed it: after the write's answer, one ListTables is sent and awaited
 * (a write that failed is not followed by one). Returns what stops the barrier's own client.
 */
export function awaitDynamoDbLocalCommits(client: { readonly middlewareStack: MiddlewareStack<any, any> }, endpoint: string): () => void {
  const barrier = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (WRITE_COMMANDS.has(context.commandName ?? '')) await barrier.send(new ListTablesCommand({ Limit: 1 }));
      return result;
    },
    { step: 'initialize', priority: 'low', name: COMMIT_BARRIER_MIDDLEWARE },
  );
  return () => barrier.destroy();
}
