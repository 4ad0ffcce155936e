import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { IdempotencyKeyReusedError, OffsetMismatchError, ThrottledError, UnavailableError } from '../../../lib/errors.js';
import { decodeBatch, type LogRecord } from '../../../lib/log/batch-format.js';
import { DEFAULT_APPEND_BACKOFF } from '../../../lib/log/append-retry.js';
import { DynamoLogStore } from '../../../lib/log/dynamo-log-store.js';
import { offsetSk } from '../../../lib/storage/log-table.js';
import { RecordingMetricsSink } from '../../support/telemetry.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(doc);

const record = (n: number): LogRecord => ({ key: null, value: new Uint8Array([n]), valueIsJson: false, headers: {}, timestamp: 1000 + n });
const store = () => new DynamoLogStore({ doc, tableName: 'log', now: () => 5_000, random: () => 0, sleep: async () => {} });

/** A store on a fake clock that only moves when the store sleeps; `sleeps` lists every sleep. */
function clocked(random = 0.5) {
  const clock = { nowMs: 1_000_000, sleeps: [] as number[] };
  const log = new DynamoLogStore({
    doc,
    tableName: 'log',
    now: () => clock.nowMs,
    random: () => random,
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      clock.nowMs += ms;
    },
  });
  return { log, clock };
}

/** A cancelled transaction, with one reason per item (the winner's item where a batch lost its race). */
function cancelled(...reasons: Array<{ Code: string; Item?: Record<string, unknown> }>) {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: reasons.map((r) => ({ Code: r.Code, ...(r.Item ? { Item: marshall(r.Item) } : {}) })),
  });
}

