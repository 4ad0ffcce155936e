import { randomUUID } from 'node:crypto';
import { FencedError, GroupNotEmptyError, GroupNotFoundError, MemberNotFoundError, NotSubscribedError } from '../../../../lib/errors.js';
import { sleep } from '../../../../lib/client/clock.js';
import type { ConsumerCalls } from '../../../../lib/client/consumer.js';
import type {
  CommitOffset,
  CommitResponse,
  CommitResult,
  GroupDescription,
  GroupFetchRequest,
  GroupFetchResponse,
  GroupSummary,
  JoinGroupRequest,
  MembershipResponse,
  ResetOffsetsRequest,
  ResetOffsetsResponse,
  Subscription,
} from '../../../../lib/client/types.js';
import type { InMemoryLog } from './in-memory-log.js';

interface Member {
  /** `null`: every subscription. */
  topics: string[] | null;
  expiresAt: number;
  sessionTimeoutMs: number;
}

interface Lease {
  owner: string | null;
  token: string;
  committed: number | null;
}

interface Group {
  subscriptions: Set<string>;
  members: Map<string, Member>;
  leases: Map<string, Lease>;
}

export type GroupCall = {
  call: 'subscribe' | 'unsubscribe' | 'deleteGroup' | 'joinGroup' | 'heartbeat' | 'groupFetch' | 'commit' | 'leaveGroup';
  group: string;
  body?: unknown;
};

/**
 * Consumer groups in memory over an {@link InMemoryLog}, behind the calls the {@link Consumer} makes
 * ({@link ConsumerCalls}). Not a second coordinator: it assigns round-robin over the members in id order at
 * every join, leave and expiry (and at a heartbeat that finds a partition unassigned); a lease whose owner
 * changes, or that a reset moves, gets a new token; a commit is refused (`FENCED`) unless owner and token match.
 * A group reads only its subscriptions (`NOT_SUBSCRIBED` otherwise), as docs/api.md v1.1 says.
 */
export class InMemoryGroups implements ConsumerCalls {
  readonly groups = new Map<string, Group>();
  /** Every call, in order. */
  readonly calls: GroupCall[] = [];
  heartbeatIntervalMs = 1_000;
  /** Runs when a group fetch arrives, before it reads: may change the group under the member, or hold it. */
  beforeFetch: ((request: GroupFetchRequest) => Promise<void> | void) | undefined;

  constructor(readonly log: InMemoryLog) {}

  callsOf(call: GroupCall['call']): GroupCall[] {
    return this.calls.filter((c) => c.call === call);
  }

  committed(group: string, topic: string, partition: number): number | null {
    return this.groups.get(group)?.leases.get(leaseKey(topic, partition))?.committed ?? null;
  }

  /** Ends a member's session at once, as if it had stopped heartbeating long ago. */
  expireMember(group: string, memberId: string): void {
    const g = this.groups.get(group);
    if (g?.members.delete(memberId)) this.rebalance(g);
  }

  /** Deletes a topic and creates it again: every lease on it ends, and a heartbeat hands it out anew. */
  recreateTopic(name: string, partitions = 1): void {
    this.log.topics.delete(name);
    this.log.createTopic(name, partitions);
    for (const g of this.groups.values()) for (const key of [...g.leases.keys()]) if (splitKey(key)[0] === name) g.leases.delete(key);
  }

  async subscribe(group: string, topic: string): Promise<Subscription> {
    this.calls.push({ call: 'subscribe', group, body: { topic } });
    this.log.topic(topic);
    this.group(group).subscriptions.add(topic);
    return { group, topic };
  }

  /** Unsubscribes: the topic's leases end (owner gone), committed offsets stay. */
  async unsubscribe(group: string, topic: string): Promise<void> {
    this.calls.push({ call: 'unsubscribe', group, body: { topic } });
    const g = this.group(group);
    g.subscriptions.delete(topic);
    for (const [key, lease] of g.leases) if (splitKey(key)[0] === topic) lease.owner = null;
  }

  async deleteGroup(group: string): Promise<void> {
    this.calls.push({ call: 'deleteGroup', group });
    const g = this.groups.get(group);
    if (!g) throw new GroupNotFoundError(group);
    if (g.members.size > 0) throw new GroupNotEmptyError(group, g.members.size);
    this.groups.delete(group);
  }

