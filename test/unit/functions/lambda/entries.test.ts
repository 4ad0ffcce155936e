import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FUNCTIONS, type FunctionName } from '../../../../functions/routes.js';
import { REPO_ROOT } from '../../../../infra/local/handler-loader.js';
import { ENV } from '../../../../lib/config.js';

/*
 * The Lambda entries (functions/lambda/) build their engine when the module loads: a misconfigured function
 * fails its cold start with the variable's name, instead of answering 500 to every request. Each import here
 * is a fresh cold start (vi.resetModules); nothing is sent anywhere.
 */

const REQUIRED = [ENV.logTable, ENV.leaseTable, ENV.segmentBucket] as const;
const COMPLETE: Record<string, string> = {
  [ENV.logTable]: 'unit-log',
  [ENV.leaseTable]: 'unit-leases',
  [ENV.segmentBucket]: 'unit-segments',
  AWS_REGION: 'us-east-1',
};
const NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** Imports the entry of `fn` as Lambda's cold start does, with exactly `env` for shardlog's variables. */
async function coldStart(fn: FunctionName, env: Record<string, string | undefined>): Promise<Record<string, unknown>> {
  for (const name of Object.values(ENV)) vi.stubEnv(name, undefined);
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  vi.resetModules();
  return (await import(`${REPO_ROOT}${FUNCTIONS[fn].entry}`)) as Record<string, unknown>;
}

beforeEach(() => vi.resetModules());
afterEach(() => vi.unstubAllEnvs());

describe('a Lambda entry', () => {
  it.each(NAMES)('%s: builds its engine at module load and exports its handler', async (fn) => {
    const entry = await coldStart(fn, COMPLETE);
    expect(entry.handler).toBeTypeOf('function');
    if (fn === 'maintenance') expect(entry.scheduledHandler).toBeTypeOf('function');
  });

  it.each(NAMES.flatMap((fn) => REQUIRED.map((name) => [fn, name] as const)))(
    '%s: fails its cold start, naming %s, when that variable is missing',
    async (fn, missing) => {
      const env = { ...COMPLETE, [missing]: undefined };
      await expect(coldStart(fn, env)).rejects.toThrow(`environment variable ${missing} is required but not set`);
    },
  );

  it.each(NAMES)('%s: fails its cold start, naming the variable, when a number is malformed', async (fn) => {
    await expect(coldStart(fn, { ...COMPLETE, [ENV.tierAfterMs]: 'soon' })).rejects.toThrow(
      `environment variable ${ENV.tierAfterMs} must be a non-negative number, got 'soon'`,
    );
  });
});
