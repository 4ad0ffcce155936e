/**
 * `npm run screenshots`: the local console in a real browser, over the retail example's data. Not part of
 * `npm test` (it needs Chromium and takes about a minute).
 *
 *   apt-get install -y chromium          # Debian's Chromium: /usr/bin/chromium (CHROMIUM overrides the path)
 *   npm run screenshots                  # writes docs/screenshots/console-*.png
 *
 * It starts the local stack in memory on a free port, runs the retail scenario of examples/ against it (orders
 * placed, the four groups caught up, more orders, two groups left behind and a slow one running live), adds a
 * topic with a binary record and a record built to inject markup, then drives headless Chromium with
 * playwright-core through the topics view, the groups, a group with lag, the share groups and the record browser. It fails if
 * the page logs an error, a request fails or leaves the machine, or the injected markup runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { quietSdkNodeVersionWarning } from '../infra/local/local-env.js';
import { startLocalStack } from '../infra/local/stack.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(REPO_ROOT, 'docs', 'screenshots');
const TSX = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
/** What headless Chromium needs on these machines (no sandbox as root; no calls home on a closed network). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HOSTILE = '<img src=x onerror="window.__pwned = true">';

// The handlers' request lines would bury the script's own output; so would the AWS SDK's Node 20 notice (the
// example processes inherit the setting).
process.env.LOG_LEVEL ??= 'warn';
quietSdkNodeVersionWarning();
const stack = await startLocalStack({ inMemory: true, port: 0, maintenanceIntervalMs: 5_000 });
const children: ChildProcess[] = [];
const problems: string[] = [];
try {
  const url = stack.url;
  console.log(`local stack on ${url}`);

  // The retail scenario (examples/README.md): orders, the three consumer groups and the e-mail sender (a share
  // group, which this console does not list) catch up; more orders; the database writer catches up again, two
  // shipping-label makers run live and split the partitions, and the promotion counter stays stopped, behind by
  // every order since.
  await example('place-orders.ts', '120');
  for (const group of ['database-writer', 'email-sender', 'shipping-labels', 'promotion-counter']) await example(`${group}.ts`, '--once');
  await example('place-orders.ts', '2000');
  await example('database-writer.ts', '--once');
  children.push(background('shipping-labels.ts'), background('shipping-labels.ts'));
  // Long enough for the two members to share the partitions and commit their first batches.
  await new Promise((resolve) => setTimeout(resolve, 12_000));

  // A topic for the record browser's edge cases: bytes that are not JSON, and markup in every field.
  await post(url, '/v1/topics', { name: 'console-demo', partitions: 1 });
  await post(url, '/v1/topics/console-demo/records', {
    records: [{ key: HOSTILE, value: { note: HOSTILE, nested: { list: [1, 2, 3], ok: true } }, headers: { 'x-source': HOSTILE } }],
  });
  await post(url, '/v1/topics/console-demo/records', {
    encoding: 'base64',
    records: [{ key: Buffer.from([0xff, 0x00, 0xfe]).toString('base64'), value: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]).toString('base64') }],
  });

  mkdirSync(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const origin = new URL(url).origin;
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    page.on('request', (request) => {
      if (!request.url().startsWith(origin) && !request.url().startsWith('data:')) problems.push(`request left the machine: ${request.url()}`);
    });

    await shoot(page, `${url}/#/topics`, '.card', 'console-topics.png');
    await shoot(page, `${url}/#/groups`, 'table', 'console-groups.png');
    await shoot(page, `${url}/#/groups/shipping-labels`, '.card', 'console-group-live.png');
    await shoot(page, `${url}/#/groups/promotion-counter`, '.card', 'console-group-lag.png');
    await shoot(page, `${url}/#/share-groups`, '.card', 'console-share-groups.png');
    await shoot(page, `${url}/#/records/orders/1?offset=0&limit=4`, '.record', 'console-records.png');
    await shoot(page, `${url}/#/records/console-demo/0?from=earliest&limit=20`, '.record', 'console-records-binary.png');

    // The markup in the demo records is on the page as text, and did not run.
    if ((await page.evaluate(() => (globalThis as { __pwned?: boolean }).__pwned)) === true) problems.push('injected markup ran');
    if ((await page.locator('img').count()) > 0) problems.push('an <img> element was created from record data');
    const shown = await page.locator('.record').first().textContent();
    if (!shown?.includes(HOSTILE)) problems.push('the hostile key is not shown as text');
  } finally {
    await browser.close();
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
  await stack.stop();
}

if (problems.length > 0) {
  console.error(`console check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`screenshots in ${OUT_DIR}`);
process.exit(0);

/** Runs an example of examples/retail to its end. */
function example(file: string, ...args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [join(REPO_ROOT, 'examples', 'retail', file), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SHARDLOG_URL: stack.url, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const err: Buffer[] = [];
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${file} ${args.join(' ')} exited ${code}: ${Buffer.concat(err)}`))));
  });
}

/** Starts an example that runs until stopped. */
function background(file: string): ChildProcess {
  return spawn(TSX, [join(REPO_ROOT, 'examples', 'retail', file)], {
    cwd: REPO_ROOT,
    env: { ...process.env, SHARDLOG_URL: stack.url, NODE_NO_WARNINGS: '1' },
    stdio: 'ignore',
  });
}

async function post(base: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
}

async function shoot(page: Page, address: string, ready: string, file: string): Promise<void> {
  await page.goto('about:blank'); // a new document each time: a hash change alone would keep the old view a moment
  await page.goto(address);
  await page.locator(ready).first().waitFor({ timeout: 15_000 });
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(OUT_DIR, file), fullPage: false });
  console.log(`  ${file}`);
}
