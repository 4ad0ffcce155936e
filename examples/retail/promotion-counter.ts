/**
 * Consumer group `promotion-counter`: a live count of mugs sold, for an "every 10th mug wins" promotion. It keeps
 * its count in memory, so on start it replays the topic from its group's committed offset — reset the group
 * (`shardlog groups reset promotion-counter orders --to earliest`) to recount from the beginning.
 *
 *   npx tsx examples/retail/promotion-counter.ts [--once]
 */
import { ensureTopic, newConsumer, runConsumer } from '../shared.js';

const PRIZE_EVERY = 10;
let mugs = 0;

await ensureTopic('orders');
await runConsumer(newConsumer(), {
  group: 'promotion-counter',
  topics: ['orders'],
  eachBatch: async ({ records }) => {
    for (const { value } of records) {
      const order = value as { sku: string; quantity: number; customer: string };
      if (order.sku !== 'mug') continue;
      const milestone = Math.floor((mugs + order.quantity) / PRIZE_EVERY) * PRIZE_EVERY;
      if (milestone > mugs) console.log(`prize: ${order.customer} bought mug number ${milestone}`);
      mugs += order.quantity;
    }
    console.log(`mugs sold so far: ${mugs}`);
  },
});