const conflict = () => new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: {} });

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

  it('takes a put whose SDK retry failed its condition on our own first try as written, and appends nothing twice', async () => {
    // The first try was written but its response was lost; the SDK's retry then meets the item it wrote itself.
    ddb.on(QueryCommand).resolves({ Items: [{ sk: offsetSk(10), n: 5, mt: 1500 }] });
    ddb
      .on(PutCommand)
      .callsFakeOnce(async (input: { Item: Record<string, unknown> }) => {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall(input.Item) });
      })
      .resolves({});
    const result = await store().append('t', [{ partition: 0, records: [record(1), record(2)] }]);
    expect(result).toMatchObject({ kind: 'appended', baseOffsets: new Map([[0, 15]]) });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
  });

  it('still walks past a winner whose item carries another append\'s writer id', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(PutCommand)
      .callsFakeOnce(async (input: { Item: Record<string, unknown> }) => {
        const winner = { ...input.Item, n: 3, w: 'someone-else' };
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall(winner) });
      })
      .resolves({});
    const result = await store().append('t', [{ partition: 0, records: [record(1)] }]);
    expect(result).toMatchObject({ baseOffsets: new Map([[0, 3]]) });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('counts each lost race and each retry (AppendRacesLost, AppendRetries), and not a retry that met its own write', async () => {
    const metrics = new RecordingMetricsSink();
    const log = new DynamoLogStore({ doc, tableName: 'log', now: () => 5_000, random: () => 0, sleep: async () => {}, metrics });
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejectsOnce(lostRace({ sk: offsetSk(0), n: 3, mt: 2000 })).rejectsOnce(lostRace({ sk: offsetSk(3), n: 1, mt: 2000 })).resolves({});
    await log.append('t', [{ partition: 0, records: [record(1)] }]);
    expect([metrics.sum('AppendRacesLost'), metrics.sum('AppendRetries')]).toEqual([2, 2]);

    metrics.clear();
    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(PutCommand)
      .callsFakeOnce(async (input: { Item: Record<string, unknown> }) => {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall(input.Item) });
      })
      .resolves({});
    await log.append('t2', [{ partition: 0, records: [record(1)] }]);
    expect(metrics.points).toEqual([]);
  });

  it('counts the lost races of an append that gave up, and one retry fewer', async () => {
    const metrics = new RecordingMetricsSink();
    const clock = { nowMs: 0 };
    const log = new DynamoLogStore({
      doc,
      tableName: 'log',
      now: () => clock.nowMs,
      random: () => 0.9,
      sleep: async (ms) => {
        clock.nowMs += ms;
      },
      metrics,
    });
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejects(lostRace({ sk: offsetSk(0), n: 1, mt: 1 }));
    await expect(log.append('t', [{ partition: 0, records: [record(1)] }])).rejects.toBeInstanceOf(UnavailableError);
    const lost = metrics.sum('AppendRacesLost');
    expect(lost).toBe(ddb.commandCalls(PutCommand).length);
    expect(metrics.sum('AppendRetries')).toBe(lost - 1);
  });

  it('answers OFFSET_MISMATCH instead of retrying when expectedOffsets no longer holds', async () => {
    ddb.on(QueryCommand).resolvesOnce({ Items: [] }).resolves({ Items: [{ sk: offsetSk(0), n: 1, mt: 1 }] });
    ddb.on(PutCommand).rejects(lostRace({ sk: offsetSk(0), n: 1, mt: 1 }));
    const attempt = store().append('t', [{ partition: 0, records: [record(1)] }], { expectedOffsets: new Map([[0, 0]]) });
    await expect(attempt).rejects.toBeInstanceOf(OffsetMismatchError);
    await expect(attempt).rejects.toMatchObject({ details: { endOffset: 1 } });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
  });

  it('keeps retrying lost races past any attempt count until it wins, within its time budget', async () => {
    const { log } = clocked(0);
    ddb.on(QueryCommand).resolves({ Items: [] });
    const put = ddb.on(PutCommand);
    for (let i = 0; i < 100; i++) put.rejectsOnce(lostRace({ sk: offsetSk(0), n: 1, mt: 1 }));
    put.resolves({});
    const result = await log.append('t', [{ partition: 0, records: [record(1)] }]);
    expect(result.kind).toBe('appended');
    expect(ddb.commandCalls(PutCommand)).toHaveLength(101);
  });

  it('gives up with a retriable UNAVAILABLE, having appended nothing, once its time budget is spent', async () => {
    const { log, clock } = clocked(0.9);
    const startedAt = clock.nowMs;
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejects(lostRace({ sk: offsetSk(0), n: 1, mt: 1 }));
    const attempt = log.append('t', [{ partition: 0, records: [record(1)] }]);
    await expect(attempt).rejects.toBeInstanceOf(UnavailableError);
    await expect(attempt).rejects.toMatchObject({ retriable: true });
    // It slept until the budget was spent, and not beyond it.
    expect(clock.nowMs - startedAt).toBe(DEFAULT_APPEND_BACKOFF.budgetMs);
  });

  it('after backing off, reads the true end offset once instead of walking item by item', async () => {
    const { log, clock } = clocked(0.5);
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [] })
      .resolves({ Items: [{ sk: offsetSk(20), n: 4, mt: 3000 }] });
    ddb
      .on(PutCommand)
      .rejectsOnce(lostRace({ sk: offsetSk(0), n: 3, mt: 2000 }))
      .rejectsOnce(lostRace({ sk: offsetSk(3), n: 2, mt: 2500 }))
      .resolves({});
    const result = await log.append('t', [{ partition: 0, records: [record(1)] }]);
    expect(result).toMatchObject({ baseOffsets: new Map([[0, 24]]) });
    expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!.sk)).toEqual([offsetSk(0), offsetSk(3), offsetSk(24)]);
    // The first loss walks past the winner at once; the second opens the window: a sleep, then one read.
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThan(0);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it('backs off and retries a put that DynamoDB refused because a transaction on the item was in flight', async () => {
    const { log, clock } = clocked(0.5);
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).rejectsOnce(conflict()).resolves({});
    const result = await log.append('t', [{ partition: 0, records: [record(1)] }]);
    expect(result).toMatchObject({ kind: 'appended', baseOffsets: new Map([[0, 0]]) });
    expect(clock.sleeps.filter((ms) => ms > 0)).toHaveLength(1);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(2);
  });

  it('queues a process\'s concurrent appends to one partition instead of racing them against each other', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutCommand).resolves({});
    const log = store();
    const [a, b] = await Promise.all([
      log.append('t', [{ partition: 0, records: [record(1), record(2)] }]),
      log.append('t', [{ partition: 0, records: [record(3)] }]),
    ]);
    expect([a, b]).toMatchObject([{ baseOffsets: new Map([[0, 0]]) }, { baseOffsets: new Map([[0, 2]]) }]);
    // The second went after the first, from the end the first left: no lost race, no second read.
    expect(ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item!.sk)).toEqual([offsetSk(0), offsetSk(2)]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });

  it('makes a new append to a partition where races were lost lately wait a random part of the window first', async () => {
    const { log, clock } = clocked(0.5);
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(PutCommand)
      .rejectsOnce(lostRace({ sk: offsetSk(0), n: 1, mt: 1 }))
      .rejectsOnce(lostRace({ sk: offsetSk(1), n: 1, mt: 1 }))
      .resolves({});
    await log.append('t', [{ partition: 0, records: [record(1)] }]);
    const before = clock.sleeps.length;
    await log.append('t', [{ partition: 0, records: [record(2)] }]);
    expect(clock.sleeps.length).toBe(before + 1);
    expect(clock.sleeps.at(-1)).toBeGreaterThan(0);
  });

  it('continues a cancelled transaction after the winners\' items in its cancellation reasons, without reading', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled({ Code: 'ConditionalCheckFailed', Item: { pk: 'p#t#0', sk: offsetSk(0), n: 4, mt: 10 } }, { Code: 'None' }))
      .resolves({});
    const result = await store().append('t', [
      { partition: 0, records: [record(1)] },
      { partition: 1, records: [record(2)] },
    ]);
    expect(result).toMatchObject({ kind: 'appended', baseOffsets: new Map([[0, 4], [1, 0]]) });
    const second = ddb.commandCalls(TransactWriteCommand)[1]!.args[0].input.TransactItems!;
    expect(second.map((i) => i.Put!.Item!.sk)).toEqual([offsetSk(4), offsetSk(0)]);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it('backs off, then reads every tail, before retrying a transaction cancelled by a conflicting one', async () => {
    const { log, clock } = clocked(0.5);
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [] })
      .resolvesOnce({ Items: [] })
      .resolves({ Items: [{ sk: offsetSk(0), n: 2, mt: 10 }] });
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled({ Code: 'TransactionConflict' }, { Code: 'None' })).resolves({});
    const result = await log.append('t', [
      { partition: 0, records: [record(1)] },
      { partition: 1, records: [record(2)] },
    ]);
    expect(result).toMatchObject({ baseOffsets: new Map([[0, 2], [1, 2]]) });
    expect(clock.sleeps.filter((ms) => ms > 0)).toHaveLength(1);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(4);
  });

  it('answers THROTTLED at once, without retrying, when DynamoDB cancels a transaction for throttling', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(TransactWriteCommand).rejects(cancelled({ Code: 'ThrottlingError' }, { Code: 'None' }));
    const attempt = store().append('t', [
      { partition: 0, records: [record(1)] },
      { partition: 1, records: [record(2)] },
    ]);
    await expect(attempt).rejects.toBeInstanceOf(ThrottledError);
    await expect(attempt).rejects.toMatchObject({ details: { retryAfterSeconds: 1 } });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
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
