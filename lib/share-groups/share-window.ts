/**
 * The in-flight window of one share-partition (group, topic, partition): what each record above the start
 * offset is doing, as a PURE value (no I/O, no clock: `now` is an argument). Every change the share-group
 * routes make is one of the functions below applied to the stored window, then a conditional write of the
 * result (lib/share-groups/dynamo-share-store.ts); test/unit/share-groups/share-window.property.test.ts drives
 * any interleaving of them and checks the invariants.
 *
 * It is Kafka's `SharePartition` (KIP-932, apache/kafka `core/.../share/SharePartition.java`) reduced to its
 * state machine:
 *
 * ```
 *               acquire (deliveries + 1)                accept
 *   available ───────────────────────────▶ acquired ───────────────▶ accepted   (done)
 *       ▲   ◀─────────── release / lock expired ───┘  │ reject, or released/expired
 *       │                                             │ with deliveries ≥ maxDeliveries
 *       │                                             ▼
 *       │                           archiving (dead-letter append pending) ──▶ archived   (done)
 *       └── records past the window's end are available, never delivered
 * ```
 * - `startOffset` (Kafka's SPSO): every record below it is done (accepted or archived). It moves only over a
 *   done front, or to the log's start when retention removed records (they can no longer be delivered).
 * - The window holds at most {@link MAX_IN_FLIGHT_RECORDS} offsets from the start (Kafka's
 *   `group.share.partition.max.record.locks`): a record stuck at the front stops acquisitions past the bound
 *   until its lock expires, which bounds the stored item.
 * - A record is acquired by one receipt at a time; `deliveries` counts acquisitions and never falls.
 * - Without a dead-letter topic a record goes straight to `archived`; with one it waits in `archiving`, tagged
 *   with the batch of the write that archived it, until its copy is appended (lib/share-groups/dead-letters.ts).
 *
 * Runs of equal states are stored as one (`StateRun`), so a window of 2,000 records acquired in a few fetches
 * is a few runs; functions work on the expanded list (at most 2,000 entries) and {@link compact} it again.
 */

/** Kafka's default `group.share.partition.max.record.locks`: in-flight records per share-partition. */
export const MAX_IN_FLIGHT_RECORDS = 2000;
/** Kafka's default `group.share.delivery.attempt.limit`; docs/api.md's default `maxDeliveries`. */
export const DEFAULT_MAX_DELIVERIES = 5;

/** Why a record was archived: a `reject` ack, or its `maxDeliveries`-th delivery ended without an accept. */
export type ArchiveReason = 'rejected' | 'max-deliveries';

export type RecordState =
  | { readonly kind: 'available'; readonly deliveries: number }
  | { readonly kind: 'acquired'; readonly deliveries: number; readonly receipt: string; readonly deadline: number; readonly lockMs: number }
  | { readonly kind: 'accepted' }
  | { readonly kind: 'archiving'; readonly deliveries: number; readonly batch: number; readonly reason: ArchiveReason }
  | { readonly kind: 'archived' };

/** `count` consecutive records in the same state. */
export interface StateRun {
  readonly count: number;
  readonly state: RecordState;
}

export interface ShareWindow {
  /** Every record below is accepted or archived. */
  readonly startOffset: number;
  /**
   * The states of `[startOffset, startOffset + Σ count)`, adjacent equal states merged. Canonical: never
   * starts with a done run, never ends with never-delivered available records (those are implicit).
   */
  readonly runs: readonly StateRun[];
  /** Records archived over the share-partition's life (describe's `archived`). */
  readonly archived: number;
}

/** How a step archives: the group's `maxDeliveries`, and the batch of a dead-letter append (`null`: no topic). */
export interface ArchivePolicy {
  readonly maxDeliveries: number;
  /** The id tagging records archived by this write (the write's version), or `null` without a dead-letter topic. */
  readonly deadLetterBatch: number | null;
}

/** A lock a fetch takes on the records it acquires. */
export interface Lock {
  readonly receipt: string;
  readonly lockMs: number;
}

export type AckType = 'accept' | 'release' | 'reject' | 'renew';

export interface Ack {
  readonly offset: number;
  readonly receipt: string;
  readonly type: AckType;
}

/** A record waiting for its dead-letter copy. */
export interface PendingArchive {
  readonly offset: number;
  readonly deliveries: number;
  readonly reason: ArchiveReason;
}

export const emptyWindow = (startOffset: number): ShareWindow => ({ startOffset, runs: [], archived: 0 });

