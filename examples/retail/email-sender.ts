/**
 * Share group `email-sender`: one confirmation mail per order, sent by three workers that share the `orders`
 * topic record by record (docs/api.md, "Share groups"), however many partitions it has. A mail that fails for
 * a passing reason (the SMTP server timed out) is released and retried, by whichever worker fetches it next; one
 * that can never succeed (the mailbox does not exist) is rejected and parked, with its origin in its headers,
 * in the `email-dead-letters` topic, as is any order that failed `maxDeliveries` (3) times.
 *
 *   npx tsx examples/retail/email-sender.ts [--once]
 */
import { client, ensureTopic, runShareWorkers } from '../shared.js';

const WORKERS = 3;
const DEAD_LETTERS = 'email-dead-letters';
/** A mailbox the (pretend) mail server refuses for good: its orders end in the dead-letter topic. */
const UNKNOWN_MAILBOXES = new Set(['ken@example.com']);

/** A permanent failure: `retriable: false` makes the share consumer reject the record instead of releasing it. */
class MailboxUnavailable extends Error {
  readonly retriable = false;
}

async function sendMail(to: string, subject: string, attempt: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 5)); // a slow SMTP call; the worker renews the lock meanwhile
  if (UNKNOWN_MAILBOXES.has(to)) throw new MailboxUnavailable(`550 mailbox unavailable: ${to}`);
  if (attempt === 1 && subject.endsWith('0 EUR) is confirmed')) throw new Error('SMTP timeout'); // passes on retry
  console.log(`mail to ${to}: ${subject}`);
}

await ensureTopic('orders');
await ensureTopic(DEAD_LETTERS, 1);
// Where failed orders go, and how often one is tried: the group's settings (an operator's call in the cloud).
await client.configureShareGroup('email-sender', { maxDeliveries: 3, deadLetterTopic: DEAD_LETTERS });
await runShareWorkers(WORKERS, { from: 'earliest' }, {
  group: 'email-sender',
  topics: ['orders'],
  eachMessage: async ({ record }) => {
    const order = record.value as { orderId: string; email: string; total: number };
    await sendMail(order.email, `your order ${order.orderId} (${order.total} EUR) is confirmed`, record.deliveryCount);
  },
});
