import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The key schema shared by both DynamoDB tables. The CDK stateful stack, the embedded local stack and the
 * integration tests all build their tables from these constants, so the three cannot disagree.
 *
 * Both tables use a string partition key `pk`, a string sort key `sk` and the TTL attribute `expiresAt`
 * (epoch seconds, as DynamoDB TTL requires).
 */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
export const TTL_ATTRIBUTE = 'expiresAt';

/** The `CreateTable` input for a table of this schema, on-demand billing (used locally and in tests). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: SORT_KEY, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
  };
}
