import { randomUUID } from 'node:crypto';
import { FencedError, InvalidRequestError, isRetriable, MemberNotFoundError, OffsetOutOfRangeError } from '../errors.js';
import type { ShardlogClient } from './client.js';
import { backoffDelayMs, sleep } from './retry.js';
import type { CommitOffset, ConsumedRecord, GroupBatch, MembershipResponse } from './types.js';

export interface ConsumerOptions {
  /** A stable member id (kept across rejoins). Default: a random UUID per consumer. */
  memberId?: string;
  /** The server drops the member after this long without a heartbeat (3,000..300,000; server default 30,000). */
  sessionTimeoutMs?: number;
  /** Records per partition per fetch (server default 1,000). */
  maxRecords?: number;
  /** Bytes per fetch (server default 1 MB). */
  maxBytes?: number;
  /** Long poll: how long a fetch waits for records when all partitions are caught up (default 5,000; max 20,000). */
  waitMs?: number;
  /** Failures the consumer survives on its own (a heartbeat that failed, a commit that could not be sent). */
  onError?: (error: unknown) => void;
}

/** What `eachBatch` receives: the records of one partition, in offset order. */
export interface EachBatchPayload {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The lease the batch was read under; its commit is fenced by it. */
  leaseToken: string;
  /** The partition's end offset when the batch was read (lag = endOffset − last offset − 1). */
  endOffset: number;
  /** Heartbeats now. Rarely needed: heartbeats run on their own timer while the handler works. */
  heartbeat(): Promise<void>;
  /**
   * Marks the records up to `offset` as processed; only those are committed. Without a call the whole batch
   * is committed when the handler returns.
   */
  resolveOffset(offset: number): void;
  /** False once `stop()` was called: finish (or resolve what is done) and return. */
  isRunning(): boolean;
  /** True once this partition moved to another member: nothing of it will be committed; return early. */
  isStale(): boolean;
}

export interface RunOptions {
  group: string;
  topics: string[];
  /**
   * Called per non-empty partition batch. When it returns, the batch (or what `resolveOffset` marked) is
   * committed: at-least-once. When it throws, nothing of that batch is committed and `run()` stops and rejects
   * with the error, after committing earlier batches and leaving the group.
   */
  eachBatch(payload: EachBatchPayload): Promise<void>;
  /**
   * Called when the member is caught up: a fetch found no new record on any assigned partition, or it holds no
   * partition at all.
   */
  onIdle?(): void;
}

export const DEFAULT_CONSUMER_WAIT_MS = 5_000;
/** Used until the server has told its heartbeat interval. */
const FALLBACK_HEARTBEAT_INTERVAL_MS = 3_000;

type Held = { topic: string; partition: number; leaseToken: string };

