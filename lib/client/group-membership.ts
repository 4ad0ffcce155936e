import { FencedError, MemberNotFoundError, NotSubscribedError } from '../errors.js';
import type { Clock } from './clock.js';
import { HeldPartitions, keyOf } from './held-partitions.js';
import type { CommitOffset, CommitResponse, JoinGroupRequest, MembershipResponse } from './types.js';

/** The calls of a member's session and its lease-fenced commits; `ShardlogClient` has them. */
export interface MembershipCalls {
  joinGroup(group: string, request: JoinGroupRequest, signal?: AbortSignal): Promise<MembershipResponse>;
  heartbeat(group: string, memberId: string, signal?: AbortSignal): Promise<MembershipResponse>;
  commit(group: string, memberId: string, offsets: CommitOffset[]): Promise<CommitResponse>;
  leaveGroup(group: string, memberId: string): Promise<void>;
}

export interface MembershipSettings {
  readonly group: string;
  readonly topics: string[];
  readonly memberId: string;
  readonly sessionTimeoutMs?: number;
  /** Aborted on `stop()`: ends a join in flight, and failures after it are no longer reported. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Failures the member survives on its own. */
  report(error: unknown): void;
}

/** Used until the server has told its heartbeat interval. */
const FALLBACK_HEARTBEAT_INTERVAL_MS = 3_000;

/**
 * One member's session in a group: join, a heartbeat every `heartbeatIntervalMs` (the server's) on a timer of
 * its own, commits fenced by lease tokens, rejoin with the same member id after `MEMBER_NOT_FOUND`, leave.
 * Every join and heartbeat answer updates {@link held}, the partitions the member holds; a refused commit
 * drops its partition from it.
 */
export class GroupMembership {
  readonly held = new HeldPartitions();
  private memberIdValue: string;
  private intervalMs = FALLBACK_HEARTBEAT_INTERVAL_MS;
  private beating = false;
  private cancelTimer: (() => void) | undefined;
  private heartbeatInFlight: Promise<void> | undefined;
  private joining: Promise<void> | undefined;

  constructor(
    private readonly calls: MembershipCalls,
    private readonly settings: MembershipSettings,
  ) {
    this.memberIdValue = settings.memberId;
  }

  get memberId(): string {
    return this.memberIdValue;
  }

  get heartbeatIntervalMs(): number {
    return this.intervalMs;
  }

  /**
   * Joins (or rejoins, keeping the member id). Positions are forgotten: whatever was tracked may have been read
   * and committed by others while the member was gone.
   * @throws what the join failed with (e.g. TopicNotFoundError), or the signal's reason after `stop()`.
   */
  async join(): Promise<void> {
    const { group, topics, sessionTimeoutMs, signal } = this.settings;
    const request = { topics, memberId: this.memberIdValue, ...(sessionTimeoutMs !== undefined ? { sessionTimeoutMs } : {}) };
    const response = await this.calls.joinGroup(group, request, signal);
    this.memberIdValue = response.memberId;
    this.held.forgetPositions();
    this.apply(response);
  }

  /** Joins again with the same member id; concurrent callers share one attempt. Never throws. */
  rejoin(): Promise<void> {
    this.joining ??= this.join()
      .catch((error: unknown) => this.report(error))
      .finally(() => {
        this.joining = undefined;
      });
    return this.joining;
  }

  /** One heartbeat; concurrent callers share it. Never throws: failures are reported and retried next tick. */
  heartbeatNow(): Promise<void> {
    this.heartbeatInFlight ??= (async () => {
      if (this.joining) return this.joining;
      try {
        this.apply(await this.calls.heartbeat(this.settings.group, this.memberIdValue));
      } catch (error) {
        if (error instanceof MemberNotFoundError) await this.rejoin();
        else this.report(error);
      }
    })().finally(() => {
      this.heartbeatInFlight = undefined;
    });
    return this.heartbeatInFlight;
  }

  /** Heartbeats every interval from now on, whatever the member is busy with. */
  startHeartbeats(): void {
    this.beating = true;
    this.scheduleHeartbeat();
  }

  stopHeartbeats(): void {
    this.beating = false;
    this.cancelTimer?.();
  }

  /**
   * Commits the offsets whose lease the member still holds; drops partitions the coordinator refuses (and asks
   * it at once what the member holds now). Never throws: a failure is reported, and a later commit covers it.
   */
  async commit(offsets: CommitOffset[]): Promise<void> {
    const ours = offsets.filter((o) => this.held.holds(keyOf(o), o.leaseToken));
    if (ours.length === 0) return;
    try {
      const { results } = await this.calls.commit(this.settings.group, this.memberIdValue, ours);
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
      } else if (error instanceof NotSubscribedError && typeof error.details.topic === 'string') {
        // Unsubscribed meanwhile: nothing was stored. Its partitions are no longer ours; the others commit.
        this.dropTopic(error.details.topic);
        await this.commit(ours.filter((o) => o.topic !== error.details.topic));
      } else {
        // Positions stay; the next commit of a later offset covers these records.
        this.settings.report(error);
      }
    }
  }

  /** Leaves the group, freeing the member's leases at once. Never throws. */
  async leave(): Promise<void> {
    try {
      await this.calls.leaveGroup(this.settings.group, this.memberIdValue);
    } catch (error) {
      // The session expires on its own; only an unexpected failure is worth a report.
      if (!(error instanceof MemberNotFoundError)) this.settings.report(error);
    }
  }

  /** Gives up every partition of a topic the group is no longer subscribed to, and asks what it holds now. */
  dropTopic(topic: string): void {
    this.held.dropTopic(topic);
    void this.heartbeatNow();
  }

  private drop(key: string, leaseToken: string | undefined): void {
    this.held.drop(key, leaseToken);
    // A reset fences a lease that we may still own under a new token: ask now rather than at the next tick.
    void this.heartbeatNow();
  }

  private scheduleHeartbeat(): void {
    this.cancelTimer?.();
    if (!this.beating) return;
    this.cancelTimer = this.settings.clock.schedule(() => {
      void this.heartbeatNow().finally(() => this.scheduleHeartbeat());
    }, this.intervalMs);
  }

  private apply(response: MembershipResponse): void {
    if (response.heartbeatIntervalMs > 0) this.intervalMs = response.heartbeatIntervalMs;
    this.held.apply(response);
  }

  private report(error: unknown): void {
    if (!this.settings.signal.aborted) this.settings.report(error);
  }
}
