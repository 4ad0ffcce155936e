import { randomUUID } from 'node:crypto';
import { FencedError, InvalidRequestError, isRetriable, MemberNotFoundError, NotSubscribedError, OffsetOutOfRangeError } from '../errors.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { GroupMembership } from './group-membership.js';
import { keyOf, type Held } from './held-partitions.js';
import { DEFAULT_WAIT_MS, IDLE_PAUSE_MS, idlePauseMs } from './polling.js';
import { backoffDelayMs } from './retry.js';
import type { CommitOffset, GroupBatch, GroupFetchRequest } from './types.js';
import type { ConsumerCalls, ConsumerOptions, RunOptions } from './consumer-options.js';
export type { ConsumerCalls, ConsumerOptions, EachBatchPayload, RunOptions } from './consumer-options.js';

/** Backoff after failed fetches grows up to this many doublings. */
const MAX_BACKOFF_ATTEMPT = 6;

/**
 * A consumer-group member over HTTP, in the manner of KafkaJS's `consumer.run({ eachBatch })` and the KCL's
 * record processor:
 *
 * 1. subscribes the group to its topics (idempotent; `subscribe: false` skips it), joins the group and
 *    heartbeats every `heartbeatIntervalMs` (the server's) on a timer of its own, so a slow
 *    handler never costs the member its leases;
 * 2. fetches its assigned partitions, from the committed offsets first and then from positions it tracks;
 * 3. calls `eachBatch` per partition and, once it returns, commits `last offset + 1` with the batch's lease
 *    token (at-least-once: a crash before the commit means the batch is read again);
 * 4. drops a partition whose commit was `FENCED` or which a heartbeat no longer lists, and never commits for it
 *    again unless the group hands it back; rejoins with the same member id after `MEMBER_NOT_FOUND`;
 *    heartbeats at once when a fetch shows the coordinator sees its partitions otherwise (a lease token it
 *    does not know, a held partition left out), so a deleted and re-created topic or a reset is picked up
 *    within one fetch, not one heartbeat interval, and never reads on from a position of an earlier lease;
 *    drops a topic the group was unsubscribed from (`NOT_SUBSCRIBED`) and reads on the others;
 * 5. on `stop()`, finishes and commits the current batch and leaves the group, freeing its leases at once.
 *
 * @example
 * const consumer = client.consumer();
 * process.on('SIGINT', () => void consumer.stop());
 * await consumer.run({
 *   group: 'email-sender',
 *   topics: ['orders'],
 *   eachBatch: async ({ records }) => { for (const r of records) await sendEmail(r.value); },
 * });
 */
