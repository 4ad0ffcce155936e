import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../functions/routes.js';
import { ENV } from '../lib/config.js';
import { REPO_ROOT } from '../infra/local/handler-loader.js';
import { SDK_NODE_VERSION_WARNING_OFF } from '../infra/local/local-env.js';
import { percentile } from './measure.js';

const run = promisify(execFile);

export interface BundleStats {
  readonly function: FunctionName;
  readonly bytes: number;
  /** gzip -6 size: about what the deployment zip holds. */
  readonly gzipBytes: number;
  /** Module initialisation: `import()` of the bundle in a fresh `node` process (median and max over runs). */
  readonly initMsP50: number;
  readonly initMsMax: number;
  /** CPU time (user + system) of the same imports, median: less sensitive to the machine's load than wall time. */
  readonly initCpuMsP50: number;
  readonly runs: number;
}

/**
 * Bundles every function as `cdk synth` does (the options of NodejsFunction's `bundling` in infra/api-stack.ts:
 * ESM, minified, external source map, `module` before `main`, the `require` banner, the AWS SDK bundled in,
 * target node24 as the runtime NODEJS_24_X implies) and measures each bundle's size and how long a fresh Node
 * process takes to import it: the module-initialisation part of a cold start (Lambda adds the runtime's own
 * start and the download of the zip, which this machine cannot measure).
 */
export async function measureBundles(runs: number): Promise<BundleStats[]> {
  const dir = await mkdtemp(join(tmpdir(), 'shardlog-bundles-'));
  try {
    const out: BundleStats[] = [];
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const outfile = join(dir, name, 'index.mjs');
      await bundleEntry(join(REPO_ROOT, FUNCTIONS[name].entry), outfile);
      const bytes = (await stat(outfile)).size;
      const gzipBytes = gzipSync(await readFile(outfile)).length;
      const times: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < runs; i++) {
        const cost = await importCost(outfile);
        times.push(cost.wallMs);
        cpu.push(cost.cpuMs);
      }
      out.push({
        function: name,
        bytes,
        gzipBytes,
        initMsP50: Number(percentile(times, 50).toFixed(1)),
        initMsMax: Number(Math.max(...times).toFixed(1)),
        initCpuMsP50: Number(percentile(cpu, 50).toFixed(1)),
        runs,
      });
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Bundles `entry` into `outfile` with the options `cdk synth` uses for the functions (see {@link measureBundles}). */
export async function bundleEntry(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);" },
    logLevel: 'error',
  });
}

/**
 * What importing `file` costs a fresh process with the handler's environment: milliseconds from just before
 * `import()` to its resolution (wall), and the CPU time the process spent meanwhile (user + system), which
 * depends less on what else the machine runs.
 */
export async function importCost(file: string): Promise<{ wallMs: number; cpuMs: number }> {
  const script =
    'const c=process.cpuUsage();const t=performance.now();' +
    `await import(${JSON.stringify(`file://${file}`)});` +
    'const w=performance.now()-t;const u=process.cpuUsage(c);console.log(JSON.stringify({wallMs:w,cpuMs:(u.user+u.system)/1000}));';
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: {
      PATH: process.env.PATH ?? '',
      [ENV.logTable]: 'bench-log',
      [ENV.leaseTable]: 'bench-leases',
      [ENV.segmentBucket]: 'bench-segments',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      LOG_LEVEL: 'warn',
      ...SDK_NODE_VERSION_WARNING_OFF,
    },
  });
  return JSON.parse(stdout.trim()) as { wallMs: number; cpuMs: number };
}
