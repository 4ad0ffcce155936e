import { isBatchesRequest, parseBatchesProduce } from './http/batches.js';
import { httpHandler, json } from './http/handler.js';
import { parseProduceRequest } from './http/records.js';
import { name } from './http/validate.js';
import type { Shardlog } from '../lib/shardlog.js';

/**
 * The produce route of docs/api.md ("Produce"), over `engine`: a JSON body, or stored batches
 * (`Content-Type: application/vnd.shardlog.batches+v1`, "Binary record batches"); the response is JSON either way.
 */
export const produceHandler = (engine: Shardlog) => httpHandler({
  'POST /v1/topics/{topic}/records': async (req) => {
    const topic = name(req.pathParameters.topic, 'topic');
    if (isBatchesRequest(req)) {
      const input = parseBatchesProduce(req);
      return json(200, await engine.log.produceBatches(await engine.topics.get(topic), input));
    }
    const input = parseProduceRequest(req.body, req.headers);
    return json(200, await engine.log.produce(await engine.topics.get(topic), input));
  },
});
