import type { ProduceInput, ProduceOutput, ReadOptions, ReadResult } from '../../lib/log/log-types.js';
import type { Shardlog } from '../../lib/shardlog.js';

/**
 * Produce and read by topic name, as the HTTP handlers do: the name is resolved through the engine's topic
 * store (404 for an unknown topic), then the log service works on the topic it found.
 */
type Engine = Pick<Shardlog, 'topics' | 'log'>;

export async function produceTo(engine: Engine, topic: string, input: ProduceInput): Promise<ProduceOutput> {
  return engine.log.produce(await engine.topics.get(topic), input);
}

export async function readFrom(engine: Engine, topic: string, partition: number, options: ReadOptions): Promise<ReadResult> {
  return engine.log.read(await engine.topics.get(topic), partition, options);
}
