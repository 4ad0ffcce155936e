import { randomUUID } from 'node:crypto';
import { UnavailableError } from '../errors.js';
import { BinaryProduce } from './binary-produce.js';
import { Consumer, type ConsumerCalls, type ConsumerOptions } from './consumer.js';
import { HttpClient, seg, type HttpClientOptions } from './http-client.js';
import { Producer, type ProducerCalls, type ProducerOptions } from './producer.js';
import { ShareConsumer, type ShareConsumerCalls, type ShareConsumerOptions } from './share-consumer.js';
import type {
  ShareAck,
  ShareAckResult,
  ShareFetchRequest,
  SharedRecord,
  ShareGroupDescription,
  ShareGroupSettings,
  ShareGroupSummary,
} from './share-types.js';
import type {
  CommitOffset,
  CommitResponse,
  CreateTopicRequest,
  FetchOptions,
  FetchResponse,
  GroupDescription,
  GroupFetchRequest,
  GroupFetchResponse,
  GroupSummary,
  JoinGroupRequest,
  MaintenanceRequest,
  MaintenanceResponse,
  MembershipResponse,
  ProduceOptions,
  ProduceRecord,
  ProduceResponse,
  ResetOffsetsRequest,
  ResetOffsetsResponse,
  Subscription,
  TopicDescription,
  TopicSummary,
  UpdateTopicRequest,
} from './types.js';
import { BATCHES_MEDIA_TYPE, decodeFetch, decodeGroupFetch } from './wire.js';

/** The default base URL: the local stack of `npm start`. */
export const DEFAULT_URL = 'http://127.0.0.1:4000';

/**
 * How records travel: `json`, the contract's JSON bodies (what curl sends), or `binary`, stored record batches
 * encoded and decoded by the SDK (docs/api.md, "Binary record batches").
 */
export type WireFormat = 'json' | 'binary';

export type ShardlogClientOptions = Omit<HttpClientOptions, 'url'> & {
  url?: string;
  /** The format of the {@link Producer} and {@link Consumer} this client builds (default `binary`). */
  wire?: WireFormat;
};

export { UPLOAD_MIN_BYTES } from './binary-produce.js';

/**
 * One typed method per route of the shardlog HTTP API (docs/api.md), plus the {@link Producer} and
 * {@link Consumer} built on them. Errors are the server's own classes from `lib/errors.ts` (`FencedError`,
 * `OffsetOutOfRangeError`, …) with `retriable`; retriable failures are retried before they reach you.
 *
 * @example
 * const client = new ShardlogClient({ url: 'http://127.0.0.1:4000' });
 * await client.createTopic({ name: 'orders', partitions: 4 });
 * await client.produce('orders', [{ key: 'customer-1', value: { total: 42 } }]);
 * const { records } = await client.fetch('orders', 0, { from: 'earliest' });
 */
export class ShardlogClient implements ProducerCalls, ConsumerCalls, ShareConsumerCalls {
  readonly http: HttpClient;
  /** The format of the producers and consumers this client builds. */
  readonly wire: WireFormat;
  private readonly binary: BinaryProduce;

  constructor(options: ShardlogClientOptions = {}) {
    const { wire, ...http } = options;
    this.http = new HttpClient({ ...http, url: options.url ?? DEFAULT_URL });
    this.wire = wire ?? 'binary';
    this.binary = new BinaryProduce(this.http, (topic) => this.describeTopic(topic));
  }

  /** The base URL requests go to. */
  get url(): string {
    return this.http.baseUrl.toString().replace(/\/$/, '');
  }

  /** A batching, retrying, order-keeping producer. Call `close()` when done. */
  producer(options: ProducerOptions = {}): Producer {
    const calls: ProducerCalls = {
      describeTopic: (topic) => this.describeTopic(topic),
      produce: (topic, records, produce) => this.produce(topic, records, { ...produce, format: this.wire }),
    };
    return new Producer(calls, options);
  }

