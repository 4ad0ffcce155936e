import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TopicPartition } from './assignment.js';
import { queryAllItems } from '../storage/partition-key.js';
import type {
  CommitRequest,
  GroupRecords,
  LeaseRecord,
  LeaseStore,
  MemberRecord,
  ResetRequest,
  TakeLease,
} from './lease-store.js';

/**
 * The lease table layout. One partition key per group, so ONE Query returns the whole group:
 *
 *   pk = `group#<group>`   sk = `member#<memberId>`          member's liveness record (TTL `expiresAt`)
 *   pk = `group#<group>`   sk = `lease#<topic>#<partition>`  lease: owner, ownerSession, leaseToken, committedOffset
 *   pk = `groups`          sk = `group#<group>`              the registry read by `GET /v1/groups`
 *
 * Names are `[A-Za-z0-9._-]`, so `#` never occurs inside one. Ownership is not renewed per lease (KCL writes
 * every held lease every few seconds): a lease is held only while its owner's member record is live, so a
 * heartbeat writes one item whatever the number of leases.
 */
export const groupPk = (group: string): string => `group#${group}`;
export const REGISTRY_PK = 'groups';
const MEMBER_PREFIX = 'member#';
const LEASE_PREFIX = 'lease#';
const memberSk = (memberId: string): string => `${MEMBER_PREFIX}${memberId}`;
const leaseSk = (p: TopicPartition): string => `${LEASE_PREFIX}${p.topic}#${p.partition}`;

/** Keeps TTL'd member records (seconds) a little past their session, which reads check in milliseconds. */
const TTL_GRACE_SECONDS = 60;

// OWNER and SESSION are DynamoDB reserved words: every expression names attributes through placeholders.
const NAMES = {
  '#owner': 'owner',
  '#ownerSession': 'ownerSession',
  '#token': 'leaseToken',
  '#committed': 'committedOffset',
  '#committedToken': 'committedToken',
  '#topicId': 'topicId',
  '#updatedAt': 'updatedAt',
} as const;

