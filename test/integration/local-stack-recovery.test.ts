import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, truncate, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DATABASE_FILE, PID_FILE, stopOrphanedDynamoDbLocal } from '../../infra/local/dynamodb-local.js';
import { prng } from '../../bench/workload.js';
import { ShardlogClient } from '../../lib/client/index.js';

/*
 * A crash of the local stack at any moment must never stop the next `npm start`. The stack runs as a child
 * process on a temp data dir, exactly as `npm start` runs it; between runs it is stopped (cleanly, or by
 * SIGKILL, which leaves DynamoDB Local behind as an orphan), and emulator files are truncated or deleted:
 * first the two known torn files (an s3rver metadata file, DynamoDB Local's database), then at random from
 * a seed. Every run must start and serve health, topics and fetch; data whose files were not destroyed must
 * read back byte for byte; data whose object file was destroyed may be unreadable, but never wrong.
 * Replay a failure with SHARDLOG_RECOVERY_SEED=<seed printed in the error>.
 */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SEED = Number(process.env['SHARDLOG_RECOVERY_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const START_TIMEOUT_MS = 90_000;

interface Running {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the stack printed (stdout and stderr). */
  output(): string;
  readonly exited: Promise<void>;
}

let dataDir: string;
let current: Running | undefined;
/** Topic names by the topicId their objects are stored under, to list files in an order a seed can replay. */
const topicNames = new Map<string, string>();

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shardlog-recovery-'));
});
afterAll(async () => {
  if (current) await stopStack(current, 'clean');
  await stopOrphanedDynamoDbLocal(join(dataDir, 'dynamodb')).catch(() => undefined);
  await rm(dataDir, { recursive: true, force: true });
});

