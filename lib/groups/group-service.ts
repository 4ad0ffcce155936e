import { randomUUID } from 'node:crypto';
import {
  errorToBody,
  FencedError,
  GroupNotFoundError,
  MemberNotFoundError,
  OffsetOutOfRangeError,
  PartitionNotFoundError,
  ShardlogError,
  TopicNotFoundError,
} from '../errors.js';
import type { StoredRecord } from '../log/batch-format.js';
import {
  bodyTextSize,
  digits,
  jsonStringSize,
  MAX_DIGITS,
  MAX_RESPONSE_RECORD_BYTES,
  wireSize,
  type RecordEncoding,
} from '../log/wire-size.js';
import type { LogService } from '../log/log-service.js';
import type { PartitionBounds, StartPosition } from '../log/log-types.js';
import type { Topic, TopicStore } from '../topics/topic.js';
import { compare, planHeartbeat, type PartitionView, type TopicPartition } from './assignment.js';
import type { GroupRecords, LeaseRecord, LeaseStore, MemberRecord } from './lease-store.js';

/** API.md: `sessionTimeoutMs` is 3,000..300,000, default 30,000 (Kafka's `session.timeout.ms` range). */
export const MIN_SESSION_TIMEOUT_MS = 3_000;
export const MAX_SESSION_TIMEOUT_MS = 300_000;
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
/** A third of the session, as Kafka advises (`heartbeat.interval.ms` ≤ ⅓ `session.timeout.ms`). */
export const HEARTBEAT_FRACTION = 3;
/** DynamoDB calls a single request keeps in flight (takes at a join, reads of a group fetch, commits). */
const CONCURRENCY = 16;

/** Where a partition with nothing committed starts (Kafka's `auto.offset.reset`). */
export type ResetPolicy = 'earliest' | 'latest';

export interface GroupServiceOptions {
  readonly store: LeaseStore;
  readonly topics: TopicStore;
  readonly log: LogService;
  readonly now?: () => number;
  readonly newToken?: () => string;
  /** Default `earliest` (API.md). */
  readonly resetPolicy?: ResetPolicy;
}

export interface JoinInput {
  readonly topics: readonly string[];
  readonly memberId?: string;
  readonly sessionTimeoutMs?: number;
}

/** A lease as its holder sees it. */
export interface Assignment extends TopicPartition {
  readonly leaseToken: string;
  readonly committedOffset: number | null;
}

export interface Membership {
  readonly memberId: string;
  readonly heartbeatIntervalMs: number;
  readonly assignments: Assignment[];
}

export interface TopicPartitionOffset extends TopicPartition {
  readonly offset: number;
}

export interface GroupFetchInput {
  readonly limit: number;
  /** Bounds the records' total {@link wireSize} in `encoding` (at least one record comes back). */
  readonly maxBytes: number;
  /** The encoding the response will use: it decides each record's size (default `json`). */
  readonly encoding?: RecordEncoding;
  readonly waitMs: number;
  readonly positions?: readonly TopicPartitionOffset[];
  /** Where partitions with nothing committed start in this fetch; the service's policy when absent. */
  readonly resetPolicy?: ResetPolicy;
}

export interface GroupBatch extends TopicPartition {
  readonly leaseToken: string;
  readonly records: StoredRecord[];
  readonly nextOffset: number;
  readonly endOffset: number;
}

export interface CommitInput extends TopicPartitionOffset {
  readonly leaseToken: string;
}

export interface CommitResult extends TopicPartitionOffset {
  readonly ok: boolean;
  readonly error?: Record<string, unknown>;
}

export interface GroupDescription {
  readonly group: string;
  readonly members: { memberId: string; expiresAt: number; partitions: number }[];
  readonly partitions: {
    topic: string;
    partition: number;
    owner: string | null;
    committedOffset: number | null;
    endOffset: number;
    lag: number;
  }[];
}

