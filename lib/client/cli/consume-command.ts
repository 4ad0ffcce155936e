import { MAX_FETCH_LIMIT, MAX_WAIT_MS } from '../../contract/limits.js';
import type { AutoOffsetReset, ConsumedRecord, FetchOptions } from '../types.js';
import { intOption, noMoreArgs, required, UsageError, type ParsedArgs } from './args.js';
import { warnOnStderr, writeLine, type CliClient, type CliIo } from './io.js';
import { consumeShareGroup, MEMBER_FOLLOW_WAIT_MS } from './share-commands.js';

/** Long-poll wait per partition read with `--follow`: the longest the API allows. */
const FOLLOW_WAIT_MS = MAX_WAIT_MS;
/** Records per request: the API's maximum, so a terminal dump or a pipe is not request-bound. */
const FETCH_LIMIT = MAX_FETCH_LIMIT;
/** Bytes per request: well under the 6 MB response limit of Lambda. */
const FETCH_MAX_BYTES = 4 * 1024 * 1024;

/** Thrown inside the handler when stdout's reader went away (`consume | head`): stop without committing more. */
class ReaderGone extends Error {}

/**
 * `shardlog consume <topic> …`: one JSON line per record on stdout (`partition`, `offset`, `key`, `value`,
 * `headers`, `timestamp`).
 *
 * Without `--group`, it reads partitions directly (all, or `--partition P`) from `--offset O` or
 * `--from earliest|latest` (default earliest). With `--group`, it subscribes the group to the topic (docs/api.md
 * v1.1: a group reads only its subscriptions), is a member of the group, reads its assigned
 * partitions from the committed offsets, and commits each batch after it was written (at-least-once); there
 * `--from` is the reset policy of partitions the group never committed (Kafka's `auto.offset.reset`). Without
 * `--follow` it exits once it has caught up with the end of the log; with `--follow` it waits for new records
 * until SIGINT. `--max N` stops after N records (with a group, exactly those N are committed).
 */
export async function runConsume(client: CliClient, parsed: ParsedArgs, io: CliIo): Promise<void> {
  const topic = required(parsed.args, 0, 'topic', 'consume');
  noMoreArgs(parsed.args, 1, 'consume');
  const { values } = parsed;
  const max = intOption(values, 'max', 1);
  const follow = values.follow === true;
  const partition = intOption(values, 'partition');
  const offset = intOption(values, 'offset');
  const from = values.from as string | undefined;
  if (from !== undefined && from !== 'earliest' && from !== 'latest') {
    throw new UsageError(`--from must be earliest or latest, got '${from}'`);
  }
  if (offset !== undefined && from !== undefined) throw new UsageError('give either --offset or --from, not both');
  if (offset !== undefined && partition === undefined) throw new UsageError('--offset needs --partition');

  if (typeof values['share-group'] === 'string') {
    if (partition !== undefined || offset !== undefined || values.group !== undefined) {
      throw new UsageError('--partition, --offset and --group do not apply with --share-group: the share group hands out records');
    }
    return consumeShareGroup(client, topic, values['share-group'], { max, follow, ...(from !== undefined ? { from } : {}) }, io);
  }
  if (typeof values.group === 'string') {
    if (partition !== undefined || offset !== undefined) {
      throw new UsageError(
        "--partition and --offset do not apply with --group: a group reads from its committed offsets (move them with 'shardlog groups reset')",
      );
    }
    return consumeGroup(client, topic, values.group, { max, follow, ...(from !== undefined ? { autoOffsetReset: from } : {}) }, io);
  }
  const start: FetchOptions = offset !== undefined ? { offset } : { from: from ?? 'earliest' };
  const partitions =
    partition !== undefined ? [partition] : Array.from({ length: (await client.describeTopic(topic)).partitions }, (_, i) => i);
  return consumePartitions(client, topic, partitions, start, { max, follow }, io);
}

/** The output line of one record. */
function recordLine(partition: number, record: ConsumedRecord): string {
  return JSON.stringify({
    partition,
    offset: record.offset,
    key: record.key,
    value: record.value,
    headers: record.headers ?? {},
    timestamp: record.timestamp,
  });
}

async function consumePartitions(
  client: CliClient,
  topic: string,
  partitions: number[],
  start: FetchOptions,
  options: { max: number | undefined; follow: boolean },
  io: CliIo,
): Promise<void> {
  let remaining = options.max ?? Number.POSITIVE_INFINITY;
  const controller = new AbortController();
  const stop = () => controller.abort();
  io.signal?.addEventListener('abort', stop, { once: true });
  if (io.signal?.aborted) stop();

  // One reader per partition, concurrently, so a long poll on a quiet partition never holds up a busy one.
  const readPartition = async (partition: number) => {
    let position: FetchOptions = start;
    while (remaining > 0 && !controller.signal.aborted) {
      let response;
      try {
        response = await client.fetch(
          topic,
          partition,
          { ...position, limit: Math.min(FETCH_LIMIT, remaining), maxBytes: FETCH_MAX_BYTES, waitMs: options.follow ? FOLLOW_WAIT_MS : 0 },
          controller.signal,
        );
      } catch (error) {
        if (controller.signal.aborted) return;
        throw error;
      }
      for (const record of response.records) {
        if (remaining <= 0) break;
        remaining -= 1;
        if (!(await writeLine(io.stdout, recordLine(partition, record)))) {
          stop();
          return;
        }
      }
      if (remaining <= 0) stop();
      position = { offset: response.nextOffset };
      if (!options.follow && response.nextOffset >= response.endOffset) return;
    }
  };
  try {
    await Promise.all(partitions.map(readPartition));
  } finally {
    io.signal?.removeEventListener('abort', stop);
    controller.abort();
  }
}

async function consumeGroup(
  client: CliClient,
  topic: string,
  group: string,
  options: { max: number | undefined; follow: boolean; autoOffsetReset?: AutoOffsetReset },
  io: CliIo,
): Promise<void> {
  let remaining = options.max ?? Number.POSITIVE_INFINITY;
  const consumer = client.consumer({
    waitMs: options.follow ? MEMBER_FOLLOW_WAIT_MS : 0,
    maxRecords: FETCH_LIMIT,
    maxBytes: FETCH_MAX_BYTES,
    ...(options.autoOffsetReset ? { autoOffsetReset: options.autoOffsetReset } : {}),
    onError: warnOnStderr(io),
  });
  const stop = () => void consumer.stop();
  io.signal?.addEventListener('abort', stop, { once: true });
  try {
    await consumer.run({
      group,
      topics: [topic],
      eachBatch: async ({ partition, records, resolveOffset }) => {
        for (const record of records) {
          if (remaining <= 0) break;
          if (!(await writeLine(io.stdout, recordLine(partition, record)))) throw new ReaderGone();
          remaining -= 1;
          // Written records only: with --max or a closed pipe, the rest is left for the next reader.
          resolveOffset(record.offset);
        }
        if (remaining <= 0) stop();
      },
      onIdle: options.follow ? undefined : stop,
    });
  } catch (error) {
    if (!(error instanceof ReaderGone)) throw error;
  } finally {
    io.signal?.removeEventListener('abort', stop);
  }
}
