/**
 * `Promise.all(items.map(fn))` with at most `limit` calls of `fn` in flight: the one concurrency-limited pool of
 * lib/ (a request or a maintenance pass keeps a bounded number of DynamoDB or S3 calls going at once).
 *
 * - Results come back in the order of `items`, whatever order the calls finish in.
 * - Once a call rejects, no further call starts; the returned promise rejects with that first error after the
 *   calls already in flight have settled, so nothing it started is still running when it returns (a Lambda
 *   must not leave work behind a response).
 *
 * @throws RangeError when `limit` is not a positive integer; otherwise the first error `fn` throws.
 * @example
 * const bounds = await mapLimit(partitions, 16, (p) => log.bounds(topic, p));
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { readonly error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}