export type ResetTarget = 'earliest' | 'latest' | { readonly offset: number } | { readonly timestamp: number };

export interface ResetInput {
  readonly topic: string;
  readonly partition?: number;
  readonly to: ResetTarget;
}

/**
 * Consumer groups over the lease table: a KCL-style coordinator whose every step is one iteration per HTTP
 * request (`runLeaseTaker()` / `runLeaseRenewer()` as a heartbeat), so nothing outlives a Lambda invocation.
 *
 * - A member's liveness is its member record (`sessionExpiresAtMs`); a lease is held only while its owner's
 *   record is live under the session that took it. A heartbeat therefore renews ONE item, whatever the number
 *   of leases (KCL renews every lease every few seconds), then reads the group with one Query and applies
 *   {@link planHeartbeat}: conditional writes happen only when the assignment changes.
 * - The lease token changes at every change of owner and at every reset; a commit is a conditional write on
 *   owner and token, so a member that lost a lease can never move its offset (invariant 5 of DESIGN.md).
 *
 * @example
 * const { memberId, assignments } = await groups.join('billing', { topics: ['orders'] });
 * const batches = await groups.fetch('billing', memberId, { limit: 100, maxBytes: 1 << 20, waitMs: 0 });
 * await groups.commit('billing', memberId, [{ topic: 'orders', partition: 0, offset: 10, leaseToken }]);
 */
export class GroupService {
  private readonly store: LeaseStore;
  private readonly topics: TopicStore;
  private readonly log: LogService;
  private readonly now: () => number;
  private readonly newToken: () => string;
  private readonly resetPolicy: ResetPolicy;

  constructor(options: GroupServiceOptions) {
    this.store = options.store;
    this.topics = options.topics;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.newToken = options.newToken ?? randomUUID;
    this.resetPolicy = options.resetPolicy ?? 'earliest';
  }

  /**
   * Joins (or rejoins, with a stable `memberId`) a group: a new session, then a first heartbeat iteration.
   * Leases held under an earlier session of the same member id are free again and get new tokens when taken.
   * @throws TopicNotFoundError when a topic does not exist.
   */
  async join(group: string, input: JoinInput): Promise<Membership> {
    const topics = [...new Set(input.topics)].sort();
    await Promise.all(topics.map((t) => this.topics.get(t)));
    const now = this.now();
    const sessionTimeoutMs = input.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    const member: MemberRecord = {
      memberId: input.memberId ?? randomUUID(),
      session: this.newToken(),
      topics,
      sessionTimeoutMs,
      sessionExpiresAtMs: now + sessionTimeoutMs,
    };
    await this.store.putMember(group, member);
    const { membership, records } = await this.coordinate(group, member, now);
    // The first member of a new group puts it in the registry; later joins need no write for that.
    if (records.leases.length === 0 && this.live(records, now).length <= 1) await this.store.registerGroup(group, now);
    return membership;
  }

  /**
   * One heartbeat: renews the session (the one write of a settled group) and runs one iteration of the
   * assignment rule.
   * @throws MemberNotFoundError when the member is unknown or its session expired (it joins again).
   */
  async heartbeat(group: string, memberId: string): Promise<Membership> {
    const now = this.now();
    // The member's own session length is applied by the write itself, so the heartbeat needs no read first.
    const member = await this.store.renewMember(group, memberId, now, Math.ceil((now + MAX_SESSION_TIMEOUT_MS) / 1000));
    if (!member) throw new MemberNotFoundError(group, memberId);
    return (await this.coordinate(group, member, now)).membership;
  }

  /**
   * Leaves the group: the member record goes, and with it the member's hold on its leases, at once.
   * @throws MemberNotFoundError when the member is unknown or its session had expired.
   */
  async leave(group: string, memberId: string): Promise<void> {
    const deleted = await this.store.deleteMember(group, memberId);
    if (!deleted || deleted.sessionExpiresAtMs <= this.now()) throw new MemberNotFoundError(group, memberId);
  }

