/**
 * Reads the payment processor's output topic, `payments` (group `inventory`), and takes approved orders out
 * of stock. One consumer's output is another's input: the two scale and fail independently.
 *
 *   npx tsx examples/payments/inventory-processor.ts [--once]
 */
import { ensureTopic, newConsumer, runConsumer } from '../shared.js';

const stock = new Map<string, number>([
  ['mug', 500],
  ['tee', 300],
  ['cap', 200],
]);

await ensureTopic('payments');
await runConsumer(newConsumer(), {
  group: 'inventory',
  topics: ['payments'],
  eachBatch: async ({ records }) => {
    for (const { value } of records) {
      const payment = value as { sku: string; quantity: number; status: string };
      if (payment.status !== 'approved') continue;
      stock.set(payment.sku, (stock.get(payment.sku) ?? 0) - payment.quantity);
    }
    console.log(`stock: ${[...stock].map(([sku, n]) => `${sku}=${n}`).join(' ')}`);
  },
});
