/**
 * The shardlog client SDK: typed calls for every route of the HTTP API, a batching producer, a
 * consumer-group member and a share-group member (`client.shareConsumer().run({ eachMessage })`). Errors are
 * the server's own classes, re-exported here.
 *
 * @example
 * import { ShardlogClient } from 'shardlog';
 * const client = new ShardlogClient({ url: process.env.SHARDLOG_URL });
 * const producer = client.producer();
 * await producer.send('orders', [{ key: 'c-1', value: { total: 42 } }]);
 * await producer.close();
 */
export { ShardlogClient, DEFAULT_URL, type ShardlogClientOptions } from './client.js';
export { Producer, type ProducerCalls, type ProducerOptions } from './producer.js';
export { Consumer, type ConsumerCalls, type ConsumerOptions, type EachBatchPayload, type RunOptions } from './consumer.js';
export {
  ShareConsumer,
  type EachMessagePayload,
  type ShareConsumerCalls,
  type ShareConsumerOptions,
  type ShareRunOptions,
} from './share-consumer.js';
export type * from './share-types.js';
export type { Clock } from './clock.js';
export { HttpClient, errorFromResponse, type FetchLike, type HttpClientOptions, type RequestOptions } from './http-client.js';
export {
  createSigV4Signer,
  isLoopbackHost,
  regionFromHost,
  shouldSignByDefault,
  type RequestSigner,
  type SignableRequest,
  type SigV4SignerOptions,
} from './signer.js';
export type { RetryOptions } from './retry.js';
export type * from './types.js';
export {
  ShardlogError,
  InvalidRequestError,
  ForbiddenError,
  RouteNotFoundError,
  MethodNotAllowedError,
  TopicNotFoundError,
  PartitionNotFoundError,
  GroupNotFoundError,
  MemberNotFoundError,
  TopicExistsError,
  FencedError,
  OffsetMismatchError,
  NotSubscribedError,
  GroupNotEmptyError,
  ConcurrentUpdateError,
  IdempotencyKeyReusedError,
  PayloadTooLargeError,
  OffsetOutOfRangeError,
  ThrottledError,
  UnavailableError,
  InternalError,
  isRetriable,
  type ErrorCode,
} from '../errors.js';
