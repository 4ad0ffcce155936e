import type { TopicPartition } from '../../lib/groups/assignment.js';
import type {
  CommitRequest,
  ExpiryCursor,
  GroupItemKind,
  GroupRecords,
  LeaseRecord,
  LeaseStore,
  MemberRecord,
  RegistryEntry,
  ResetRequest,
  SubscriptionRecord,
  TakeLease,
} from '../../lib/groups/lease-store.js';

/**
 * {@link LeaseStore} in memory, with the conditions of `DynamoLeaseStore` (the contract both pass is
 * test/support/lease-store-contract.ts). Records are copied in and out, as a table would, so a caller can
 * never change what is stored by mutating what it got back. No write here loses its response, but a write
 * whose condition fails answers from the stored item exactly as `DynamoLeaseStore`'s re-read does.
 */
export class MemoryLeaseStore implements LeaseStore {
  private readonly members = new Map<string, Map<string, MemberRecord>>();
  private readonly leases = new Map<string, Map<string, LeaseRecord>>();
  private readonly subscriptions = new Map<string, Map<string, SubscriptionRecord>>();
  private readonly activity = new Map<string, number>();
  private readonly registry = new Map<string, RegistryEntry>();
  private cursor: ExpiryCursor = { after: null, restUntil: 0 };

  async putMember(group: string, member: MemberRecord): Promise<void> {
    this.groupMembers(group).set(member.memberId, { ...member, topics: member.topics === null ? null : [...member.topics] });
  }

  async renewMember(group: string, memberId: string, now: number): Promise<MemberRecord | null> {
    const member = this.groupMembers(group).get(memberId);
    if (!member || member.sessionExpiresAtMs <= now) return null;
    const renewed = { ...member, sessionExpiresAtMs: member.sessionTimeoutMs + now };
    this.groupMembers(group).set(memberId, renewed);
    return { ...renewed };
  }

  async deleteMember(group: string, memberId: string): Promise<MemberRecord | null> {
    const member = this.groupMembers(group).get(memberId);
    this.groupMembers(group).delete(memberId);
    return member ? { ...member } : null;
  }

  async loadGroup(group: string): Promise<GroupRecords> {
    // In sort-key order, as a Query returns them.
    const bySk = <T>(entries: Iterable<[string, T]>) => [...entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => ({ ...v }));
    return {
      members: bySk(this.groupMembers(group)),
      leases: bySk(this.groupLeases(group)),
      subscriptions: bySk(this.groupSubscriptions(group)),
      activeAt: this.activity.get(group) ?? null,
    };
  }

  async takeLease(group: string, request: TakeLease): Promise<LeaseRecord | null> {
    const current = this.groupLeases(group).get(leaseId(request.partition));
    const expected = request.expected;
    if (expected === null ? current !== undefined : current?.leaseToken !== expected.leaseToken) {
      return current?.leaseToken === request.newToken ? { ...current } : null;
    }
    const dropOffset = expected !== null && expected.topicId !== request.topicId;
    const lease: LeaseRecord = {
      topic: request.partition.topic,
      partition: request.partition.partition,
      topicId: request.topicId,
      owner: request.owner,
      ownerSession: request.ownerSession,
      leaseToken: request.newToken,
      committedOffset: dropOffset ? null : (current?.committedOffset ?? null),
      committedToken: dropOffset ? null : (current?.committedToken ?? null),
      updatedAt: request.now,
    };
    this.groupLeases(group).set(leaseId(request.partition), lease);
    return { ...lease };
  }

  async releaseLease(group: string, partition: TopicPartition, memberId: string, leaseToken: string): Promise<boolean> {
    const current = this.groupLeases(group).get(leaseId(partition));
    if (current?.owner !== memberId || current.leaseToken !== leaseToken) {
      return current !== undefined && current.owner === null && current.leaseToken === leaseToken;
    }
    this.groupLeases(group).set(leaseId(partition), { ...current, owner: null, ownerSession: null });
    return true;
  }

  async commitOffset(group: string, request: CommitRequest): Promise<'ok' | 'fenced'> {
    const current = this.groupLeases(group).get(leaseId(request.partition));
    if (current?.owner !== request.memberId || current.leaseToken !== request.leaseToken || current.topicId !== request.topicId) {
      const ours =
        current !== undefined &&
        current.topicId === request.topicId &&
        current.committedOffset === request.offset &&
        current.committedToken === request.leaseToken;
      return ours ? 'ok' : 'fenced';
    }
    this.groupLeases(group).set(leaseId(request.partition), {
      ...current,
      committedOffset: request.offset,
      committedToken: request.leaseToken,
      updatedAt: request.now,
    });
    return 'ok';
  }

