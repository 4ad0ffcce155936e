import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/local/handler-loader.js';
import { importCircles, importGraph, reachable, type ImportGraph } from '../support/import-graph.js';

/*
 * The layering of README's "Project layout" (functions/ → lib/ ← infra/), checked on the import graph of lib/,
 * functions/ and infra/ (every import counts, `import type` included, as for
 * `npx madge --circular --extensions ts lib functions infra`): no import circle, between files or between lib's
 * folders; lib/ knows nothing of Lambda, functions/ or infra/; the client SDK (lib/client/, published on its
 * own) reaches no server-side AWS SDK module.
 */
const graph = importGraph(REPO_ROOT, ['lib', 'functions', 'infra']);

/** A file's layer: lib's concept folders one by one, lib's root files (errors, config, the composition root) each alone. */
function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] !== 'lib') return parts[0]!;
  return parts.length > 2 ? `lib/${parts[1]}` : file.replace(/\.ts$/, '');
}

/** The graph with every file replaced by its folder ({@link folderOf}); edges within a folder dropped. */
function folderGraph(files: ImportGraph): ImportGraph {
  const imports = new Map<string, { files: string[]; packages: string[] }>();
  for (const [file, { files: targets }] of files.imports) {
    const from = folderOf(file);
    const entry = imports.get(from) ?? { files: [], packages: [] };
    imports.set(from, entry);
    for (const target of targets.map(folderOf)) if (target !== from && !entry.files.includes(target)) entry.files.push(target);
  }
  return { files: [...imports.keys()], imports };
}

/** `file -> target` for every import of a file matching `from` that matches `forbidden`. */
function violations(from: (file: string) => boolean, forbidden: (target: string) => boolean): string[] {
  return [...graph.imports].flatMap(([file, { files, packages }]) =>
    from(file) ? [...files, ...packages].filter(forbidden).map((target) => `${file} -> ${target}`) : [],
  );
}

const SERVER_SDK = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/client-s3', '@aws-sdk/util-dynamodb'];

describe('the import graph', () => {
  it('is the whole of lib, functions and infra (the walk sees their files and imports)', () => {
    expect(graph.files).toContain('lib/shardlog.ts');
    expect(graph.files).toContain('functions/lambda/produce.ts');
    expect(graph.files).toContain('infra/local/stack.ts');
    expect(graph.imports.get('lib/shardlog.ts')!.files).toContain('lib/log/log-service.ts');
    expect(graph.imports.get('functions/runtime.ts')!.packages).toContain('@aws-sdk/client-dynamodb');
  });

  it('finds a circle, a self-import and nothing in a chain (the detector can fail)', () => {
    const synthetic = (edges: Record<string, string[]>): ImportGraph => ({
      files: Object.keys(edges),
      imports: new Map(Object.entries(edges).map(([file, files]) => [file, { files, packages: [] }])),
    });
    expect(importCircles(synthetic({ a: ['b'], b: ['c'], c: ['a'], d: ['a'] }))).toEqual([['a', 'b', 'c']]);
    expect(importCircles(synthetic({ a: ['a'], b: ['a'] }))).toEqual([['a']]);
    expect(importCircles(synthetic({ a: ['b'], b: ['c'], c: [] }))).toEqual([]);
  });

  it('has no import circle between files', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it("has no circle between lib's folders, functions and infra", () => {
    expect(importCircles(folderGraph(graph))).toEqual([]);
  });
});

describe('the layers', () => {
  it('lib imports neither functions/ nor infra/ nor Lambda types', () => {
    const forbidden = (target: string) => target.startsWith('functions/') || target.startsWith('infra/') || target === 'aws-lambda';
    expect(violations((file) => file.startsWith('lib/'), forbidden)).toEqual([]);
  });

  it('functions import nothing of infra/', () => {
    expect(violations((file) => file.startsWith('functions/'), (target) => target.startsWith('infra/'))).toEqual([]);
  });

  it('the client SDK reaches no server-side AWS SDK module, directly or through lib', () => {
    const client = reachable(graph, graph.files.filter((file) => file.startsWith('lib/client/')));
    expect(violations((file) => client.has(file), (target) => SERVER_SDK.includes(target))).toEqual([]);
    expect([...client].filter((file) => !file.startsWith('lib/'))).toEqual([]);
  });
});
