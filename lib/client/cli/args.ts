import { parseArgs } from 'node:util';

/** A mistake in the command line: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {}

/** Every option of every command; each command then accepts only its own (see {@link COMMAND_OPTIONS}). */
const OPTIONS = {
  url: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  partitions: { type: 'string' },
  'retention-hours': { type: 'string' },
  key: { type: 'string' },
  group: { type: 'string' },
  partition: { type: 'string' },
  offset: { type: 'string' },
  from: { type: 'string' },
  max: { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  to: { type: 'string' },
  topic: { type: 'string' },
  interval: { type: 'string' },
  iterations: { type: 'string' },
  watch: { type: 'boolean', short: 'w' },
  'share-group': { type: 'string' },
} as const;

export type OptionName = keyof typeof OPTIONS;

const GLOBAL: OptionName[] = ['url', 'json', 'help'];

/** Which options each command takes, besides `--url`, `--json` and `--help`. */
const COMMAND_OPTIONS: Record<string, OptionName[]> = {
  'topics create': ['partitions', 'retention-hours'],
  'topics list': [],
  'topics describe': [],
  'topics delete': [],
  produce: ['key'],
  consume: ['group', 'share-group', 'partition', 'offset', 'from', 'max', 'follow'],
  'groups list': [],
  'groups describe': ['watch', 'interval', 'iterations'],
  'groups reset': ['to', 'partition'],
  'groups subscribe': [],
  'groups unsubscribe': [],
  'groups delete': [],
  'share-groups list': [],
  'share-groups describe': [],
  'share-groups delete': [],
  maintenance: ['topic'],
  top: ['topic', 'group', 'interval', 'iterations'],
};

export interface ParsedArgs {
  /** `topics create`, `produce`, … or `''` when none was given. */
  command: string;
  /** Positionals after the command words. */
  args: string[];
  values: Partial<Record<OptionName, string | boolean>>;
}

/**
 * Parses `argv` (without `node` and the script). Options may come before or after the command.
 * @throws UsageError for unknown options, unknown commands or options the command does not take.
 */
export function parseCommandLine(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const positionals = parsed.positionals;
  const values = parsed.values as ParsedArgs['values'];
  const [first = '', second = ''] = positionals;
  let command = first;
  let args = positionals.slice(1);
  if (first === 'topics' || first === 'groups' || first === 'share-groups') {
    command = second ? `${first} ${second}` : first;
    args = positionals.slice(2);
  }
  if (command === '' || values.help) return { command, args, values };
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command '${command}'`);
  for (const name of Object.keys(values) as OptionName[]) {
    if (!GLOBAL.includes(name) && !allowed.includes(name)) {
      throw new UsageError(`'${command}' does not take --${name}`);
    }
  }
  return { command, args, values };
}

/** An integer option, or `undefined` when absent. */
export function intOption(values: ParsedArgs['values'], name: OptionName, min = 0): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} must be an integer${min > 0 ? ` ≥ ${min}` : min === 0 ? ' ≥ 0' : ''}, got '${String(raw)}'`);
  }
  return value;
}

/** A positive number option (may be fractional), or `undefined` when absent. */
export function numberOption(values: ParsedArgs['values'], name: OptionName): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a positive number, got '${String(raw)}'`);
  }
  return value;
}

/** The positional argument at `index`, or a usage error naming it. */
export function required(args: string[], index: number, name: string, command: string): string {
  const value = args[index];
  if (value === undefined || value === '') throw new UsageError(`'${command}' needs <${name}>`);
  return value;
}

export function noMoreArgs(args: string[], count: number, command: string): void {
  if (args.length > count) throw new UsageError(`'${command}' got an unexpected argument '${args[count]}'`);
}

export const USAGE = `Usage: shardlog <command> [options]

Topics
  shardlog topics create <name> [--partitions N] [--retention-hours H]
  shardlog topics list
  shardlog topics describe <name>
  shardlog topics delete <name>

Records
  shardlog produce <topic> [--key <field>]
      one record per line of stdin: a JSON value, or a string when the line is not JSON;
      --key takes the record key from that field of JSON objects (a.b for nested fields)
  shardlog consume <topic> [--group <g>] [--partition P --offset O | --from earliest|latest]
                           [--max N] [--follow]
      one JSON line per record on stdout: partition, offset, key, value, headers, timestamp;
      with --group, subscribes the group to the topic, reads the group's partitions from its committed
      offsets and commits as it goes; --from then says where a partition the group never committed
      starts (Kafka's auto.offset.reset, default earliest)

Consumer groups
  shardlog groups list
  shardlog groups describe <group> [--watch [--interval S]]
  shardlog groups subscribe <group> <topic>      the group may read the topic (creates the group)
  shardlog groups unsubscribe <group> <topic>    it stops reading it; committed offsets stay
  shardlog groups reset <group> <topic> --to earliest|latest|<offset> [--partition P]
  shardlog groups delete <group>                 the group, its subscriptions and committed offsets;
                                                 refused while a member is live

Share groups (queue semantics: any number of workers, each record acknowledged one by one)
  shardlog consume <topic> --share-group <g> [--from earliest|latest] [--max N] [--follow]
      one JSON line per record (with its deliveryCount); each record written is accepted, those past
      --max are released for others; --from says where a new subscription starts (default latest)
  shardlog share-groups list
  shardlog share-groups describe <group>
  shardlog share-groups delete <group>

Operations
  shardlog maintenance [--topic t]     run one tiering, retention and group expiry pass now
  shardlog top [--topic t] [--group g] [--interval S] [--iterations N]
      live view, every S seconds (default 2): records/s in per topic, lag and records/s out per
      group and topic; redraws in place on a terminal, prints key=value lines otherwise (--json: one
      JSON line per refresh); Ctrl-C to quit. 'groups describe <g> --watch' is 'top --group g'

Options
  --url <url>   API base URL (default: $SHARDLOG_URL, else http://127.0.0.1:4000); https endpoints
                other than localhost are signed with SigV4 (standard AWS credentials, AWS_REGION)
  --json        print the API's JSON response instead of a table
  -h, --help    show this help
`;