  async getLease(group: string, partition: TopicPartition): Promise<LeaseRecord | null> {
    const lease = this.groupLeases(group).get(leaseId(partition));
    return lease ? { ...lease } : null;
  }

  async resetOffset(group: string, request: ResetRequest): Promise<LeaseRecord> {
    const current = this.groupLeases(group).get(leaseId(request.partition));
    const lease: LeaseRecord = {
      topic: request.partition.topic,
      partition: request.partition.partition,
      topicId: request.topicId,
      owner: current?.owner ?? null,
      ownerSession: current?.ownerSession ?? null,
      leaseToken: request.newToken,
      committedOffset: request.offset,
      committedToken: null,
      updatedAt: request.now,
    };
    this.groupLeases(group).set(leaseId(request.partition), lease);
    return { ...lease };
  }

  async registerGroup(group: string, now: number): Promise<void> {
    if (!this.registry.has(group)) this.registry.set(group, { group, createdAt: now });
  }

  async listGroups(): Promise<string[]> {
    return [...this.registry.keys()];
  }

  async loadSubscriptions(group: string): Promise<SubscriptionRecord[]> {
    return (await this.loadGroup(group)).subscriptions;
  }

  async putSubscription(group: string, topic: string, now: number): Promise<void> {
    if (!this.groupSubscriptions(group).has(topic)) this.groupSubscriptions(group).set(topic, { topic, subscribedAt: now });
  }

  async deleteSubscription(group: string, topic: string): Promise<boolean> {
    return this.groupSubscriptions(group).delete(topic);
  }

  async endLease(group: string, partition: TopicPartition): Promise<void> {
    const current = this.groupLeases(group).get(leaseId(partition));
    if (current) this.groupLeases(group).set(leaseId(partition), { ...current, owner: null, ownerSession: null });
  }

  async recordActivity(group: string, now: number, options: { readonly create: boolean }): Promise<boolean> {
    const stored = this.activity.get(group);
    if (stored === undefined ? !options.create : stored >= now) return false;
    this.activity.set(group, now);
    return true;
  }

  async deleteMemberIfExpired(group: string, memberId: string, now: number): Promise<boolean> {
    const member = this.groupMembers(group).get(memberId);
    if (member && member.sessionExpiresAtMs > now) return false;
    this.groupMembers(group).delete(memberId);
    return true;
  }

  async deleteGroupItems(group: string, kind: GroupItemKind, limit: number): Promise<number> {
    if (kind === 'activity') return limit > 0 && this.activity.delete(group) ? 1 : 0;
    const items: Map<string, unknown> = kind === 'leases' ? this.groupLeases(group) : this.groupSubscriptions(group);
    const keys = [...items.keys()].sort().slice(0, limit);
    for (const key of keys) items.delete(key);
    return keys.length;
  }

  async getRegistryEntry(group: string): Promise<RegistryEntry | null> {
    const entry = this.registry.get(group);
    return entry ? { ...entry } : null;
  }

  async unregisterGroup(group: string): Promise<void> {
    this.registry.delete(group);
  }

  async listRegistry(after: string | null, limit: number): Promise<{ entries: RegistryEntry[]; more: boolean }> {
    const following = [...this.registry.values()].filter((e) => after === null || e.group > after).sort((a, b) => (a.group < b.group ? -1 : 1));
    return { entries: following.slice(0, limit).map((e) => ({ ...e })), more: following.length > limit };
  }

  async getExpiryCursor(): Promise<ExpiryCursor> {
    return { ...this.cursor };
  }

  async putExpiryCursor(cursor: ExpiryCursor): Promise<void> {
    this.cursor = { ...cursor };
  }

  private groupMembers(group: string): Map<string, MemberRecord> {
    let members = this.members.get(group);
    if (!members) this.members.set(group, (members = new Map()));
    return members;
  }

  private groupSubscriptions(group: string): Map<string, SubscriptionRecord> {
    let subscriptions = this.subscriptions.get(group);
    if (!subscriptions) this.subscriptions.set(group, (subscriptions = new Map()));
    return subscriptions;
  }

  private groupLeases(group: string): Map<string, LeaseRecord> {
    let leases = this.leases.get(group);
    if (!leases) this.leases.set(group, (leases = new Map()));
    return leases;
  }
}

/** A lease's key within its group, ordered as the table's sort key `lease#<topic>#<partition>` is. */
const leaseId = (p: TopicPartition): string => `${p.topic}#${p.partition}`;