  /**
   * Reads the member's partitions: from `positions` where given, else from the committed offset, else by the
   * reset policy. `limit` and `maxBytes` bound the whole response (a single record may exceed `maxBytes`, as
   * in the plain fetch); `waitMs` long-polls all the member's partitions at once. Whatever is asked, records
   * and per-partition envelopes stay within what a Lambda response carries (see {@link trim}).
   * @throws MemberNotFoundError, OffsetOutOfRangeError (an explicit position outside the readable range)
   */
  async fetch(group: string, memberId: string, input: GroupFetchInput): Promise<GroupBatch[]> {
    const now = this.now();
    const records = await this.store.loadGroup(group);
    const member = this.live(records, now).find((m) => m.memberId === memberId);
    if (!member) throw new MemberNotFoundError(group, memberId);
    const topics = await this.resolveTopics(new Set(records.leases.map((l) => l.topic)), records.leases);
    const held = [...currentLeases(records.leases, topics).values()]
      .filter((l) => l.owner === memberId && l.ownerSession === member.session)
      .sort(compare);
    if (held.length === 0) {
      if (input.waitMs > 0) await this.log.waitForAny([], input.waitMs); // nothing to read: a polite wait
      return [];
    }
    const encoding = input.encoding ?? 'json';
    const positions = new Map((input.positions ?? []).map((p) => [keyOf(p), p.offset]));
    const limitShare = Math.max(1, Math.ceil(input.limit / held.length));
    const bytesShare = Math.max(1, Math.floor(input.maxBytes / held.length));
    const resetPolicy = input.resetPolicy ?? this.resetPolicy;
    const readAll = () =>
      mapLimit(held, CONCURRENCY, (lease) =>
        this.readLease(lease, topics.get(lease.topic)!, positions.get(keyOf(lease)), limitShare, bytesShare, encoding, resetPolicy),
      );
    let batches = await readAll();
    if (input.waitMs > 0 && batches.every((b) => b.records.length === 0)) {
      const waitOn = batches.map((b) => ({ topic: topics.get(b.topic)!, partition: b.partition, offset: b.nextOffset }));
      if (await this.log.waitForAny(waitOn, input.waitMs)) {
        for (const b of batches) positions.set(keyOf(b), b.nextOffset);
        batches = await readAll();
      }
    }
    return trim(batches, input.limit, input.maxBytes, encoding);
  }

  /**
   * Commits offsets (the next offset to read, Kafka's convention), each fenced by its lease token and by the
   * topic's incarnation: a token of a deleted topic is `FENCED`, even once a topic of the same name exists
   * again. Offsets must lie within the partition's [startOffset, endOffset]. `ok: true` means stored.
   * @returns one result per offset, in request order.
   * @throws FencedError (with `details.results`) when every offset was refused and at least one was fenced;
   *   the first refusal's error when every offset was refused for another reason.
   */
  async commit(group: string, memberId: string, offsets: readonly CommitInput[]): Promise<CommitResult[]> {
    const results = await mapLimit(offsets, CONCURRENCY, async (o): Promise<CommitResult & { cause?: ShardlogError }> => {
      const base = { topic: o.topic, partition: o.partition, offset: o.offset };
      try {
        await this.commitOne(group, memberId, o);
        return { ...base, ok: true };
      } catch (error) {
        if (!(error instanceof ShardlogError) || error.retriable) throw error;
        return { ...base, ok: false, error: errorToBody(error).error, cause: error };
      }
    });
    const refused = results.filter((r) => !r.ok);
    const wire = results.map(({ cause: _cause, ...r }) => r);
    if (results.length > 0 && refused.length === results.length) {
      if (refused.some((r) => r.cause instanceof FencedError)) {
        throw new FencedError('every commit was refused: this member does not hold those leases (any more)', { details: { results: wire } });
      }
      const first = refused[0]!.cause!;
      Object.assign(first.details, { results: wire });
      throw first;
    }
    return wire;
  }

