import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, UnavailableError } from '../../../lib/errors.js';
import { chooseSpills, SpillStore } from '../../../lib/log/spill-store.js';

const s3 = new S3Client({ region: 'us-east-1' });
const s3Mock = mockClient(s3);
beforeEach(() => s3Mock.reset());

describe('chooseSpills', () => {
  it.each([
    { case: 'nothing over the threshold, inline within the limit', sizes: [10, 20], threshold: 50, max: 100, first: [], then: [] },
    { case: 'every batch over the threshold', sizes: [60, 10, 70], threshold: 50, max: 100, first: [0, 2], then: [] },
    { case: 'the largest small batches until the inline rest fits', sizes: [40, 45, 30, 20], threshold: 50, max: 60, first: [], then: [1, 0] },
    { case: 'both', sizes: [90, 40, 45, 30], threshold: 50, max: 60, first: [0], then: [2, 1] },
    { case: 'no inline limit (a single put)', sizes: [40, 45], threshold: 50, max: Infinity, first: [], then: [] },
  ])('spills $case', ({ sizes, threshold, max, first, then }) => {
    expect(chooseSpills(sizes, threshold, max)).toEqual({ first, then });
  });
});

describe('SpillStore', () => {
  it('writes a batch under its partition in the spill prefix', async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    const key = await new SpillStore({ s3, bucket: 'b' }).put('topic1', 3, 'id1', new Uint8Array([1]));
    expect(key).toBe('spill/p/topic1/3/id1.batch');
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: 'b', Key: key });
  });

  it('refuses to spill with 413 when no bucket is configured', async () => {
    await expect(new SpillStore({}).put('t', 0, 'id', new Uint8Array(10))).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it('answers a retriable UNAVAILABLE when retention removed the object during the read', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    const read = new SpillStore({ s3, bucket: 'b' }).load('spill/p/t/0/x.batch');
    await expect(read).rejects.toBeInstanceOf(UnavailableError);
    await expect(read).rejects.toMatchObject({ retriable: true });
  });
});
