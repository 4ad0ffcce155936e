import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Every repository file `entry` reaches through its imports (type-only ones too: tsc emits those to dist/). */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (fileName.startsWith('.')) visit(resolve(dirname(file), fileName.replace(/\.js$/, '.ts')));
    }
  };
  visit(resolve(ROOT, entry));
  return [...seen].map((file) => relative(ROOT, file)).sort();
}

describe('the client SDK build (tsconfig.build.json)', () => {
  it('carries the client, the contract limits, the error classes, the partitioner, the pool and the wire formats, and no server module', () => {
    const files = reachable('lib/client/index.ts');

    // The batch format and its envelope: the SDK encodes and decodes stored batches (docs/api.md, "Binary
    // record batches"), and a JSON record through the server's own encoder so the two formats agree.
    const formats = ['lib/log/batch-format.ts', 'lib/log/json-text.ts', 'lib/log/wire-batches.ts', 'lib/log/wire-record.ts', 'lib/log/wire-size.ts'];
    expect(files.filter((f) => !f.startsWith('lib/client/') && !f.startsWith('lib/contract/'))).toEqual(
      // The pool (mapLimit): the SDK loads a response's presigned URLs a few at a time.
      ['lib/concurrency.ts', 'lib/errors.ts', 'lib/log/partitioner.ts', ...formats].sort(),
    );
    expect(files).toContain('lib/contract/limits.ts');
  });
});
