import type { TopicPartition } from './assignment.js';

/**
 * Storage of consumer groups (the role; KCL's `LeaseRefresher`), apart from its DynamoDB implementation
 * ({@link DynamoLeaseStore}). One group's whole state — its members' liveness records, its leases, its
 * subscriptions and its activity — is read by one call ({@link LeaseStore.loadGroup}).
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
  /**
   * All member records (expired ones included: TTL deletes late), leases, subscriptions and the activity of a
   * group, strongly consistent.
   */
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
  /** Records that a group exists, for {@link LeaseStore.listGroups} (idempotent: the first `createdAt` stays). */
  registerGroup(group: string, now: number): Promise<void>;
  /** Every registered group, in no particular order. */
  listGroups(): Promise<string[]>;

  // ---- subscriptions and the group's life (docs/api.md v1.1) ----

  /** A group's subscriptions alone (not its members and leases), strongly consistent, by topic name. */
  loadSubscriptions(group: string): Promise<SubscriptionRecord[]>;
  /** Subscribes a group to a topic by name (idempotent: the first `subscribedAt` stays). */
  putSubscription(group: string, topic: string, now: number): Promise<void>;
  /** Removes a subscription. @returns whether there was one. */
  deleteSubscription(group: string, topic: string): Promise<boolean>;
  /**
   * Ends a lease whoever holds it: the owner goes, the token and the committed offset stay (so its holder's
   * commits are fenced, and whoever takes it later starts from the offset). A lease that does not exist is
   * not created.
   */
  endLease(group: string, partition: TopicPartition): Promise<void>;
  /**
   * Records that the group was active at `now` (never moving the time back). With `create` the activity item
   * is written if missing (a subscription creates the group); without, only an existing one is refreshed, so
   * that a heartbeat can never bring back a group deleted under it.
   * @returns false when nothing was written (a newer time is stored, or there is no item to refresh).
   */
  recordActivity(group: string, now: number, options: { readonly create: boolean }): Promise<boolean>;
  /** Deletes a member record only if its session has ended at `now`. @returns false when it is live (a lost race). */
  deleteMemberIfExpired(group: string, memberId: string, now: number): Promise<boolean>;
  /** Deletes up to `limit` of a group's items of one kind (never member records). @returns how many it deleted. */
  deleteGroupItems(group: string, kind: GroupItemKind, limit: number): Promise<number>;
  /** A group's registry entry, or `null`. */
  getRegistryEntry(group: string): Promise<RegistryEntry | null>;
  /** Removes a group's registry entry (absent: nothing happens). */
  unregisterGroup(group: string): Promise<void>;
  /**
   * Up to `limit` registry entries in group-name order, after `after` (`null`: from the first).
   * @returns the entries and whether more follow.
   */
  listRegistry(after: string | null, limit: number): Promise<{ entries: RegistryEntry[]; more: boolean }>;
  /** Where the group expiry pass resumes ({@link ExpiryCursor}); at the start when none was stored. */
  getExpiryCursor(): Promise<ExpiryCursor>;
  putExpiryCursor(cursor: ExpiryCursor): Promise<void>;
}

/** Which items of a group {@link LeaseStore.deleteGroupItems} deletes (lib/groups/lease-table.ts lays them out). */
export type GroupItemKind = 'subscriptions' | 'leases' | 'activity';

/** A group's subscription to a topic, by name (docs/api.md v1.1, "Subscriptions"). */
export interface SubscriptionRecord {
  readonly topic: string;
  readonly subscribedAt: number;
}

/** A group in the registry `GET /v1/groups` lists. */
export interface RegistryEntry {
  readonly group: string;
  readonly createdAt: number;
}

/** The group expiry pass's place in the registry between passes. */
export interface ExpiryCursor {
  /** The last group examined; `null`: the next pass starts at the first. */
  readonly after: string | null;
  /** No pass examines groups before this time (ms): the rest after a whole round of the registry. */
  readonly restUntil: number;
}

/** A member's liveness record. Its session is live while `sessionExpiresAtMs > now`. */
export interface MemberRecord {
  readonly memberId: string;
  /** Changes at every join: leases held under an earlier session are free (KIP-848's member epoch). */
  readonly session: string;
  /** The topics the member named at its join; `null`: every subscription of the group, as it is at each heartbeat. */
  readonly topics: readonly string[] | null;
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
  /** When the lease was last taken, committed or reset (ms); `null` for an item that never recorded it. */
  readonly updatedAt: number | null;
}

export interface GroupRecords {
  readonly members: MemberRecord[];
  readonly leases: LeaseRecord[];
  readonly subscriptions: SubscriptionRecord[];
  /** When a join or heartbeat last recorded the group active (at most hourly); `null`: no activity item. */
  readonly activeAt: number | null;
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