  /** A consumer-group member; `run()` it with a group, topics and a batch handler. */
  consumer(options: ConsumerOptions = {}): Consumer {
    const calls: ConsumerCalls = {
      subscribe: (group, topic, signal) => this.subscribe(group, topic, signal),
      joinGroup: (group, request, signal) => this.joinGroup(group, request, signal),
      heartbeat: (group, memberId, signal) => this.heartbeat(group, memberId, signal),
      commit: (group, memberId, offsets) => this.commit(group, memberId, offsets),
      leaveGroup: (group, memberId) => this.leaveGroup(group, memberId),
      groupFetch: (group, memberId, request, signal) => this.groupFetch(group, memberId, request, signal, this.wire),
    };
    return new Consumer(calls, options);
  }

  // ---- health and topics ----

  /** `GET /v1/health` */
  health(): Promise<{ status: string }> {
    return this.http.request('GET', '/v1/health');
  }

  /**
   * `POST /v1/topics`
   * @throws TopicExistsError when the name is taken (also when a retry follows a first attempt whose response
   *   was lost); InvalidRequestError for a bad name or count.
   */
  createTopic(request: CreateTopicRequest): Promise<TopicDescription> {
    return this.http.request('POST', '/v1/topics', { body: request });
  }

  /** `GET /v1/topics` */
  async listTopics(): Promise<TopicSummary[]> {
    const response = await this.http.request<{ topics: TopicSummary[] }>('GET', '/v1/topics');
    return response.topics;
  }

  /**
   * `GET /v1/topics/{topic}`
   * @throws TopicNotFoundError
   */
  describeTopic(topic: string): Promise<TopicDescription> {
    return this.http.request('GET', `/v1/topics/${seg(topic)}`);
  }

  /** `PATCH /v1/topics/{topic}`: add partitions (never fewer) or change retention. */
  updateTopic(topic: string, update: UpdateTopicRequest): Promise<TopicDescription> {
    return this.http.request('PATCH', `/v1/topics/${seg(topic)}`, { body: update });
  }

  /** `DELETE /v1/topics/{topic}` */
  async deleteTopic(topic: string): Promise<void> {
    await this.http.request('DELETE', `/v1/topics/${seg(topic)}`);
  }

  // ---- produce and fetch ----