  async joinGroup(group: string, request: JoinGroupRequest): Promise<MembershipResponse> {
    this.calls.push({ call: 'joinGroup', group, body: request });
    const g = this.group(group);
    if (!request.topics && g.subscriptions.size === 0) throw new NotSubscribedError(group, null);
    this.requireSubscribed(group, request.topics ?? []);
    for (const topic of request.topics ?? []) this.log.topic(topic);
    const memberId = request.memberId ?? randomUUID();
    const sessionTimeoutMs = request.sessionTimeoutMs ?? 30_000;
    g.members.set(memberId, { topics: request.topics ?? null, sessionTimeoutMs, expiresAt: this.log.clock.now() + sessionTimeoutMs });
    this.rebalance(g);
    return this.membership(g, memberId);
  }

  async heartbeat(group: string, memberId: string): Promise<MembershipResponse> {
    this.calls.push({ call: 'heartbeat', group });
    const { g, member } = this.member(group, memberId);
    member.expiresAt = this.log.clock.now() + member.sessionTimeoutMs;
    const subscribed = new Set([...g.members.values()].flatMap((m) => this.topicsOf(g, m)));
    const unassigned = [...subscribed].some((t) => this.log.topics.get(t)?.partitions.some((_, p) => !g.leases.has(leaseKey(t, p))));
    if (unassigned) this.rebalance(g);
    return this.membership(g, memberId);
  }

  async leaveGroup(group: string, memberId: string): Promise<void> {
    this.calls.push({ call: 'leaveGroup', group });
    this.member(group, memberId);
    this.expireMember(group, memberId);
  }

  async groupFetch(group: string, memberId: string, request: GroupFetchRequest, signal?: AbortSignal): Promise<GroupFetchResponse> {
    this.calls.push({ call: 'groupFetch', group, body: request });
    await this.beforeFetch?.(request);
    this.member(group, memberId);
    this.requireSubscribed(group, (request.positions ?? []).map((p) => p.topic));
    let batches = this.read(this.group(group), memberId, request);
    if ((request.waitMs ?? 0) > 0 && batches.every((b) => b.records.length === 0)) {
      await sleep(request.waitMs!, signal, this.log.clock);
      batches = this.read(this.group(group), memberId, request);
    }
    return { batches };
  }

  async commit(group: string, memberId: string, offsets: CommitOffset[]): Promise<CommitResponse> {
    this.calls.push({ call: 'commit', group, body: { offsets } });
    const { g } = this.member(group, memberId);
    this.requireSubscribed(group, offsets.map((o) => o.topic));
    const results: CommitResult[] = offsets.map(({ topic, partition, offset, leaseToken }) => {
      const lease = g.leases.get(leaseKey(topic, partition));
      if (!lease || lease.owner !== memberId || lease.token !== leaseToken) {
        return { topic, partition, offset, ok: false, error: { code: 'FENCED', message: 'lease lost' } };
      }
      lease.committed = offset;
      return { topic, partition, offset, ok: true };
    });
    if (results.length > 0 && results.every((r) => !r.ok)) throw new FencedError('every commit was refused', { details: { results } });
    return { results };
  }

  /** Moves committed offsets and fences the leases (new tokens), as `POST /v1/groups/{group}/offsets`. */
  async resetOffsets(group: string, request: ResetOffsetsRequest): Promise<ResetOffsetsResponse> {
    const partitions = this.log.topic(request.topic).partitions;
    const g = this.group(group);
    const offsets = [];
    for (let p = 0; p < partitions.length; p++) {
      if (request.partition !== undefined && request.partition !== p) continue;
      const to = request.to;
      const offset = to === 'earliest' ? 0 : to === 'latest' ? partitions[p]!.length : 'offset' in to ? to.offset : 0;
      const lease = g.leases.get(leaseKey(request.topic, p)) ?? { owner: null, token: '', committed: null };
      g.leases.set(leaseKey(request.topic, p), { ...lease, committed: offset, token: randomUUID() });
      offsets.push({ topic: request.topic, partition: p, offset });
    }
    return { group, offsets };
  }

