import { createInterface } from 'node:readline';
import type { JsonValue, ProduceRecord } from '../types.js';
import { noMoreArgs, required, type ParsedArgs } from './args.js';
import { formatDuration } from './format.js';
import { formatCount, Progress, type CliClient, type CliIo } from './io.js';

/** Records acknowledged-or-failed the CLI lets run ahead of stdin; the producer's own buffer bounds bytes. */
const MAX_OUTSTANDING_RECORDS = 20_000;

/**
 * `shardlog produce <topic> [--key <field>]`: one record per non-blank line of stdin, through the batching
 * {@link Producer}, with a progress display on a terminal and a summary line on stderr at the end.
 * On SIGINT it stops reading, sends what it has, and still prints the summary.
 * @throws the first error a batch failed with (after the rest was flushed).
 */
export async function runProduce(client: CliClient, parsed: ParsedArgs, io: CliIo): Promise<void> {
  const topic = required(parsed.args, 0, 'topic', 'produce');
  noMoreArgs(parsed.args, 1, 'produce');
  const keyField = parsed.values.key as string | undefined;
  // Fail fast, before reading stdin, when the server is down or the topic does not exist.
  await client.describeTopic(topic);
  // A terminal user waits for an answer: give up on an unreachable server sooner than a service would.
  const producer = client.producer({ deliveryTimeoutMs: 30_000 });
  const progress = new Progress(io.stderr, io.stdinBytes);
  const started = Date.now();
  const perPartition = new Map<number, number>();
  let acked = 0;
  let bytesRead = 0;
  let failure: unknown;
  const window: Promise<void>[] = [];

  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  const onAbort = () => lines.close();
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const line of lines) {
      bytesRead += Buffer.byteLength(line) + 1;
      if (failure !== undefined || io.signal?.aborted) break;
      if (line.trim() === '') continue;
      const record = recordFromLine(line, keyField);
      window.push(
        producer.send(topic, [record]).then(
          ([metadata]) => {
            acked += 1;
            perPartition.set(metadata!.partition, (perPartition.get(metadata!.partition) ?? 0) + 1);
            progress.update(acked, bytesRead);
          },
          (error: unknown) => {
            failure ??= error;
          },
        ),
      );
      // Backpressure on stdin: do not read further ahead than this of what the server has acknowledged.
      if (window.length >= MAX_OUTSTANDING_RECORDS) await Promise.all(window.splice(0, MAX_OUTSTANDING_RECORDS / 2));
    }
    await producer.close();
    await Promise.all(window);
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
    progress.clear();
  }
  const elapsed = Date.now() - started;
  const partitions = [...perPartition.entries()].sort(([a], [b]) => a - b);
  const spread = partitions.length > 0 && partitions.length <= 16 ? `; per partition ${partitions.map(([p, n]) => `${p}:${n}`).join(' ')}` : '';
  io.stderr.write(
    `produced ${formatCount(acked)} record(s) to ${topic} in ${formatDuration(elapsed)} ` +
      `(${formatCount(Math.round(acked / Math.max(elapsed / 1000, 0.001)))} records/s)${spread}\n`,
  );
  if (failure !== undefined) throw failure;
}

/** A line as a record: its JSON value, or the line itself as a string when it is not JSON. */
export function recordFromLine(line: string, keyField?: string): ProduceRecord {
  let value: JsonValue;
  try {
    value = JSON.parse(line) as JsonValue;
  } catch {
    value = line;
  }
  const key = keyField === undefined ? null : keyFrom(value, keyField);
  return key === null ? { value } : { key, value };
}

/**
 * The key of a record: field `field` of a JSON object (exact name first, then a dotted path `a.b`), as a
 * string (non-strings as their JSON). `null` when the value has no such field: the record is keyless.
 */
export function keyFrom(value: JsonValue, field: string): string | null {
  const pick = (object: JsonValue, name: string): JsonValue | undefined =>
    object !== null && typeof object === 'object' && !Array.isArray(object) && Object.hasOwn(object, name) ? object[name] : undefined;
  let found = pick(value, field);
  if (found === undefined && field.includes('.')) {
    found = field.split('.').reduce<JsonValue | undefined>((object, name) => (object === undefined ? undefined : pick(object, name)), value);
  }
  if (found === undefined || found === null) return null;
  return typeof found === 'string' ? found : JSON.stringify(found);
}
