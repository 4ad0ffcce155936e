/**
 * The retail scenario's producer: a shop front that appends orders to the `orders` topic, keyed by customer,
 * so one customer's orders stay in order (same key, same partition).
 *
 *   npx tsx examples/retail/place-orders.ts [count]
 */
import { client, ensureTopic } from '../shared.js';

const count = Number(process.argv[2] ?? 20);
const customers = ['ada', 'grace', 'linus', 'margaret', 'ken'];
const products = [
  { sku: 'mug', price: 12 },
  { sku: 'tee', price: 25 },
  { sku: 'cap', price: 18 },
];

await ensureTopic('orders');
const producer = client.producer();
const orders = Array.from({ length: count }, (_, i) => {
  const customer = customers[i % customers.length]!;
  const product = products[i % products.length]!;
  const quantity = 1 + (i % 4);
  return {
    key: customer,
    value: { orderId: `o-${Date.now()}-${i}`, customer, email: `${customer}@example.com`, ...product, quantity, total: product.price * quantity },
    headers: { source: 'web' },
  };
});
const acks = await producer.send('orders', orders);
await producer.close();
console.log(`placed ${acks.length} orders (partitions ${[...new Set(acks.map((a) => a.partition))].sort().join(', ')})`);