export interface DynamoLeaseStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** {@link LeaseStore} on DynamoDB (KCL's `DynamoDBLeaseRefresher`). */
export class DynamoLeaseStore implements LeaseStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoLeaseStoreOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
  }

  async putMember(group: string, member: MemberRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: this.memberItem(group, member) }));
  }

  /*
   * The heartbeat write. Conditional on the session still being live, so a member whose session expired
   * cannot revive it (its leases may already be someone else's): it must join again, with a new session.
   *
   *   t0  A heartbeats: expires t0+30s          t0+31s  B sees A dead, takes A's leases (new tokens)
   *   t0+32s  A heartbeats → condition fails → 404 MEMBER_NOT_FOUND → A joins again with a new session
   */
  async renewMember(group: string, memberId: string, now: number, expiresAt: number): Promise<MemberRecord | null> {
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: groupPk(group), sk: memberSk(memberId) },
          UpdateExpression: 'SET sessionExpiresAtMs = sessionTimeoutMs + :now, expiresAt = :ttl',
          ConditionExpression: 'attribute_exists(sk) AND sessionExpiresAtMs > :now',
          ExpressionAttributeValues: { ':ttl': expiresAt, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toMember(result.Attributes) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async deleteMember(group: string, memberId: string): Promise<MemberRecord | null> {
    const result = await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: { pk: groupPk(group), sk: memberSk(memberId) }, ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes ? toMember(result.Attributes) : null;
  }

  async loadGroup(group: string): Promise<GroupRecords> {
    const members: MemberRecord[] = [];
    const leases: LeaseRecord[] = [];
    // Strongly consistent: a heartbeat that plans on a stale view pays a failed conditional write (1 WCU)
    // to find out, which costs more than the consistent read (reads are 1/8 the price of writes).
    for (const item of await queryAllItems(this.doc, this.table, groupPk(group), { consistent: true })) {
      const sk = String(item.sk);
      if (sk.startsWith(MEMBER_PREFIX)) members.push(toMember(item));
      else if (sk.startsWith(LEASE_PREFIX)) leases.push(toLease(item));
    }
    return { members, leases };
  }

  /*
   * Take (from nobody, from an expired owner, or a steal from a live one): conditional on the lease being
   * exactly as read: its token is unique per ownership, so `leaseToken = :expected` is the whole fence.
   *
   *   B reads lease (owner A, token T1) ─ C reads the same
   *   B: SET owner=B, token=T2 IF token=T1 → ok       C: SET owner=C, token=T3 IF token=T1 → fails: C lost
   *
   * The SDK retries a write whose response was lost; the retry then fails the condition although the first
   * attempt won. So a failed take is re-read: if the lease carries OUR new token, we won (KCL does the same).
   */
  async takeLease(group: string, request: TakeLease): Promise<LeaseRecord | null> {
    const key = { pk: groupPk(group), sk: leaseSk(request.partition) };
    const sameTopic = request.expected?.topicId === request.topicId;
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression:
            'SET #topic = :topic, #partition = :partition, #topicId = :topicId, #owner = :owner, #ownerSession = :session, ' +
            '#token = :token, #updatedAt = :now' +
            // A lease of an earlier incarnation of the topic: its committed offset means nothing any more.
            (request.expected && !sameTopic ? ' REMOVE #committed, #committedToken' : ''),
          ConditionExpression: request.expected ? '#token = :expected' : 'attribute_not_exists(sk)',
          ExpressionAttributeNames: {
            '#topic': 'topic',
            '#partition': 'partition',
            '#topicId': NAMES['#topicId'],
            '#owner': NAMES['#owner'],
            '#ownerSession': NAMES['#ownerSession'],
            '#token': NAMES['#token'],
            '#updatedAt': NAMES['#updatedAt'],
            ...(request.expected && !sameTopic ? { '#committed': NAMES['#committed'], '#committedToken': NAMES['#committedToken'] } : {}),
          },
          ExpressionAttributeValues: {
            ':topic': request.partition.topic,
            ':partition': request.partition.partition,
            ':topicId': request.topicId,
            ':owner': request.owner,
            ':session': request.ownerSession,
            ':token': request.newToken,
            ':now': request.now,
            ...(request.expected ? { ':expected': request.expected.leaseToken } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? toLease(result.Attributes) : null;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.getLease(group, request.partition);
      return current?.leaseToken === request.newToken ? current : null;
    }
  }

  /*
   * Give back: only the holder, with its current token. The token stays: whoever takes the lease next writes
   * a new one, and `owner` is gone, so the releaser's commits are fenced from now on.
   */
  async releaseLease(group: string, partition: TopicPartition, memberId: string, leaseToken: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: groupPk(group), sk: leaseSk(partition) },
          UpdateExpression: 'REMOVE #owner, #ownerSession',
          ConditionExpression: '#owner = :me AND #token = :token',
          ExpressionAttributeNames: { '#owner': NAMES['#owner'], '#ownerSession': NAMES['#ownerSession'], '#token': NAMES['#token'] },
          ExpressionAttributeValues: { ':me': memberId, ':token': leaseToken },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // A retried release whose first attempt won finds the owner gone: that is the outcome we wanted.
      const current = await this.getLease(group, partition);
      return current !== null && current.owner === null && current.leaseToken === leaseToken;
    }
  }

  /*
   * The fenced commit: ONE conditional write, on owner, token AND topic incarnation. Every change of owner
   * writes a new token (takeLease) and so does a reset, so a member that lost the lease can never move the
   * offset again:
   *
   *   A holds T1 ─ A's session expires ─ B takes: token T2 ─ A commits 42 with T1 → condition fails → FENCED
   *
   * The incarnation closes the other way a commit could be stored where nobody reads it. A topic deleted and
   * created again keeps its name, so the lease item (keyed by name) outlives the incarnation it was taken for:
   *
   *   A holds T1 on orders (topicId X1) ─ DELETE orders ─ POST orders (topicId X2) ─ A commits 5 with T1
   *   → without `topicId = :topicId` the write succeeds and is never read (offsets of X1 are void) → "ok" lie
   *   → with it the condition fails → FENCED; A's next heartbeat takes the lease for X2 with a new token.
   *
   * A member whose session expired but whose lease nobody took yet still commits: it is the last holder, no
   * one else has read under another token, and whoever takes the lease next reads the committed offset in
   * the same write that changes the token (ALL_NEW), after A's commit.
   * `committedToken` records under which token the offset was written, so a retried commit whose first
   * attempt won (and the lease moved since) is recognized on the re-read instead of being reported fenced;
   * the re-read checks the incarnation too, so it never calls an offset of another incarnation ours.
   */
  async commitOffset(group: string, request: CommitRequest): Promise<'ok' | 'fenced'> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: groupPk(group), sk: leaseSk(request.partition) },
          UpdateExpression: 'SET #committed = :offset, #committedToken = :token, #updatedAt = :now',
          ConditionExpression: '#owner = :me AND #token = :token AND #topicId = :topicId',
          ExpressionAttributeNames: {
            '#owner': NAMES['#owner'],
            '#token': NAMES['#token'],
            '#topicId': NAMES['#topicId'],
            '#committed': NAMES['#committed'],
            '#committedToken': NAMES['#committedToken'],
            '#updatedAt': NAMES['#updatedAt'],
          },
          ExpressionAttributeValues: {
            ':me': request.memberId,
            ':token': request.leaseToken,
            ':topicId': request.topicId,
            ':offset': request.offset,
            ':now': request.now,
          },
        }),
      );
      return 'ok';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = await this.getItem(group, leaseSk(request.partition));
      const stored =
        item !== null &&
        item.topicId === request.topicId &&
        item.committedOffset === request.offset &&
        item.committedToken === request.leaseToken;
      return stored ? 'ok' : 'fenced';
    }
  }

  /* A reset is an administrator's seek: unconditional, and a new token fences the owner's in-flight commits. */
  async resetOffset(group: string, request: ResetRequest): Promise<LeaseRecord> {
    const result = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: groupPk(group), sk: leaseSk(request.partition) },
        UpdateExpression:
          'SET #topic = :topic, #partition = :partition, #topicId = :topicId, #token = :token, #committed = :offset, #updatedAt = :now ' +
          'REMOVE #committedToken',
        ExpressionAttributeNames: {
          '#topic': 'topic',
          '#partition': 'partition',
          '#topicId': NAMES['#topicId'],
          '#token': NAMES['#token'],
          '#committed': NAMES['#committed'],
          '#committedToken': NAMES['#committedToken'],
          '#updatedAt': NAMES['#updatedAt'],
        },
        ExpressionAttributeValues: {
          ':topic': request.partition.topic,
          ':partition': request.partition.partition,
          ':topicId': request.topicId,
          ':token': request.newToken,
          ':offset': request.offset,
          ':now': request.now,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toLease(result.Attributes ?? {});
  }

  async registerGroup(group: string, now: number): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: REGISTRY_PK, sk: `group#${group}` },
        UpdateExpression: 'SET #group = :group, createdAt = if_not_exists(createdAt, :now)',
        ExpressionAttributeNames: { '#group': 'group' },
        ExpressionAttributeValues: { ':group': group, ':now': now },
      }),
    );
  }

  async listGroups(): Promise<string[]> {
    return (await queryAllItems(this.doc, this.table, REGISTRY_PK)).map((item) => String(item.group));
  }

  async getLease(group: string, partition: TopicPartition): Promise<LeaseRecord | null> {
    const item = await this.getItem(group, leaseSk(partition));
    return item ? toLease(item) : null;
  }

  private async getItem(group: string, sk: string): Promise<Record<string, unknown> | null> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: groupPk(group), sk }, ConsistentRead: true }));
    return result.Item ?? null;
  }

  private memberItem(group: string, member: MemberRecord): Record<string, unknown> {
    return {
      pk: groupPk(group),
      sk: memberSk(member.memberId),
      memberId: member.memberId,
      session: member.session,
      topics: [...member.topics],
      sessionTimeoutMs: member.sessionTimeoutMs,
      sessionExpiresAtMs: member.sessionExpiresAtMs,
      expiresAt: ttlSeconds(member.sessionExpiresAtMs),
    };
  }
}

/** TTL is in epoch seconds; DynamoDB deletes late (and DynamoDB Local maybe never), so reads compare ms. */
function ttlSeconds(sessionExpiresAtMs: number): number {
  return Math.ceil(sessionExpiresAtMs / 1000) + TTL_GRACE_SECONDS;
}

function toMember(item: Record<string, unknown>): MemberRecord {
  return {
    memberId: String(item.memberId),
    session: String(item.session),
    topics: Array.isArray(item.topics) ? item.topics.map(String) : [],
    sessionTimeoutMs: Number(item.sessionTimeoutMs),
    sessionExpiresAtMs: Number(item.sessionExpiresAtMs),
  };
}

function toLease(item: Record<string, unknown>): LeaseRecord {
  return {
    topic: String(item.topic),
    partition: Number(item.partition),
    topicId: typeof item.topicId === 'string' ? item.topicId : null,
    owner: typeof item.owner === 'string' ? item.owner : null,
    ownerSession: typeof item.ownerSession === 'string' ? item.ownerSession : null,
    leaseToken: String(item.leaseToken),
    committedOffset: typeof item.committedOffset === 'number' ? item.committedOffset : null,
  };
}
