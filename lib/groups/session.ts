import type { MemberRecord } from './lease-store.js';

/** docs/api.md: `sessionTimeoutMs` is 3,000..300,000, default 30,000 (Kafka's `session.timeout.ms` range). */
export const MIN_SESSION_TIMEOUT_MS = 3_000;
export const MAX_SESSION_TIMEOUT_MS = 300_000;
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
/**
 * How stale a group's recorded activity may get while members are live: a join or heartbeat that finds it
 * older refreshes it. Expiry waits this much (and a session) longer than the retention, so that a group is
 * never deleted before it has been idle for the whole retention (see group-deletion.ts).
 */
export const ACTIVITY_RESOLUTION_MS = 60 * 60 * 1000;
/** A third of the session, as Kafka advises (`heartbeat.interval.ms` ≤ ⅓ `session.timeout.ms`). */
const HEARTBEAT_FRACTION = 3;

/** How often a member with this session should heartbeat. */
export function heartbeatIntervalMs(sessionTimeoutMs: number): number {
  return Math.floor(sessionTimeoutMs / HEARTBEAT_FRACTION);
}

/**
 * THE liveness rule: a member is live while its session has not expired at `now`. Reads decide it in
 * milliseconds; the record's TTL only cleans up later (DynamoDB deletes late, and DynamoDB Local perhaps never).
 */
export function isLive(member: Pick<MemberRecord, 'sessionExpiresAtMs'>, now: number): boolean {
  return member.sessionExpiresAtMs > now;
}

/** The members of `members` that are live at `now`. */
export function liveMembers(members: readonly MemberRecord[], now: number): MemberRecord[] {
  return members.filter((m) => isLive(m, now));
}
