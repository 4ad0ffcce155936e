import type { ResetTarget } from '../types.js';
import { intOption, noMoreArgs, numberOption, required, UsageError, type ParsedArgs } from './args.js';
import { formatBytes, table } from './format.js';
import type { CliClient, CliIo } from './io.js';

/** `topics …`, `groups list|describe|reset` and `maintenance`: one request each, then a table or JSON. */
export async function runAdminCommand(client: CliClient, parsed: ParsedArgs, io: CliIo): Promise<void> {
  const { command, args, values } = parsed;
  const json = values.json === true;
  const out = (text: string) => void io.stdout.write(text.endsWith('\n') ? text : text + '\n');
  const print = (response: unknown, text: () => string) => out(json ? JSON.stringify(response, null, 2) : text());

  switch (command) {
    case 'topics create': {
      const name = required(args, 0, 'name', command);
      noMoreArgs(args, 1, command);
      const partitions = intOption(values, 'partitions', 1);
      const retentionHours = numberOption(values, 'retention-hours');
      const topic = await client.createTopic({
        name,
        ...(partitions !== undefined ? { partitions } : {}),
        ...(retentionHours !== undefined ? { retentionHours } : {}),
      });
      return print(topic, () => `created topic ${topic.name} with ${topic.partitions} partition(s), retention ${topic.retentionHours} h`);
    }
    case 'topics list': {
      noMoreArgs(args, 0, command);
      const topics = await client.listTopics();
      return print({ topics }, () =>
        topics.length === 0 ? 'no topics' : table(['TOPIC', 'PARTITIONS'], topics.map((t) => [t.name, t.partitions])),
      );
    }
    case 'topics describe': {
      const name = required(args, 0, 'name', command);
      noMoreArgs(args, 1, command);
      const topic = await client.describeTopic(name);
      return print(topic, () =>
        [
          `topic ${topic.name}: ${topic.partitions} partition(s), retention ${topic.retentionHours} h, created ${new Date(topic.createdAt).toISOString()}`,
          table(
            ['PARTITION', 'START', 'END', 'RECORDS'],
            topic.partitionStats.map((p) => [p.partition, p.startOffset, p.endOffset, p.endOffset - p.startOffset]),
          ),
        ].join('\n'),
      );
    }
    case 'topics delete': {
      const name = required(args, 0, 'name', command);
      noMoreArgs(args, 1, command);
      await client.deleteTopic(name);
      return print({ deleted: name }, () => `deleted topic ${name}`);
    }
    case 'groups list': {
      noMoreArgs(args, 0, command);
      const groups = await client.listGroups();
      return print({ groups }, () =>
        groups.length === 0 ? 'no groups' : table(['GROUP', 'MEMBERS'], groups.map((g) => [g.group, g.members])),
      );
    }
    case 'groups describe': {
      const group = required(args, 0, 'group', command);
      noMoreArgs(args, 1, command);
      const description = await client.describeGroup(group);
      const now = Date.now();
      return print(description, () =>
        [
          `group ${description.group}: ${description.members.length} member(s)`,
          ...(description.members.length > 0
            ? [
                table(
                  ['MEMBER', 'PARTITIONS', 'EXPIRES IN'],
                  description.members.map((m) => [m.memberId, m.partitions, `${Math.max(0, Math.round((m.expiresAt - now) / 1000))} s`]),
                ),
                '',
              ]
            : []),
          table(
            ['TOPIC', 'PARTITION', 'OWNER', 'COMMITTED', 'END', 'LAG'],
            description.partitions.map((p) => [p.topic, p.partition, p.owner, p.committedOffset, p.endOffset, p.lag]),
          ),
        ].join('\n'),
      );
    }
    case 'groups reset': {
      const group = required(args, 0, 'group', command);
      const topic = required(args, 1, 'topic', command);
      noMoreArgs(args, 2, command);
      const to = resetTarget(values.to);
      const partition = intOption(values, 'partition');
      const response = await client.resetOffsets(group, { topic, to, ...(partition !== undefined ? { partition } : {}) });
      const offsets = Array.isArray(response.offsets) ? response.offsets : undefined;
      return print(response, () =>
        [
          `reset group ${group} on ${topic}${partition !== undefined ? ` partition ${partition}` : ''} to ${String(values.to)}`,
          ...(offsets ? [table(['TOPIC', 'PARTITION', 'OFFSET'], offsets.map((o) => [o.topic, o.partition, o.offset]))] : []),
        ].join('\n'),
      );
    }
    case 'maintenance': {
      noMoreArgs(args, 0, command);
      const topic = values.topic as string | undefined;
      const result = await client.runMaintenance(topic ? { topic } : {});
      return print(result, () =>
        `tiered ${result.tiered.segments} segment(s) (${result.tiered.records} records, ${formatBytes(result.tiered.bytes)}); ` +
        `expired ${result.expired.records} record(s), ${result.expired.segments} segment(s)`,
      );
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

function resetTarget(raw: string | boolean | undefined): ResetTarget {
  if (raw === 'earliest' || raw === 'latest') return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return { offset: Number(raw) };
  throw new UsageError(`--to must be earliest, latest or an offset${raw === undefined ? '' : `, got '${String(raw)}'`}`);
}
