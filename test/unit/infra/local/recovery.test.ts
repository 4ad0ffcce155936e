import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../../../infra/local/dynamodb-local.js';
import {
  describeRecovery,
  Quarantine,
  repairDynamoDbStore,
  repairS3Store,
  sqliteProblem,
} from '../../../../infra/local/recovery.js';

/** A SQLite header as SQLite 3.7+ writes it: page size, change counter, page count, version-valid-for. */
function sqliteHeader(pageSize: number, pages: number, options: { sizeValid?: boolean } = {}): Buffer {
  const header = Buffer.alloc(100);
  header.write('SQLite format 3\0', 0, 'latin1');
  header.writeUInt16BE(pageSize === 65_536 ? 1 : pageSize, 16);
  header.writeUInt32BE(7, 24); // change counter
  header.writeUInt32BE(pages, 28);
  header.writeUInt32BE(options.sizeValid === false ? 6 : 7, 92); // version-valid-for
  return header;
}

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'shardlog-recovery-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

async function put(path: string, content: string | Buffer): Promise<string> {
  const file = join(dataDir, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

/** An object as s3rver stores it: bytes, MD5 and metadata files side by side. */
async function s3Object(key: string, bytes: string, parts: { md5?: string; metadata?: string } = {}): Promise<void> {
  const base = `s3/bucket/${key}`;
  await put(`${base}._S3rver_object`, bytes);
  await put(`${base}._S3rver_object.md5`, parts.md5 ?? createHash('md5').update(bytes).digest('hex'));
  await put(`${base}._S3rver_metadata.json`, parts.metadata ?? '{\n  "content-type": "application/octet-stream"\n}');
}

describe('sqliteProblem', () => {
  const pageSizes = fc.constantFrom(512, 1024, 4096, 65_536);

  it('accepts a database file at least as long as its header says', () => {
    fc.assert(
      fc.property(pageSizes, fc.integer({ min: 1, max: 10_000 }), fc.nat({ max: 3 }), (pageSize, pages, extraPages) => {
        expect(sqliteProblem(sqliteHeader(pageSize, pages), (pages + extraPages) * pageSize)).toBeUndefined();
      }),
    );
  });

  it('finds a database file cut short of its page count, or cut inside a page when the count is not valid', () => {
    fc.assert(
      fc.property(pageSizes, fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (pageSize, pages, cut) => {
        const size = Math.max(100, Math.floor(pages * pageSize * cut));
        expect(sqliteProblem(sqliteHeader(pageSize, pages), size)).toMatch(/torn/);
        if (size % pageSize !== 0) expect(sqliteProblem(sqliteHeader(pageSize, pages, { sizeValid: false }), size)).toMatch(/torn/);
      }),
    );
  });

  it('finds a torn or foreign header', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), (length) => {
        expect(sqliteProblem(sqliteHeader(4096, 10).subarray(0, length), 40_960)).toBeDefined();
      }),
    );
    expect(sqliteProblem(Buffer.alloc(100), 40_960)).toMatch(/not a database/);
    const badPageSize = sqliteHeader(4096, 10);
    badPageSize.writeUInt16BE(3000, 16);
    expect(sqliteProblem(badPageSize, 40_960)).toMatch(/page size/);
  });
});

