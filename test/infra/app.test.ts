import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/api-stack.js';

/*
 * Runs infra/app.ts the way the CDK CLI does (`npx tsx infra/app.ts` from cdk.json, context in CDK_CONTEXT_JSON,
 * output directory in CDK_OUTDIR) and reads the cloud assembly's manifest. Bundling is skipped through the
 * CLI's own switch (`aws:cdk:bundling-stacks`, as `cdk synth --exclusively` uses it): stacks.test.ts covers
 * the bundles, this file covers the app's wiring.
 */

const run = promisify(execFile);
const outDirs: string[] = [];
const SYNTH_TIMEOUT_MS = 120_000;
/** The cloud assembly of the last synthApp() call. */
let lastOutDir = '';

afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

async function synthApp(context: Record<string, unknown>): Promise<string[]> {
  const outDir = mkdtempSync(join(tmpdir(), 'shardlog-app-test-'));
  outDirs.push(outDir);
  lastOutDir = outDir;
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { app: string };
  expect(cdkJson.app).toBe('npx tsx infra/app.ts');
  await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['infra/app.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CDK_OUTDIR: outDir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...context, 'aws:cdk:bundling-stacks': [] }),
      // Skips aws-cdk-lib's built-in template validation (seconds of WebAssembly per run); `cdk synth` keeps it.
      CDK_VALIDATION: 'false',
    },
  });
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string }>;
  };
  return Object.entries(manifest.artifacts)
    .filter(([, artifact]) => artifact.type === 'aws:cloudformation:stack')
    .map(([name]) => name)
    .sort();
}

describe('infra/app.ts', () => {
  it(
    'synthesizes the stateful and API stacks under the Shardlog prefix',
    async () => {
      expect(await synthApp({})).toEqual(['Shardlog-Api', 'Shardlog-Stateful']);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'prefixes the stack names with the stage given as context',
    async () => {
      expect(await synthApp({ stage: 'dev' })).toEqual(['Shardlog-dev-Api', 'Shardlog-dev-Stateful']);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'rejects a stage that is not a valid stack-name fragment',
    async () => {
      await expect(synthApp({ stage: 'no spaces' })).rejects.toThrow(/context 'stage' must match/);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'mails alarm notifications to the alarmEmail given as context',
    async () => {
      await synthApp({ alarmEmail: 'ops@example.com' });
      const template = JSON.parse(readFileSync(join(lastOutDir, 'Shardlog-Api.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const subscriptions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
      expect(subscriptions.map((r) => [r.Properties.Protocol, r.Properties.Endpoint])).toEqual([['email', 'ops@example.com']]);
    },
    SYNTH_TIMEOUT_MS,
  );
});
