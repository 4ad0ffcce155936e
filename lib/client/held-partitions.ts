import type { GroupBatch, MembershipResponse, TopicPartitionOffset } from './types.js';

/** A partition a member holds, with the lease token its commits carry. */
export interface Held {
  topic: string;
  partition: number;
  leaseToken: string;
}

/** The map key of a partition. */
export function keyOf(tp: { topic: string; partition: number }): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/**
 * What a consumer-group member holds and where it reads, without I/O: the leases the coordinator last listed
 * for it (less those a commit was refused for), and the position it reached on each. The {@link Consumer}
 * calls the API and tells this what it learnt.
 *
 * A position is only ever used under the lease it was reached under: a lease lost, or fenced by a reset (a new
 * token for the same partition), forgets it, so the next fetch reads from the group's committed offset.
 */
export class HeldPartitions {
  private held = new Map<string, Held>();
  private readonly positions = new Map<string, number>();
  /** Lease tokens refused by a commit: not trusted again even if a late heartbeat still lists them. */
  private readonly fencedTokens = new Set<string>();
  /** How many partitions the last join or heartbeat listed for this member, fenced ones included. */
  private listedByServer = 0;

  /** How many partitions the member holds. */
  get size(): number {
    return this.held.size;
  }

  /** True when the coordinator itself gave the member nothing (not just a partition dropped a moment ago). */
  get nothingAssigned(): boolean {
    return this.listedByServer === 0;
  }

  list(): Held[] {
    return [...this.held.values()];
  }

  holds(key: string, leaseToken: string): boolean {
    return this.held.get(key)?.leaseToken === leaseToken;
  }

  /** Takes the assignments of a join or heartbeat as the member's; forgets positions of leases that changed. */
  apply(response: MembershipResponse): void {
    this.listedByServer = response.assignments.length;
    const next = new Map<string, Held>();
    for (const a of response.assignments) {
      if (this.fencedTokens.has(a.leaseToken)) continue;
      next.set(keyOf(a), { topic: a.topic, partition: a.partition, leaseToken: a.leaseToken });
    }
    for (const [key, held] of this.held) {
      // Lost, or fenced by a reset (new token): our position is no longer the group's.
      if (next.get(key)?.leaseToken !== held.leaseToken) this.positions.delete(key);
    }
    this.held = next;
  }

  /** Gives up a partition whose commit was refused; `leaseToken` is never trusted again. */
  drop(key: string, leaseToken: string | undefined): void {
    if (leaseToken !== undefined) this.fencedTokens.add(leaseToken);
    this.held.delete(key);
    this.positions.delete(key);
  }

  /**
   * Gives up every partition of `topic` (the group is no longer subscribed to it: its leases ended); their
   * tokens are never trusted again.
   */
  dropTopic(topic: string): void {
    for (const [key, held] of [...this.held]) if (held.topic === topic) this.drop(key, held.leaseToken);
  }

  /** The positions to send with a fetch, recording in `sentUnder` the lease token each one was reached under. */
  positionsToSend(sentUnder: Map<string, string>): TopicPartitionOffset[] {
    const positions: TopicPartitionOffset[] = [];
    for (const [key, held] of this.held) {
      const offset = this.positions.get(key);
      if (offset === undefined) continue;
      positions.push({ topic: held.topic, partition: held.partition, offset });
      sentUnder.set(key, held.leaseToken);
    }
    return positions;
  }

  /** The next fetch of `key` reads from `offset`. */
  advance(key: string, offset: number): void {
    this.positions.set(key, offset);
  }

  /** The next fetch of `key` reads from the committed offset (or the reset policy). */
  forgetPosition(key: string): void {
    this.positions.delete(key);
  }

  /** Every partition reads from its committed offset again (after a rejoin, or retention overtook a position). */
  forgetPositions(): void {
    this.positions.clear();
  }

  /** True when a held partition is missing from `batches`: the coordinator does not count it as ours. */
  missingFrom(batches: readonly GroupBatch[]): boolean {
    const listed = new Set(batches.map(keyOf));
    return [...this.held.keys()].some((key) => !listed.has(key));
  }
}
