import { mapLimit } from '../lib/concurrency.js';
import type { Topic } from '../lib/topics/topic.js';
import {
  DEFAULT_PARTITIONS,
  DEFAULT_RETENTION_HOURS,
  MAX_PARTITIONS,
  MAX_RETENTION_HOURS,
  MIN_RETENTION_HOURS,
} from '../lib/topics/topic.js';
import type { Shardlog } from '../lib/shardlog.js';
import { httpHandler, json, noContent, type HttpRequest } from './http/handler.js';
import { name, int, number, objectBody, requiredObjectBody } from './http/validate.js';
import { InvalidRequestError } from '../lib/errors.js';

/** Topic descriptions fetch partition bounds with this many Queries in flight at most. */
const DESCRIBE_CONCURRENCY = 32;

const retentionRange = { min: MIN_RETENTION_HOURS, max: MAX_RETENTION_HOURS };

/** Health and the topic routes of docs/api.md ("Health", "Topics"), over `engine`. */
export const topicsHandler = (engine: Shardlog) => httpHandler({
  'GET /v1/health': async () => json(200, { status: 'ok' }),

  'POST /v1/topics': async (req) => {
    const body = requiredObjectBody(req.body, ['name', 'partitions', 'retentionHours']);
    const topic = await engine.topics.create({
      name: name(body.name, 'name'),
      partitions: int(body.partitions, 'partitions', { min: 1, max: MAX_PARTITIONS }, DEFAULT_PARTITIONS),
      retentionHours: number(body.retentionHours, 'retentionHours', retentionRange, DEFAULT_RETENTION_HOURS),
    });
    return json(201, await describe(engine, topic));
  },

  'GET /v1/topics': async () => json(200, { topics: await engine.topics.list() }),

  'GET /v1/topics/{topic}': async (req) => {
    const topic = await engine.topics.get(topicParam(req));
    return json(200, await describe(engine, topic));
  },

  'PATCH /v1/topics/{topic}': async (req) => {
    const topicName = topicParam(req);
    const body = objectBody(req.body, ['partitions', 'retentionHours']);
    if (body.partitions === undefined && body.retentionHours === undefined) {
      throw new InvalidRequestError('give partitions and/or retentionHours to change');
    }
    const topic = await engine.topics.update(topicName, {
      ...(body.partitions !== undefined ? { partitions: int(body.partitions, 'partitions', { min: 1, max: MAX_PARTITIONS }) } : {}),
      ...(body.retentionHours !== undefined ? { retentionHours: number(body.retentionHours, 'retentionHours', retentionRange) } : {}),
    });
    return json(200, await describe(engine, topic));
  },

  'DELETE /v1/topics/{topic}': async (req) => {
    await engine.topics.delete(topicParam(req));
    return noContent();
  },
}, engine);

function topicParam(req: HttpRequest): string {
  return name(req.pathParameters.topic, 'topic');
}

/** The topic description of API.md, with each partition's readable range. */
async function describe(engine: Shardlog, topic: Topic) {
  const partitionStats = await mapLimit(Array.from({ length: topic.partitions }, (_, p) => p), DESCRIBE_CONCURRENCY, async (partition) => ({
    partition,
    ...(await engine.log.bounds(topic, partition)),
  }));
  return {
    name: topic.name,
    partitions: topic.partitions,
    retentionHours: topic.retentionHours,
    createdAt: topic.createdAt,
    partitionStats,
  };
}
