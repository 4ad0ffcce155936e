import { isBatchesRequest, parseBatchesProduce } from './http/batches.js';
import { httpHandler, json } from './http/handler.js';
import { parseProduceRequest } from './http/records.js';
import { timed } from './http/route-metrics.js';
import { name, requiredObjectBody } from './http/validate.js';
import { checkUploadLength } from '../lib/log/upload-store.js';
import type { Shardlog } from '../lib/shardlog.js';

/**
 * The produce routes of docs/api.md ("Produce", "Binary record batches"), over `engine`: a JSON body, or stored
 * batches (`Content-Type: application/vnd.shardlog.batches+v1`), answered in JSON either way; and a presigned
 * PUT for a batch a client uploads to S3 itself before it appends it.
 */
export const produceHandler = (engine: Shardlog) => httpHandler({
  'POST /v1/topics/{topic}/records': async (req) => {
    const topic = name(req.pathParameters.topic, 'topic');
    if (isBatchesRequest(req)) {
      const input = parseBatchesProduce(req);
      return json(200, await timed(req.metrics, 'ProduceLatency', async () => engine.log.produceBatches(await engine.topics.get(topic), input)));
    }
    const input = parseProduceRequest(req.body, req.headers);
    return json(200, await timed(req.metrics, 'ProduceLatency', async () => engine.log.produce(await engine.topics.get(topic), input)));
  },

  'POST /v1/topics/{topic}/uploads': async (req) => {
    const topic = name(req.pathParameters.topic, 'topic');
    const body = requiredObjectBody(req.body, ['length']);
    const length = checkUploadLength(body.length, 'length');
    return json(201, await engine.log.presignUpload(await engine.topics.get(topic), length));
  },
}, engine);
