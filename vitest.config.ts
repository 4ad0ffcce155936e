import { defineConfig } from 'vitest/config';
import { SDK_NODE_VERSION_WARNING_OFF } from './infra/local/local-env.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local and one s3rver for the whole run; integration tests get their endpoints by inject().
    globalSetup: ['test/global-setup.ts'],
    // forks: a child process per worker. No test depends on it for isolation: engines are values built per
    // test (test/support/local-server.ts), nothing sets process.env for handlers, and the two files that import
    // the env-configured Lambda entries stub and restore their variables (vi.stubEnv). Threads measured no
    // faster (whole suite, back to back on 2 shared cores: forks 3m22 and 2m24, threads with test/infra in
    // forks 3m28 and 2m18), and CDK's local bundling in test/infra needs a real process (it spawns esbuild on
    // the process's stderr, which a worker thread does not have), so the simpler setting stays.
    pool: 'forks',
    env: {
      // The handlers log one line per request; in tests only warnings and errors are worth reading.
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      // The Lambda entries write their metrics as EMF lines on stdout (functions/telemetry.ts): unit tests that
      // read them turn this off again (test/unit/functions/telemetry.test.ts); nothing else should print them.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // The AWS SDK's notice about Node 20 would open every test file (see infra/local/local-env.ts).
      ...SDK_NODE_VERSION_WARNING_OFF,
    },
    // Integration tests talk to emulators (and may start a JVM of their own): be generous.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // In CI, also write a JSON report: .ci/run prints a plain "N passed, N failed" line from it.
    ...(process.env.CI ? { reporters: ['default', 'json'], outputFile: { json: 'test-results/vitest.json' } } : {}),
  },
});