/**
 * A consumer-group member over HTTP, in the manner of KafkaJS's `consumer.run({ eachBatch })` and the KCL's
 * record processor:
 *
 * 1. joins the group and heartbeats every `heartbeatIntervalMs` (the server's) on a timer of its own, so a slow
 *    handler never costs the member its leases;
 * 2. fetches its assigned partitions, from the committed offsets first and then from positions it tracks;
 * 3. calls `eachBatch` per partition and, once it returns, commits `last offset + 1` with the batch's lease
 *    token (at-least-once: a crash before the commit means the batch is read again);
 * 4. drops a partition whose commit was `FENCED` or which a heartbeat no longer lists, and never commits for it
 *    again unless the group hands it back; rejoins with the same member id after `MEMBER_NOT_FOUND`;
 *    heartbeats at once when a fetch shows the coordinator sees its partitions otherwise (a lease token it
 *    does not know, a held partition left out), so a deleted and re-created topic or a reset is picked up
 *    within one fetch, not one heartbeat interval, and never reads on from a position of an earlier lease;
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
  private readonly options: ConsumerOptions;
  private memberIdValue: string;
  private heartbeatIntervalMs = FALLBACK_HEARTBEAT_INTERVAL_MS;
  private assignments = new Map<string, Held>();
  /** How many partitions the last join/heartbeat listed for us. */
  private assignedByServer = 0;
  private readonly positions = new Map<string, number>();
  /** Lease tokens refused by a commit: not trusted again even if a late heartbeat still lists them. */
  private readonly fencedTokens = new Set<string>();
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private stopping = false;
  private stopController = new AbortController();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatInFlight: Promise<void> | undefined;
  private joining: Promise<void> | undefined;
  private finished: Promise<void> = Promise.resolve();
  private run$: RunOptions | undefined;

  constructor(
    private readonly client: ShardlogClient,
    options: ConsumerOptions = {},
  ) {
    this.options = options;
    this.memberIdValue = options.memberId ?? randomUUID();
  }

  /** This member's id (stable across rejoins). */
  get memberId(): string {
    return this.memberIdValue;
  }

  /** The partitions this member holds now, with their lease tokens. */
  get assigned(): ReadonlyArray<Held> {
    return [...this.assignments.values()];
  }

  /**
   * Joins `group` and processes batches until `stop()` is called. Resolves once the member has left.
   * @throws the error `eachBatch` threw (after committing earlier batches and leaving); a non-retriable error
   *   of the join or fetch (e.g. TopicNotFoundError).
   */
  async run(options: RunOptions): Promise<void> {
    if (this.state !== 'idle') throw new InvalidRequestError('a consumer runs once; create another one');
    if (options.topics.length === 0) throw new InvalidRequestError('run() needs at least one topic');
    this.state = 'running';
    this.run$ = options;
    let markFinished!: () => void;
    this.finished = new Promise((resolve) => (markFinished = resolve));
    let joined = false;
    try {
      try {
        await this.join();
      } catch (error) {
        if (this.stopping) return; // stop() during the join: nothing to leave
        throw error;
      }
      joined = true;
      this.scheduleHeartbeat();
      await this.loop(options);
    } finally {
      clearTimeout(this.heartbeatTimer);
      this.state = 'stopped';
      if (joined) await this.leave();
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

  private async loop(options: RunOptions): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      if (this.assignments.size === 0) {
        // Idle only if the coordinator gave us nothing, not while a partition we just dropped comes back.
        if (this.assignedByServer === 0) options.onIdle?.();
        if (this.stopping) break;
        await this.pause(Math.min(this.heartbeatIntervalMs, 1_000));
        continue;
      }
      let batches: GroupBatch[];
      // Which lease each position we send was reached under: the server reads from it under whatever lease
      // it holds by then, which may be a newer one (a reset, a re-created topic) than the position's.
      const sentUnder = new Map<string, string>();
      try {
        const response = await this.client.groupFetch(
          options.group,
          this.memberIdValue,
          {
            ...(this.options.maxRecords !== undefined ? { limit: this.options.maxRecords } : {}),
            ...(this.options.maxBytes !== undefined ? { maxBytes: this.options.maxBytes } : {}),
            waitMs: this.options.waitMs ?? DEFAULT_CONSUMER_WAIT_MS,
            positions: this.currentPositions(sentUnder),
          },
          this.stopController.signal,
        );
        batches = response.batches;
        failures = 0;
      } catch (error) {
        if (this.stopping) break;
        failures += 1;
        if (error instanceof MemberNotFoundError) {
          await this.rejoin();
        } else if (error instanceof FencedError) {
          // Our view of the leases is stale: ask the coordinator for the current one.
          await this.heartbeatNow();
        } else if (error instanceof OffsetOutOfRangeError) {
          // Retention overtook a tracked position: fall back to the committed offset / reset policy.
          this.positions.clear();
        } else if (!isRetriable(error)) {
          throw error;
        } else {
          this.report(error);
        }
        await this.pause(backoffDelayMs(Math.min(failures, 6)));
        continue;
      }
      await this.process(options, batches, sentUnder);
    }
  }

  private async process(options: RunOptions, batches: GroupBatch[], sentUnder: ReadonlyMap<string, string>): Promise<void> {
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
      if (!this.holds(key, batch.leaseToken)) {
        stale = true;
        skipped ||= batch.records.length > 0;
        continue;
      }
      // Read from a position of an earlier lease on this partition (the lease changed while the fetch was in
      // flight): those records may skip what the new lease starts from; read again from its committed offset.
      const sent = sentUnder.get(key);
      if (sent !== undefined && sent !== batch.leaseToken) {
        this.positions.delete(key);
        skipped ||= batch.records.length > 0;
        continue;
      }
      if (batch.records.length === 0) {
        this.positions.set(key, batch.nextOffset);
        continue;
      }
      records += batch.records.length;
      let resolved: number | undefined;
      try {
        await options.eachBatch({
          topic: batch.topic,
          partition: batch.partition,
          records: batch.records,
          leaseToken: batch.leaseToken,
          endOffset: batch.endOffset,
          heartbeat: () => this.heartbeatNow(),
          resolveOffset: (offset) => {
            resolved = Math.max(resolved ?? -1, offset);
          },
          isRunning: () => !this.stopping,
          isStale: () => !this.holds(key, batch.leaseToken),
        });
      } catch (error) {
        this.positions.delete(key);
        await this.commit(options.group, commits);
        throw error;
      }
      const next = resolved !== undefined ? resolved + 1 : batch.records.at(-1)!.offset + 1;
      if (this.holds(key, batch.leaseToken)) this.positions.set(key, next);
      commits.push({ topic: batch.topic, partition: batch.partition, offset: next, leaseToken: batch.leaseToken });
      // stop(): finish the current batch only; the rest is read again by whoever owns it next.
      if (this.stopping) break;
    }
    await this.commit(options.group, commits);
    // A response without records leaves out a partition we hold when the server does not count it as ours
    // (its topic was deleted, or re-created and not yet re-assigned), or, for a member holding tens of
    // thousands of partitions, when their envelopes alone would not fit a response: then this costs one
    // heartbeat per idle fetch, at most one per `waitMs`.
    if (records === 0 && [...this.assignments.keys()].some((key) => !batches.some((b) => keyOf(b) === key))) stale = true;
    if (stale && !this.stopping) void this.heartbeatNow();
    if (records === 0 && !skipped && !this.stopping) options.onIdle?.();
  }

  /** Commits what is still ours; drops partitions the coordinator refuses. */
  private async commit(group: string, offsets: CommitOffset[]): Promise<void> {
    const ours = offsets.filter((o) => this.holds(keyOf(o), o.leaseToken));
    if (ours.length === 0) return;
    try {
      const { results } = await this.client.commit(group, this.memberIdValue, ours);
      for (const result of results) {
        if (!result.ok) {
          const sent = ours.find((o) => o.topic === result.topic && o.partition === result.partition);
          this.drop(keyOf(result), sent?.leaseToken);
        }
      }
    } catch (error) {
      if (error instanceof FencedError) {
        for (const o of ours) this.drop(keyOf(o), o.leaseToken);
      } else if (error instanceof MemberNotFoundError) {
        // Not committed: those records are read again after the rejoin (at-least-once).
        await this.rejoin();
      } else {
        // Positions stay; the next commit of a later offset covers these records.
        this.report(error);
      }
    }
  }

  private drop(key: string, leaseToken: string | undefined): void {
    if (leaseToken !== undefined) this.fencedTokens.add(leaseToken);
    this.assignments.delete(key);
    this.positions.delete(key);
    // A reset fences a lease that we may still own under a new token: ask now rather than at the next tick.
    void this.heartbeatNow();
  }

  private holds(key: string, leaseToken: string): boolean {
    return this.assignments.get(key)?.leaseToken === leaseToken;
  }

  /** The positions to send, recording in `sentUnder` the lease token each one was reached under. */
  private currentPositions(sentUnder: Map<string, string>) {
    const positions = [];
    for (const [key, held] of this.assignments) {
      const offset = this.positions.get(key);
      if (offset === undefined) continue;
      positions.push({ topic: held.topic, partition: held.partition, offset });
      sentUnder.set(key, held.leaseToken);
    }
    return positions;
  }

  // ---- membership ----

  private async join(): Promise<void> {
    const run = this.run$!;
    const response = await this.client.joinGroup(
      run.group,
      {
        topics: run.topics,
        memberId: this.memberIdValue,
        ...(this.options.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: this.options.sessionTimeoutMs } : {}),
      },
      this.stopController.signal,
    );
    this.memberIdValue = response.memberId;
    // Whatever we tracked may have been read and committed by others while we were gone.
    this.positions.clear();
    this.apply(response);
  }

  /** Joins again with the same member id; concurrent callers share one attempt. */
  private rejoin(): Promise<void> {
    this.joining ??= this.join()
      .catch((error: unknown) => {
        if (!this.stopping) this.report(error);
      })
      .finally(() => {
        this.joining = undefined;
      });
    return this.joining;
  }

  private apply(response: MembershipResponse): void {
    if (response.heartbeatIntervalMs > 0) this.heartbeatIntervalMs = response.heartbeatIntervalMs;
    this.assignedByServer = response.assignments.length;
    const next = new Map<string, Held>();
    for (const a of response.assignments) {
      if (this.fencedTokens.has(a.leaseToken)) continue;
      next.set(keyOf(a), { topic: a.topic, partition: a.partition, leaseToken: a.leaseToken });
    }
    for (const [key, held] of this.assignments) {
      // Lost, or fenced by a reset (new token): our position is no longer the group's.
      if (next.get(key)?.leaseToken !== held.leaseToken) this.positions.delete(key);
    }
    this.assignments = next;
  }

  private scheduleHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    if (this.state !== 'running') return;
    this.heartbeatTimer = setTimeout(() => {
      void this.heartbeatNow().finally(() => this.scheduleHeartbeat());
    }, this.heartbeatIntervalMs);
  }

  /** One heartbeat; concurrent callers share it. Never throws: failures are reported and retried next tick. */
  private heartbeatNow(): Promise<void> {
    this.heartbeatInFlight ??= (async () => {
      if (this.joining) return this.joining;
      const run = this.run$!;
      try {
        this.apply(await this.client.heartbeat(run.group, this.memberIdValue));
      } catch (error) {
        if (error instanceof MemberNotFoundError) await this.rejoin();
        else if (!this.stopping) this.report(error);
      }
    })().finally(() => {
      this.heartbeatInFlight = undefined;
    });
    return this.heartbeatInFlight;
  }

  private async leave(): Promise<void> {
    try {
      await this.client.leaveGroup(this.run$!.group, this.memberIdValue);
    } catch (error) {
      // The session expires on its own; only an unexpected failure is worth a report.
      if (!(error instanceof MemberNotFoundError)) this.report(error);
    }
  }

  /** Sleeps, but wakes at once on stop(). */
  private async pause(ms: number): Promise<void> {
    await sleep(ms, this.stopController.signal).catch(() => undefined);
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

function keyOf(tp: { topic: string; partition: number }): string {
  return `${tp.topic}\u0000${tp.partition}`;
}
