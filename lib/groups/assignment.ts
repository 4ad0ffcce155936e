/**
 * The assignment rule of a consumer group: what ONE member does at ONE heartbeat, as a pure function of the
 * group's state (no I/O, no clock). Every member runs it on its own view of the lease table at its heartbeat,
 * and the group settles without a coordinator and without a stop-the-world rebalance.
 *
 * It is the Kinesis Client Library's `LeaseTaker` (`DynamoDBLeaseTaker.takeLeases` / `chooseLeasesToSteal`)
 * with two changes that fit stateless HTTP members:
 * - KCL's target is ⌈P/N⌉ for everyone; here a member's fair share is the range [⌊P/N⌋, ⌈P/N⌉], and a member
 *   leaves free leases to peers that are still below ⌊P/N⌋, so a group of fresh members settles with no steals.
 * - KCL never gives a lease back; here a member above ⌈P/N⌉ releases the surplus at its own heartbeat
 *   (cooperative rebalancing, as Kafka's KIP-429/KIP-848 revoke before others assign), so a joining member
 *   gets its share within about one heartbeat interval instead of by a series of steals.
 *
 * The rule, for member `m` holding `c` leases, with P_m the partitions of its topics and N_m the live members
 * that share a topic with it (`floor = ⌊P_m/N_m⌋`, `ceil = ⌈P_m/N_m⌉`):
 * 1. release every lease of a topic `m` no longer subscribes to;
 * 2. if `c > ceil`, release `c - ceil` leases that a peer has room for;
 * 3. take free leases (unowned, or owned by a member whose session expired) up to `ceil`, but leave enough
 *    free ones for the peers still below `floor`;
 * 4. only when nothing is free and `c < ceil`: steal ONE lease from the most loaded peer, if that peer holds
 *    at least `c + 2` and is above its own `ceil` or `m` is below `floor` (KCL steals one at a time too).
 * Each steal lowers Σ load² and loads above `ceil` only ever fall, so the group converges; in a settled group
 * (every member within [floor, ceil], nothing free) the plan is empty for everyone, which is what keeps a
 * heartbeat at one write.
 *
 * Which lease is taken, released or stolen is decided by rendezvous hashing (highest random weight) of
 * (member, topic, partition): stable across heartbeats and different per member, so concurrent members rarely
 * race for the same free lease.
 */

/** One partition of one topic. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** A live member and its subscription. */
export interface MemberView {
  readonly memberId: string;
  readonly topics: readonly string[];
}

/** A partition of a subscribed topic and its live owner (`null`: free, including an expired owner's lease). */
export interface PartitionView extends TopicPartition {
  readonly owner: string | null;
}

/** A lease to take from a live member. */
export interface Steal {
  readonly partition: TopicPartition;
  readonly from: string;
}

/** What a member does at one heartbeat. */
export interface HeartbeatPlan {
  readonly take: TopicPartition[];
  readonly release: TopicPartition[];
  readonly steal: Steal | null;
}

/** A member's fair share: it settles holding `floor` or `ceil` leases. */
export interface FairShare {
  readonly floor: number;
  readonly ceil: number;
}

/**
 * The plan of member `me` at one heartbeat.
 *
 * Owners that are not in `members` count as free (their session expired). A member not in `members` gets an
 * empty plan.
 *
 * @example
 * planHeartbeat('a', [{ memberId: 'a', topics: ['t'] }], [{ topic: 't', partition: 0, owner: null }]);
 * // → { take: [{ topic: 't', partition: 0 }], release: [], steal: null }
 */
export function planHeartbeat(me: string, members: readonly MemberView[], partitions: readonly PartitionView[]): HeartbeatPlan {
  const view = new GroupView(members, partitions);
  const self = view.members.get(me);
  if (!self) return { take: [], release: [], steal: null };
  const { floor, ceil } = view.share(me);
  const mine = view.owned(me);
  const byScore = (a: TopicPartition, b: TopicPartition) => score(me, b) - score(me, a) || compare(a, b);

  // 1 + 2: give back what is not ours to hold.
  const release: TopicPartition[] = mine.filter((p) => !self.topics.has(p.topic));
  let held = mine.length - release.length;
  if (held > ceil) {
    const surplus = mine
      .filter((p) => self.topics.has(p.topic) && view.someoneElseHasRoom(me, p.topic))
      .sort(byScore)
      .reverse() // give back the ones we like least
      .slice(0, held - ceil);
    release.push(...surplus);
    held -= surplus.length;
  }

  // 3: take free leases, leaving enough for peers below their floor.
  const free = view.partitions.filter((p) => p.owner === null && self.topics.has(p.topic)).sort(byScore);
  const take: TopicPartition[] = [];
  if (held < ceil && free.length > 0) {
    const k = Math.min(free.length, ceil - held, Math.max(floor - held, free.length - view.othersDeficit(me)));
    take.push(...free.slice(0, Math.max(0, k)));
  }
  // Mixed subscriptions: a free lease that no peer has room for under its own share is ours anyway, so no
  // partition stays unread (never happens when all members subscribe to the same topics).
  for (const p of free.slice(take.length)) {
    if (!view.someoneElseHasRoom(me, p.topic)) take.push(p);
  }

  // 4: steal one, only when nothing is free.
  let steal: Steal | null = null;
  if (free.length === 0 && held < ceil) {
    const victim = view.mostLoadedPeerHolding(me, self.topics);
    if (victim !== undefined) {
      const load = view.load(victim);
      if (load >= held + 2 && (load > view.share(victim).ceil || held < floor)) {
        const candidate = view
          .owned(victim)
          .filter((p) => self.topics.has(p.topic))
          .sort(byScore)[0];
        if (candidate) steal = { partition: strip(candidate), from: victim };
      }
    }
  }
  return { take: take.map(strip), release: release.map(strip), steal };
}

