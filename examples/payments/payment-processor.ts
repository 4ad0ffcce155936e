/**
 * A stream processor: reads `orders` (group `payment-processor`), charges each one, and appends the outcome to
 * the `payments` topic, keyed by order id. It commits an order batch only after its payments were
 * acknowledged, and each batch's payments go out with one Idempotency-Key per request, so a retry never
 * charges twice in the log.
 *
 *   npx tsx examples/payments/payment-processor.ts [--once]
 */
import { client, ensureTopic, newConsumer, runConsumer } from '../shared.js';

await Promise.all([ensureTopic('orders'), ensureTopic('payments')]);
const producer = client.producer();
await runConsumer(newConsumer(), {
  group: 'payment-processor',
  topics: ['orders'],
  eachBatch: async ({ records }) => {
    const payments = records.map(({ value }) => {
      const order = value as { orderId: string; customer: string; sku: string; quantity: number; total: number };
      const approved = order.total <= 50; // our card network declines anything bigger
      return {
        key: order.orderId,
        value: { orderId: order.orderId, sku: order.sku, quantity: order.quantity, amount: order.total, status: approved ? 'approved' : 'declined' },
      };
    });
    await producer.send('payments', payments); // resolves once appended: then this batch may be committed
    console.log(`charged ${payments.length} order(s): ${payments.filter((p) => p.value.status === 'approved').length} approved`);
  },
});
await producer.close();
