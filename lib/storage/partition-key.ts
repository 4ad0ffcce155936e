import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Small operations over all the items of one partition key (or those of its sort keys that start with a
 * prefix), shared by the stores (topics' catalog, a group's items, a deleted topic's items).
 */

/** The key condition of `pk`, or of its sort keys starting with `skPrefix`. */
function keyCondition(pk: string, skPrefix: string | undefined) {
  return skPrefix === undefined
    ? { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk } }
    : { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)', ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix } };
}

/** Every item under `pk` (whose sort key starts with `skPrefix`, if given), following `LastEvaluatedKey` across pages. */
export async function queryAllItems(
  doc: DynamoDBDocumentClient,
  table: string,
  pk: string,
  options: { consistent?: boolean; skPrefix?: string } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: table,
        ...keyCondition(pk, options.skPrefix),
        ...(options.consistent ? { ConsistentRead: true } : {}),
        ...(ExclusiveStartKey ? { ExclusiveStartKey } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/**
 * Deletes up to `limit` items under `pk` (whose sort key starts with `skPrefix`, if given): one Query page, then
 * batched deletes. @returns how many.
 */
export async function deleteSomeItems(doc: DynamoDBDocumentClient, table: string, pk: string, limit: number, skPrefix?: string): Promise<number> {
  const page = await doc.send(
    new QueryCommand({
      TableName: table,
      ...keyCondition(pk, skPrefix),
      ProjectionExpression: 'pk, sk',
      Limit: limit,
    }),
  );
  const keys = (page.Items ?? []).map((item) => ({ pk: String(item.pk), sk: String(item.sk) }));
  await batchDelete(doc, table, keys);
  return keys.length;
}

/** Deletes items by key, 25 per BatchWriteItem, retrying unprocessed ones with backoff. */
async function batchDelete(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: ReadonlyArray<{ pk: string; sk: string }>,
): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) {
    let requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string] = keys
      .slice(i, i + 25)
      .map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
      const result = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = result.UnprocessedItems?.[table] ?? [];
    }
  }
}
