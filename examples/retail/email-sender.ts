/**
 * Consumer group `email-sender`: one confirmation mail per order. It reads the same `orders` topic as the
 * other groups, at its own pace, with its own committed position.
 *
 *   npx tsx examples/retail/email-sender.ts [--once]
 */
import { ensureTopic, newConsumer, runConsumer } from '../shared.js';

async function sendMail(to: string, subject: string): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 5)); // a slow SMTP call; heartbeats keep running meanwhile
  console.log(`mail to ${to}: ${subject}`);
}

await ensureTopic('orders');
await runConsumer(newConsumer(), {
  group: 'email-sender',
  topics: ['orders'],
  eachBatch: async ({ records, resolveOffset, isRunning }) => {
    for (const record of records) {
      if (!isRunning()) break; // stopping: commit what was mailed, leave the rest for the next run
      const order = record.value as { orderId: string; email: string; total: number };
      await sendMail(order.email, `your order ${order.orderId} (${order.total} EUR) is confirmed`);
      resolveOffset(record.offset); // commit exactly the mails that went out
    }
  },
});
