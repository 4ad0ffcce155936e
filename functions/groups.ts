import { DEFAULT_FETCH_LIMIT, DEFAULT_MAX_BYTES, MAX_FETCH_LIMIT, MAX_MAX_BYTES, MAX_WAIT_MS } from '../lib/contract/limits.js';
import { InvalidRequestError } from '../lib/errors.js';
import {
  DEFAULT_SESSION_TIMEOUT_MS,
  MAX_SESSION_TIMEOUT_MS,
  MIN_SESSION_TIMEOUT_MS,
  type CommitInput,
  type ResetPolicy,
  type ResetTarget,
  type TopicPartitionOffset,
} from '../lib/groups/group-service.js';
import { MAX_PARTITIONS } from '../lib/topics/topic.js';
import { acceptsBatches, encodeBatchesGroupFetch } from './http/batches.js';
import { httpHandler, json, noContent, type HttpRequest } from './http/handler.js';
import { MAX_TIMESTAMP, encodeGroupFetchResponse, type Encoding } from './http/records.js';
import { recordFetch, timed } from './http/route-metrics.js';
import { int, isObject, name, objectBody, oneOf, requiredObjectBody, strictObject } from './http/validate.js';
import type { Shardlog } from '../lib/shardlog.js';

/** A member subscribes to at most this many topics: they live in its record, the one item a heartbeat writes. */
const MAX_TOPICS_PER_MEMBER = 32;
/** One commit request carries at most one offset per partition a member could hold. */
const MAX_COMMIT_OFFSETS = 1024;
const offsetRange = { min: 0, max: Number.MAX_SAFE_INTEGER };
const partitionRange = { min: 0, max: MAX_PARTITIONS - 1 };

/**
 * The consumer-group routes of docs/api.md ("Consumer groups") over `engine`: parse, call `lib/groups`, shape the
 * answer. Long as a whole because it is the table of eleven routes, each a short function of its own.
 */
