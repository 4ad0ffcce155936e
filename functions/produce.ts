import { httpHandler, json } from './http/handler.js';
import { parseProduceRequest } from './http/records.js';
import { timed } from './http/route-metrics.js';
import { name } from './http/validate.js';
import type { Shardlog } from '../lib/shardlog.js';

/** The produce route of docs/api.md ("Produce"), over `engine`. */
export const produceHandler = (engine: Shardlog) => httpHandler({
  'POST /v1/topics/{topic}/records': async (req) => {
    const topic = name(req.pathParameters.topic, 'topic');
    const input = parseProduceRequest(req.body, req.headers);
    return json(200, await timed(req.metrics, 'ProduceLatency', async () => engine.log.produce(await engine.topics.get(topic), input)));
  },
}, engine);
