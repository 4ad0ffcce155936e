import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { CapacityMeter, itemBytes, transactWriteUnits } from '../../../lib/storage/capacity-meter.js';

type Middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName: string }) => (args: { input: Record<string, unknown> }) => Promise<unknown>;

/** A client whose only middleware is the meter's, answering every command with `consumed`. */
function meteredClient(consumed: unknown) {
  let meter: Middleware | undefined;
  const client = { middlewareStack: { add: (mw: Middleware) => (meter = mw) } };
  const capacity = new CapacityMeter().attach(client as never);
  const send = (commandName: string, input: Record<string, unknown>) =>
    meter!(async () => ({ output: { ConsumedCapacity: consumed } }), { commandName })({ input });
  return { capacity, send };
}

const kbItem = (i: number, kb: number) => ({ pk: `p${i}`, v: 'x'.repeat(kb * 1024 - 10) });

describe('CapacityMeter', () => {
  it('counts a transaction as DynamoDB bills it, 2 units per started KB of each item, when the emulator reports less', async () => {
    // DynamoDB Local reports 2 units for five 1 KB puts (it counts equal-sized items once).
    const { capacity, send } = meteredClient([{ TableName: 't', CapacityUnits: 2 }]);
    await send('TransactWriteItemsCommand', { TransactItems: [1, 2, 3, 4, 5].map((i) => ({ Put: { Item: kbItem(i, 1) } })) });

    expect(capacity.totals().writeUnits).toBe(10);
  });

  it('keeps the units reported for a single write', async () => {
    const { capacity, send } = meteredClient({ TableName: 't', CapacityUnits: 3 });
    await send('PutItemCommand', { Item: kbItem(1, 3) });

    expect(capacity.totals().writeUnits).toBe(3);
  });

  it('sizes an item the same whether it is marshalled or as the DocumentClient takes it', () => {
    const item = { pk: 'topic#0', sk: 42, payload: new Uint8Array(700), meta: { n: 5, tags: ['a', 'b'] }, ok: true };

    expect(itemBytes(marshall(item))).toBe(itemBytes(item));
    expect(transactWriteUnits([{ Put: { Item: kbItem(1, 2) } }, { Put: { Item: marshall(kbItem(2, 1)) } }, { ConditionCheck: {} }])).toBe(4 + 2 + 2);
  });

  it('counts an S3 command that was sent, and not a presigned URL of one (getSignedUrl runs it through the stack, sends nothing)', async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    const dynamo = { middlewareStack: { add: () => undefined } };
    const capacity = new CapacityMeter().attach(dynamo as never, s3);
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'b', Key: 'spill/x' }), { expiresIn: 60 });
    expect(url).toContain('X-Amz-Signature=');
    expect(capacity.totals().s3Requests).toBe(0);
    // Port 9 refuses the connection: the request was sent (and failed), so it counts.
    await expect(s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'spill/x' }))).rejects.toThrow();
    expect(capacity.totals().s3ByCommand).toEqual({ GetObjectCommand: 1 });
    s3.destroy();
  });
});
