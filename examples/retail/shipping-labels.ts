/**
 * Consumer group `shipping-labels`: prints a label per order. Start two of these and the group splits the
 * partitions between them; stop one and the other takes its partitions over.
 *
 *   npx tsx examples/retail/shipping-labels.ts [--once]
 */
import { ensureTopic, newConsumer, runConsumer } from '../shared.js';

await ensureTopic('orders');
const consumer = newConsumer();
await runConsumer(consumer, {
  group: 'shipping-labels',
  topics: ['orders'],
  eachBatch: async ({ partition, records }) => {
    for (const { offset, value } of records) {
      const order = value as { orderId: string; customer: string; sku: string; quantity: number };
      console.log(`[member ${consumer.memberId.slice(0, 8)} p${partition}@${offset}] SHIP ${order.quantity} × ${order.sku} TO ${order.customer}`);
    }
  },
});