/** Starts the stack on `dataDir` with `npm start` or as `node --import tsx bin/local.ts` (one process to kill). */
async function startStack(how: 'npm' | 'node'): Promise<Running> {
  const env = {
    ...process.env,
    SHARDLOG_DATA_DIR: dataDir,
    PORT: '0',
    SHARDLOG_MAINTENANCE_INTERVAL_MS: '3600000',
    NODE_NO_WARNINGS: '1',
  };
  const child =
    how === 'npm'
      ? spawn('npm', ['start', '--silent'], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const check = () => {
      const match = /shardlog listening on (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the stack exited during start (code ${child.exitCode}):\n${output}`));
    });
  });
  current = { url, child, output: () => output, exited };
  return current;
}

/**
 * `clean`: SIGTERM, as Ctrl-C (to npm's whole group when run by npm; npm exits at once, the stack after it
 * has stopped DynamoDB Local, which removes the pid file). `crash`: SIGKILL of the stack alone, which leaves
 * DynamoDB Local running as an orphan. `power-cut`: SIGKILL of the stack and of DynamoDB Local at once.
 */
async function stopStack(running: Running, how: 'clean' | 'crash' | 'power-cut'): Promise<void> {
  const pid = running.child.pid!;
  const java = readJavaPid();
  if (how === 'clean') {
    try {
      process.kill(-pid, 'SIGTERM'); // npm start runs detached: its group is npm, sh, tsx and node
    } catch {
      process.kill(pid, 'SIGTERM');
    }
  } else process.kill(pid, 'SIGKILL');
  await running.exited;
  current = undefined;
  if (how === 'power-cut' && java !== undefined) process.kill(-java, 'SIGKILL');
  if (how !== 'crash' && java !== undefined) {
    await vi.waitFor(() => expect(isRunning(java)).toBe(false), { timeout: 30_000, interval: 100 });
  }
}

/** The java process the stack's pid file names (ours: started by the stack this test started). */
function readJavaPid(): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(dataDir, 'dynamodb', PID_FILE), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** True while `pid` runs; a zombie (dead, not yet reaped by init) does not count. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------------------------------ the data

/** What was written to a topic, per partition, and the topic's ids as found in the bucket's key prefixes. */
interface Written {
  readonly topic: string;
  readonly partitions: unknown[][];
  readonly topicIds: Set<string>;
}

/** The topicIds under which the segment bucket holds objects (`segments/<id>/…`, `spill/p/<id>/…`). */
function topicIdsInBucket(): Set<string> {
  const ids = new Set<string>();
  for (const file of emulatorFiles()) {
    const parts = relative(join(dataDir, 's3'), file).split(sep);
    if (parts[1] === 'segments') ids.add(parts[2]!);
    if (parts[1] === 'spill') ids.add(parts[3]!);
  }
  return ids;
}

/** A value whose batch stays above the 8 KiB spill threshold after compression. */
const incompressible = () => randomBytes(12 * 1024).toString('base64');

/** Writes three topics: hot (DynamoDB only), cold (tiered to a segment, one batch spilled first), spilled. */
async function writeRound(url: string, round: number): Promise<Written[]> {
  const client = new ShardlogClient({ url });
  const written: Written[] = [];
  const track = async (topic: string, partitions: unknown[][], write: () => Promise<void>) => {
    const before = topicIdsInBucket();
    await write();
    const topicIds = new Set([...topicIdsInBucket()].filter((id) => !before.has(id)));
    for (const id of topicIds) topicNames.set(id, topic);
    written.push({ topic, partitions, topicIds });
  };

  const hot = `hot-r${round}`;
  const hotValues = [0, 1].map((p) => Array.from({ length: 10 }, (_, i) => ({ round, p, i })));
  await track(hot, hotValues, async () => {
    await client.createTopic({ name: hot, partitions: 2 });
    for (const p of [0, 1]) await client.produce(hot, hotValues[p]!.map((value) => ({ value, partition: p })));
  });

  const cold = `cold-r${round}`;
  const coldValues = [[...Array.from({ length: 5 }, (_, i) => `small-${round}-${i}`), incompressible()]];
  await track(cold, coldValues, async () => {
    await client.createTopic({ name: cold, partitions: 1, retentionHours: 8760 }); // longer than hot retention: tiered
    await client.produce(cold, coldValues[0]!.slice(0, 5).map((value) => ({ value, partition: 0 })));
    await client.produce(cold, [{ value: coldValues[0]![5]!, partition: 0 }]);
    const pass = await client.runMaintenance({ topic: cold, tierOlderThanMs: 0 });
    expect(pass.tiered.segments).toBeGreaterThan(0);
  });

  const spilled = `spill-r${round}`;
  const spillValues = [[incompressible(), incompressible()]];
  await track(spilled, spillValues, async () => {
    await client.createTopic({ name: spilled, partitions: 1 });
    for (const value of spillValues[0]!) await client.produce(spilled, [{ value, partition: 0 }]);
  });
  return written;
}

/** Reads a partition from offset 0 to its end over plain HTTP (no client retries): status and values. */
async function readAll(url: string, topic: string, partition: number): Promise<{ status: number; values: unknown[]; body?: unknown }> {
  const values: unknown[] = [];
  for (let offset = 0; ; ) {
    const response = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}&limit=1000`);
    const body = (await response.json()) as { records: Array<{ offset: number; value: unknown }>; nextOffset: number; endOffset: number };
    if (response.status !== 200) return { status: response.status, values, body };
    for (const r of body.records) {
      expect(r.offset).toBe(values.length);
      values.push(r.value);
    }
    if (body.nextOffset >= body.endOffset || body.records.length === 0) return { status: 200, values };
    offset = body.nextOffset;
  }
}

// ---------------------------------------------------------------------------------------------- the damage

/**
 * Every file the emulators keep (not our pid file, which is written by rename and cannot be torn), in an
 * order that does not depend on the random parts of keys (topicIds, spill object ids), so a seed replays.
 * s3rver's files come first: DynamoDB Local's journal exists or not depending on when a power cut struck
 * (timing, hence load), and listed first it would shift every pick among the S3 files by one.
 */
function emulatorFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!name.startsWith(PID_FILE)) files.push(path);
    }
  };
  walk(join(dataDir, 's3'));
  walk(join(dataDir, 'dynamodb'));
  const stable = (file: string) =>
    relative(dataDir, file)
      .split(sep)
      .map((part) => topicNames.get(part) ?? part.replace(/^[0-9a-f-]{36}\.batch/, 'spill.batch'))
      .join('/');
  const born = (file: string) => statSync(file).birthtimeMs || statSync(file).ctimeMs;
  const key = (file: string) => `${file.startsWith(join(dataDir, 's3')) ? 0 : 1}/${stable(file)}`;
  return files.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : born(a) - born(b)));
}

interface Damage {
  readonly file: string;
  readonly action: 'truncate' | 'delete';
}

/**
 * Every object file (`._S3rver_object`) any run so far truncated or deleted. Destruction is permanent: an
 * object destroyed before one restart is still destroyed after the next, so its partition stays allowed to be
 * unreadable (never wrong) in every later check, not only in the check right after the damage.
 */
const destroyedObjects = new Set<string>();

async function inflict(damage: Damage[], cuts: number[]): Promise<void> {
  for (const [i, d] of damage.entries()) {
    if (d.file.endsWith('._S3rver_object')) destroyedObjects.add(d.file);
    if (d.action === 'delete') await unlink(d.file);
    else await truncate(d.file, Math.floor(statSync(d.file).size * cuts[i]!));
  }
}

/** One to three files, each truncated at a random length or deleted; one pick in four among DynamoDB's files. */
function damagePlan(random: () => number, files: string[]): Array<Damage & { cut: number }> {
  const inDynamoDb = files.filter((f) => f.startsWith(join(dataDir, 'dynamodb')));
  const plan = new Map<string, Damage & { cut: number }>();
  for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
    const from = random() < 0.25 && inDynamoDb.length > 0 ? inDynamoDb : files;
    const file = from[Math.floor(random() * from.length)]!;
    plan.set(file, { file, action: random() < 0.5 ? 'delete' : 'truncate', cut: random() });
  }
  return [...plan.values()];
}

/**
 * Checks what must hold after a restart on damaged files; returns the topics still expected to exist.
 * Damage to DynamoDB's database destroys what DynamoDB held: the torn file is quarantined and DynamoDB Local
 * starts empty (`emptied`), or SQLite's rollback of a journal left by a power cut made what it could of it;
 * either way the stack serves, and nothing of the old topics is asserted any more.
 */
