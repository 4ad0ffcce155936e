/** Partitions whose batch sizes and ends this process remembers; the oldest is forgotten first. */
const REMEMBERED_PARTITIONS = 10_000;
/** At most this many items per Query page when reading; DynamoDB also stops a page at 1 MB. */
export const READ_PAGE_ITEMS = 100;
/**
 * Records per batch assumed for a partition this process has not read yet. Guessing high costs at most an
 * extra page round trip when batches are small; guessing low reads (and pays for) items that are not needed.
 */
const ASSUMED_RECORDS_PER_BATCH = 100;

/**
 * What one process learned about partitions from its own appends and reads, to make the next read cheaper:
 * - the highest batch end it has seen: a batch end is a boundary forever (batches are immutable), so a read that
 *   starts there and finds no batch after it is at the end of the log without reading the newest batch to
 *   prove it (an empty poll is one small Query);
 * - recent records per batch: a Query page asks for just enough items (each read item is paid for).
 */
export class ReadHints {
  private readonly ends = new Map<string, number>();
  private readonly recordsPerBatch = new Map<string, number>();

  /** The highest batch end seen in the partition, if any. */
  knownEnd(pk: string): number | undefined {
    return this.ends.get(pk);
  }

  noteEnd(pk: string, end: number): void {
    if (end <= (this.ends.get(pk) ?? -1)) return;
    remember(this.ends, pk, end);
  }

  noteBatchSize(pk: string, count: number): void {
    remember(this.recordsPerBatch, pk, Math.max(1, count));
  }

  /** Items to ask a Query for, to cover `records` records given this partition's recent batch sizes (+1 spare). */
  pageItems(pk: string, records: number): number {
    const perBatch = this.recordsPerBatch.get(pk) ?? ASSUMED_RECORDS_PER_BATCH;
    return Math.max(1, Math.min(READ_PAGE_ITEMS, Math.ceil(records / perBatch) + 1));
  }
}

/** Sets `key` as the newest entry, forgetting the oldest when the map is full. */
function remember(map: Map<string, number>, key: string, value: number): void {
  map.delete(key);
  if (map.size >= REMEMBERED_PARTITIONS) map.delete(map.keys().next().value!);
  map.set(key, value);
}