/** The first offset past the stored runs: records from here on were never delivered. */
export function windowEnd(window: ShareWindow): number {
  return window.runs.reduce((end, run) => end + run.count, window.startOffset);
}

const isDone = (s: RecordState): boolean => s.kind === 'accepted' || s.kind === 'archived';
const fresh: RecordState = { kind: 'available', deliveries: 0 };
const isLive = (s: RecordState, now: number): boolean => s.kind === 'acquired' && s.deadline > now;

/**
 * Brings the window up to `now` and `policy` (Kafka's acquisition-lock timeout, applied lazily): an expired lock
 * makes its record available again, or archived once it has had `maxDeliveries` deliveries; an available record
 * with that many (after `maxDeliveries` was lowered) is archived too.
 */
export function settle(window: ShareWindow, now: number, policy: ArchivePolicy): ShareWindow {
  const states = expand(window);
  let archived = 0;
  const next = states.map((s) => {
    if ((s.kind === 'acquired' && s.deadline <= now) || s.kind === 'available') {
      if (s.deliveries >= policy.maxDeliveries) {
        archived++;
        return archivedState(s.deliveries, 'max-deliveries', policy);
      }
      return s.kind === 'acquired' ? { kind: 'available' as const, deliveries: s.deliveries } : s;
    }
    return s;
  });
  return compact(window.startOffset, next, window.archived + archived);
}

/**
 * Where retention left the log: records below `logStartOffset` are gone, so the window starts there at least
 * (they can never be delivered or dead-lettered again; Kafka moves the share-partition start the same way).
 */
export function skipTo(window: ShareWindow, logStartOffset: number): ShareWindow {
  if (logStartOffset <= window.startOffset) return window;
  const states = expand(window).slice(logStartOffset - window.startOffset);
  return compact(logStartOffset, states, window.archived);
}

/**
 * The offsets a fetch may acquire now, lowest first, at most `max`: available records of the window, then
 * never-delivered ones past its end, up to the in-flight bound. Call on a {@link settle}d window.
 */
export function acquirable(window: ShareWindow, max: number): number[] {
  const out: number[] = [];
  let offset = window.startOffset;
  for (const run of window.runs) {
    if (run.state.kind === 'available') for (let i = 0; i < run.count && out.length < max; i++) out.push(offset + i);
    offset += run.count;
  }
  const bound = window.startOffset + MAX_IN_FLIGHT_RECORDS;
  for (let o = offset; o < bound && out.length < max; o++) out.push(o);
  return out;
}

/**
 * Acquires `offsets` (each {@link acquirable} in this window) under `lock` until `now + lock.lockMs`, one more
 * delivery each.
 * @throws Error when an offset is not acquirable: the caller planned on another window (a bug, not a race).
 */
export function acquire(window: ShareWindow, offsets: readonly number[], lock: Lock, now: number): ShareWindow {
  const states = expand(window);
  for (const offset of offsets) {
    const i = offset - window.startOffset;
    if (i < 0 || i >= MAX_IN_FLIGHT_RECORDS) throw new Error(`offset ${offset} is outside the window at ${window.startOffset}`);
    while (states.length <= i) states.push(fresh);
    const s = states[i]!;
    if (s.kind !== 'available') throw new Error(`offset ${offset} is ${s.kind}, not available`);
    states[i] = { kind: 'acquired', deliveries: s.deliveries + 1, receipt: lock.receipt, deadline: now + lock.lockMs, lockMs: lock.lockMs };
  }
  return compact(window.startOffset, states, window.archived);
}

/**
 * Applies acknowledgements in order, each fenced by its receipt: it applies only to a record acquired under that
 * receipt (an expired lock still counts until another fetch takes the record, since nobody else holds it).
 * `accept`: done. `release`: available now (archived at `maxDeliveries`). `reject`: archived. `renew`: the lock
 * runs `lockMs` from `now` again.
 * @returns the window and, per ack, whether it applied (`false`: `FENCED`).
 */
