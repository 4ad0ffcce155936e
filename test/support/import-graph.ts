import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The import graph of the repository's TypeScript sources, read with the compiler's own pre-processor
 * (`ts.preProcessFile`): every `import`, `import type`, `export … from` and `import()` counts, as it does for
 * `madge --circular --extensions ts`. Relative specifiers are resolved to files (`./x.js` → `./x.ts`);
 * anything else is a package, kept by its name (`@aws-sdk/client-s3`, `node:fs`).
 */
export interface ImportGraph {
  /** Repository-relative paths of the files walked, e.g. `lib/log/log-service.ts`. */
  readonly files: readonly string[];
  /** For each file: the files it imports (repository-relative) and the packages it imports (bare names). */
  readonly imports: ReadonlyMap<string, { readonly files: readonly string[]; readonly packages: readonly string[] }>;
}

/** Walks every `.ts` file (not `.d.ts`) under each of `roots` (folders relative to `repoRoot`). */
export function importGraph(repoRoot: string, roots: readonly string[]): ImportGraph {
  const files = roots.flatMap((root) => tsFiles(join(repoRoot, root))).map((file) => relative(repoRoot, file).split('\\').join('/'));
  const imports = new Map<string, { files: string[]; packages: string[] }>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(repoRoot, file), 'utf8'), true, true);
    const entry = { files: [] as string[], packages: [] as string[] };
    for (const { fileName: specifier } of importedFiles) {
      if (specifier.startsWith('.')) {
        const target = relative(repoRoot, resolve(repoRoot, dirname(file), specifier)).split('\\').join('/').replace(/\.js$/, '.ts');
        if (!entry.files.includes(target)) entry.files.push(target);
      } else if (!entry.packages.includes(specifier)) {
        entry.packages.push(specifier);
      }
    }
    imports.set(file, entry);
  }
  return { files, imports };
}

/** The import circles: strongly connected components of more than one file (or a file importing itself). */
export function importCircles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, over the files walked only.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const edges = (file: string) => (graph.imports.get(file)?.files ?? []).filter((target) => graph.imports.has(target));
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next++;
    stack.push(file);
    onStack.add(file);
    for (const target of edges(file)) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || edges(file).includes(file)) circles.push(component.sort());
    }
  };
  for (const file of graph.files) if (!index.has(file)) visit(file);
  return circles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Every file reachable from `from` (included) through imports, with the packages each imports. */
export function reachable(graph: ImportGraph, from: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending = [...from];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    pending.push(...(graph.imports.get(file)?.files ?? []));
  }
  return seen;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : tsFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}
