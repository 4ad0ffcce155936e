import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

/**
 * Counts the AWS work an operation costs: DynamoDB requests and capacity units (by asking every call for
 * `ReturnConsumedCapacity: TOTAL`), and S3 requests by command. Attach it to a client with
 * {@link CapacityMeter.attach}; read and reset the totals around the operation being measured.
 *
 * Used by the benchmark and by tests that pin a cost ("a produce is one standard write"). DynamoDB Local
 * reports consumed capacity the way DynamoDB does for on-demand tables.
 */
export interface CapacityTotals {
  readonly dynamoRequests: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Requests per DynamoDB command name, e.g. `{ PutItemCommand: 3, QueryCommand: 1 }`. */
  readonly dynamoByCommand: Readonly<Record<string, number>>;
  readonly s3Requests: number;
  readonly s3ByCommand: Readonly<Record<string, number>>;
}

const WITH_CAPACITY = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
  'TransactGetItemsCommand',
]);

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

interface ConsumedCapacityLike {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

export class CapacityMeter {
  private dynamoRequests = 0;
  private readUnits = 0;
  private writeUnits = 0;
  private s3Requests = 0;
  private dynamoByCommand: Record<string, number> = {};
  private s3ByCommand: Record<string, number> = {};

  /** Instruments a DynamoDB client (the one a DocumentClient wraps) and, optionally, an S3 client. */
  attach(dynamo: Pick<DynamoDBClient, 'middlewareStack'>, s3?: Pick<S3Client, 'middlewareStack'>): this {
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? 'unknown');
        const input = args.input as Record<string, unknown>;
        if (WITH_CAPACITY.has(command) && input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'TOTAL';
        this.dynamoRequests++;
        this.dynamoByCommand[command] = (this.dynamoByCommand[command] ?? 0) + 1;
        try {
          const result = await next(args);
          this.count(command, (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          return result;
        } catch (error) {
          // Failed conditional writes consume capacity too, and DynamoDB reports it on the error.
          this.count(command, (error as { ConsumedCapacity?: unknown }).ConsumedCapacity);
          throw error;
        }
      },
      { step: 'initialize', name: 'shardlogCapacityMeter' },
    );
    s3?.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? 'unknown');
        this.s3Requests++;
        this.s3ByCommand[command] = (this.s3ByCommand[command] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'shardlogS3Meter' },
    );
    return this;
  }

  totals(): CapacityTotals {
    return {
      dynamoRequests: this.dynamoRequests,
      readUnits: this.readUnits,
      writeUnits: this.writeUnits,
      dynamoByCommand: { ...this.dynamoByCommand },
      s3Requests: this.s3Requests,
      s3ByCommand: { ...this.s3ByCommand },
    };
  }

  reset(): void {
    this.dynamoRequests = 0;
    this.readUnits = 0;
    this.writeUnits = 0;
    this.s3Requests = 0;
    this.dynamoByCommand = {};
    this.s3ByCommand = {};
  }

  private count(command: string, consumed: unknown): void {
    const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as ConsumedCapacityLike[];
    for (const c of list) {
      const read = c.ReadCapacityUnits;
      const write = c.WriteCapacityUnits;
      if (read !== undefined || write !== undefined) {
        this.readUnits += read ?? 0;
        this.writeUnits += write ?? 0;
      } else if (WRITES.has(command)) {
        this.writeUnits += c.CapacityUnits ?? 0;
      } else {
        this.readUnits += c.CapacityUnits ?? 0;
      }
    }
  }
}
