/**
 * The `shardlog` CLI entry point: wires the process (stdio, environment, signals) to {@link runCli}.
 * Run it as `npx shardlog …` (through `bin/shardlog.mjs`) or `npx tsx bin/shardlog.ts …`.
 */
import { fstatSync } from 'node:fs';
import { runCli } from '../lib/client/cli/main.js';

const controller = new AbortController();
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // First signal: stop cleanly (flush, commit, leave). Second: the user means it.
    if (++interrupts > 1) process.exit(130);
    controller.abort();
  });
}
// `shardlog consume … | head`: the reader left; stop reading instead of crashing on EPIPE.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') controller.abort();
  else throw error;
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
  ...stdinSize(),
});

/** The size of stdin when it is a regular file (`< orders.jsonl`), for a progress bar with a real end. */
function stdinSize(): { stdinBytes?: number } {
  try {
    const stat = fstatSync(0);
    return stat.isFile() ? { stdinBytes: stat.size } : {};
  } catch {
    return {};
  }
}
