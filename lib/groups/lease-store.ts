import type { TopicPartition } from './assignment.js';

/**
 * Storage of consumer groups (the role; KCL's `LeaseRefresher`), apart from its DynamoDB implementation
 * ({@link DynamoLeaseStore}). One group's whole state — its members' liveness records and its leases — is
 * read by one call ({@link LeaseStore.loadGroup}).
 *
 * Every conditional write reports a lost race as a return value (`null` / `false` / `'fenced'`), never as an
 * exception, as KCL's `takeLease`/`evictLease` return `false`.
 */
export interface LeaseStore {
  /** Creates or replaces a member's record (a join starts a new session). */
  putMember(group: string, member: MemberRecord): Promise<void>;
  /**
   * Extends a live member's session to `now + sessionTimeoutMs` (its own, as stored): THE one write of a
   * heartbeat.
   * @returns the renewed record, or `null` when the member is unknown or its session expired before `now`.
   */
  renewMember(group: string, memberId: string, now: number): Promise<MemberRecord | null>;
  /** Deletes a member's record, which frees its leases at once. @returns the deleted record, if there was one. */
  deleteMember(group: string, memberId: string): Promise<MemberRecord | null>;
  /** All member records (expired ones included: TTL deletes late) and leases of a group, strongly consistent. */
  loadGroup(group: string): Promise<GroupRecords>;
  /**
   * Makes `owner` the owner of a lease, with a new token, if the lease is still as `expected` was read
   * (`null`: the lease item does not exist yet).
   * @returns the lease as written, or `null` when another member changed it first.
   */
  takeLease(group: string, request: TakeLease): Promise<LeaseRecord | null>;
  /** Gives a lease back (owner removed), if `memberId` still holds it with `leaseToken`. @returns false on a lost race. */
  releaseLease(group: string, partition: TopicPartition, memberId: string, leaseToken: string): Promise<boolean>;
  /**
   * Sets the committed offset, fenced on owner, lease token AND topic incarnation: a lease written for an
   * earlier incarnation of the topic (deleted, perhaps re-created since) accepts no commit.
   * @returns `'ok'` only when the offset is stored (by this call or by an earlier attempt of the same commit).
   */
  commitOffset(group: string, request: CommitRequest): Promise<'ok' | 'fenced'>;
  /** One lease as stored (strongly consistent), or `null` when the group never had it. */
  getLease(group: string, partition: TopicPartition): Promise<LeaseRecord | null>;
  /** Moves the committed offset and gives the lease a new token (fencing its owner's commits). */
  resetOffset(group: string, request: ResetRequest): Promise<LeaseRecord>;
  /** Records that a group exists, for {@link LeaseStore.listGroups} (idempotent). */
  registerGroup(group: string, now: number): Promise<void>;
  /** Every registered group, in no particular order. */
  listGroups(): Promise<string[]>;
}

/** A member's liveness record. Its session is live while `sessionExpiresAtMs > now`. */
export interface MemberRecord {
  readonly memberId: string;
  /** Changes at every join: leases held under an earlier session are free (KIP-848's member epoch). */
  readonly session: string;
  readonly topics: readonly string[];
  readonly sessionTimeoutMs: number;
  readonly sessionExpiresAtMs: number;
}

/**
 * One (group, topic, partition) lease. Held only while its owner's member record is live with `ownerSession`,
 * and only for the incarnation of the topic named by `topicId`: once that topic is deleted, the lease (its
 * owner, token and committed offset) means nothing any more (see `currentLeases` in group-records.ts).
 */
export interface LeaseRecord extends TopicPartition {
  /** The incarnation of the topic the lease and its committed offset belong to (a re-created topic starts over). */
  readonly topicId: string | null;
  readonly owner: string | null;
  readonly ownerSession: string | null;
  /** Changes at every change of owner and at every reset: the fence of commits. */
  readonly leaseToken: string;
  readonly committedOffset: number | null;
  /**
   * The lease token `committedOffset` was committed under (`null` after a reset or a take for a new
   * incarnation): how a retried commit whose first attempt won is recognized after the lease moved on.
   */
  readonly committedToken: string | null;
}

export interface GroupRecords {
  readonly members: MemberRecord[];
  readonly leases: LeaseRecord[];
}

export interface TakeLease {
  readonly partition: TopicPartition;
  readonly topicId: string;
  /** The lease as read; `null` when there was no lease item. */
  readonly expected: LeaseRecord | null;
  readonly owner: string;
  readonly ownerSession: string;
  readonly newToken: string;
  readonly now: number;
}

export interface CommitRequest {
  readonly partition: TopicPartition;
  /** The incarnation of the topic the committer read (`Topic.topicId`): the lease must be of the same one. */
  readonly topicId: string;
  readonly memberId: string;
  readonly leaseToken: string;
  readonly offset: number;
  readonly now: number;
}

export interface ResetRequest {
  readonly partition: TopicPartition;
  readonly topicId: string;
  readonly offset: number;
  readonly newToken: string;
  readonly now: number;
}
