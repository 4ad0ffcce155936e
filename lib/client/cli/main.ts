import { ShardlogError } from '../../errors.js';
import { DEFAULT_URL, ShardlogClient } from '../client.js';
import { runAdminCommand } from './admin-commands.js';
import { parseCommandLine, USAGE, UsageError } from './args.js';
import { runConsume } from './consume-command.js';
import type { CliIo } from './io.js';
import { runProduce } from './produce-command.js';
import { runTop, wantsLiveView } from './top-command.js';

/** Exit codes: 0 done, 1 the command failed, 2 the command line was wrong, 130 interrupted before it began. */
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/**
 * The `shardlog` command line, in-process: parses `argv`, runs the command against `--url`, `SHARDLOG_URL`
 * or the local default, and turns any failure into one clear line on stderr and a non-zero exit code.
 *
 * @returns the process exit code.
 * @example
 * process.exitCode = await runCli(['topics', 'list'], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.values.help || parsed.command === '') {
      (parsed.values.help ? io.stdout : io.stderr).write(USAGE);
      return parsed.values.help ? EXIT_OK : EXIT_USAGE;
    }
    const url = (parsed.values.url as string | undefined) ?? (io.env.SHARDLOG_URL || DEFAULT_URL);
    const client = io.connect ? io.connect(url) : new ShardlogClient({ url });
    if (wantsLiveView(parsed)) {
      await runTop(client, parsed, io);
      return EXIT_OK;
    }
    switch (parsed.command) {
      case 'produce':
        await runProduce(client, parsed, io);
        break;
      case 'consume':
        await runConsume(client, parsed, io);
        break;
      default:
        await runAdminCommand(client, parsed, io);
    }
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`shardlog: ${error.message}\nRun 'shardlog --help' for usage.\n`);
      return EXIT_USAGE;
    }
    io.stderr.write(`shardlog: ${describeError(error)}\n`);
    return EXIT_FAILED;
  }
}

/** One line: the server's message and code, or the failure's own message; never a stack trace. */
function describeError(error: unknown): string {
  if (error instanceof ShardlogError) {
    const hint =
      error.code === 'UNAVAILABLE' && /cannot reach/.test(error.message) ? " (is the server running? start one with 'npm start')" : '';
    return `${error.message} [${error.code}]${hint}`.replace(/\s*\n\s*/g, ' ');
  }
  if (error instanceof Error) return error.message.replace(/\s*\n\s*/g, ' ');
  return String(error);
}