export class Consumer {
  private readonly initialMemberId: string;
  private membership: GroupMembership | undefined;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private stopping = false;
  private readonly stopController = new AbortController();
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly calls: ConsumerCalls,
    private readonly options: ConsumerOptions = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.initialMemberId = options.memberId ?? randomUUID();
  }

  /** This member's id (stable across rejoins). */
  get memberId(): string {
    return this.membership?.memberId ?? this.initialMemberId;
  }

  /** The partitions this member holds now, with their lease tokens. */
  get assigned(): ReadonlyArray<Held> {
    return this.membership?.held.list() ?? [];
  }

  /**
   * Subscribes `group` to `topics`, joins it and processes batches until `stop()` is called. Resolves once the
   * member has left.
   * @throws the error `eachBatch` threw (after committing earlier batches and leaving); a non-retriable error
   *   of the subscription, join or fetch (e.g. TopicNotFoundError, NotSubscribedError with `subscribe: false`).
   */
  async run(options: RunOptions): Promise<void> {
    if (this.state !== 'idle') throw new InvalidRequestError('a consumer runs once; create another one');
    if (options.topics.length === 0) throw new InvalidRequestError('run() needs at least one topic');
    this.state = 'running';
    const membership = new GroupMembership(this.calls, {
      group: options.group,
      topics: options.topics,
      memberId: this.initialMemberId,
      ...(this.options.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: this.options.sessionTimeoutMs } : {}),
      signal: this.stopController.signal,
      clock: this.clock,
      report: (error) => this.report(error),
    });
    this.membership = membership;
    let markFinished!: () => void;
    this.finished = new Promise((resolve) => (markFinished = resolve));
    let joined = false;
    try {
      try {
        if (options.subscribe !== false) {
          for (const topic of new Set(options.topics)) await this.calls.subscribe(options.group, topic, this.stopController.signal);
        }
        await membership.join();
      } catch (error) {
        if (this.stopping) return; // stop() during the subscriptions or the join: nothing to leave
        throw error;
      }
      joined = true;
      membership.startHeartbeats();
      await this.loop(options);
    } finally {
      membership.stopHeartbeats();
      this.state = 'stopped';
      if (joined) await membership.leave();
      markFinished();
    }
  }

  /**
   * Stops: the current batch finishes and is committed, then the member leaves. Resolves when done.
   * Inside `eachBatch`, call it without awaiting (`void consumer.stop()`): the batch must return first.
   */
  async stop(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    this.stopping = true;
    this.stopController.abort(new StopSignal());
    await this.finished;
  }

  /** The membership of the current `run()`. */
  private get member(): GroupMembership {
    return this.membership!;
  }

  private async loop(options: RunOptions): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      if (this.member.held.size === 0) {
        // Idle only if the coordinator gave us nothing, not while a partition we just dropped comes back.
        if (this.member.held.nothingAssigned) options.onIdle?.();
        if (this.stopping) break;
        // No partition: look again after the idle pause (a shorter heartbeat interval wins).
        await this.pause(Math.min(this.member.heartbeatIntervalMs, IDLE_PAUSE_MS));
        continue;
      }
      // Which lease each position we send was reached under: the server reads from it under whatever lease
      // it holds by then, which may be a newer one (a reset, a re-created topic) than the position's.
      const sentUnder = new Map<string, string>();
      let batches: GroupBatch[];
      try {
        const request = this.fetchRequest(sentUnder);
        batches = (await this.calls.groupFetch(options.group, this.member.memberId, request, this.stopController.signal)).batches;
        failures = 0;
      } catch (error) {
        if (this.stopping) break;
        failures += 1;
        await this.recover(error);
        await this.pause(backoffDelayMs(Math.min(failures, MAX_BACKOFF_ATTEMPT)));
        continue;
      }
      const records = await this.process(options, batches, sentUnder);
      // Nothing read and no long poll waited for it: pause rather than ask again at once.
      const pause = idlePauseMs(this.options.waitMs ?? DEFAULT_WAIT_MS);
      if (records === 0 && pause > 0 && !this.stopping) await this.pause(pause);
    }
  }

  private fetchRequest(sentUnder: Map<string, string>): GroupFetchRequest {
    const { maxRecords, maxBytes, waitMs, autoOffsetReset } = this.options;
    return {
      ...(maxRecords !== undefined ? { limit: maxRecords } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      waitMs: waitMs ?? DEFAULT_WAIT_MS,
      ...(autoOffsetReset !== undefined ? { autoOffsetReset } : {}),
      positions: this.member.held.positionsToSend(sentUnder),
    };
  }

  /** What a failed fetch means for the member. @throws the error when it is neither retriable nor handled. */
  private async recover(error: unknown): Promise<void> {
    if (error instanceof MemberNotFoundError) {
      await this.member.rejoin();
    } else if (error instanceof FencedError) {
      // Our view of the leases is stale: ask the coordinator for the current one.
      await this.member.heartbeatNow();
    } else if (error instanceof NotSubscribedError && typeof error.details.topic === 'string') {
      // Unsubscribed meanwhile: its leases ended. Read on the other topics, from what the coordinator says now.
      this.member.dropTopic(error.details.topic);
    } else if (error instanceof OffsetOutOfRangeError) {
      // Retention overtook a tracked position: fall back to the committed offset / reset policy.
      this.member.held.forgetPositions();
    } else if (!isRetriable(error)) {
      throw error;
    } else {
      this.report(error);
    }
  }

  /** Handles and commits what a fetch returned; returns how many records it handed to `eachBatch`. */
  private async process(options: RunOptions, batches: GroupBatch[], sentUnder: ReadonlyMap<string, string>): Promise<number> {
    const commits: CommitOffset[] = [];
    let records = 0;
    // The coordinator's view differs from ours: ask it now rather than at the next heartbeat tick, which a
    // long session puts far away (a re-created topic's partitions come back only through a heartbeat).
    let stale = false;
    // Records left unprocessed (not ours, or read from a stale position): the member is not caught up.
    let skipped = false;
    for (const batch of batches) {
      const key = keyOf(batch);
      // Lost between the fetch and now: another member owns it; do not process what we can never commit.
      if (!this.member.held.holds(key, batch.leaseToken)) {
        stale = true;
        skipped ||= batch.records.length > 0;
        continue;
      }
      // Read from a position of an earlier lease on this partition (the lease changed while the fetch was in
      // flight): those records may skip what the new lease starts from; read again from its committed offset.
      const sent = sentUnder.get(key);
      if (sent !== undefined && sent !== batch.leaseToken) {
        this.member.held.forgetPosition(key);
        skipped ||= batch.records.length > 0;
        continue;
      }
      if (batch.records.length === 0) {
        this.member.held.advance(key, batch.nextOffset);
        continue;
      }
      records += batch.records.length;
      commits.push(await this.handle(options, batch, commits));
      // stop(): finish the current batch only; the rest is read again by whoever owns it next.
      if (this.stopping) break;
    }
    await this.member.commit(commits);
    // A response without records leaves out a partition we hold when the server does not count it as ours
    // (its topic was deleted, or re-created and not yet re-assigned), or, for a member holding tens of
    // thousands of partitions, when their envelopes alone would not fit a response: then this costs one
    // heartbeat per idle fetch, at most one per `waitMs`.
    if (records === 0 && this.member.held.missingFrom(batches)) stale = true;
    if (stale && !this.stopping) void this.member.heartbeatNow();
    if (records === 0 && !skipped && !this.stopping) options.onIdle?.();
    return records;
  }

  /**
   * Hands one batch to `eachBatch` and returns its commit: up to what `resolveOffset` marked, else all of it.
   * @throws what the handler threw, after committing `earlier` (nothing of this batch is committed).
   */
  private async handle(options: RunOptions, batch: GroupBatch, earlier: CommitOffset[]): Promise<CommitOffset> {
    const key = keyOf(batch);
    let resolved: number | undefined;
    try {
      await options.eachBatch({
        topic: batch.topic,
        partition: batch.partition,
        records: batch.records,
        leaseToken: batch.leaseToken,
        endOffset: batch.endOffset,
        heartbeat: () => this.member.heartbeatNow(),
        resolveOffset: (offset) => {
          resolved = Math.max(resolved ?? -1, offset);
        },
        isRunning: () => !this.stopping,
        isStale: () => !this.member.held.holds(key, batch.leaseToken),
      });
    } catch (error) {
      this.member.held.forgetPosition(key);
      await this.member.commit(earlier);
      throw error;
    }
    const next = resolved !== undefined ? resolved + 1 : batch.records.at(-1)!.offset + 1;
    if (this.member.held.holds(key, batch.leaseToken)) this.member.held.advance(key, next);
    return { topic: batch.topic, partition: batch.partition, offset: next, leaseToken: batch.leaseToken };
  }

  /** Sleeps, but wakes at once on stop(). */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, this.stopController.signal, this.clock).catch(() => undefined);
  }

  private report(error: unknown): void {
    this.options.onError?.(error);
  }
}

/** Why a stopped consumer aborted its long poll; never surfaces to callers. */
class StopSignal extends Error {
  constructor() {
    super('consumer stopped');
  }
}
