import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { DATABASE_FILE } from './dynamodb-local.js';

/*
 * Start-up recovery of the local stack's data directory: what a crash (a SIGKILL, a power cut) of `npm start`
 * can leave torn in the emulators' files, found before they start and moved aside, so that the next start
 * never fails because of the last one.
 *
 * ```
 * <dataDir>/
 *   dynamodb/shared-local-instance.db     DynamoDB Local's SQLite file (+ `-journal` during a transaction)
 *   dynamodb/dynamodb-local.pid           the java process using it (see dynamodb-local.ts)
 *   s3/<bucket>/<key>._S3rver_object      s3rver: the object's bytes,
 *   s3/<bucket>/<key>._S3rver_object.md5  their MD5 (hex; the ETag),
 *   s3/<bucket>/<key>._S3rver_metadata.json   and its metadata (JSON), written in this order
 *   quarantine/<time>/<path>              what a recovery moved aside, at its path relative to <dataDir>
 * ```
 *
 * The rules (each file is moved, never deleted, so nothing is lost that a person could still rescue):
 * - s3rver answers HeadBucket and ListObjects by parsing the metadata of every object listed, so ONE metadata
 *   file that is not a JSON object makes the whole bucket answer 500 (and `npm start` fail). Such a file is
 *   quarantined; s3rver then serves the object with default metadata (shardlog stores none it needs). If the
 *   object's MD5 file is intact and the object's bytes do not match it, the object itself is torn: it is
 *   quarantined with its files (a read of it then finds no object instead of wrong bytes).
 * - An MD5 file that is not 32 hex digits is quarantined; s3rver computes it again from the object.
 * - A database file whose SQLite header is torn, or that is shorter than the header says, would make
 *   DynamoDB Local hang at start ("database disk image is malformed"): it is quarantined with its journal, and
 *   DynamoDB Local starts on an empty database (the stack creates its tables again; the topics, records and
 *   offsets DynamoDB held are gone, the S3 objects stay). A journal without its database is quarantined too
 *   (SQLite would roll it back into a new, empty file). While a journal is present, SQLite's own rollback
 *   decides, so the size check is skipped.
 * Torn objects with intact metadata are not looked for (that would read every object at every start): their
 * readers check every batch's CRC-32 and report them unreadable.
 *
 * Two more steps live where the processes are: an orphaned DynamoDB Local is stopped first
 * (`stopOrphanedDynamoDbLocal` in dynamodb-local.ts), and a database DynamoDB Local itself reports malformed,
 * or that fails its first requests with 500, is quarantined by `startLocalStack` (stack.ts), which then starts
 * DynamoDB Local again on an empty one.
 */

/** What a start-up recovery moved aside (see the rules at the top of this file). */
export interface Recovery {
  /** What was moved, relative to the data directory, with why. */
  readonly moved: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** Where it was moved (created on the first move). */
  readonly quarantineDir: string;
}

/** Moves torn files into one quarantine directory per start, keeping their paths relative to the data dir. */
export class Quarantine implements Recovery {
  readonly moved: Array<{ path: string; reason: string }> = [];
  readonly quarantineDir: string;

  constructor(
    private readonly dataDir: string,
    now: Date = new Date(),
  ) {
    this.quarantineDir = join(dataDir, 'quarantine', now.toISOString().replace(/[:.]/g, '-'));
  }

