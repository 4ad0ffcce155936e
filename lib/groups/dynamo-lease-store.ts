import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TopicPartition } from './assignment.js';
import { DynamoGroupItems } from './dynamo-group-items.js';
import {
  decodeGroup,
  decodeLease,
  decodeMember,
  encodeMember,
  expressionNames,
  groupPk,
  LEASE,
  leaseKey,
  MEMBER,
  memberKey,
  renewedMemberTtlSeconds,
} from './lease-table.js';
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

export type { DynamoLeaseStoreOptions } from './dynamo-group-items.js';

/**
 * {@link LeaseStore} on DynamoDB (KCL's `DynamoDBLeaseRefresher`): members and leases here, the group-level items
 * (registry, subscriptions, activity, expiry cursor) in {@link DynamoGroupItems}, which this class extends. The
 * items, their keys and attribute names are those of lib/groups/lease-table.ts; expressions name attributes by
 * `#<logical name>` placeholders.
 */
export class DynamoLeaseStore extends DynamoGroupItems implements LeaseStore {
  async putMember(group: string, member: MemberRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: encodeMember(group, member) }));
  }

  /*
   * The heartbeat write. Conditional on the session still being live, so a member whose session expired
   * cannot revive it (its leases may already be someone else's): it must join again, with a new session.
   *
   *   t0  A heartbeats: expires t0+30s          t0+31s  B sees A dead, takes A's leases (new tokens)
   *   t0+32s  A heartbeats → condition fails → 404 MEMBER_NOT_FOUND → A joins again with a new session
   */
  async renewMember(group: string, memberId: string, now: number): Promise<MemberRecord | null> {
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: memberKey(group, memberId),
          UpdateExpression: 'SET #sessionExpiresAtMs = #sessionTimeoutMs + :now, #ttl = :ttl',
          ConditionExpression: 'attribute_exists(#sk) AND #sessionExpiresAtMs > :now',
          ExpressionAttributeNames: expressionNames(MEMBER, 'sk', 'sessionExpiresAtMs', 'sessionTimeoutMs', 'ttl'),
          ExpressionAttributeValues: { ':ttl': renewedMemberTtlSeconds(now), ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? decodeMember(result.Attributes) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async deleteMember(group: string, memberId: string): Promise<MemberRecord | null> {
    const result = await this.doc.send(
      new DeleteCommand({ TableName: this.table, Key: memberKey(group, memberId), ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes ? decodeMember(result.Attributes) : null;
  }

  /*
   * A group is deleted only once no session is live; a member that joins between the check and this delete keeps
   * its record (the condition fails), and the deletion stops with GROUP_NOT_EMPTY.
   */
  async deleteMemberIfExpired(group: string, memberId: string, now: number): Promise<boolean> {
    return this.writeIf(
      new DeleteCommand({
        TableName: this.table,
        Key: memberKey(group, memberId),
        ConditionExpression: 'attribute_not_exists(#sk) OR #sessionExpiresAtMs <= :now',
        ExpressionAttributeNames: expressionNames(MEMBER, 'sk', 'sessionExpiresAtMs'),
        ExpressionAttributeValues: { ':now': now },
      }),
    );
  }

  async loadGroup(group: string): Promise<GroupRecords> {
    // Strongly consistent: a heartbeat that plans on a stale view pays a failed conditional write (1 WCU)
    // to find out, which costs more than the consistent read (reads are 1/8 the price of writes).
    return decodeGroup(await queryAllItems(this.doc, this.table, groupPk(group), { consistent: true }));
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
    const { expected } = request;
    // A lease of an earlier incarnation of the topic: its committed offset means nothing any more.
    const dropOffset = expected !== null && expected.topicId !== request.topicId;
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: leaseKey(group, request.partition),
          UpdateExpression:
            'SET #topic = :topic, #partition = :partition, #topicId = :topicId, #owner = :owner, #ownerSession = :session, ' +
            '#leaseToken = :token, #updatedAt = :now' +
            (dropOffset ? ' REMOVE #committedOffset, #committedToken' : ''),
          ConditionExpression: expected ? '#leaseToken = :expected' : 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: expressionNames(
            LEASE,
            'topic',
            'partition',
            'topicId',
            'owner',
            'ownerSession',
            'leaseToken',
            'updatedAt',
            ...(expected ? [] : (['sk'] as const)),
            ...(dropOffset ? (['committedOffset', 'committedToken'] as const) : []),
          ),
          ExpressionAttributeValues: {
            ':topic': request.partition.topic,
            ':partition': request.partition.partition,
            ':topicId': request.topicId,
            ':owner': request.owner,
            ':session': request.ownerSession,
            ':token': request.newToken,
            ':now': request.now,
            ...(expected ? { ':expected': expected.leaseToken } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? decodeLease(result.Attributes) : null;
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
          Key: leaseKey(group, partition),
          UpdateExpression: 'REMOVE #owner, #ownerSession',
          ConditionExpression: '#owner = :me AND #leaseToken = :token',
          ExpressionAttributeNames: expressionNames(LEASE, 'owner', 'ownerSession', 'leaseToken'),
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
          Key: leaseKey(group, request.partition),
          UpdateExpression: 'SET #committedOffset = :offset, #committedToken = :token, #updatedAt = :now',
          ConditionExpression: '#owner = :me AND #leaseToken = :token AND #topicId = :topicId',
          ExpressionAttributeNames: expressionNames(LEASE, 'owner', 'leaseToken', 'topicId', 'committedOffset', 'committedToken', 'updatedAt'),
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
      const stored = await this.getLease(group, request.partition);
      const ours =
        stored !== null &&
        stored.topicId === request.topicId &&
        stored.committedOffset === request.offset &&
        stored.committedToken === request.leaseToken;
      return ours ? 'ok' : 'fenced';
    }
  }

  /* A reset is an administrator's seek: unconditional, and a new token fences the owner's in-flight commits. */
  async resetOffset(group: string, request: ResetRequest): Promise<LeaseRecord> {
    const result = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: leaseKey(group, request.partition),
        UpdateExpression:
          'SET #topic = :topic, #partition = :partition, #topicId = :topicId, #leaseToken = :token, #committedOffset = :offset, ' +
          '#updatedAt = :now REMOVE #committedToken',
        ExpressionAttributeNames: expressionNames(
          LEASE,
          'topic',
          'partition',
          'topicId',
          'leaseToken',
          'committedOffset',
          'committedToken',
          'updatedAt',
        ),
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
    return decodeLease(result.Attributes ?? {});
  }

  /*
   * An unsubscribe ends the topic's leases whoever holds them: the owner goes (so its commits are fenced), the
   * token and committed offset stay. Unconditional but for the item's existence, so no lease is created here.
   */
  async endLease(group: string, partition: TopicPartition): Promise<void> {
    await this.writeIf(
      new UpdateCommand({
        TableName: this.table,
        Key: leaseKey(group, partition),
        UpdateExpression: 'REMOVE #owner, #ownerSession',
        ConditionExpression: 'attribute_exists(#sk)',
        ExpressionAttributeNames: expressionNames(LEASE, 'sk', 'owner', 'ownerSession'),
      }),
    );
  }

  async getLease(group: string, partition: TopicPartition): Promise<LeaseRecord | null> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: leaseKey(group, partition), ConsistentRead: true }));
    return result.Item ? decodeLease(result.Item) : null;
  }
}
