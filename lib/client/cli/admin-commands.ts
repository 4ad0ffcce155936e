import type { GroupDescription, ResetTarget, TopicDescription } from '../types.js';
import { intOption, noMoreArgs, numberOption, required, UsageError, type ParsedArgs } from './args.js';
import { formatBytes, table } from './format.js';
import type { CliClient, CliIo } from './io.js';
import { SHARE_GROUP_COMMANDS } from './share-commands.js';

/** What a command prints: the API's response with `--json`, else its text. */
interface Printed {
  response: unknown;
  text(): string;
}

type AdminCommand = (client: CliClient, parsed: ParsedArgs) => Promise<Printed>;

/** `topics …`, `groups list|describe|subscribe|unsubscribe|reset|delete` and `maintenance`: one request each, then a table or JSON. */
export async function runAdminCommand(client: CliClient, parsed: ParsedArgs, io: CliIo): Promise<void> {
  const command = ADMIN_COMMANDS[parsed.command];
  if (!command) throw new UsageError(`unknown command '${parsed.command}'`);
  const printed = await command(client, parsed);
  const text = parsed.values.json === true ? JSON.stringify(printed.response, null, 2) : printed.text();
  io.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

const ADMIN_COMMANDS: Record<string, AdminCommand> = {
  ...SHARE_GROUP_COMMANDS,
  'topics create': async (client, { command, args, values }) => {
    const name = required(args, 0, 'name', command);
    noMoreArgs(args, 1, command);
    const partitions = intOption(values, 'partitions', 1);
    const retentionHours = numberOption(values, 'retention-hours');
    const topic = await client.createTopic({
      name,
      ...(partitions !== undefined ? { partitions } : {}),
      ...(retentionHours !== undefined ? { retentionHours } : {}),
    });
    return { response: topic, text: () => `created topic ${topic.name} with ${topic.partitions} partition(s), retention ${topic.retentionHours} h` };
  },

  'topics list': async (client, { command, args }) => {
    noMoreArgs(args, 0, command);
    const topics = await client.listTopics();
    return {
      response: { topics },
      text: () => (topics.length === 0 ? 'no topics' : table(['TOPIC', 'PARTITIONS'], topics.map((t) => [t.name, t.partitions]))),
    };
  },

  'topics describe': async (client, { command, args }) => {
    const name = required(args, 0, 'name', command);
    noMoreArgs(args, 1, command);
    const topic = await client.describeTopic(name);
    return { response: topic, text: () => describeTopicText(topic) };
  },

  'topics delete': async (client, { command, args }) => {
    const name = required(args, 0, 'name', command);
    noMoreArgs(args, 1, command);
    await client.deleteTopic(name);
    return { response: { deleted: name }, text: () => `deleted topic ${name}` };
  },

  'groups list': async (client, { command, args }) => {
    noMoreArgs(args, 0, command);
    const groups = await client.listGroups();
    return {
      response: { groups },
      text: () => (groups.length === 0 ? 'no groups' : table(['GROUP', 'MEMBERS'], groups.map((g) => [g.group, g.members]))),
    };
  },

  'groups describe': async (client, { command, args }) => {
    const group = required(args, 0, 'group', command);
    noMoreArgs(args, 1, command);
    const description = await client.describeGroup(group);
    const now = Date.now();
    return { response: description, text: () => describeGroupText(description, now) };
  },

  'groups subscribe': async (client, { command, args }) => {
    const group = required(args, 0, 'group', command);
    const topic = required(args, 1, 'topic', command);
    noMoreArgs(args, 2, command);
    const subscription = await client.subscribe(group, topic);
    return { response: subscription, text: () => `subscribed group ${group} to ${topic}` };
  },

  'groups unsubscribe': async (client, { command, args }) => {
    const group = required(args, 0, 'group', command);
    const topic = required(args, 1, 'topic', command);
    noMoreArgs(args, 2, command);
    await client.unsubscribe(group, topic);
    return { response: { group, unsubscribed: topic }, text: () => `unsubscribed group ${group} from ${topic} (its committed offsets stay)` };
  },

  'groups delete': async (client, { command, args }) => {
    const group = required(args, 0, 'group', command);
    noMoreArgs(args, 1, command);
    await client.deleteGroup(group);
    return { response: { deleted: group }, text: () => `deleted group ${group}` };
  },

  'groups reset': async (client, { command, args, values }) => {
    const group = required(args, 0, 'group', command);
    const topic = required(args, 1, 'topic', command);
    noMoreArgs(args, 2, command);
    const to = resetTarget(values.to);
    const partition = intOption(values, 'partition');
    const response = await client.resetOffsets(group, { topic, to, ...(partition !== undefined ? { partition } : {}) });
    const offsets = Array.isArray(response.offsets) ? response.offsets : undefined;
    const text = () =>
      [
        `reset group ${group} on ${topic}${partition !== undefined ? ` partition ${partition}` : ''} to ${String(values.to)}`,
        ...(offsets ? [table(['TOPIC', 'PARTITION', 'OFFSET'], offsets.map((o) => [o.topic, o.partition, o.offset]))] : []),
      ].join('\n');
    return { response, text };
  },

  maintenance: async (client, { command, args, values }) => {
    noMoreArgs(args, 0, command);
    const topic = values.topic as string | undefined;
    const result = await client.runMaintenance(topic ? { topic } : {});
    const text = () =>
      `tiered ${result.tiered.segments} segment(s) (${result.tiered.records} records, ${formatBytes(result.tiered.bytes)}); ` +
      `expired ${result.expired.records} record(s), ${result.expired.segments} segment(s)`;
    return { response: result, text };
  },
};

function describeTopicText(topic: TopicDescription): string {
  return [
    `topic ${topic.name}: ${topic.partitions} partition(s), retention ${topic.retentionHours} h, created ${new Date(topic.createdAt).toISOString()}`,
    table(
      ['PARTITION', 'START', 'END', 'RECORDS'],
      topic.partitionStats.map((p) => [p.partition, p.startOffset, p.endOffset, p.endOffset - p.startOffset]),
    ),
  ].join('\n');
}

function describeGroupText(description: GroupDescription, now: number): string {
  const members = description.members.map((m) => [m.memberId, m.partitions, `${Math.max(0, Math.round((m.expiresAt - now) / 1000))} s`]);
  const subscriptions = description.subscriptions ?? [];
  return [
    `group ${description.group}: ${description.members.length} member(s), subscribed to ${subscriptions.length > 0 ? subscriptions.join(', ') : 'no topic'}`,
    ...(members.length > 0 ? [table(['MEMBER', 'PARTITIONS', 'EXPIRES IN'], members), ''] : []),
    table(
      ['TOPIC', 'PARTITION', 'OWNER', 'COMMITTED', 'END', 'LAG'],
      description.partitions.map((p) => [p.topic, p.partition, p.owner, p.committedOffset, p.endOffset, p.lag]),
    ),
  ].join('\n');
}

function resetTarget(raw: string | boolean | undefined): ResetTarget {
  if (raw === 'earliest' || raw === 'latest') return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw)) return { offset: Number(raw) };
  throw new UsageError(`--to must be earliest, latest or an offset${raw === undefined ? '' : `, got '${String(raw)}'`}`);
}