  /**
   * Members, owners, committed offsets, end offsets and lag of every partition the group subscribes to or
   * has committed on.
   * @throws GroupNotFoundError when the group has no member and no lease.
   */
  async describe(group: string): Promise<GroupDescription> {
    const now = this.now();
    const records = await this.store.loadGroup(group);
    if (records.members.length === 0 && records.leases.length === 0) throw new GroupNotFoundError(group);
    const live = this.live(records, now);
    const topics = await this.resolveTopics(
      new Set([...live.flatMap((m) => m.topics), ...records.leases.map((l) => l.topic)]),
      records.leases,
    );
    const leases = currentLeases(records.leases, topics);
    const owner = this.ownerOf(live);
    const parts = [...topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((t) => range(t.partitions).map((p) => ({ topic: t, partition: p })));
    const partitions = await mapLimit(parts, CONCURRENCY, async ({ topic, partition }) => {
      const lease = leases.get(keyOf({ topic: topic.name, partition }));
      const bounds = await this.log.bounds(topic, partition);
      const committed = lease?.committedOffset ?? null;
      return {
        topic: topic.name,
        partition,
        owner: lease ? owner(lease) : null,
        committedOffset: committed,
        endOffset: bounds.endOffset,
        lag: Math.max(0, bounds.endOffset - (committed ?? this.policyOffset(bounds))),
      };
    });
    const counts = new Map<string, number>();
    for (const p of partitions) if (p.owner !== null) counts.set(p.owner, (counts.get(p.owner) ?? 0) + 1);
    return {
      group,
      members: live
        .map((m) => ({ memberId: m.memberId, expiresAt: m.sessionExpiresAtMs, partitions: counts.get(m.memberId) ?? 0 }))
        .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0)),
      partitions,
    };
  }

  /** Every group ever joined or reset, with its live member count. */
  async list(): Promise<{ group: string; members: number }[]> {
    const now = this.now();
    const names = (await this.store.listGroups()).sort();
    return mapLimit(names, CONCURRENCY, async (group) => {
      const records = await this.store.loadGroup(group);
      return { group, members: this.live(records, now).length };
    });
  }

  /**
   * Seek/reset: moves the committed offsets of one partition or of every partition of a topic, and gives the
   * leases new tokens, so no member commits over the reset (the owners learn the new token and offset at
   * their next heartbeat).
   * @throws TopicNotFoundError, PartitionNotFoundError, OffsetOutOfRangeError (an offset outside the range)
   */
  async resetOffsets(group: string, input: ResetInput): Promise<TopicPartitionOffset[]> {
    const topic = await this.topics.get(input.topic);
    if (input.partition !== undefined && input.partition >= topic.partitions) {
      throw new PartitionNotFoundError(topic.name, input.partition, topic.partitions);
    }
    const partitions = input.partition !== undefined ? [input.partition] : range(topic.partitions);
    // Resolve every target before writing any, so a bad offset changes nothing (invariant 6).
    const targets = await mapLimit(partitions, CONCURRENCY, async (partition) => {
      const to = input.to;
      const bounds = await this.log.bounds(topic, partition);
      let offset: number;
      if (to === 'earliest') offset = bounds.startOffset;
      else if (to === 'latest') offset = bounds.endOffset;
      else if ('offset' in to) {
        if (to.offset < bounds.startOffset || to.offset > bounds.endOffset) {
          throw new OffsetOutOfRangeError(to.offset, bounds.startOffset, bounds.endOffset, { details: { topic: topic.name, partition } });
        }
        offset = to.offset;
      } else offset = await this.log.offsetForTimestamp(topic, partition, to.timestamp);
      return { topic: topic.name, partition, offset };
    });
    const now = this.now();
    await this.store.registerGroup(group, now);
    await mapLimit(targets, CONCURRENCY, (t) =>
      this.store.resetOffset(group, {
        partition: { topic: t.topic, partition: t.partition },
        topicId: topic.topicId,
        offset: t.offset,
        newToken: this.newToken(),
        now,
      }),
    );
    return targets;
  }

  // ---------------------------------------------------------------------------------------------- helpers

  /**
   * One iteration of the coordinator for `member` (KCL's `runLeaseTaker()`): read the group, plan, and write
   * only what the plan changes. A lost race is skipped, not retried: the next heartbeat plans again.
   */
  private async coordinate(group: string, member: MemberRecord, now: number): Promise<{ membership: Membership; records: GroupRecords }> {
    const records = await this.store.loadGroup(group);
    const live = [...this.live(records, now).filter((m) => m.memberId !== member.memberId), member];
    const topics = await this.resolveTopics(new Set(live.flatMap((m) => m.topics)), records.leases);
    const owner = this.ownerOf(live);
    // Leases of an earlier incarnation are free to take (with a new token, their offset dropped); a take is
    // still conditional on the item as stored, whatever incarnation it names.
    const stored = new Map(records.leases.map((l) => [keyOf(l), l]));
    const leases = currentLeases(records.leases, topics);
    const view: PartitionView[] = [];
    for (const topic of topics.values()) {
      for (const partition of range(topic.partitions)) {
        const lease = leases.get(keyOf({ topic: topic.name, partition }));
        view.push({ topic: topic.name, partition, owner: lease ? owner(lease) : null });
      }
    }
    const plan = planHeartbeat(
      member.memberId,
      live.map((m) => ({ memberId: m.memberId, topics: m.topics.filter((t) => topics.has(t)) })),
      view,
    );

    const mine = new Map<string, LeaseRecord>();
    for (const lease of leases.values()) if (owner(lease) === member.memberId) mine.set(keyOf(lease), lease);
    for (const p of plan.release) {
      const lease = mine.get(keyOf(p));
      mine.delete(keyOf(p));
      // Lost or won, it is not ours any more: a lost release means someone else changed the lease first.
      if (lease) await this.store.releaseLease(group, p, member.memberId, lease.leaseToken);
    }
    const takes = [...plan.take, ...(plan.steal ? [plan.steal.partition] : [])];
    const taken = await mapLimit(takes, CONCURRENCY, (p) =>
      this.store.takeLease(group, {
        partition: p,
        topicId: topics.get(p.topic)!.topicId,
        expected: stored.get(keyOf(p)) ?? null,
        owner: member.memberId,
        ownerSession: member.session,
        newToken: this.newToken(),
        now,
      }),
    );
    for (const lease of taken) if (lease) mine.set(keyOf(lease), lease);

    const assignments = [...mine.values()].sort(compare).map((l) => ({
      topic: l.topic,
      partition: l.partition,
      leaseToken: l.leaseToken,
      committedOffset: l.committedOffset,
    }));
    return {
      membership: {
        memberId: member.memberId,
        heartbeatIntervalMs: Math.floor(member.sessionTimeoutMs / HEARTBEAT_FRACTION),
        assignments,
      },
      records,
    };
  }

  /** Members whose session is live at `now` (TTL deletes late, and DynamoDB Local perhaps never). */
  private live(records: GroupRecords, now: number): MemberRecord[] {
    return records.members.filter((m) => m.sessionExpiresAtMs > now);
  }

  /** The live owner of a lease: its owner, if that member is live under the session that took the lease. */
  private ownerOf(live: readonly MemberRecord[]): (lease: LeaseRecord) => string | null {
    const sessions = new Map(live.map((m) => [m.memberId, m.session]));
    return (lease) => (lease.owner !== null && sessions.get(lease.owner) === lease.ownerSession ? lease.owner : null);
  }

  /**
   * Topics by name; topics deleted since a member subscribed are left out, not an error. A topic (maybe from
   * the cache) that a stored lease of one of its partitions disagrees with on the incarnation is read again
   * past the cache: the lease may be the newer one (another container took it for a topic re-created since
   * this one cached the old), and treating it as stale would take it over and drop its committed offset.
   */
  private async resolveTopics(names: ReadonlySet<string>, leases: readonly LeaseRecord[]): Promise<Map<string, Topic>> {
    const get = async (name: string, fresh: boolean): Promise<Topic | undefined> => {
      try {
        return await this.topics.get(name, { fresh });
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
   * One committed offset: `FENCED` unless this member holds the lease, with this token, for the topic's
   * current incarnation. A refusal is checked once more against the topic read past the cache, so that a
   * container whose cached topic is an incarnation behind the lease never calls a valid token fenced (the
   * member would drop its partition for good).
   */
  private async commitOne(group: string, memberId: string, o: CommitInput): Promise<void> {
    const partition = { topic: o.topic, partition: o.partition };
    let tried: string | undefined;
    for (const fresh of [false, true]) {
      const topic = await this.commitTarget(group, o, fresh);
      if (topic.topicId === tried) break;
      tried = topic.topicId;
      const outcome = await this.store.commitOffset(group, {
        partition,
        topicId: topic.topicId,
        memberId,
        leaseToken: o.leaseToken,
        offset: o.offset,
        now: this.now(),
      });
      if (outcome === 'ok') return;
    }
    throw new FencedError(`member '${memberId}' does not hold ${o.topic}/${o.partition} with that lease token`, { details: partition });
  }

  /**
   * The topic a commit applies to, with its offset checked against the partition's bounds. A topic or
   * partition that is gone while the group still has a lease there was deleted under its members: their
   * leases ended, which is `FENCED` (what a member handles by dropping the partition), not a 404.
   */
  private async commitTarget(group: string, o: CommitInput, fresh: boolean): Promise<Topic> {
    const partition = { topic: o.topic, partition: o.partition };
    try {
      const topic = await this.topics.get(o.topic, { fresh });
      await this.log.checkOffset(topic, o.partition, o.offset);
      return topic;
    } catch (error) {
      if (error instanceof OffsetOutOfRangeError) {
        throw new OffsetOutOfRangeError(o.offset, Number(error.details.startOffset), Number(error.details.endOffset), { details: partition });
      }
      if ((error instanceof TopicNotFoundError || error instanceof PartitionNotFoundError) && (await this.store.getLease(group, partition))) {
        throw new FencedError(`the lease on ${o.topic}/${o.partition} ended: that topic was deleted`, { details: partition, cause: error });
      }
      throw error;
    }
  }

  private policyOffset(bounds: PartitionBounds): number {
    return this.resetPolicy === 'earliest' ? bounds.startOffset : bounds.endOffset;
  }

  private async readLease(
    lease: LeaseRecord,
    topic: Topic,
    position: number | undefined,
    limit: number,
    maxBytes: number,
    encoding: RecordEncoding,
    resetPolicy: ResetPolicy,
  ): Promise<GroupBatch> {
    const committed = lease.committedOffset;
    const policy: StartPosition = { kind: resetPolicy };
    const read = (start: StartPosition) =>
      this.log.read(topic, lease.partition, { start, limit, maxBytes, encoding, waitMs: 0, direction: 'forward' });
    let result;
    if (position !== undefined) result = await read({ kind: 'offset', offset: position });
    else if (committed === null) result = await read(policy);
    else {
      try {
        result = await read({ kind: 'offset', offset: committed });
      } catch (error) {
        // Retention overtook the committed offset: the reset policy applies, as Kafka's auto.offset.reset.
        if (!(error instanceof OffsetOutOfRangeError)) throw error;
        result = await read(policy);
      }
    }
    return {
      topic: lease.topic,
      partition: lease.partition,
      leaseToken: lease.leaseToken,
      records: result.records,
      nextOffset: result.nextOffset,
      endOffset: result.endOffset,
    };
  }
}

/**
 * The leases that belong to the current incarnation of their topic, by partition: THE place where deleting a
 * topic ends a group's hold on it. A lease taken for an earlier incarnation (the topic was deleted, maybe
 * re-created under the same name since) is left out, so everywhere else it counts as absent: no owner (a
 * member takes it with a new token at its next heartbeat, and the take drops its offset), nothing committed
 * (the reset policy applies), never listed by a fetch or a heartbeat; the lease store refuses its token
 * (`commitOffset` is conditional on `topicId`). `topics` holds only topics that exist.
 */
function currentLeases(leases: readonly LeaseRecord[], topics: ReadonlyMap<string, Topic>): Map<string, LeaseRecord> {
  const current = new Map<string, LeaseRecord>();
  for (const lease of leases) {
    const topic = topics.get(lease.topic);
    if (topic !== undefined && lease.topicId === topic.topicId && lease.partition < topic.partitions) current.set(keyOf(lease), lease);
  }
  return current;
}

/**
 * Cuts batches so that the whole response respects `limit` and `maxBytes` (records by {@link wireSize}; at least
 * one record overall when there is one), and so that records plus each batch's envelope stay within
 * {@link MAX_RESPONSE_RECORD_BYTES}: a member holding thousands of partitions would otherwise overflow a
 * Lambda response with envelopes alone. Batches with records are served first; a batch whose envelope no
 * longer fits is left out of this response (its partition is read again by the next fetch).
 */
export function trim(batches: readonly GroupBatch[], limit: number, maxBytes: number, encoding: RecordEncoding): GroupBatch[] {
  let count = 0;
  let recordBytes = 0;
  let total = 0;
  const kept: Array<GroupBatch | undefined> = new Array(batches.length);
  const order = [...batches.keys()].sort((a, b) => Number(batches[a]!.records.length === 0) - Number(batches[b]!.records.length === 0));
  for (const i of order) {
    const batch = batches[i]!;
    const envelope = groupBatchEnvelopeSize(batch);
    if (total + envelope > MAX_RESPONSE_RECORD_BYTES) continue;
    total += envelope;
    const records: StoredRecord[] = [];
    for (const record of batch.records) {
      const size = wireSize(record, encoding);
      if (count >= limit || (count > 0 && (recordBytes + size > maxBytes || total + size > MAX_RESPONSE_RECORD_BYTES))) break;
      records.push(record);
      count++;
      recordBytes += size;
      total += size;
    }
    if (records.length === batch.records.length) kept[i] = batch;
    else {
      const nextOffset = records.length > 0 ? records[records.length - 1]!.offset + 1 : (batch.records[0]?.offset ?? batch.nextOffset);
      kept[i] = { ...batch, records, nextOffset };
    }
  }
  return kept.filter((b): b is GroupBatch => b !== undefined);
}

/**
 * Bytes a batch adds to a group fetch response besides its records, as {@link wireSize} counts: the JSON
 * `{"topic":…,"partition":…,"leaseToken":…,"records":[],"nextOffset":…,"endOffset":…}` and a comma, with room
 * for the largest offsets.
 */
export function groupBatchEnvelopeSize(batch: Pick<GroupBatch, 'topic' | 'partition' | 'leaseToken'>): number {
  return BATCH_FRAMING + jsonStringSize(batch.topic) + digits(batch.partition) + jsonStringSize(batch.leaseToken) + 2 * MAX_DIGITS;
}

const BATCH_FRAMING = bodyTextSize('{"topic":,"partition":,"leaseToken":,"records":[],"nextOffset":,"endOffset":},');

const keyOf = (p: TopicPartition): string => `${p.topic}#${p.partition}`;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** `Promise.all(items.map(fn))` with at most `limit` calls in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