describe('repairS3Store', () => {
  it('moves a metadata file that is not JSON aside and keeps the object, whose bytes match its MD5', async () => {
    await s3Object('segments/a/0/x.seg', 'segment bytes', { metadata: '' });
    await s3Object('segments/a/0/y.seg', 'other bytes', { metadata: '{"content-ty' });
    await s3Object('segments/a/0/z.seg', 'intact bytes');
    const quarantine = new Quarantine(dataDir, new Date(0));

    await repairS3Store(join(dataDir, 's3'), quarantine);

    expect(quarantine.moved.map((m) => m.path).sort()).toEqual([
      's3/bucket/segments/a/0/x.seg._S3rver_metadata.json',
      's3/bucket/segments/a/0/y.seg._S3rver_metadata.json',
    ]);
    expect(existsSync(join(dataDir, 's3/bucket/segments/a/0/x.seg._S3rver_object'))).toBe(true);
    expect(await readFile(join(quarantine.quarantineDir, 's3/bucket/segments/a/0/x.seg._S3rver_metadata.json'), 'utf8')).toBe('');
    expect(existsSync(join(dataDir, 's3/bucket/segments/a/0/z.seg._S3rver_metadata.json'))).toBe(true);
  });

  it('moves an object whose bytes do not match its MD5 aside with its files when its metadata is torn too', async () => {
    await s3Object('spill/p/a/0/u.batch', 'the whole batch', { metadata: '' });
    await writeFile(join(dataDir, 's3/bucket/spill/p/a/0/u.batch._S3rver_object'), 'the who'); // torn by the crash
    const quarantine = new Quarantine(dataDir, new Date(0));

    await repairS3Store(join(dataDir, 's3'), quarantine);

    expect(quarantine.moved.map((m) => m.reason)).toEqual(['torn object', 'torn object', 'torn object']);
    expect(existsSync(join(dataDir, 's3/bucket/spill/p/a/0/u.batch._S3rver_object'))).toBe(false);
  });

  it('moves a torn MD5 file aside and leaves objects without metadata (s3rver serves those) alone', async () => {
    await s3Object('segments/b/0/x.seg', 'bytes', { md5: 'd41d8c' });
    await s3Object('segments/b/0/y.seg', 'bytes');
    await rm(join(dataDir, 's3/bucket/segments/b/0/y.seg._S3rver_metadata.json'));
    const quarantine = new Quarantine(dataDir, new Date(0));

    await repairS3Store(join(dataDir, 's3'), quarantine);

    expect(quarantine.moved).toEqual([{ path: 's3/bucket/segments/b/0/x.seg._S3rver_object.md5', reason: 'torn checksum' }]);
  });

  it('does nothing on a missing or clean store', async () => {
    const quarantine = new Quarantine(dataDir, new Date(0));
    await repairS3Store(join(dataDir, 's3'), quarantine);
    await s3Object('k', 'v');
    await repairS3Store(join(dataDir, 's3'), quarantine);
    expect(quarantine.moved).toEqual([]);
    expect(existsSync(quarantine.quarantineDir)).toBe(false);
    expect(describeRecovery(dataDir, quarantine, [])).toBeUndefined();
  });
});

describe('repairDynamoDbStore', () => {
  const db = `dynamodb/${DATABASE_FILE}`;

  it('moves a database cut short aside with its journal, and leaves a whole one alone', async () => {
    await put(db, Buffer.concat([sqliteHeader(1024, 4), Buffer.alloc(4 * 1024 - 100)]));
    const quarantine = new Quarantine(dataDir, new Date(0));
    await repairDynamoDbStore(join(dataDir, 'dynamodb'), quarantine);
    expect(quarantine.moved).toEqual([]);

    await put(db, Buffer.concat([sqliteHeader(1024, 4), Buffer.alloc(2 * 1024)]));
    await repairDynamoDbStore(join(dataDir, 'dynamodb'), quarantine);
    expect(quarantine.moved.map((m) => m.path)).toEqual([db]);
    expect(existsSync(join(dataDir, db))).toBe(false);
  });

  it('leaves a database with a journal to SQLite’s rollback, and moves a journal without its database aside', async () => {
    await put(db, Buffer.concat([sqliteHeader(1024, 4), Buffer.alloc(100)]));
    await put(`${db}-journal`, Buffer.alloc(512, 1));
    const quarantine = new Quarantine(dataDir, new Date(0));
    await repairDynamoDbStore(join(dataDir, 'dynamodb'), quarantine);
    expect(quarantine.moved).toEqual([]);

    await rm(join(dataDir, db));
    await repairDynamoDbStore(join(dataDir, 'dynamodb'), quarantine);
    expect(quarantine.moved.map((m) => m.path)).toEqual([`${db}-journal`]);
  });

  it('leaves an empty database file alone (SQLite and DynamoDB Local start from it)', async () => {
    await put(db, '');
    const quarantine = new Quarantine(dataDir, new Date(0));
    await repairDynamoDbStore(join(dataDir, 'dynamodb'), quarantine);
    expect(quarantine.moved).toEqual([]);
  });
});

describe('describeRecovery', () => {
  it('says what was recovered in one line, naming the quarantine directory', async () => {
    await s3Object('a', 'v', { metadata: '' });
    await s3Object('b', 'v', { metadata: '' });
    await s3Object('c', 'v', { metadata: '' });
    await s3Object('d', 'v', { metadata: '' });
    const quarantine = new Quarantine(dataDir, new Date(0));
    await repairS3Store(join(dataDir, 's3'), quarantine);

    const line = describeRecovery(dataDir, quarantine, ['stopped an orphaned DynamoDB Local (pid 42)'])!;
    expect(line).not.toContain('\n');
    expect(line).toContain('stopped an orphaned DynamoDB Local (pid 42)');
    expect(line).toContain(`moved 4 torn file(s) to ${quarantine.quarantineDir}`);
    expect(line).toContain('and 1 more');
  });
});
