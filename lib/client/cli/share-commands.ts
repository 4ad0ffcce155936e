import type { ShareGroupDescription } from '../share-types.js';
import { noMoreArgs, required, type ParsedArgs } from './args.js';
import { table } from './format.js';
import { warnOnStderr, writeLine, type CliClient, type CliIo } from './io.js';

/*
 * The share-group commands (docs/api.md, "Share groups"): `consume <topic> --share-group <g>` and
 * `share-groups list|describe|delete`.
 */

/** Long-poll wait per fetch of a group or share-group member with `--follow` (consume-command.ts uses it too). */
export const MEMBER_FOLLOW_WAIT_MS = 10_000;
/** Records per fetch: enough that a terminal dump is not request-bound, few enough to hold locks briefly. */
const FETCH_RECORDS = 100;

/** Thrown by the handler for a record past `--max` (or after the reader went away): released, not accepted. */
class NotTaken extends Error {}

/**
 * `shardlog consume <topic> --share-group <g>`: a member of the share group; each record is written as one
 * JSON line (with its `deliveryCount`) and then accepted. Records past `--max`, or fetched after stdout's reader
 * went away, are released for other members. Without `--follow` it stops at the first fetch that finds nothing.
 */
export async function consumeShareGroup(
  client: CliClient,
  topic: string,
  group: string,
  options: { max: number | undefined; follow: boolean; from?: 'earliest' | 'latest' },
  io: CliIo,
): Promise<void> {
  let remaining = options.max ?? Number.POSITIVE_INFINITY;
  const consumer = client.shareConsumer({
    maxRecords: Math.min(FETCH_RECORDS, remaining),
    waitMs: options.follow ? MEMBER_FOLLOW_WAIT_MS : 0,
    ...(options.from ? { from: options.from } : {}),
    isRetriable: () => true,
    onError: warnOnStderr(io),
  });
  const stop = () => void consumer.stop();
  io.signal?.addEventListener('abort', stop, { once: true });
  try {
    await consumer.run({
      group,
      topics: [topic],
      eachMessage: async ({ record }) => {
        if (remaining <= 0) throw new NotTaken();
        const line = JSON.stringify({
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          deliveryCount: record.deliveryCount,
          key: record.key,
          value: record.value,
          headers: record.headers ?? {},
          timestamp: record.timestamp,
        });
        if (!(await writeLine(io.stdout, line))) {
          remaining = 0;
          stop();
          throw new NotTaken();
        }
        if (--remaining <= 0) stop();
      },
      ...(options.follow ? {} : { onIdle: stop }),
    });
  } finally {
    io.signal?.removeEventListener('abort', stop);
  }
}

/** What a command prints: the API's response with `--json`, else its text. */
interface Printed {
  response: unknown;
  text(): string;
}

/** `share-groups list|describe|delete`, one request each (dispatched by admin-commands.ts). */
export const SHARE_GROUP_COMMANDS: Record<string, (client: CliClient, parsed: ParsedArgs) => Promise<Printed>> = {
  'share-groups list': async (client, { command, args }) => {
    noMoreArgs(args, 0, command);
    const groups = await client.listShareGroups();
    return {
      response: { groups },
      text: () =>
        groups.length === 0 ? 'no share groups' : table(['GROUP', 'SUBSCRIPTIONS'], groups.map((g) => [g.group, g.subscriptions.join(',')])),
    };
  },

  'share-groups describe': async (client, { command, args }) => {
    const group = required(args, 0, 'group', command);
    noMoreArgs(args, 1, command);
    const description = await client.describeShareGroup(group);
    return { response: description, text: () => describeText(description) };
  },

  'share-groups delete': async (client, { command, args }) => {
    const group = required(args, 0, 'group', command);
    noMoreArgs(args, 1, command);
    await client.deleteShareGroup(group);
    return { response: { deleted: group }, text: () => `deleted share group ${group}` };
  },
};

function describeText(d: ShareGroupDescription): string {
  return [
    `share group ${d.group}: subscribed to ${d.subscriptions.join(', ') || 'nothing'}; maxDeliveries ${d.maxDeliveries}; ` +
      `dead letters to ${d.deadLetterTopic ?? 'nowhere (archived only)'}`,
    table(
      ['TOPIC', 'PARTITION', 'START', 'END', 'IN FLIGHT', 'ACQUIRED', 'AVAILABLE', 'ARCHIVED'],
      d.partitions.map((p) => [p.topic, p.partition, p.startOffset, p.endOffset, p.inFlight, p.acquired, p.available, p.archived]),
    ),
  ].join('\n');
}