  /** Moves `file` (absolute, inside the data dir) aside; a file that is already gone is skipped. */
  async move(file: string, reason: string): Promise<void> {
    const path = relative(this.dataDir, file);
    const target = join(this.quarantineDir, path);
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(file, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    this.moved.push({ path, reason });
  }
}

const S3RVER_OBJECT = '._S3rver_object';
const S3RVER_MD5 = '._S3rver_object.md5';
const S3RVER_METADATA = '._S3rver_metadata.json';

/** Quarantines the torn files of s3rver's store under `s3Dir` (see {@link Recovery} for the rules). */
export async function repairS3Store(s3Dir: string, quarantine: Quarantine): Promise<void> {
  for await (const file of walk(s3Dir)) {
    if (!file.endsWith(S3RVER_METADATA)) {
      if (file.endsWith(S3RVER_MD5) && !isMd5(await readText(file))) await quarantine.move(file, 'torn checksum');
      continue;
    }
    if (isJsonObject(await readText(file))) continue;
    const base = file.slice(0, -S3RVER_METADATA.length);
    const object = `${base}${S3RVER_OBJECT}`;
    const recorded = await readText(`${object}.md5`);
    const actual = isMd5(recorded) ? await md5Of(object) : undefined;
    if (actual !== undefined && actual !== recorded!.trim()) {
      // The crash tore the object too: do not serve bytes that are not what was written.
      for (const part of [object, `${object}.md5`, file]) await quarantine.move(part, 'torn object');
    } else {
      await quarantine.move(file, 'torn metadata');
    }
  }
}

/** Quarantines DynamoDB Local's database file (and journal) when it is torn (see {@link Recovery}). */
export async function repairDynamoDbStore(dynamoDir: string, quarantine: Quarantine): Promise<void> {
  const db = join(dynamoDir, DATABASE_FILE);
  const journal = `${db}-journal`;
  const [dbSize, journalSize] = await Promise.all([sizeOf(db), sizeOf(journal)]);
  if (journalSize !== undefined && !dbSize) {
    await quarantine.move(journal, 'journal without its database');
    return;
  }
  if (!dbSize || (journalSize ?? 0) > 0 || (await sizeOf(`${db}-wal`)) !== undefined) return;
  const problem = sqliteProblem(await readHeader(db), dbSize);
  if (problem !== undefined) await quarantineDatabase(dynamoDir, quarantine, problem);
}

/** Moves the database file and whatever SQLite keeps beside it aside (DynamoDB Local then starts empty). */
export async function quarantineDatabase(dynamoDir: string, quarantine: Quarantine, reason: string): Promise<void> {
  const db = join(dynamoDir, DATABASE_FILE);
  for (const file of [db, `${db}-journal`, `${db}-wal`, `${db}-shm`]) await quarantine.move(file, reason);
}

/**
 * What is wrong with a SQLite file, judged by its 100-byte header (sqlite.org/fileformat.html §1.3), or
 * undefined when nothing is: the magic string, a page size that is a power of two in 512..65536, and a file
 * at least as long as the header's page count says (that count is valid when "version-valid-for" equals the
 * change counter, as every SQLite since 3.7.0 writes it; otherwise the file must be whole pages).
 */
export function sqliteProblem(header: Uint8Array, fileSize: number): string | undefined {
  if (header.length < 100) return 'torn database (no complete header)';
  if (Buffer.from(header.subarray(0, 16)).toString('latin1') !== 'SQLite format 3\0') return 'not a database (bad header)';
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const raw = view.getUint16(16);
  const pageSize = raw === 1 ? 65_536 : raw;
  if (pageSize < 512 || pageSize > 65_536 || (pageSize & (pageSize - 1)) !== 0) return 'torn database (bad page size)';
  const changeCounter = view.getUint32(24);
  const pages = view.getUint32(28);
  const validFor = view.getUint32(92);
  if (pages > 0 && validFor === changeCounter) {
    return fileSize < pages * pageSize ? `torn database (${fileSize} of ${pages * pageSize} bytes)` : undefined;
  }
  return fileSize % pageSize === 0 ? undefined : 'torn database (partial page)';
}

/** One line for the log, or undefined when nothing was recovered. */
export function describeRecovery(dataDir: string, recovery: Recovery, notes: readonly string[]): string | undefined {
  const parts = [...notes];
  if (recovery.moved.length > 0) {
    const shown = recovery.moved.slice(0, 3).map((m) => `${m.path} (${m.reason})`);
    const more = recovery.moved.length > shown.length ? `, and ${recovery.moved.length - shown.length} more` : '';
    parts.push(`moved ${recovery.moved.length} torn file(s) to ${recovery.quarantineDir}: ${shown.join(', ')}${more}`);
  }
  if (parts.length === 0) return undefined;
  return `shardlog: recovered ${dataDir} after an unclean stop: ${parts.join('; ')}`;
}

// ------------------------------------------------------------------------------------------------ helpers

async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // missing (a first start, or deleted): nothing to repair
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

async function readHeader(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(100);
    const { bytesRead } = await handle.read(buffer, 0, 100, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function isMd5(text: string | undefined): boolean {
  return text !== undefined && /^[0-9a-f]{32}$/.test(text.trim());
}

function isJsonObject(text: string | undefined): boolean {
  if (text === undefined) return true; // gone meanwhile: s3rver treats a missing metadata file as none
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

async function md5Of(file: string): Promise<string | undefined> {
  try {
    const hash = createHash('md5');
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}
