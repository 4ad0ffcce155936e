import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    expect(mail.stdout.match(/^mail to /gm)).toHaveLength(30);
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
