import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ThrottledError, UnavailableError } from '../../../lib/errors.js';
import { createShardlog } from '../../../lib/shardlog.js';
import { STORAGE_ERRORS_MIDDLEWARE, translateStorageErrors } from '../../../lib/storage/aws-errors.js';
import { RecordingMetricsSink } from '../../support/telemetry.js';

const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

/**
 * A client whose every command fails with `failure` just before it would be sent (a middleware at the bottom
 * of the stack), so the error travels up through the SDK's own layers and ours without any network.
 */
function failingClients(failure: () => unknown) {
  const dynamo = new DynamoDBClient({ region: 'us-east-1', credentials, maxAttempts: 1 });
  const s3 = new S3Client({ region: 'us-east-1', credentials, maxAttempts: 1 });
  const fail = () => async (): Promise<never> => {
    throw failure();
  };
  dynamo.middlewareStack.add(fail, { step: 'deserialize', priority: 'low', name: 'failForTest' });
  s3.middlewareStack.add(fail, { step: 'deserialize', priority: 'low', name: 'failForTest' });
  return { dynamo, doc: DynamoDBDocumentClient.from(dynamo), s3 };
}

const sdkError = (name: string, fields: Record<string, unknown>) => Object.assign(new Error(name), { name, $metadata: {}, ...fields });

describe('translateStorageErrors', () => {
  it('turns SDK throttling into ThrottledError for DynamoDB, the document client and S3, keeping the cause', async () => {
    const throttled = () => sdkError('ProvisionedThroughputExceededException', { $fault: 'client', $retryable: { throttling: true } });
    const { dynamo, doc, s3 } = failingClients(throttled);
    translateStorageErrors(doc);
    translateStorageErrors(s3);
    for (const call of [
      () => dynamo.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } })),
      () => doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } })),
      () => s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ThrottledError);
      expect((error as ThrottledError).retriable).toBe(true);
      expect((error as ThrottledError).cause).toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    }
  });

  it('turns server faults, timeouts and network errors into UnavailableError', async () => {
    for (const failure of [
      () => sdkError('InternalServerError', { $fault: 'server' }),
      () => sdkError('TimeoutError', {}),
      () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    ]) {
      const { doc } = failingClients(failure);
      translateStorageErrors(doc);
      await expect(doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }))).rejects.toBeInstanceOf(UnavailableError);
    }
  });

  it('leaves condition failures alone: the stores read them as a lost race', async () => {
    const conditional = new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    const cancelled = new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] });
    for (const failure of [conditional, cancelled]) {
      const { doc } = failingClients(() => failure);
      translateStorageErrors(doc);
      await expect(doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }))).rejects.toBe(failure);
    }
  });

  it('adds its middleware once, however often it is called', () => {
    const { dynamo, doc } = failingClients(() => new Error('unused'));
    translateStorageErrors(doc);
    translateStorageErrors(dynamo);
    translateStorageErrors(doc);
    expect(dynamo.middlewareStack.identify().filter((m) => m.startsWith(STORAGE_ERRORS_MIDDLEWARE))).toHaveLength(1);
  });

  it('reports each throttled request with the table it named, and nothing for other failures', async () => {
    const throttled = () => sdkError('ThrottlingException', { $fault: 'client', $retryable: { throttling: true } });
    const { doc, s3 } = failingClients(throttled);
    const tables: Array<string | undefined> = [];
    translateStorageErrors(doc, { onThrottled: (table) => tables.push(table) });
    translateStorageErrors(s3, { onThrottled: (table) => tables.push(table) });
    await doc.send(new GetCommand({ TableName: 'log-t', Key: { pk: 'a' } })).catch(() => undefined);
    await doc
      .send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: 'lease-t', Item: { pk: 'a' } } }] }))
      .catch(() => undefined);
    await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' })).catch(() => undefined);
    expect(tables).toEqual(['log-t', 'lease-t', undefined]);

    const down = failingClients(() => sdkError('InternalServerError', { $fault: 'server' }));
    const none: unknown[] = [];
    translateStorageErrors(down.doc, { onThrottled: (table) => none.push(table) });
    await down.doc.send(new GetCommand({ TableName: 'log-t', Key: { pk: 'a' } })).catch(() => undefined);
    expect(none).toEqual([]);
  });

  it('counts DynamoDB throttles by table role in the engine (DynamoDbThrottles), S3 throttling not', async () => {
    const throttled = () => sdkError('ProvisionedThroughputExceededException', { $fault: 'client', $retryable: { throttling: true } });
    const clients = failingClients(throttled);
    const metrics = new RecordingMetricsSink();
    const config = { logTable: 'the-log', leaseTable: 'the-leases', segmentBucket: 'b' } as Parameters<typeof createShardlog>[1];
    createShardlog({ doc: clients.doc, s3: clients.s3 }, config, { metrics });
    for (const table of ['the-log', 'the-log', 'the-leases']) {
      await expect(clients.doc.send(new GetCommand({ TableName: table, Key: { pk: 'a' } }))).rejects.toBeInstanceOf(ThrottledError);
    }
    await expect(clients.s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))).rejects.toBeInstanceOf(ThrottledError);
    expect([metrics.sum('DynamoDbThrottles', { Table: 'log' }), metrics.sum('DynamoDbThrottles', { Table: 'lease' })]).toEqual([2, 1]);
    expect(metrics.of('DynamoDbThrottles')).toHaveLength(3);
  });
});