/** The fair share of `memberId`: ⌊P/N⌋ and ⌈P/N⌉ over its topics' partitions and the members sharing them. */
export function fairShare(memberId: string, members: readonly MemberView[], partitions: readonly PartitionView[]): FairShare {
  return new GroupView(members, partitions).share(memberId);
}

/**
 * Rendezvous (highest random weight) score of a partition for a member: FNV-1a over the three names. Pure and
 * stable, so a member keeps preferring the same partitions.
 */
function score(memberId: string, p: TopicPartition): number {
  let h = 0x811c9dc5;
  const text = `${memberId}\u0000${p.topic}\u0000${p.partition}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // A final avalanche (murmur3's fmix32), so that neighbouring partitions do not get neighbouring scores.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Orders by topic, then partition. */
export function compare(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

const strip = (p: TopicPartition): TopicPartition => ({ topic: p.topic, partition: p.partition });

/** Precomputed facts about a group view, shared by the rules above. */
class GroupView {
  readonly members = new Map<string, { memberId: string; topics: ReadonlySet<string> }>();
  readonly partitions: PartitionView[];
  private readonly loads = new Map<string, number>();
  private readonly ownedBy = new Map<string, PartitionView[]>();
  private readonly partitionsOfTopic = new Map<string, number>();
  private readonly shares = new Map<string, FairShare>();

  constructor(members: readonly MemberView[], partitions: readonly PartitionView[]) {
    for (const m of members) this.members.set(m.memberId, { memberId: m.memberId, topics: new Set(m.topics) });
    this.partitions = partitions.map((p) => (p.owner !== null && !this.members.has(p.owner) ? { ...p, owner: null } : p));
    for (const p of this.partitions) {
      this.partitionsOfTopic.set(p.topic, (this.partitionsOfTopic.get(p.topic) ?? 0) + 1);
      if (p.owner === null) continue;
      this.loads.set(p.owner, (this.loads.get(p.owner) ?? 0) + 1);
      const list = this.ownedBy.get(p.owner) ?? [];
      list.push(p);
      this.ownedBy.set(p.owner, list);
    }
  }

  load(memberId: string): number {
    return this.loads.get(memberId) ?? 0;
  }

  owned(memberId: string): PartitionView[] {
    return this.ownedBy.get(memberId) ?? [];
  }

  /** Live members other than `memberId` that share at least one topic with it. */
  peers(memberId: string): { memberId: string; topics: ReadonlySet<string> }[] {
    const self = this.members.get(memberId);
    if (!self) return [];
    return [...this.members.values()].filter((o) => o.memberId !== memberId && [...o.topics].some((t) => self.topics.has(t)));
  }

  share(memberId: string): FairShare {
    const cached = this.shares.get(memberId);
    if (cached) return cached;
    const self = this.members.get(memberId);
    let p = 0;
    for (const t of self?.topics ?? []) p += this.partitionsOfTopic.get(t) ?? 0;
    const n = this.peers(memberId).length + 1;
    const share = { floor: Math.floor(p / n), ceil: Math.ceil(p / n) };
    this.shares.set(memberId, share);
    return share;
  }

  /** How many leases `memberId`'s peers still need to reach their floors. */
  othersDeficit(memberId: string): number {
    return this.peers(memberId).reduce((sum, o) => sum + Math.max(0, this.share(o.memberId).floor - this.load(o.memberId)), 0);
  }

  /** True when a live member other than `memberId`, subscribed to `topic`, holds fewer than its ceil. */
  someoneElseHasRoom(memberId: string, topic: string): boolean {
    for (const o of this.members.values()) {
      if (o.memberId !== memberId && o.topics.has(topic) && this.load(o.memberId) < this.share(o.memberId).ceil) return true;
    }
    return false;
  }

  /** The peer holding the most leases of `topics` (ties: the smallest member id, so every member agrees). */
  mostLoadedPeerHolding(memberId: string, topics: ReadonlySet<string>): string | undefined {
    let best: string | undefined;
    let bestLoad = -1;
    for (const o of [...this.members.keys()].sort()) {
      if (o === memberId || !this.owned(o).some((p) => topics.has(p.topic))) continue;
      const load = this.load(o);
      if (load > bestLoad) {
        best = o;
        bestLoad = load;
      }
    }
    return best;
  }
}
