import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../../support/http.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/** Runs every example under `examples/` as a user would (`tsx examples/….ts --once`) against the local stack. */
let server: TestLocalServer;
beforeAll(async () => {
  server = await startTestLocalServer();
});
afterAll(() => server?.stop());

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function example(path: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${path}`, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, SHARDLOG_URL: server.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('examples', () => {
  it('retail: four groups each read every order of one topic, independently', async () => {
    const placed = await example('retail/place-orders.ts', '30');
    expect(placed.code, placed.stderr).toBe(0);
    expect(placed.stdout).toMatch(/^placed 30 orders/);

    const [db, mail, labels, promo] = await Promise.all([
      example('retail/database-writer.ts', '--once'),
      example('retail/email-sender.ts', '--once'),
      example('retail/shipping-labels.ts', '--once'),
      example('retail/promotion-counter.ts', '--once'),
    ]);

    for (const run of [db, mail, labels, promo]) expect(run.code, run.stderr).toBe(0);
    expect(db.stdout).toMatch(/30 in the table\n$/);
    // The e-mail sender is a share group of three workers: every order mailed once, except ken's (a mailbox the
    // example's mail server refuses for good: place-orders gives every fifth order to ken), which are rejected
    // into the dead-letter topic with their origin; orders that timed out once were retried.
    const mailed = mail.stdout.match(/^mail to .*$/gm) ?? [];
    expect(mailed).toHaveLength(24);
    expect(new Set(mailed).size).toBe(24);
    const dead = await call(server.url, 'GET', '/v1/topics/email-dead-letters/partitions/0/records?limit=100');
    expect(dead.body.records.map((r: { value: { email: string }; headers: Record<string, string> }) => [r.value.email, r.headers['shardlog-origin-reason']])).toEqual(
      Array.from({ length: 6 }, () => ['ken@example.com', 'rejected']),
    );
    expect(labels.stdout.match(/ SHIP /g)).toHaveLength(30);
    // place-orders: order i is a mug when i % 3 === 0, of quantity 1 + i % 4.
    const mugs = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 === 0).reduce((sum, i) => sum + 1 + (i % 4), 0);
    expect(promo.stdout).toMatch(new RegExp(`mugs sold so far: ${mugs}\n$`));

    // Each group committed its own position: a second run has nothing left to do.
    expect((await example('retail/email-sender.ts', '--once')).stdout).toBe('');
  }, 90_000);

  it('payments: the inventory processor consumes the payment processor’s output topic', async () => {
    await example('retail/place-orders.ts', '9');
    const payments = await example('payments/payment-processor.ts', '--once');
    expect(payments.code, payments.stderr).toBe(0);
    expect(payments.stdout).toMatch(/charged \d+ order\(s\)/);

    const inventory = await example('payments/inventory-processor.ts', '--once');

    expect(inventory.code, inventory.stderr).toBe(0);
    expect(inventory.stdout).toMatch(/stock: mug=\d+ tee=\d+ cap=\d+\n$/);
  }, 90_000);
});