export const groupsHandler = (engine: Shardlog) => httpHandler({
  'PUT /v1/groups/{group}/subscriptions/{topic}': async (req) => {
    objectBody(req.body, []);
    return json(200, await engine.groups.subscribe(groupParam(req), topicParam(req)));
  },

  'DELETE /v1/groups/{group}/subscriptions/{topic}': async (req) => {
    await engine.groups.unsubscribe(groupParam(req), topicParam(req));
    return noContent();
  },

  'DELETE /v1/groups/{group}': async (req) => {
    await engine.groups.delete(groupParam(req));
    return noContent();
  },

  'POST /v1/groups/{group}/members': async (req) => {
    const body = objectBody(req.body, ['topics', 'memberId', 'sessionTimeoutMs']);
    if (body.topics !== undefined && (!Array.isArray(body.topics) || body.topics.length === 0 || body.topics.length > MAX_TOPICS_PER_MEMBER)) {
      throw new InvalidRequestError(`topics must be an array of 1 to ${MAX_TOPICS_PER_MEMBER} topic names (absent: every subscription)`);
    }
    const topics = Array.isArray(body.topics) ? body.topics : undefined;
    const membership = await engine.groups.join(groupParam(req), {
      ...(topics !== undefined ? { topics: topics.map((t, i) => name(t, `topics[${i}]`)) } : {}),
      ...(body.memberId !== undefined ? { memberId: name(body.memberId, 'memberId') } : {}),
      sessionTimeoutMs: int(
        body.sessionTimeoutMs,
        'sessionTimeoutMs',
        { min: MIN_SESSION_TIMEOUT_MS, max: MAX_SESSION_TIMEOUT_MS },
        DEFAULT_SESSION_TIMEOUT_MS,
      ),
    });
    return json(200, membership);
  },

  'POST /v1/groups/{group}/members/{memberId}/heartbeat': async (req) => {
    objectBody(req.body, []);
    return json(200, await engine.groups.heartbeat(groupParam(req), memberParam(req)));
  },

  'DELETE /v1/groups/{group}/members/{memberId}': async (req) => {
    await engine.groups.leave(groupParam(req), memberParam(req));
    return noContent();
  },

  'POST /v1/groups/{group}/members/{memberId}/fetch': async (req) => {
    const body = objectBody(req.body, ['limit', 'maxBytes', 'waitMs', 'positions', 'encoding', 'autoOffsetReset']);
    const encoding = oneOf<Encoding>(body.encoding, 'encoding', ['json', 'base64'], 'json');
    // Stored batches verbatim when `Accept` names them (docs/api.md, "Binary record batches").
    const binary = acceptsBatches(req);
    const positions = body.positions === undefined ? undefined : offsets(body.positions, 'positions', ['topic', 'partition', 'offset']);
    // An addition to docs/api.md (README, "Behaviour where the contract is silent"): Kafka's auto.offset.reset.
    const resetPolicy =
      body.autoOffsetReset === undefined ? undefined : oneOf<ResetPolicy>(body.autoOffsetReset, 'autoOffsetReset', ['earliest', 'latest']);
    const input = {
      limit: int(body.limit, 'limit', { min: 1, max: MAX_FETCH_LIMIT }, DEFAULT_FETCH_LIMIT),
      maxBytes: int(body.maxBytes, 'maxBytes', { min: 1, max: MAX_MAX_BYTES }, DEFAULT_MAX_BYTES),
      waitMs: int(body.waitMs, 'waitMs', { min: 0, max: MAX_WAIT_MS }, 0),
      encoding,
      ...(positions ? { positions } : {}),
      ...(resetPolicy ? { resetPolicy } : {}),
      ...(binary ? { batches: binary } : {}),
    };
    const startedAt = performance.now();
    let waited = false;
    const batches = await engine.groups.fetch(groupParam(req), memberParam(req), { ...input, onWait: () => (waited = true) });
    recordFetch(req.metrics, { startedAt, waited, returned: batches });
    return json(200, binary ? encodeBatchesGroupFetch(batches) : encodeGroupFetchResponse(batches, encoding));
  },

  'POST /v1/groups/{group}/members/{memberId}/commit': async (req) => {
    const body = requiredObjectBody(req.body, ['offsets']);
    const list = offsets(body.offsets, 'offsets', ['topic', 'partition', 'offset', 'leaseToken']);
    if (list.length === 0) throw new InvalidRequestError('offsets must not be empty');
    const commits: CommitInput[] = list.map((o, i) => {
      const token = (body.offsets as Record<string, unknown>[])[i]!.leaseToken;
      if (typeof token !== 'string' || token.length === 0 || token.length > 200) {
        throw new InvalidRequestError(`offsets[${i}].leaseToken must be the lease token of an assignment`);
      }
      return { ...o, leaseToken: token };
    });
    const results = await timed(req.metrics, 'CommitLatency', () => engine.groups.commit(groupParam(req), memberParam(req), commits));
    return json(200, { results });
  },

  'GET /v1/groups/{group}': async (req) => json(200, await engine.groups.describe(groupParam(req))),

  'GET /v1/groups': async () => json(200, { groups: await engine.groups.list() }),

  'POST /v1/groups/{group}/offsets': async (req) => {
    const body = requiredObjectBody(req.body, ['topic', 'partition', 'to']);
    const group = groupParam(req);
    const offsetsReset = await engine.groups.resetOffsets(group, {
      topic: name(body.topic, 'topic'),
      ...(body.partition !== undefined ? { partition: int(body.partition, 'partition', partitionRange) } : {}),
      to: resetTarget(body.to),
    });
    return json(200, { group, offsets: offsetsReset });
  },
}, engine);

function groupParam(req: HttpRequest): string {
  return name(req.pathParameters.group, 'group');
}

function topicParam(req: HttpRequest): string {
  return name(req.pathParameters.topic, 'topic');
}

function memberParam(req: HttpRequest): string {
  return name(req.pathParameters.memberId, 'memberId');
}

/** A list of `{ topic, partition, offset, ... }`, each partition named once. */
function offsets(raw: unknown, field: string, allowed: readonly string[]): TopicPartitionOffset[] {
  if (!Array.isArray(raw) || raw.length > MAX_COMMIT_OFFSETS) {
    throw new InvalidRequestError(`${field} must be an array of at most ${MAX_COMMIT_OFFSETS} entries`);
  }
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    const o = strictObject(entry, allowed, `${field}[${i}]`);
    const parsed = {
      topic: name(o.topic, `${field}[${i}].topic`),
      partition: int(o.partition, `${field}[${i}].partition`, partitionRange),
      offset: int(o.offset, `${field}[${i}].offset`, offsetRange),
    };
    const key = `${parsed.topic}/${parsed.partition}`;
    if (seen.has(key)) throw new InvalidRequestError(`${field} names ${key} more than once`);
    seen.add(key);
    return parsed;
  });
}

function resetTarget(raw: unknown): ResetTarget {
  if (raw === 'earliest' || raw === 'latest') return raw;
  if (isObject(raw)) {
    if ('offset' in raw) return { offset: int(strictObject(raw, ['offset'], 'to').offset, 'to.offset', offsetRange) };
    if ('timestamp' in raw) return { timestamp: int(strictObject(raw, ['timestamp'], 'to').timestamp, 'to.timestamp', { min: 0, max: MAX_TIMESTAMP }) };
  }
  throw new InvalidRequestError('to must be "earliest", "latest", { "offset": n } or { "timestamp": ms }');
}