async function verify(url: string, expected: Written[], damage: Damage[], options: { emptied?: boolean } = {}): Promise<Written[]> {
  expect(await (await fetch(`${url}/v1/health`)).json()).toEqual({ status: 'ok' });
  const listed = await fetch(`${url}/v1/topics`);
  expect(listed.status).toBe(200);
  const names = ((await listed.json()) as { topics: Array<{ name: string }> }).topics.map((t) => t.name);
  if (options.emptied) expect(names).toEqual([]);
  if (damage.some((d) => basename(d.file).startsWith(DATABASE_FILE))) return [];
  expect(names).toEqual(expect.arrayContaining(expected.map((w) => w.topic)));
  // Only a destroyed object file makes its partition unreadable; torn metadata and checksums are repaired.
  // Objects destroyed by an earlier run count too: nothing brings them back.
  const destroyed = [...destroyedObjects].map((file) => relative(join(dataDir, 's3'), file).split(sep));
  for (const w of expected) {
    for (const [partition, values] of w.partitions.entries()) {
      const hit = destroyed.some((parts) => {
        const [id, p] = parts[1] === 'segments' ? [parts[2], parts[3]] : [parts[3], parts[4]];
        return w.topicIds.has(id!) && Number(p) === partition;
      });
      const read = await readAll(url, w.topic, partition);
      if (!hit) {
        expect(read, `${w.topic}/${partition}`).toEqual({ status: 200, values });
      } else {
        // Unreadable is allowed; wrong bytes are not: what it returns is a prefix of what was written.
        expect(values.slice(0, read.values.length), `${w.topic}/${partition}`).toEqual(read.values);
        if (read.status !== 200) expect(read.body, `${w.topic}/${partition}`).toMatchObject({ error: { code: expect.any(String) } });
      }
    }
  }
  return expected;
}

const recoveryLines = (output: string) => output.split('\n').filter((line) => line.startsWith('shardlog: recovered '));

describe('local stack recovery after a crash', () => {
  it(`starts and serves after every kind of torn or lost emulator file (seed ${SEED})`, async () => {
    let damage: Damage[] = [];
    const random = prng(SEED); // seeded (mulberry32): a seed replays the same damage
    try {
      // Run 0: data, then a crash (SIGKILL: DynamoDB Local stays behind) and the torn metadata file.
      let stack = await startStack('node');
      let expected = await writeRound(stack.url, 0);
      await stopStack(stack, 'crash');
      const metadata = emulatorFiles().find((f) => f.includes(`${sep}segments${sep}`) && f.endsWith('._S3rver_metadata.json'))!;
      damage = [{ file: metadata, action: 'truncate' }];
      await inflict(damage, [0]);

      // Run 1, by `npm start` itself: it stops the orphan, moves the torn file aside, says so in ONE line.
      stack = await startStack('npm');
      const [line, ...more] = recoveryLines(stack.output());
      expect(more).toEqual([]);
      expect(line).toMatch(/stopped an orphaned DynamoDB Local \(pid \d+\)/);
      expect(line).toContain('._S3rver_metadata.json (torn metadata)');
      expect(line).toContain(join(dataDir, 'quarantine'));
      expected = await verify(stack.url, expected, damage);
      expected.push(...(await writeRound(stack.url, 1)));
      await stopStack(stack, 'clean');
      damage = [{ file: join(dataDir, 'dynamodb', DATABASE_FILE), action: 'truncate' }];
      await inflict(damage, [0.01 + 0.98 * random()]);

      // Run 2: the torn database is quarantined; DynamoDB Local starts empty instead of hanging.
      stack = await startStack('node');
      expect(recoveryLines(stack.output())).toEqual([expect.stringContaining(`dynamodb${sep}${DATABASE_FILE} (`)]);
      expected = await verify(stack.url, expected, damage, { emptied: true });

      // Runs 3 and 4: random damage from the seed, after a clean stop or a power cut.
      for (const round of [2, 3]) {
        expected.push(...(await writeRound(stack.url, round)));
        await stopStack(stack, random() < 0.5 ? 'power-cut' : 'clean');
        const plan = damagePlan(random, emulatorFiles());
        damage = plan;
        await inflict(plan, plan.map((p) => p.cut));

        stack = await startStack('node');
        expect(recoveryLines(stack.output()).length).toBeLessThanOrEqual(1);
        expected = await verify(stack.url, expected, damage);
      }
      await stopStack(stack, 'clean');
    } catch (error) {
      const context = [
        `damage: ${JSON.stringify(damage.map((d) => ({ file: relative(dataDir, d.file), action: d.action })))}`,
        ...recoveryLines(current?.output() ?? ''),
      ].join('\n');
      throw new Error(`local stack recovery failed; replay with SHARDLOG_RECOVERY_SEED=${SEED}: ${(error as Error).message}\n${context}`, {
        cause: error,
      });
    }
  }, 300_000);
});
