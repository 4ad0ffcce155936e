import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, PID_FILE, stopOrphanedDynamoDbLocal } from '../../../../infra/local/dynamodb-local.js';

/*
 * No java here: a node process whose command line looks like DynamoDB Local's on `dir` stands in for one
 * (`… DynamoDBLocal.jar -dbPath <dir> -port …`), detached like the real one.
 */
let dir: string;
const children: ChildProcess[] = [];
/** Processes no ChildProcess of ours tracks (re-parented), killed after each test if still there. */
const orphans: number[] = [];

/** True while `pid` runs; a zombie (dead, not yet reaped by init, which may take a second) does not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat');
  }
}

function fakeDynamoDbLocal(dbPath: string): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', 'DynamoDBLocal.jar', '-dbPath', dbPath, '-port', '1'], {
    detached: true,
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve));

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await exited(child);
  return child.pid!;
}

const writePidFile = (record: object | string) =>
  writeFile(join(dir, PID_FILE), typeof record === 'string' ? record : JSON.stringify(record));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shardlog-pid-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  }
  for (const pid of orphans.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('stopOrphanedDynamoDbLocal', () => {
  it('stops the DynamoDB Local a crashed start left running on the directory, and removes its pid file', async () => {
    const orphan = fakeDynamoDbLocal(dir);
    await new Promise((resolve) => orphan.once('spawn', resolve));
    await writePidFile({ pid: orphan.pid, owner: await deadPid(), dbPath: dir });

    expect(await stopOrphanedDynamoDbLocal(dir)).toEqual([orphan.pid]);
    await exited(orphan);
    expect(existsSync(join(dir, PID_FILE))).toBe(false);
  });

  it('refuses to touch a DynamoDB Local whose starter is alive: another stack uses the directory', async () => {
    const live = fakeDynamoDbLocal(dir);
    await new Promise((resolve) => live.once('spawn', resolve));
    await writePidFile({ pid: live.pid, owner: process.pid, dbPath: dir });

    await expect(stopOrphanedDynamoDbLocal(dir)).rejects.toBeInstanceOf(DataDirInUseError);
    expect(live.exitCode).toBeNull();
    expect(live.signalCode).toBeNull();
  });

  it('signals nothing when the pid now names another process, or DynamoDB Local on another directory', async () => {
    await writePidFile({ pid: process.pid, owner: await deadPid(), dbPath: dir });
    expect(await stopOrphanedDynamoDbLocal(dir)).toEqual([]);
    expect(existsSync(join(dir, PID_FILE))).toBe(false);

    const elsewhere = fakeDynamoDbLocal(`${dir}-other`);
    await new Promise((resolve) => elsewhere.once('spawn', resolve));
    await writePidFile({ pid: elsewhere.pid, owner: await deadPid(), dbPath: dir });
    expect(await stopOrphanedDynamoDbLocal(dir)).toEqual([]);
    expect(elsewhere.exitCode).toBeNull();
  });

  it('removes a torn pid file and one that names no live process', async () => {
    await writePidFile('{"pid":12');
    expect(await stopOrphanedDynamoDbLocal(dir)).toEqual([]);
    expect(existsSync(join(dir, PID_FILE))).toBe(false);

    await writePidFile({ pid: await deadPid(), owner: await deadPid(), dbPath: dir });
    expect(await stopOrphanedDynamoDbLocal(dir)).toEqual([]);
    expect(existsSync(join(dir, PID_FILE))).toBe(false);
    expect(await stopOrphanedDynamoDbLocal(dir)).toEqual([]); // no pid file at all
  });

  it('finds an orphan with no pid file (a crash before it was written) by its command line', async () => {
    // The starter spawns it detached and exits at once: the orphan is re-parented (to init), as java is when
    // `npm start` is killed.
    const starter = spawn(
      process.execPath,
      [
        '-e',
        `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)', 'DynamoDBLocal.jar', '-dbPath', ${JSON.stringify(dir)}], { detached: true, stdio: 'ignore' }); console.log(c.pid); c.unref();`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    starter.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await exited(starter);
    orphans.push(Number(out.trim()));

    expect(await stopOrphanedDynamoDbLocal(dir)).toEqual([Number(out.trim())]);
    expect(isAlive(Number(out.trim()))).toBe(false);
  });
});
