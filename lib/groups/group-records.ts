import { TopicNotFoundError } from '../errors.js';
import type { Topic, TopicStore } from '../topics/topic.js';
import type { TopicPartition } from './assignment.js';
import type { GroupRecords, LeaseRecord, MemberRecord } from './lease-store.js';
import { liveMembers } from './session.js';

/*
 * How the coordinator reads a group's records: which topics exist, which leases belong to them, and who holds
 * a lease. Membership, fetch and describe all see a group through these, so they cannot disagree on who owns
 * what.
 */

/** A partition's key in the maps below. */
export const partitionKey = (p: TopicPartition): string => `${p.topic}#${p.partition}`;

/** The partitions of a topic: 0 .. partitions - 1. */
export const partitionsOf = (topic: Pick<Topic, 'partitions'>): number[] => Array.from({ length: topic.partitions }, (_, i) => i);

/**
 * The live owner of a lease: its owner, if that member is live under the session that took the lease.
 * @param live the members live now (see `liveMembers` in session.ts).
 */
export function ownerOf(live: readonly MemberRecord[]): (lease: LeaseRecord) => string | null {
  const sessions = new Map(live.map((m) => [m.memberId, m.session]));
  return (lease) => (lease.owner !== null && sessions.get(lease.owner) === lease.ownerSession ? lease.owner : null);
}

/**
 * Topics by name; topics deleted since a member subscribed are left out, not an error. A topic (maybe from
 * the cache) that a stored lease of one of its partitions disagrees with on the incarnation is read again
 * past the cache: the lease may be the newer one (another container took it for a topic re-created since
 * this one cached the old), and treating it as stale would take it over and drop its committed offset.
 */
export async function resolveTopics(
  topics: Pick<TopicStore, 'get'>,
  names: ReadonlySet<string>,
  leases: readonly LeaseRecord[],
): Promise<Map<string, Topic>> {
  const get = async (name: string, fresh: boolean): Promise<Topic | undefined> => {
    try {
      return await topics.get(name, { fresh });
    } catch (error) {
      if (error instanceof TopicNotFoundError) return undefined;
      throw error;
    }
  };
  const found = await Promise.all(
    [...names].sort().map(async (name) => {
      const topic = await get(name, false);
      const disagrees = (l: LeaseRecord) => l.topic === name && l.partition < topic!.partitions && l.topicId !== topic!.topicId;
      return topic !== undefined && leases.some(disagrees) ? get(name, true) : topic;
    }),
  );
  return new Map(found.filter((t): t is Topic => t !== undefined).map((t) => [t.name, t]));
}

/**
 * The leases that belong to the current incarnation of their topic, by {@link partitionKey}: THE place where
 * deleting a topic ends a group's hold on it. A lease taken for an earlier incarnation (the topic was deleted,
 * maybe re-created under the same name since) is left out, so everywhere else it counts as absent: no owner (a
 * member takes it with a new token at its next heartbeat, and the take drops its offset), nothing committed
 * (the reset policy applies), never listed by a fetch or a heartbeat; the lease store refuses its token
 * (`commitOffset` is conditional on `topicId`).
 * @param topics only topics that exist (see {@link resolveTopics}).
 */
export function currentLeases(leases: readonly LeaseRecord[], topics: ReadonlyMap<string, Topic>): Map<string, LeaseRecord> {
  const current = new Map<string, LeaseRecord>();
  for (const lease of leases) {
    const topic = topics.get(lease.topic);
    if (topic !== undefined && lease.topicId === topic.topicId && lease.partition < topic.partitions) current.set(partitionKey(lease), lease);
  }
  return current;
}

/**
 * True when a group has nothing stored but expired member records (which only wait for their TTL): it does
 * not exist, never existed, or was deleted.
 */
export function isEmptyGroup(records: GroupRecords, now: number): boolean {
  return (
    liveMembers(records.members, now).length === 0 &&
    records.leases.length === 0 &&
    records.subscriptions.length === 0 &&
    records.activeAt === null
  );
}
