import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { IdempotencyKeyReusedError, OffsetMismatchError, ThrottledError } from '../../../lib/errors.js';
import { decodeBatch, type LogRecord } from '../../../lib/log/batch-format.js';
import { DynamoLogStore, MAX_APPEND_ATTEMPTS } from '../../../lib/log/dynamo-log-store.js';
import { offsetSk } from '../../../lib/log/keys.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);

const record = (n: number): LogRecord => ({ key: null, value: new Uint8Array([n]), valueIsJson: false, headers: {}, timestamp: 1000 + n });
const store = () => new DynamoLogStore({ doc, tableName: 'log', now: () => 5_000, random: () => 0, sleep: async () => {} });

/** The condition failure DynamoDB returns with ReturnValuesOnConditionCheckFailure=ALL_OLD. */
function lostRace(winner: { sk: string; n: number; mt: number }) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: marshall({ pk: 'p#t#0', ...winner }),
  });
}

beforeEach(() => ddb.reset());

describe('DynamoLogStore.append', () => {
  it('writes a batch at the end offset read from the newest item, with a single conditional put', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ sk: offsetSk(10), n: 5, mt: 1500 }] });
    ddb.on(PutCommand).resolves({});
    const result = await store().append('t', [{ partition: 0, records: [record(1), record(2)] }]);
    expect(result).toMatchObject({ kind: 'appended', baseOffsets: new Map([[0, 15]]) });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put.Item).toMatchObject({ pk: 'p#t#0', sk: offsetSk(15), n: 2, mt: 1500 });
    expect(decodeBatch(put.Item!.v as Uint8Array).map((r) => r.offset)).toEqual([15, 16]);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('moves past the winner of a lost race using the item returned with the failure, without re-reading', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejectsOnce(lostRace({ sk: offsetSk(0), n: 3, mt: 2000 })).resolves({});
    const result = await store().append('t', [{ partition: 0, records: [record(1)] }]);
    expect(result).toMatchObject({ baseOffsets: new Map([[0, 3]]) });
    const puts = ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!);
    expect(puts.map((i) => i.sk)).toEqual([offsetSk(0), offsetSk(3)]);
    // The running max timestamp carries over from the winner's batch.
    expect(puts[1]!.mt).toBe(2000);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });

  it('answers OFFSET_MISMATCH instead of retrying when expectedOffsets no longer holds', async () => {
    ddb.on(QueryCommand).resolvesOnce({ Items: [] }).resolves({ Items: [{ sk: offsetSk(0), n: 1, mt: 1 }] });
    ddb.on(PutCommand).rejects(lostRace({ sk: offsetSk(0), n: 1, mt: 1 }));
    const attempt = store().append('t', [{ partition: 0, records: [record(1)] }], { expectedOffsets: new Map([[0, 0]]) });
    await expect(attempt).rejects.toBeInstanceOf(OffsetMismatchError);
    await expect(attempt).rejects.toMatchObject({ details: { endOffset: 1 } });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
  });

  it('gives up with a retriable THROTTLED after too many lost races', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejects(lostRace({ sk: offsetSk(0), n: 1, mt: 1 }));
    const attempt = store().append('t', [{ partition: 0, records: [record(1)] }]);
    await expect(attempt).rejects.toBeInstanceOf(ThrottledError);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(MAX_APPEND_ATTEMPTS);
  });

  it('returns the remembered response when the idempotency record already exists', async () => {
    const { gzipSync } = await import('node:zlib');
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
    );
    ddb.on(GetCommand).resolves({ Item: { r: gzipSync(JSON.stringify({ records: [{ offset: 7 }] })), expiresAt: 10_000 } });
    const result = await store().append('t', [{ partition: 0, records: [record(1)] }], {
      idempotency: { key: 'k', response: () => ({ records: [] }) },
    });
    expect(result).toEqual({ kind: 'replayed', response: { records: [{ offset: 7 }] } });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('keeps the request digest with the idempotency record', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(TransactWriteCommand).resolves({});
    await store().append('t', [{ partition: 0, records: [record(1)] }], {
      idempotency: { key: 'k', response: () => ({ records: [] }), digest: 'digest-a' },
    });
    const items = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items.at(-1)!.Put!.Item).toMatchObject({ sk: '-', d: 'digest-a' });
  });

  it('refuses a reused Idempotency-Key whose request digest differs instead of replaying the first response', async () => {
    const { gzipSync } = await import('node:zlib');
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
      }),
    );
    const remembered = { r: gzipSync(JSON.stringify({ records: [{ offset: 7 }] })), expiresAt: 10_000, d: 'digest-a' };
    ddb.on(GetCommand).resolves({ Item: remembered });
    const append = (digest: string) =>
      store().append('t', [{ partition: 0, records: [record(1)] }], { idempotency: { key: 'k', response: () => ({}), digest } });
    await expect(append('digest-b')).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(append('digest-a')).resolves.toEqual({ kind: 'replayed', response: { records: [{ offset: 7 }] } });
  });

  it('refuses a reused key with another digest also when expectedOffsets no longer holds', async () => {
    const { gzipSync } = await import('node:zlib');
    ddb.on(QueryCommand).resolves({ Items: [{ sk: offsetSk(0), n: 1, mt: 1 }] });
    ddb.on(GetCommand).resolves({ Item: { r: gzipSync('{}'), expiresAt: 10_000, d: 'digest-a' } });
    const attempt = store().append('t', [{ partition: 0, records: [record(1)] }], {
      expectedOffsets: new Map([[0, 0]]),
      idempotency: { key: 'k', response: () => ({}), digest: 'digest-b' },
    });
    await expect(attempt).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });
});
