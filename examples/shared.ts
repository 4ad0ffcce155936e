/**
 * What every example shares: a client for `SHARDLOG_URL` (default: the `npm start` stack), creating a topic
 * if it is missing, and running a consumer until Ctrl-C — or, with `--once`, until it has caught up (so the
 * examples also run as tests).
 */
import { Consumer, ShardlogClient, TopicExistsError, type RunOptions } from '../lib/client/index.js';

export const client = new ShardlogClient({ url: process.env.SHARDLOG_URL ?? 'http://127.0.0.1:4000' });
const once = process.argv.includes('--once');

/** A group member; with `--once` it does not long-poll, so "caught up" is noticed at once. */
export function newConsumer(): Consumer {
  return client.consumer(once ? { waitMs: 0 } : {});
}

/** Creates `name` unless it exists: every example can be started first. */
export async function ensureTopic(name: string, partitions = 4): Promise<void> {
  try {
    await client.createTopic({ name, partitions });
  } catch (error) {
    if (!(error instanceof TopicExistsError)) throw error;
  }
}

/** Runs `consumer` until SIGINT/SIGTERM, or with `--once` until it has read everything there is. */
export async function runConsumer(consumer: Consumer, options: Omit<RunOptions, 'onIdle'>): Promise<void> {
  const stop = () => void consumer.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.error(`[${options.group}] reading ${options.topics.join(', ')}${once ? ' until caught up' : ' (Ctrl-C to stop)'}`);
  await consumer.run({ ...options, ...(once ? { onIdle: stop } : {}) });
}
