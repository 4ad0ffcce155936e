import { acceptsBatches, encodeBatchesFetch } from './http/batches.js';
import { httpHandler, json, withQuery } from './http/handler.js';
import { encodeFetchResponse, FETCH_QUERY_PARAMS, parseFetchQuery } from './http/records.js';
import { recordFetch } from './http/route-metrics.js';
import { intParam, name } from './http/validate.js';
import type { Shardlog } from '../lib/shardlog.js';

/**
 * The plain fetch route of docs/api.md ("Fetch (no group)"), over `engine`: JSON records, or the stored batches
 * verbatim when `Accept` names the binary format ("Binary record batches").
 */
export const fetchHandler = (engine: Shardlog) => httpHandler({
  'GET /v1/topics/{topic}/partitions/{partition}/records': withQuery(FETCH_QUERY_PARAMS, async (req) => {
    const topic = name(req.pathParameters.topic, 'topic');
    // Any non-negative integer parses; whether the partition exists is the topic's to say (404, not 400).
    const partition = intParam(req.pathParameters.partition, 'partition', { min: 0, max: Number.MAX_SAFE_INTEGER });
    const query = parseFetchQuery(req.query);
    const binary = acceptsBatches(req);
    const startedAt = performance.now();
    let waited = false;
    const result = await engine.log.read(await engine.topics.get(topic), partition, {
      ...query,
      ...(binary ? { batches: binary } : {}),
      onWait: () => (waited = true),
    });
    recordFetch(req.metrics, { startedAt, waited, returned: [{ topic, ...result }] });
    // Records are cut by their size in this encoding (lib/log/wire-size.ts), batches by their stored size
    // (lib/log/read-sinks.ts), so the response fits Lambda.
    return json(200, binary ? encodeBatchesFetch(result) : encodeFetchResponse(result, query.encoding));
  }),
}, engine);
