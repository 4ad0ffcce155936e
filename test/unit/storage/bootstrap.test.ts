import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, HeadBucketCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../lib/errors.js';
import { ensureStorage } from '../../../lib/storage/bootstrap.js';

const dynamo = new DynamoDBClient({ region: 'us-east-1' });
const s3 = new S3Client({ region: 'us-east-1' });
const ddb = mockClient(dynamo);
const s3Mock = mockClient(s3);
const config = { logTable: 'log', leaseTable: 'leases', segmentBucket: 'segments' };

/** An S3 error as the SDK builds it from a bodiless HeadBucket answer with this status. */
function headBucketError(status: number): S3ServiceException {
  return new S3ServiceException({
    name: status === 403 ? 'Forbidden' : 'Unknown',
    message: `status ${status}`,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

beforeEach(() => {
  ddb.reset();
  s3Mock.reset();
  ddb.on(DescribeTableCommand).resolves({});
  s3Mock.on(HeadBucketCommand).resolves({});
});

describe('ensureStorage', () => {
  it('creates the bucket only when HeadBucket says it does not exist', async () => {
    s3Mock.on(HeadBucketCommand).rejects(new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }));
    s3Mock.on(CreateBucketCommand).resolves({});
    await ensureStorage({ dynamo, s3 }, config);
    expect(s3Mock.commandCalls(CreateBucketCommand)).toHaveLength(1);
  });

  it('accepts a bucket a concurrent starter created between the check and the create', async () => {
    s3Mock.on(HeadBucketCommand).rejects(new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }));
    s3Mock.on(CreateBucketCommand).rejects(new BucketAlreadyOwnedByYou({ message: 'yours', $metadata: { httpStatusCode: 409 } }));
    await expect(ensureStorage({ dynamo, s3 }, config)).resolves.toBeUndefined();
  });

  it('never creates the bucket when HeadBucket fails for any other reason, and surfaces that failure', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 400, max: 599 }).filter((status) => status !== 404), async (status) => {
        s3Mock.reset();
        s3Mock.on(HeadBucketCommand).rejects(headBucketError(status));
        const failure = await ensureStorage({ dynamo, s3 }, config).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(s3Mock.commandCalls(CreateBucketCommand)).toHaveLength(0);
        // A server fault (s3rver's 500 on a torn metadata file) is translated; a client fault is the SDK's own.
        if (status >= 500) expect(failure).toBeInstanceOf(UnavailableError);
        else expect(failure).toBeInstanceOf(S3ServiceException);
      }),
      { numRuns: 40 },
    );
  });

  it('creates a table only when DescribeTable says it does not exist, and surfaces other failures translated', async () => {
    ddb.on(DescribeTableCommand, { TableName: 'log' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
    ddb.on(CreateTableCommand).resolves({});
    ddb.on(UpdateTimeToLiveCommand).resolves({});
    await ensureStorage({ dynamo, s3 }, config);
    expect(ddb.commandCalls(CreateTableCommand).map((c) => c.args[0].input.TableName)).toEqual(['log']);

    ddb.reset();
    ddb.on(DescribeTableCommand).rejects(
      new DynamoDBServiceException({ name: 'InternalServerError', message: 'boom', $fault: 'server', $metadata: { httpStatusCode: 500 } }),
    );
    await expect(ensureStorage({ dynamo, s3 }, config)).rejects.toBeInstanceOf(UnavailableError);
    expect(ddb.commandCalls(CreateTableCommand)).toHaveLength(0);
  });
});
