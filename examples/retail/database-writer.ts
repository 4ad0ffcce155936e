/**
 * Consumer group `database-writer`: stores every order. It writes a whole batch at once and only then returns,
 * so the batch is committed after it is stored; a crash in between means the batch is read again, and the
 * upsert by order id makes that harmless (at-least-once + idempotent write = effectively once).
 *
 *   npx tsx examples/retail/database-writer.ts [--once]
 */
import { ensureTopic, newConsumer, runConsumer } from '../shared.js';

const table = new Map<string, unknown>(); // stands in for a real database

await ensureTopic('orders');
await runConsumer(newConsumer(), {
  group: 'database-writer',
  topics: ['orders'],
  eachBatch: async ({ partition, records }) => {
    for (const { value } of records) {
      const order = value as { orderId: string };
      table.set(order.orderId, order); // upsert: a re-delivered order overwrites itself
    }
    console.log(`partition ${partition}: stored ${records.length} order(s), ${table.size} in the table`);
  },
});
