/**
 * What every example shares: a client for `SHARDLOG_URL` (default: the `npm start` stack), creating a topic
 * if it is missing, and running a consumer until Ctrl-C — or, with `--once`, until it has caught up (so the
 * examples also run as tests).
 */
import {
  Consumer,
  ShardlogClient,
  TopicExistsError,
  type RunOptions,
  type ShareConsumerOptions,
  type ShareRunOptions,
} from '../lib/client/index.js';

export const client = new ShardlogClient({ url: process.env.SHARDLOG_URL ?? 'http://127.0.0.1:4000' });
const once = process.argv.includes('--once');

/** A group member with the SDK's defaults (no long poll: "caught up" is noticed by the first empty fetch). */
export function newConsumer(): Consumer {
  return client.consumer();
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

/**
 * Runs `workers` members of a share group in this process until SIGINT/SIGTERM, or with `--once` each until a
 * fetch finds nothing (in production each would be a process, a container or a Lambda of its own).
 */
export async function runShareWorkers(workers: number, options: ShareConsumerOptions, run: Omit<ShareRunOptions, 'onIdle'>): Promise<void> {
  const members = Array.from({ length: workers }, () =>
    client.shareConsumer({ ...options, onError: (error) => console.error(`[${run.group}] ${String(error)}`) }),
  );
  const stop = () => members.forEach((m) => void m.stop());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.error(`[${run.group}] ${workers} workers sharing ${run.topics.join(', ')}${once ? ' until none is left' : ' (Ctrl-C to stop)'}`);
  await Promise.all(members.map((m) => m.run({ ...run, ...(once ? { onIdle: () => void m.stop() } : {}) })));
}
