/**
 * What a change costs the Lambda bundles: the bundle of one function at a base revision and in the working
 * tree, built as `cdk synth` builds it (bench/bundles.ts `bundleEntry`), their sizes, and the module
 * initialisation of each, imported alternately in fresh Node processes so that both see the same machine load.
 * Not part of `npm test` or `npm run bench`; the README's "What Powertools costs" was measured with it:
 *
 *   npx tsx scripts/compare-bundles.ts --base main --function produce --runs 40
 *
 * The base is exported with `git archive` into a temporary folder that borrows this checkout's node_modules.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { bundleEntry, importCost } from '../bench/bundles.js';
import { percentile } from '../bench/measure.js';
import { FUNCTIONS, type FunctionName } from '../functions/routes.js';
import { REPO_ROOT } from '../infra/local/handler-loader.js';

const { values } = parseArgs({
  options: { base: { type: 'string', default: 'main' }, function: { type: 'string', default: 'produce' }, runs: { type: 'string', default: '40' } },
});
const fn = values.function as FunctionName;
if (!Object.hasOwn(FUNCTIONS, fn)) throw new Error(`--function must be one of ${Object.keys(FUNCTIONS).join(', ')}`);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

const dir = await mkdtemp(join(tmpdir(), 'shardlog-compare-'));
try {
  const baseTree = join(dir, 'base');
  execFileSync('sh', ['-c', `mkdir -p "${baseTree}" && git -C "${REPO_ROOT}" archive "${values.base}" | tar -x -C "${baseTree}"`]);
  await symlink(join(REPO_ROOT, 'node_modules'), join(baseTree, 'node_modules'));
  const sides = [
    { label: String(values.base), root: baseTree },
    { label: 'working tree', root: REPO_ROOT },
  ].map((side, i) => ({ ...side, file: join(dir, `bundle-${i}`, 'index.mjs'), wall: [] as number[], cpu: [] as number[] }));
  for (const side of sides) await bundleEntry(join(side.root, FUNCTIONS[fn].entry), side.file);
  for (let i = 0; i < runs; i++) {
    for (const side of sides) {
      const cost = await importCost(side.file);
      side.wall.push(cost.wallMs);
      side.cpu.push(cost.cpuMs);
    }
  }
  console.log(`function ${fn}, ${runs} interleaved imports each, load average ${(await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ')[0]}`);
  for (const side of sides) {
    const bytes = (await stat(side.file)).size;
    const gzip = gzipSync(await readFile(side.file)).length;
    const p50 = (xs: number[]) => percentile(xs, 50).toFixed(1);
    console.log(`${side.label.padEnd(14)} bundle ${bytes} B  gzip ${gzip} B  import() p50 ${p50(side.wall)} ms  CPU p50 ${p50(side.cpu)} ms`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
