import { randomUUID } from 'node:crypto';
import { partitionFor } from '../../../lib/log/partitioner.js';
import type { ConsumedRecord, ProduceRecord } from '../../../lib/client/types.js';
import type { FetchLike } from '../../../lib/client/http-client.js';

/**
 * An in-memory stand-in for the shardlog HTTP API (shared/API.md), as a `fetch` function: enough of the
 * contract to drive the client SDK and the CLI in unit tests without a network. Not a second server: groups
 * assign round-robin on every join/heartbeat, and only the behaviour the client relies on is modelled.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

type Fault = { status: number; body?: unknown; headers?: Record<string, string> } | 'network';

interface Topic {
  partitions: ConsumedRecord[][];
  retentionHours: number;
  createdAt: number;
}

interface Member {
  topics: string[];
  expiresAt: number;
  sessionTimeoutMs: number;
}

interface Lease {
  owner: string | null;
  token: string;
  committed: number | null;
}

export class FakeShardlog {
  readonly requests: RecordedRequest[] = [];
  readonly topics = new Map<string, Topic>();
  readonly groups = new Map<string, { members: Map<string, Member>; leases: Map<string, Lease> }>();
  heartbeatIntervalMs = 20;
  /** Faults to inject, per `METHOD /path-pattern` (e.g. `POST /v1/topics/{topic}/records`), consumed in order. */
  private readonly faults = new Map<string, Fault[]>();
  /** Called before a request is answered; may delay it (e.g. to hold a produce in flight). */
  beforeHandle: ((request: RecordedRequest) => Promise<void> | void) | undefined;
  private readonly idempotency = new Map<string, unknown>();
  private now: () => number = Date.now;

  readonly fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    const request: RecordedRequest = {
      method: init.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers,
      body: typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
    };
    this.requests.push(request);
    // Like a real fetch, an abort ends the wait for a held (e.g. long-polling) request at once.
    await Promise.race([this.beforeHandle?.(request), aborted(init.signal)]);
    if (init.signal?.aborted) throw init.signal.reason;
    const fault = this.faults.get(`${request.method} ${pattern(request.path)}`)?.shift();
    if (fault === 'network') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    if (fault) return respond(fault.status, fault.body, fault.headers);
    try {
      const [status, body, extra] = this.handle(request);
      await this.longPoll(request, body, init.signal);
      return respond(status, body, extra);
    } catch (error) {
      if (error instanceof HttpError) return respond(error.status, { error: { code: error.code, message: error.message, retriable: false, ...error.details } });
      throw error;
    }
  };

  /** A fetch that found nothing waits out its `waitMs` (or an abort), as the real long poll does. */
  private async longPoll(request: RecordedRequest, body: unknown, signal: AbortSignal | null | undefined): Promise<void> {
    const waitMs = Number(request.query.get('waitMs') ?? (request.body as { waitMs?: number } | undefined)?.waitMs ?? 0);
    const b = body as { records?: unknown[]; batches?: Array<{ records: unknown[] }> } | undefined;
    const empty = b?.records ? b.records.length === 0 : b?.batches ? b.batches.every((x) => x.records.length === 0) : false;
    if (!empty || !(waitMs > 0)) return;
    await Promise.race([new Promise((r) => setTimeout(r, waitMs)), aborted(signal)]);
    if (signal?.aborted) throw signal.reason;
  }

  fail(route: string, ...faults: Fault[]): void {
    this.faults.set(route, [...(this.faults.get(route) ?? []), ...faults]);
  }

  createTopic(name: string, partitions = 1): void {
    this.topics.set(name, { partitions: Array.from({ length: partitions }, () => []), retentionHours: 168, createdAt: this.now() });
  }

  /**
   * Deletes a topic and creates one of the same name (README, "A topic deleted and created again"): every
   * group's leases on it end (fetch leaves them out, their tokens are refused), and the next heartbeat hands
   * its partitions out again with new tokens and nothing committed.
   */
  recreateTopic(name: string, partitions = 1): void {
    this.topics.delete(name);
    this.createTopic(name, partitions);
    for (const g of this.groups.values()) {
      for (const key of [...g.leases.keys()]) if (splitKey(key)[0] === name) g.leases.delete(key);
    }
  }

  /** Ends a member's session at once, as if it had stopped heartbeating long ago. */
  expireMember(group: string, memberId: string): void {
    const g = this.groups.get(group);
    g?.members.delete(memberId);
    if (g) this.rebalance(g);
  }

  committed(group: string, topic: string, partition: number): number | null {
    return this.groups.get(group)?.leases.get(`${topic}/${partition}`)?.committed ?? null;
  }

  requestsTo(route: string): RecordedRequest[] {
    return this.requests.filter((r) => `${r.method} ${pattern(r.path)}` === route);
  }

  private handle(r: RecordedRequest): [number, unknown, Record<string, string>?] {
    const parts = r.path.split('/').slice(2).map(decodeURIComponent);
    const route = `${r.method} ${pattern(r.path)}`;
    const body = (r.body ?? {}) as Record<string, any>;
    switch (route) {
      case 'GET /v1/health':
        return [200, { status: 'ok' }];
      case 'POST /v1/topics': {
        if (this.topics.has(body.name)) throw new HttpError(409, 'TOPIC_EXISTS', `topic '${body.name}' already exists`, { topic: body.name });
        this.createTopic(body.name, body.partitions ?? 1);
        return [201, this.describe(body.name)];
      }
      case 'GET /v1/topics':
        return [200, { topics: [...this.topics].map(([name, t]) => ({ name, partitions: t.partitions.length })) }];
      case 'GET /v1/topics/{topic}':
        return [200, this.describe(parts[1]!)];
      case 'DELETE /v1/topics/{topic}':
        this.topic(parts[1]!);
        this.topics.delete(parts[1]!);
        return [204, undefined];
      case 'POST /v1/topics/{topic}/records':
        return [200, this.produce(parts[1]!, body.records, r.headers['idempotency-key'])];
      case 'GET /v1/topics/{topic}/partitions/{partition}/records':
        return [200, this.read(parts[1]!, Number(parts[3]), r.query)];
      case 'GET /v1/groups':
        return [200, { groups: [...this.groups].map(([group, g]) => ({ group, members: g.members.size })) }];
      case 'GET /v1/groups/{group}':
        return [200, this.describeGroup(parts[1]!)];
      case 'POST /v1/groups/{group}/members':
        return [200, this.join(parts[1]!, body.memberId ?? randomUUID(), body.topics, body.sessionTimeoutMs ?? 30_000)];
      case 'POST /v1/groups/{group}/members/{memberId}/heartbeat':
        return [200, this.heartbeat(parts[1]!, parts[3]!)];
      case 'DELETE /v1/groups/{group}/members/{memberId}': {
        this.member(parts[1]!, parts[3]!);
        this.expireMember(parts[1]!, parts[3]!);
        return [204, undefined];
      }
      case 'POST /v1/groups/{group}/members/{memberId}/fetch':
        return [200, this.groupFetch(parts[1]!, parts[3]!, body)];
      case 'POST /v1/groups/{group}/members/{memberId}/commit':
        return this.commit(parts[1]!, parts[3]!, body.offsets);
      case 'POST /v1/groups/{group}/offsets':
        return [200, this.reset(parts[1]!, body)];
      case 'POST /v1/admin/maintenance':
        return [200, { tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 0, segments: 0 } }];
      default:
        throw new HttpError(404, 'NOT_FOUND', `no route for ${r.method} ${r.path}`);
    }
  }

  private topic(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic) throw new HttpError(404, 'TOPIC_NOT_FOUND', `topic '${name}' does not exist`, { topic: name });
    return topic;
  }

  private describe(name: string) {
    const t = this.topic(name);
    return {
      name,
      partitions: t.partitions.length,
      retentionHours: t.retentionHours,
      createdAt: t.createdAt,
      partitionStats: t.partitions.map((p, partition) => ({ partition, startOffset: 0, endOffset: p.length })),
    };
  }

  private produce(name: string, records: ProduceRecord[], idempotencyKey: string | undefined) {
    const cacheKey = `${name}/${idempotencyKey}`;
    if (idempotencyKey && this.idempotency.has(cacheKey)) return this.idempotency.get(cacheKey);
    const t = this.topic(name);
    const n = t.partitions.length;
    const sticky = Math.floor(Math.random() * n);
    const acks = records.map((record) => {
      const partition =
        record.partition ?? (record.key != null ? partitionFor(Buffer.from(record.key, 'utf8'), n) : sticky);
      const log = t.partitions[partition]!;
      const stored: ConsumedRecord = {
        offset: log.length,
        timestamp: record.timestamp ?? this.now(),
        key: record.key ?? null,
        value: record.value,
        headers: record.headers ?? {},
      };
      log.push(stored);
      return { partition, offset: stored.offset, timestamp: stored.timestamp };
    });
    const response = { records: acks };
    if (idempotencyKey) this.idempotency.set(cacheKey, response);
    return response;
  }

  private read(name: string, partition: number, query: URLSearchParams) {
    const log = this.topic(name).partitions[partition];
    if (!log) throw new HttpError(404, 'PARTITION_NOT_FOUND', `no partition ${partition}`);
    const from = query.get('from');
    const offset = query.has('offset') ? Number(query.get('offset')) : from === 'latest' ? log.length : 0;
    if (offset < 0 || offset > log.length) {
      throw new HttpError(416, 'OFFSET_OUT_OF_RANGE', `offset ${offset} out of range`, { offset, startOffset: 0, endOffset: log.length });
    }
    const limit = Number(query.get('limit') ?? 1000);
    const records = log.slice(offset, offset + limit);
    return { records, nextOffset: offset + records.length, startOffset: 0, endOffset: log.length };
  }

  private group(name: string) {
    let g = this.groups.get(name);
    if (!g) {
      g = { members: new Map(), leases: new Map() };
      this.groups.set(name, g);
    }
    return g;
  }

  private member(group: string, memberId: string): Member {
    const g = this.groups.get(group);
    const m = g?.members.get(memberId);
    if (!g || !m || m.expiresAt < this.now()) {
      if (g && m) this.expireMember(group, memberId);
      throw new HttpError(404, 'MEMBER_NOT_FOUND', `member '${memberId}' is not in group '${group}'`, { group, memberId });
    }
    return m;
  }

  private join(group: string, memberId: string, topics: string[], sessionTimeoutMs: number) {
    for (const t of topics) this.topic(t);
    const g = this.group(group);
    g.members.set(memberId, { topics, sessionTimeoutMs, expiresAt: this.now() + sessionTimeoutMs });
    this.rebalance(g);
    return this.membership(group, memberId);
  }

  private heartbeat(group: string, memberId: string) {
    const m = this.member(group, memberId);
    m.expiresAt = this.now() + m.sessionTimeoutMs;
    const g = this.group(group);
    const subscribed = new Set([...g.members.values()].flatMap((x) => x.topics));
    const unassigned = [...subscribed].some((t) => this.topics.get(t)?.partitions.some((_, p) => !g.leases.has(`${t}/${p}`)));
    if (unassigned) this.rebalance(g);
    return this.membership(group, memberId);
  }

  /** Round-robin over the live members in id order; a lease whose owner changes gets a new token. */
  private rebalance(g: { members: Map<string, Member>; leases: Map<string, Lease> }): void {
    const members = [...g.members.keys()].sort();
    for (const lease of g.leases.values()) {
      if (lease.owner !== null && !g.members.has(lease.owner)) lease.owner = null;
    }
    const topics = new Set([...g.members.values()].flatMap((m) => m.topics));
    let i = 0;
    for (const name of [...topics].sort()) {
      const t = this.topics.get(name);
      if (!t) continue;
      for (let p = 0; p < t.partitions.length; p++) {
        const key = `${name}/${p}`;
        const owner = members.length > 0 ? members[i++ % members.length]! : null;
        const lease = g.leases.get(key);
        if (!lease) g.leases.set(key, { owner, token: randomUUID(), committed: null });
        else if (lease.owner !== owner) {
          lease.owner = owner;
          lease.token = randomUUID();
        }
      }
    }
  }

  private membership(group: string, memberId: string) {
    const g = this.group(group);
    const assignments = [...g.leases]
      .filter(([, l]) => l.owner === memberId)
      .map(([key, l]) => {
        const [topic, partition] = splitKey(key);
        return { topic, partition, leaseToken: l.token, committedOffset: l.committed };
      });
    return { memberId, heartbeatIntervalMs: this.heartbeatIntervalMs, assignments };
  }

  private groupFetch(group: string, memberId: string, body: Record<string, any>) {
    this.member(group, memberId);
    const g = this.group(group);
    const positions = new Map<string, number>(
      ((body.positions ?? []) as Array<{ topic: string; partition: number; offset: number }>).map((p) => [
        `${p.topic}/${p.partition}`,
        p.offset,
      ]),
    );
    const batches = [];
    for (const [key, lease] of g.leases) {
      if (lease.owner !== memberId) continue;
      const [topic, partition] = splitKey(key);
      const log = this.topic(topic).partitions[partition]!;
      const from = positions.get(key) ?? lease.committed ?? 0;
      const records = log.slice(from, from + (body.limit ?? 1000));
      batches.push({ topic, partition, leaseToken: lease.token, records, nextOffset: from + records.length, endOffset: log.length });
    }
    return { batches };
  }

  private commit(group: string, memberId: string, offsets: Array<{ topic: string; partition: number; offset: number; leaseToken: string }>): [number, unknown] {
    this.member(group, memberId);
    const g = this.group(group);
    const results = offsets.map((o) => {
      const lease = g.leases.get(`${o.topic}/${o.partition}`);
      if (!lease || lease.owner !== memberId || lease.token !== o.leaseToken) {
        return { topic: o.topic, partition: o.partition, offset: o.offset, ok: false, error: { code: 'FENCED', message: 'lease lost' } };
      }
      lease.committed = o.offset;
      return { topic: o.topic, partition: o.partition, offset: o.offset, ok: true };
    });
    if (results.length > 0 && results.every((r) => !r.ok)) {
      return [409, { error: { code: 'FENCED', message: 'every commit was refused', retriable: false, results } }];
    }
    return [200, { results }];
  }

  private describeGroup(name: string) {
    const g = this.groups.get(name);
    if (!g) throw new HttpError(404, 'GROUP_NOT_FOUND', `group '${name}' does not exist`, { group: name });
    return {
      group: name,
      members: [...g.members].map(([memberId, m]) => ({
        memberId,
        expiresAt: m.expiresAt,
        partitions: [...g.leases.values()].filter((l) => l.owner === memberId).length,
      })),
      partitions: [...g.leases].map(([key, l]) => {
        const [topic, partition] = splitKey(key);
        const endOffset = this.topics.get(topic)?.partitions[partition]?.length ?? 0;
        return { topic, partition, owner: l.owner, committedOffset: l.committed, endOffset, lag: endOffset - (l.committed ?? 0) };
      }),
    };
  }

  private reset(group: string, body: Record<string, any>) {
    const t = this.topic(body.topic);
    const g = this.group(group);
    const offsets = [];
    for (let p = 0; p < t.partitions.length; p++) {
      if (body.partition !== undefined && body.partition !== p) continue;
      const end = t.partitions[p]!.length;
      const to = body.to;
      const offset = to === 'earliest' ? 0 : to === 'latest' ? end : typeof to?.offset === 'number' ? to.offset : 0;
      const key = `${body.topic}/${p}`;
      const lease = g.leases.get(key) ?? { owner: null, token: randomUUID(), committed: null };
      lease.committed = offset;
      lease.token = randomUUID();
      g.leases.set(key, lease);
      offsets.push({ topic: body.topic, partition: p, offset });
    }
    return { group, offsets };
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function aborted(signal: AbortSignal | null | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function respond(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  if (status === 204 || body === undefined) return new Response(null, { status, headers });
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** `/v1/topics/orders/records` → `/v1/topics/{topic}/records`, matching API.md's route table. */
function pattern(path: string): string {
  const p = path.split('/');
  const names: Record<string, string[]> = {
    topics: ['{topic}', 'partitions', '{partition}'],
    groups: ['{group}', 'members', '{memberId}'],
  };
  const kind = p[2];
  if (!kind || !names[kind]) return path;
  return p
    .map((segment, i) => {
      if (i === 3) return names[kind]![0];
      if (i === 5 && p[4] === names[kind]![1]) return names[kind]![2];
      return segment;
    })
    .join('/');
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf('/');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
