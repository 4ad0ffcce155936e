/**
 * `npm start`: runs the embedded local stack (API.md, "Local server").
 *
 *   npm start [-- --in-memory] [-- --port N]
 *
 * Environment: PORT (default 4000; `--port` wins), SHARDLOG_DATA_DIR (default `.shardlog/` in the working
 * directory), SHARDLOG_MAINTENANCE_INTERVAL_MS (default 5000). Stops cleanly, children included, on
 * SIGINT/SIGTERM; a second signal (a second later or more) forces the exit.
 */
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { DataDirInUseError, JavaNotFoundError } from '../infra/local/dynamodb-local.js';
import { DEFAULT_MAINTENANCE_INTERVAL_MS, startLocalStack, type LocalStack } from '../infra/local/stack.js';
import { quietSdkNodeVersionWarning } from '../infra/local/local-env.js';

const DEFAULT_PORT = 4000;
const DEFAULT_DATA_DIR = '.shardlog';
/** Signals closer together than this count as one (see onSignal). */
const DOUBLE_SIGNAL_WINDOW_MS = 1_000;

const USAGE = `usage: npm start [-- --in-memory] [-- --port N]
  --in-memory   keep nothing (DynamoDB Local in memory, S3 in a temp dir)
  --port N      HTTP port (default: $PORT or ${DEFAULT_PORT})
env: SHARDLOG_DATA_DIR (default ./${DEFAULT_DATA_DIR}), SHARDLOG_MAINTENANCE_INTERVAL_MS (default ${DEFAULT_MAINTENANCE_INTERVAL_MS})`;

interface CliOptions {
  readonly inMemory: boolean;
  readonly port: number;
  readonly dataDir: string;
  readonly maintenanceIntervalMs: number;
}

function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      'in-memory': { type: 'boolean', default: false },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return {
    inMemory: values['in-memory'] ?? false,
    port: parseNumber('--port / PORT', values.port ?? env['PORT'], DEFAULT_PORT, 65_535),
    dataDir: resolvePath(env['SHARDLOG_DATA_DIR'] || DEFAULT_DATA_DIR),
    maintenanceIntervalMs: parseNumber(
      'SHARDLOG_MAINTENANCE_INTERVAL_MS',
      env['SHARDLOG_MAINTENANCE_INTERVAL_MS'],
      DEFAULT_MAINTENANCE_INTERVAL_MS,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

function parseNumber(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new UsageError(`${name} must be an integer in 0..${max}, got '${raw}'`);
  return value;
}

class UsageError extends Error {}

async function main(): Promise<number> {
  quietSdkNodeVersionWarning();
  let options: CliOptions | 'help';
  try {
    options = parseCli(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }

  // Signals may arrive while the stack is still starting: remember them and stop as soon as it is up.
  let stack: LocalStack | undefined;
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      console.error(`shardlog: ${signal} received, stopping…`);
      stopRequested?.();
      return;
    }
    // One Ctrl-C often arrives twice: the terminal signals the whole process group, and tsx (the parent
    // under `npm start`) relays the same signal again when it misses the child's acknowledgement. Only a
    // later, deliberate second signal forces the exit; the launcher's 'exit' hook still kills java then.
    if (Date.now() - firstSignalAt < DOUBLE_SIGNAL_WINDOW_MS) return;
    console.error(`shardlog: ${signal} again, exiting now`);
    process.exit(1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    stack = await startLocalStack({
      inMemory: options.inMemory,
      dataDir: options.dataDir,
      port: options.port,
      maintenanceIntervalMs: options.maintenanceIntervalMs,
    });
  } catch (error) {
    if (error instanceof JavaNotFoundError || error instanceof DataDirInUseError) {
      console.error(`shardlog: cannot start the local stack.\n${error.message}`);
    } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`shardlog: port ${options.port} is already in use; choose another with PORT=… or --port …`);
    } else {
      console.error('shardlog: the local stack failed to start:', error);
    }
    return 1;
  }

  const where = options.inMemory ? 'in memory' : `data in ${options.dataDir}`;
  console.log(`shardlog listening on ${stack.url} (${where})`);

  await stopSignal;
  await stack.stop();
  console.error('shardlog: stopped');
  return 0;
}

process.exitCode = await main();
// Exit explicitly: an SDK socket or a stray timer must not keep a stopped server alive.
process.exit();
