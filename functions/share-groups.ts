import { MAX_WAIT_MS } from '../lib/contract/limits.js';
import { InvalidRequestError } from '../lib/errors.js';
import {
  DEFAULT_LOCK_MS,
  DEFAULT_SHARE_FETCH_RECORDS,
  MAX_LOCK_MS,
  MAX_MAX_DELIVERIES,
  MAX_SHARE_FETCH_RECORDS,
  MIN_LOCK_MS,
  type AckInput,
  type AckType,
  type ConfigPatch,
  type SubscriptionStart,
} from '../lib/share-groups/share-group-service.js';
import { MAX_PARTITIONS } from '../lib/topics/topic.js';
import type { Shardlog } from '../lib/shardlog.js';
import { httpHandler, json, noContent, type HttpRequest } from './http/handler.js';
import { encodeShareFetchResponse, type Encoding } from './http/records.js';
import { int, name, objectBody, oneOf, requiredObjectBody, strictObject } from './http/validate.js';

/**
 * Acknowledgements per request: a fetch hands out at most 1,000 records, and a member acknowledging what it
 * holds from a few fetches at once stays within this (README, "Behaviour where the contract is silent").
 */
export const MAX_ACKS_PER_REQUEST = 1000;
/** Receipts are ids the fetch hands out: `[A-Za-z0-9_-]`, never longer than this. */
const RECEIPT = /^[A-Za-z0-9_-]{1,64}$/;
const ACK_TYPES: readonly AckType[] = ['accept', 'release', 'reject', 'renew'];
const offsetRange = { min: 0, max: Number.MAX_SAFE_INTEGER };
const partitionRange = { min: 0, max: MAX_PARTITIONS - 1 };

/**
 * The share-group routes of docs/api.md ("Share groups (v1.1)") over `engine`: parse, call `lib/share-groups`,
 * shape the answer. Long as a whole because it is the table of eight routes, each a short function of its own.
 */
export const shareGroupsHandler = (engine: Shardlog) => httpHandler({
  'PUT /v1/share-groups/{group}/subscriptions/{topic}': async (req) => {
    const body = objectBody(req.body, ['from']);
    const from = oneOf<SubscriptionStart>(body.from, 'from', ['earliest', 'latest'], 'latest');
    return json(200, await engine.shareGroups.subscribe(groupParam(req), name(req.pathParameters.topic, 'topic'), from));
  },

  'DELETE /v1/share-groups/{group}/subscriptions/{topic}': async (req) => {
    await engine.shareGroups.unsubscribe(groupParam(req), name(req.pathParameters.topic, 'topic'));
    return noContent();
  },

  'POST /v1/share-groups/{group}/fetch': async (req) => {
    const body = objectBody(req.body, ['maxRecords', 'lockMs', 'waitMs', 'encoding']);
    const encoding = oneOf<Encoding>(body.encoding, 'encoding', ['json', 'base64'], 'json');
    const { records } = await engine.shareGroups.fetch(groupParam(req), {
      maxRecords: int(body.maxRecords, 'maxRecords', { min: 1, max: MAX_SHARE_FETCH_RECORDS }, DEFAULT_SHARE_FETCH_RECORDS),
      lockMs: int(body.lockMs, 'lockMs', { min: MIN_LOCK_MS, max: MAX_LOCK_MS }, DEFAULT_LOCK_MS),
      waitMs: int(body.waitMs, 'waitMs', { min: 0, max: MAX_WAIT_MS }, 0),
      encoding,
    });
    return json(200, encodeShareFetchResponse(records, encoding));
  },

  'POST /v1/share-groups/{group}/acks': async (req) => {
    const body = requiredObjectBody(req.body, ['acks']);
    const results = await engine.shareGroups.acknowledge(groupParam(req), acks(body.acks));
    return json(200, { results });
  },

  'PATCH /v1/share-groups/{group}': async (req) => {
    const body = requiredObjectBody(req.body, ['maxDeliveries', 'deadLetterTopic']);
    if (body.maxDeliveries === undefined && body.deadLetterTopic === undefined) {
      throw new InvalidRequestError('give maxDeliveries, deadLetterTopic or both');
    }
    const patch: ConfigPatch = {
      ...(body.maxDeliveries !== undefined ? { maxDeliveries: int(body.maxDeliveries, 'maxDeliveries', { min: 1, max: MAX_MAX_DELIVERIES }) } : {}),
      ...(body.deadLetterTopic !== undefined ? { deadLetterTopic: body.deadLetterTopic === null ? null : name(body.deadLetterTopic, 'deadLetterTopic') } : {}),
    };
    return json(200, await engine.shareGroups.configure(groupParam(req), patch));
  },

  'GET /v1/share-groups/{group}': async (req) => json(200, await engine.shareGroups.describe(groupParam(req))),

  'DELETE /v1/share-groups/{group}': async (req) => {
    await engine.shareGroups.delete(groupParam(req));
    return noContent();
  },

  'GET /v1/share-groups': async () => json(200, { groups: await engine.shareGroups.list() }),
}, engine);

function groupParam(req: HttpRequest): string {
  return name(req.pathParameters.group, 'group');
}

/** The acks of a request: 1 to MAX_ACKS_PER_REQUEST, each record named once. */
function acks(raw: unknown): AckInput[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_ACKS_PER_REQUEST) {
    throw new InvalidRequestError(`acks must be an array of 1 to ${MAX_ACKS_PER_REQUEST} acknowledgements`);
  }
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    const where = `acks[${i}]`;
    const a = strictObject(entry, ['topic', 'partition', 'offset', 'receipt', 'type'], where);
    if (typeof a.receipt !== 'string' || !RECEIPT.test(a.receipt)) {
      throw new InvalidRequestError(`${where}.receipt must be the receipt a fetch returned with the record`);
    }
    const ack: AckInput = {
      topic: name(a.topic, `${where}.topic`),
      partition: int(a.partition, `${where}.partition`, partitionRange),
      offset: int(a.offset, `${where}.offset`, offsetRange),
      receipt: a.receipt,
      type: oneOf<AckType>(a.type, `${where}.type`, ACK_TYPES),
    };
    const key = `${ack.topic}/${ack.partition}@${ack.offset}`;
    if (seen.has(key)) throw new InvalidRequestError(`acks names ${key} more than once`);
    seen.add(key);
    return ack;
  });
}
