import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { FUNCTIONS, type FunctionName, type FunctionSpec } from '../../functions/routes.js';

/** The contract of every HTTP entry file: `export async function handler(event)`, exactly as Lambda calls it. */
export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** Returns the `handler` of a function; injectable so the server can be tested with fakes. */
export type HandlerLoader = (fn: FunctionName) => Promise<HttpApiHandler>;

/** The repository root: entry paths in {@link FUNCTIONS} are relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The entry file of a function does not exist (yet). */
export class EntryNotFoundError extends Error {
  constructor(readonly entry: string) {
    super(`entry file ${entry} does not exist`);
    this.name = 'EntryNotFoundError';
  }
}

/** The entry file exists but does not export a function under the expected name. */
export class ExportNotFoundError extends Error {
  constructor(readonly entry: string, readonly exportName: string) {
    super(`entry file ${entry} does not export a function named '${exportName}'`);
    this.name = 'ExportNotFoundError';
  }
}

export interface ModuleLoaderOptions {
  readonly repoRoot?: string;
  readonly functions?: Readonly<Record<FunctionName, FunctionSpec>>;
}

/**
 * Loads handlers by `import()`ing each function's entry file on first use and caching the result, like a
 * Lambda cold start: the module reads `process.env` once, so the environment must be set before the first
 * request. A failed load is not cached, so the next request tries again.
 */
export function createModuleHandlerLoader(options: ModuleLoaderOptions = {}): HandlerLoader {
  const cache = new Map<FunctionName, Promise<HttpApiHandler>>();
  return (fn) => {
    let loading = cache.get(fn);
    if (loading === undefined) {
      const spec = (options.functions ?? FUNCTIONS)[fn];
      loading = loadExport<HttpApiHandler>(options.repoRoot ?? REPO_ROOT, spec.entry, 'handler');
      loading.catch(() => cache.delete(fn));
      cache.set(fn, loading);
    }
    return loading;
  };
}

/**
 * Imports `entry` (relative to `repoRoot`) and returns its function export `exportName`.
 * @throws EntryNotFoundError when the file is missing; ExportNotFoundError when the export is.
 */
export async function loadExport<F>(repoRoot: string, entry: string, exportName: string): Promise<F> {
  const file = resolvePath(repoRoot, entry);
  // Checked up front so a missing file is told apart from a module that fails while loading its imports.
  if (!existsSync(file)) throw new EntryNotFoundError(entry);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const exported = module[exportName];
  if (typeof exported !== 'function') throw new ExportNotFoundError(entry, exportName);
  return exported as F;
}