export function acknowledge(window: ShareWindow, acks: readonly Ack[], now: number, policy: ArchivePolicy): { window: ShareWindow; applied: boolean[] } {
  const states = expand(window);
  let archived = 0;
  const applied = acks.map((ack) => {
    const i = ack.offset - window.startOffset;
    const s = i >= 0 && i < states.length ? states[i]! : undefined;
    if (s?.kind !== 'acquired' || s.receipt !== ack.receipt) return false;
    switch (ack.type) {
      case 'accept':
        states[i] = { kind: 'accepted' };
        break;
      case 'renew':
        states[i] = { ...s, deadline: now + s.lockMs };
        break;
      case 'release':
        if (s.deliveries < policy.maxDeliveries) states[i] = { kind: 'available', deliveries: s.deliveries };
        else {
          states[i] = archivedState(s.deliveries, 'max-deliveries', policy);
          archived++;
        }
        break;
      case 'reject':
        states[i] = archivedState(s.deliveries, 'rejected', policy);
        archived++;
        break;
    }
    return true;
  });
  return { window: compact(window.startOffset, states, window.archived + archived), applied };
}

/** Records waiting for their dead-letter copy, by the batch that archived them, in offset order. */
export function pendingArchives(window: ShareWindow): Map<number, PendingArchive[]> {
  const out = new Map<number, PendingArchive[]>();
  let offset = window.startOffset;
  for (const { count, state } of window.runs) {
    if (state.kind === 'archiving') {
      const list = out.get(state.batch) ?? [];
      for (let i = 0; i < count; i++) list.push({ offset: offset + i, deliveries: state.deliveries, reason: state.reason });
      out.set(state.batch, list);
    }
    offset += count;
  }
  return out;
}

/** Marks the records of dead-letter batch `batch` archived: their copies are appended. */
export function completeArchive(window: ShareWindow, batch: number): ShareWindow {
  const states = expand(window).map((s): RecordState => (s.kind === 'archiving' && s.batch === batch ? { kind: 'archived' } : s));
  return compact(window.startOffset, states, window.archived);
}

/** What describe reports of a window at `now` (docs/api.md, "Share groups"). */
export interface WindowStats {
  /** Records of the window not done: acquired, waiting for redelivery, or waiting for their dead-letter copy. */
  readonly inFlight: number;
  /** Held under a live lock. */
  readonly acquired: number;
  /** In the window and acquirable by the next fetch: released, lock expired, or never delivered. */
  readonly available: number;
}

export function windowStats(window: ShareWindow, now: number): WindowStats {
  let inFlight = 0;
  let acquired = 0;
  let available = 0;
  for (const { count, state } of window.runs) {
    if (isDone(state)) continue;
    inFlight += count;
    if (isLive(state, now)) acquired += count;
    else if (state.kind !== 'archiving') available += count;
  }
  return { inFlight, acquired, available };
}

/** One state per record of the window, in offset order. */
export function expand(window: ShareWindow): RecordState[] {
  const states: RecordState[] = [];
  for (const { count, state } of window.runs) for (let i = 0; i < count; i++) states.push(state);
  return states;
}

/**
 * The canonical window of `states` from `startOffset`: the done front dropped (the start moves over it),
 * never-delivered available records at the end dropped (they are implicit), equal neighbours merged.
 */
export function compact(startOffset: number, states: readonly RecordState[], archived: number): ShareWindow {
  let first = 0;
  while (first < states.length && isDone(states[first]!)) first++;
  let last = states.length;
  while (last > first && sameState(states[last - 1]!, fresh)) last--;
  const runs: StateRun[] = [];
  for (let i = first; i < last; i++) {
    const state = states[i]!;
    const previous = runs[runs.length - 1];
    if (previous && sameState(previous.state, state)) runs[runs.length - 1] = { count: previous.count + 1, state: previous.state };
    else runs.push({ count: 1, state });
  }
  return { startOffset: startOffset + first, runs, archived };
}

/** Field-by-field equality of two states (what may share a run). */
export function sameState(a: RecordState, b: RecordState): boolean {
  switch (a.kind) {
    case 'available':
      return b.kind === 'available' && a.deliveries === b.deliveries;
    case 'acquired':
      return b.kind === 'acquired' && a.deliveries === b.deliveries && a.receipt === b.receipt && a.deadline === b.deadline && a.lockMs === b.lockMs;
    case 'archiving':
      return b.kind === 'archiving' && a.deliveries === b.deliveries && a.batch === b.batch && a.reason === b.reason;
    default:
      return a.kind === b.kind;
  }
}

function archivedState(deliveries: number, reason: ArchiveReason, policy: ArchivePolicy): RecordState {
  return policy.deadLetterBatch === null ? { kind: 'archived' } : { kind: 'archiving', deliveries, batch: policy.deadLetterBatch, reason };
}
