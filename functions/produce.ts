import { httpHandler, json } from './http/handler.js';
import { parseProduceRequest } from './http/records.js';
import { name } from './http/validate.js';
import { shardlog } from './runtime.js';

export const handler = httpHandler({
  'POST /v1/topics/{topic}/records': async (req) => {
    const topic = name(req.pathParameters.topic, 'topic');
    const input = parseProduceRequest(req.body, req.headers);
    const engine = shardlog();
    return json(200, await engine.log.produce(await engine.topics.get(topic), input));
  },
});
