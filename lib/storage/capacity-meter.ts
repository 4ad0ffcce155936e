import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * Counts the AWS work an operation costs: DynamoDB requests and capacity units (by asking every call for
 * `ReturnConsumedCapacity: TOTAL`), and S3 requests by command. Attach it to a client with
 * {@link CapacityMeter.attach}; read and reset the totals around the operation being measured.
 *
 * Used by the benchmark and by tests that pin a cost ("a produce is one standard write"). DynamoDB Local
 * reports consumed capacity the way DynamoDB does for on-demand tables, except for `TransactWriteItems`:
 * it counts items of equal size once (five 1 KB puts report 2 units, not 10), so a transaction is counted
 * here as DynamoDB bills it, 2 units per started KB of each item written ({@link transactWriteUnits}).
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
          this.count(command, (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity, input);
          return result;
        } catch (error) {
          // Failed conditional writes consume capacity too, and DynamoDB reports it on the error.
          this.count(command, (error as { ConsumedCapacity?: unknown }).ConsumedCapacity, input);
          throw error;
        }
      },
      { step: 'initialize', name: 'shardlogCapacityMeter' },
    );
    s3?.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? 'unknown');
        const count = () => {
          this.s3Requests++;
          this.s3ByCommand[command] = (this.s3ByCommand[command] ?? 0) + 1;
        };
        try {
          const result = await next(args);
          // A presigned URL (getSignedUrl) runs the command through this stack but sends nothing: not a request.
          if (!isPresign(result.output)) count();
          return result;
        } catch (error) {
          count();
          throw error;
        }
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

  private count(command: string, consumed: unknown, input: Record<string, unknown>): void {
    const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as ConsumedCapacityLike[];
    if (command === 'TransactWriteItemsCommand' && list.length > 0) {
      const reported = list.reduce((sum, c) => sum + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0), 0);
      this.writeUnits += Math.max(reported, transactWriteUnits(input.TransactItems as readonly TransactWriteItemLike[] | undefined));
      return;
    }
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

/** An item of a `TransactWriteItems` request, marshalled (`{ S: "x" }`) or as the DocumentClient takes it. */
export interface TransactWriteItemLike {
  readonly Put?: { readonly Item?: Record<string, unknown> };
  readonly Update?: unknown;
  readonly Delete?: unknown;
  readonly ConditionCheck?: unknown;
}

/**
 * Write units of a `TransactWriteItems` as DynamoDB bills it on demand: 2 per started KB of each item written
 * (Developer Guide, "Capacity unit consumption for transactions"). A Put's size is its item's; an Update, Delete
 * or ConditionCheck is counted as a 1 KB item (the size of the stored item they touch is not in the request).
 */
export function transactWriteUnits(items: readonly TransactWriteItemLike[] | undefined): number {
  let units = 0;
  for (const item of items ?? []) {
    const size = item.Put?.Item ? itemBytes(item.Put.Item) : 1;
    units += 2 * Math.max(1, Math.ceil(size / 1024));
  }
  return units;
}

const ATTRIBUTE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);
const isMarshalled = (item: Record<string, unknown>) =>
  Object.values(item).every((v) => v !== null && typeof v === 'object' && Object.keys(v).length === 1 && ATTRIBUTE_TYPES.has(Object.keys(v)[0]!));

/** An item's size by DynamoDB's rules: attribute names plus values (Developer Guide, "Item sizes and formats"). */
export function itemBytes(item: Record<string, unknown>): number {
  const plain = isMarshalled(item) ? unmarshall(item as Record<string, AttributeValue>) : item;
  return Object.entries(plain).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    // About one byte per two significant digits, plus one.
    const digits = String(value).replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/e.*$/i, '').length;
    return Math.ceil(Math.max(1, digits) / 2) + 1;
  }
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + valueBytes(v), 0);
  // Lists and maps: 3 bytes, plus 1 per element, plus their contents (and a map's names).
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === 'object') return 3 + Object.entries(value).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueBytes(v), 0);
  return 0;
}

/** Whether a command's output is a presigned request (`getSignedUrl` intercepts the command before it is sent). */
export const isPresign = (output: unknown): boolean => typeof output === 'object' && output !== null && 'presigned' in output;