  /**
   * `POST /v1/topics/{topic}/records`: one all-or-nothing append. Always carries an `Idempotency-Key`
   * (yours or a fresh one), so the client's retries never append twice.
   * @throws OffsetMismatchError when `expectedOffsets` did not match; PayloadTooLargeError over the limits.
   * @example
   * await client.produce('accounts', [{ key: 'a-1', value: { deposited: 10 } }], { expectedOffsets: { 0: 17 } });
   */
  async produce(topic: string, records: ProduceRecord[], options: ProduceOptions & { format?: WireFormat } = {}): Promise<ProduceResponse> {
    if (options.format === 'binary') return this.binary.produce(topic, records, options);
    const body: Record<string, unknown> = { records };
    if (options.encoding) body.encoding = options.encoding;
    if (options.expectedOffsets) body.expectedOffsets = options.expectedOffsets;
    return this.http.request('POST', `/v1/topics/${seg(topic)}/records`, {
      body,
      headers: { 'idempotency-key': options.idempotencyKey ?? randomUUID() },
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /**
   * `GET /v1/topics/{topic}/partitions/{partition}/records`: reads one partition without a group; `binary`
   * moves the stored batches and decodes them here, into the same records (`encoding` is then `json`).
   * @throws OffsetOutOfRangeError with `details.startOffset` / `details.endOffset`.
   */
  async fetch(topic: string, partition: number, options: FetchOptions = {}, signal?: AbortSignal, format: WireFormat = 'json'): Promise<FetchResponse> {
    const response = await this.http.request<FetchResponse | Uint8Array>('GET', `/v1/topics/${seg(topic)}/partitions/${partition}/records`, {
      query: { ...options },
      extraTimeoutMs: options.waitMs ?? 0,
      ...(format === 'binary' ? { accept: BATCHES_MEDIA_TYPE, acceptParams: ';urls=1' } : {}),
      ...(signal ? { signal } : {}),
    });
    return response instanceof Uint8Array ? decodeFetch(response, loadUrl) : response;
  }

  // ---- consumer groups ----

  /**
   * `PUT /v1/groups/{group}/subscriptions/{topic}`: the group may read the topic from now on (idempotent;
   * creates the group on first use). The consumer (`consumer().run()`) does this for its topics itself.
   * @throws TopicNotFoundError
   * @example
   * await client.subscribe('billing', 'orders');
   */
  subscribe(group: string, topic: string, signal?: AbortSignal): Promise<Subscription> {
    return this.http.request('PUT', `/v1/groups/${seg(group)}/subscriptions/${seg(topic)}`, { ...(signal ? { signal } : {}) });
  }

  /**
   * `DELETE /v1/groups/{group}/subscriptions/{topic}`: the group stops reading the topic (idempotent); its leases
   * there end, its committed offsets stay until the group is deleted.
   */
  async unsubscribe(group: string, topic: string): Promise<void> {
    await this.http.request('DELETE', `/v1/groups/${seg(group)}/subscriptions/${seg(topic)}`);
  }

  /**
   * `DELETE /v1/groups/{group}`: the group, its subscriptions, leases and committed offsets are gone.
   * @throws GroupNotEmptyError while a member's session is live; GroupNotFoundError for an unknown group (also
   *   when a retry follows a first attempt whose response was lost).
   */
  async deleteGroup(group: string): Promise<void> {
    await this.http.request('DELETE', `/v1/groups/${seg(group)}`);
  }

  /**
   * `POST /v1/groups/{group}/members`: join (or rejoin with `memberId`).
   * @throws NotSubscribedError when a topic (or, without `topics`, every topic) is not subscribed.
   */
  joinGroup(group: string, request: JoinGroupRequest, signal?: AbortSignal): Promise<MembershipResponse> {
    return this.http.request('POST', `/v1/groups/${seg(group)}/members`, { body: request, ...(signal ? { signal } : {}) });
  }

  /**
   * `POST /v1/groups/{group}/members/{memberId}/heartbeat`: keeps the session and returns the current assignments.
   * @throws MemberNotFoundError after the session expired (join again).
   */
  heartbeat(group: string, memberId: string, signal?: AbortSignal): Promise<MembershipResponse> {
    return this.http.request('POST', `/v1/groups/${seg(group)}/members/${seg(memberId)}/heartbeat`, {
      body: {},
      ...(signal ? { signal } : {}),
    });
  }

  /** `DELETE /v1/groups/{group}/members/{memberId}`: leaves; the member's leases are free at once. */
  async leaveGroup(group: string, memberId: string): Promise<void> {
    await this.http.request('DELETE', `/v1/groups/${seg(group)}/members/${seg(memberId)}`);
  }

  /** `POST /v1/groups/{group}/members/{memberId}/fetch`: reads the member's assigned partitions. */
  async groupFetch(group: string, memberId: string, request: GroupFetchRequest = {}, signal?: AbortSignal, format: WireFormat = 'json'): Promise<GroupFetchResponse> {
    const response = await this.http.request<GroupFetchResponse | Uint8Array>('POST', `/v1/groups/${seg(group)}/members/${seg(memberId)}/fetch`, {
      body: request,
      extraTimeoutMs: request.waitMs ?? 0,
      ...(format === 'binary' ? { accept: BATCHES_MEDIA_TYPE, acceptParams: ';urls=1' } : {}),
      ...(signal ? { signal } : {}),
    });
    return response instanceof Uint8Array ? decodeGroupFetch(response, loadUrl) : response;
  }

  /**
   * `POST /v1/groups/{group}/members/{memberId}/commit`. `offset` is the next offset to read. Partly refused
   * commits come back with `ok: false` per partition.
   * @throws FencedError when every offset was refused (409).
   */
  commit(group: string, memberId: string, offsets: CommitOffset[]): Promise<CommitResponse> {
    return this.http.request('POST', `/v1/groups/${seg(group)}/members/${seg(memberId)}/commit`, { body: { offsets } });
  }

  /** `GET /v1/groups/{group}`: subscriptions, members, owners, committed offsets and lag. */
  describeGroup(group: string): Promise<GroupDescription> {
    return this.http.request('GET', `/v1/groups/${seg(group)}`);
  }

  /** `GET /v1/groups` */
  async listGroups(): Promise<GroupSummary[]> {
    const response = await this.http.request<{ groups: GroupSummary[] }>('GET', '/v1/groups');
    return response.groups;
  }

  /**
   * `POST /v1/groups/{group}/offsets`: seek/reset a group's committed offsets; fences the current leases so
   * no member commits over it.
   * @example
   * await client.resetOffsets('billing', { topic: 'orders', to: 'earliest' });
   */
  resetOffsets(group: string, request: ResetOffsetsRequest): Promise<ResetOffsetsResponse> {
    return this.http.request('POST', `/v1/groups/${seg(group)}/offsets`, { body: request });
  }

  // ---- share groups (docs/api.md, "Share groups (v1.1)") ----

  /** A share-group member; `run()` it with a group, topics and a per-record handler. */
  shareConsumer(options: ShareConsumerOptions = {}): ShareConsumer {
    return new ShareConsumer(this, options);
  }

  /**
   * `PUT /v1/share-groups/{group}/subscriptions/{topic}`: idempotent; a new subscription starts at the end
   * unless `from` is `earliest`.
   * @throws TopicNotFoundError
   */
  subscribeShareGroup(group: string, topic: string, from?: 'earliest' | 'latest'): Promise<{ group: string; topic: string }> {
    return this.http.request('PUT', `/v1/share-groups/${seg(group)}/subscriptions/${seg(topic)}`, { body: from ? { from } : {} });
  }

  /** `DELETE /v1/share-groups/{group}/subscriptions/{topic}`: its records' receipts are `FENCED` from now on. */
  async unsubscribeShareGroup(group: string, topic: string): Promise<void> {
    await this.http.request('DELETE', `/v1/share-groups/${seg(group)}/subscriptions/${seg(topic)}`);
  }

  /**
   * `POST /v1/share-groups/{group}/fetch`: acquires up to `maxRecords` records, each locked to its `receipt`.
   * @throws GroupNotFoundError
   */
  shareFetch(group: string, request: ShareFetchRequest = {}, signal?: AbortSignal): Promise<{ records: SharedRecord[] }> {
    return this.http.request('POST', `/v1/share-groups/${seg(group)}/fetch`, {
      body: request,
      extraTimeoutMs: request.waitMs ?? 0,
      ...(signal ? { signal } : {}),
    });
  }

  /** `POST /v1/share-groups/{group}/acks`: one result per ack, `ok: false` with `FENCED` for a stale receipt. */
  async shareAck(group: string, acks: ShareAck[]): Promise<ShareAckResult[]> {
    const response = await this.http.request<{ results: ShareAckResult[] }>('POST', `/v1/share-groups/${seg(group)}/acks`, { body: { acks } });
    return response.results;
  }

  /** `PATCH /v1/share-groups/{group}`: `maxDeliveries`, the dead-letter topic (`null`: none). */
  configureShareGroup(group: string, settings: ShareGroupSettings): Promise<ShareGroupDescription> {
    return this.http.request('PATCH', `/v1/share-groups/${seg(group)}`, { body: settings });
  }

  /** `GET /v1/share-groups/{group}` */
  describeShareGroup(group: string): Promise<ShareGroupDescription> {
    return this.http.request('GET', `/v1/share-groups/${seg(group)}`);
  }

  /** `GET /v1/share-groups` */
  async listShareGroups(): Promise<ShareGroupSummary[]> {
    return (await this.http.request<{ groups: ShareGroupSummary[] }>('GET', '/v1/share-groups')).groups;
  }

  /** `DELETE /v1/share-groups/{group}` */
  async deleteShareGroup(group: string): Promise<void> {
    await this.http.request('DELETE', `/v1/share-groups/${seg(group)}`);
  }

  // ---- maintenance ----

  /** `POST /v1/admin/maintenance`: one pass of tiering and retention now. */
  runMaintenance(request: MaintenanceRequest = {}): Promise<MaintenanceResponse> {
    return this.http.request('POST', '/v1/admin/maintenance', { body: request });
  }
}

/** The bytes of a presigned GET URL a binary fetch handed out instead of a batch's bytes. */
async function loadUrl(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new UnavailableError(`a presigned batch URL answered HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