  async describeGroup(group: string): Promise<GroupDescription> {
    const g = this.groups.get(group);
    if (!g) throw new GroupNotFoundError(group);
    const owned = (memberId: string) => [...g.leases.values()].filter((l) => l.owner === memberId).length;
    return {
      group,
      subscriptions: [...g.subscriptions].sort(),
      members: [...g.members].map(([memberId, m]) => ({ memberId, expiresAt: m.expiresAt, partitions: owned(memberId) })),
      partitions: [...g.leases].map(([key, lease]) => {
        const [topic, partition] = splitKey(key);
        const endOffset = this.log.topics.get(topic)?.partitions[partition]?.length ?? 0;
        return { topic, partition, owner: lease.owner, committedOffset: lease.committed, endOffset, lag: endOffset - (lease.committed ?? 0) };
      }),
    };
  }

  async listGroups(): Promise<GroupSummary[]> {
    return [...this.groups].map(([group, g]) => ({ group, members: g.members.size }));
  }

  private read(g: Group, memberId: string, request: GroupFetchRequest) {
    const positions = new Map((request.positions ?? []).map((p) => [leaseKey(p.topic, p.partition), p.offset]));
    const batches = [];
    for (const [key, lease] of g.leases) {
      if (lease.owner !== memberId || !g.subscriptions.has(splitKey(key)[0])) continue;
      const [topic, partition] = splitKey(key);
      const log = this.log.partition(topic, partition);
      const reset = request.autoOffsetReset === 'latest' ? log.length : 0;
      const from = positions.get(key) ?? lease.committed ?? reset;
      const records = log.slice(from, from + (request.limit ?? 1000));
      batches.push({ topic, partition, leaseToken: lease.token, records, nextOffset: from + records.length, endOffset: log.length });
    }
    return batches;
  }

  private group(name: string): Group {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { subscriptions: new Set(), members: new Map(), leases: new Map() }));
    return g;
  }

  private member(group: string, memberId: string): { g: Group; member: Member } {
    const g = this.groups.get(group);
    const member = g?.members.get(memberId);
    if (!g || !member || member.expiresAt < this.log.clock.now()) {
      this.expireMember(group, memberId);
      throw new MemberNotFoundError(group, memberId);
    }
    return { g, member };
  }

  /** Round-robin over the live members in id order; a lease whose owner changes gets a new token. */
  private rebalance(g: Group): void {
    const members = [...g.members.keys()].sort();
    let i = 0;
    for (const name of [...new Set([...g.members.values()].flatMap((m) => this.topicsOf(g, m)))].sort()) {
      const partitions = this.log.topics.get(name)?.partitions.length ?? 0;
      for (let p = 0; p < partitions; p++) {
        const owner = members.length > 0 ? members[i++ % members.length]! : null;
        const lease = g.leases.get(leaseKey(name, p));
        if (!lease) g.leases.set(leaseKey(name, p), { owner, token: randomUUID(), committed: null });
        else if (lease.owner !== owner) Object.assign(lease, { owner, token: randomUUID() });
      }
    }
    for (const lease of g.leases.values()) if (lease.owner !== null && !g.members.has(lease.owner)) lease.owner = null;
  }

  private topicsOf(g: Group, member: Member): string[] {
    return (member.topics ?? [...g.subscriptions]).filter((t) => g.subscriptions.has(t));
  }

  private requireSubscribed(group: string, topics: readonly string[]): void {
    const missing = topics.find((t) => !this.groups.get(group)?.subscriptions.has(t));
    if (missing !== undefined) throw new NotSubscribedError(group, missing);
  }

  private membership(g: Group, memberId: string): MembershipResponse {
    const assignments = [...g.leases]
      .filter(([key, lease]) => lease.owner === memberId && g.subscriptions.has(splitKey(key)[0]))
      .map(([key, lease]) => ({ topic: splitKey(key)[0], partition: splitKey(key)[1], leaseToken: lease.token, committedOffset: lease.committed }));
    return { memberId, heartbeatIntervalMs: this.heartbeatIntervalMs, assignments };
  }
}

function leaseKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf('/');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
