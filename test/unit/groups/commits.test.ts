import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FencedError,
  OffsetOutOfRangeError,
  ShardlogError,
  TopicNotFoundError,
  UnavailableError,
} from '../../../lib/errors.js';
import { commitResults, type CommitOutcome } from '../../../lib/groups/commits.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';
import { groupHarness } from './fakes.js';

const at = (partition: number) => ({ topic: 't', partition, offset: 10 + partition });
const fenced = (partition: number) => new FencedError('not yours', { details: { topic: 't', partition } });
const outOfRange = (partition: number) => new OffsetOutOfRangeError(99, 0, 5, { details: { topic: 't', partition } });

describe('commitResults (how a commit request is answered)', () => {
  it('answers one result per offset, in request order, while at least one offset was stored', () => {
    const results = commitResults([
      { commit: at(0), refusal: fenced(0) },
      { commit: at(1), refusal: null },
      { commit: at(2), refusal: outOfRange(2) },
    ]);
    expect(results).toEqual([
      { ...at(0), ok: false, error: expect.objectContaining({ code: 'FENCED', partition: 0 }) },
      { ...at(1), ok: true },
      { ...at(2), ok: false, error: expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE', startOffset: 0, endOffset: 5 }) },
    ]);
  });

  it('throws FENCED with every result when all were refused and one was fenced', () => {
    const error = catchError(() => commitResults([{ commit: at(0), refusal: outOfRange(0) }, { commit: at(1), refusal: fenced(1) }]));
    expect(error).toBeInstanceOf(FencedError);
    expect((error as FencedError).details.results).toEqual([
      expect.objectContaining({ partition: 0, ok: false }),
      expect.objectContaining({ partition: 1, ok: false }),
    ]);
  });

  it('throws the first refusal, with every result, when all were refused and none was fenced', () => {
    const first = outOfRange(0);
    const error = catchError(() => commitResults([{ commit: at(0), refusal: first }, { commit: at(1), refusal: outOfRange(1) }]));
    expect(error).toBe(first);
    expect(first.details.results).toEqual([expect.objectContaining({ partition: 0 }), expect.objectContaining({ partition: 1 })]);
  });

  it('throws exactly when every offset of a non-empty request was refused, and keeps the order otherwise', () => {
    const outcome = fc.record({
      partition: fc.nat(1023),
      refusal: fc.constantFrom<'none' | 'fenced' | 'range'>('none', 'fenced', 'range'),
    });
    fc.assert(
      fc.property(fc.array(outcome, { maxLength: 20 }), (drawn) => {
        const outcomes: CommitOutcome[] = drawn.map(({ partition, refusal }) => ({
          commit: at(partition),
          refusal: refusal === 'none' ? null : refusal === 'fenced' ? fenced(partition) : outOfRange(partition),
        }));
        const allRefused = outcomes.length > 0 && outcomes.every((o) => o.refusal !== null);
        const answer = catchError(() => commitResults(outcomes));
        if (allRefused) expect(answer).toBeInstanceOf(ShardlogError);
        else expect((answer as { partition: number; ok: boolean }[]).map((r) => [r.partition, r.ok])).toEqual(drawn.map((d) => [d.partition, d.refusal === 'none']));
      }),
    );
  });
});

describe('commit', () => {
  it('stores an owner’s commit, which its next heartbeat reports', async () => {
    const { groups, topics } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    expect(await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: assignments[0]!.leaseToken }])).toEqual([
      { topic: 't', partition: 0, offset: 0, ok: true },
    ]);
    expect((await groups.heartbeat('g', 'm')).assignments[0]).toMatchObject({ committedOffset: 0 });
  });

  it('re-checks a refusal against the topic read past the cache, so a stale cache never calls a valid token fenced', async () => {
    const { groups, topics, log, store } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    topics.cache('t');
    topics.delete('t');
    const current = topics.create('t', 1);
    log.append(current, 0, 3);
    // Another container took the lease for the new incarnation.
    await store.putMember('g', { memberId: 'm', session: 's', topics: ['t'], sessionTimeoutMs: 10_000, sessionExpiresAtMs: Number.MAX_SAFE_INTEGER });
    await store.takeLease('g', { partition: { topic: 't', partition: 0 }, topicId: current.topicId, expected: null, owner: 'm', ownerSession: 's', newToken: 'L', now: 0 });
    topics.reads.splice(0);
    expect(await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: 'L' }])).toEqual([
      { topic: 't', partition: 0, offset: 0, ok: true },
    ]);
    expect(topics.reads).toEqual([
      { name: 't', fresh: false },
      { name: 't', fresh: true },
    ]);
  });

  it('calls a commit on a deleted topic FENCED while the group held a lease there, and TOPIC_NOT_FOUND otherwise', async () => {
    const { groups, topics } = groupHarness();
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    topics.create('u', 1);
    await groups.subscribe('g', 'u');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    topics.delete('t');
    topics.delete('u');
    const leaseToken = assignments[0]!.leaseToken;
    const ended = await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken }]).catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(FencedError);
    expect((ended as FencedError).details.results).toEqual([
      expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'FENCED', message: expect.stringMatching(/deleted/) }) }),
    ]);
    await expect(groups.commit('g', 'm', [{ topic: 'u', partition: 0, offset: 0, leaseToken }])).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  it('calls a commit on a partition that no longer exists FENCED when the group held it', async () => {
    const { groups, topics } = groupHarness();
    topics.create('t', 2);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    topics.delete('t');
    topics.create('t', 1);
    const leaseToken = assignments[1]!.leaseToken;
    const ended = await groups.commit('g', 'm', [{ topic: 't', partition: 1, offset: 0, leaseToken }]).catch((e: unknown) => e);
    expect(ended).toBeInstanceOf(FencedError);
    expect((ended as FencedError).details.results).toEqual([
      expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'FENCED', message: expect.stringMatching(/deleted/) }) }),
    ]);
  });

  it('refuses an offset outside the partition’s range, naming the partition', async () => {
    const { groups, topics, log } = groupHarness();
    log.append(topics.create('t', 1), 0, 5);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    const refused = await groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 6, leaseToken: assignments[0]!.leaseToken }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OffsetOutOfRangeError);
    expect((refused as OffsetOutOfRangeError).details).toMatchObject({ topic: 't', partition: 0, startOffset: 0, endOffset: 5, offset: 6 });
  });

  it('lets a retriable storage error through instead of reporting it as a refused offset', async () => {
    class Unavailable extends MemoryLeaseStore {
      override async commitOffset(): Promise<'ok' | 'fenced'> {
        throw new UnavailableError('DynamoDB is unavailable');
      }
    }
    const { groups, topics } = groupHarness({ store: new Unavailable() });
    topics.create('t', 1);
    await groups.subscribe('g', 't');
    const { assignments } = await groups.join('g', { topics: ['t'], memberId: 'm' });
    await expect(groups.commit('g', 'm', [{ topic: 't', partition: 0, offset: 0, leaseToken: assignments[0]!.leaseToken }])).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    return error;
  }
}
