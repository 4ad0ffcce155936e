import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../../../infra/local/local-env.js';
import { FencedError, GroupNotFoundError, MemberNotFoundError, NotSubscribedError, OffsetOutOfRangeError } from '../../../lib/errors.js';
import { DynamoLeaseStore } from '../../../lib/groups/dynamo-lease-store.js';
import { GroupService, type JoinInput, type Membership } from '../../../lib/groups/group-service.js';
import type { ProduceRecord } from '../../../lib/log/log-types.js';
import { createShardlog, type Shardlog } from '../../../lib/shardlog.js';
import { CapacityMeter } from '../../../lib/storage/capacity-meter.js';
import { DynamoTopicStore } from '../../../lib/topics/dynamo-topic-store.js';
import type { TopicStore } from '../../../lib/topics/topic.js';
import { PollGate } from '../../support/poll-gate.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { produceTo } from '../../support/by-name.js';

const utf8 = new TextEncoder();
const SESSION_MS = 10_000;
const INTERVAL_MS = Math.floor(SESSION_MS / 3);

let storage: TestStorage;
let engine: Shardlog;
let seq = 0;
/** The coordinator's clock: tests move it instead of sleeping through sessions. */
let clock = Date.now();
const now = () => clock;

/** A coordinator as one Lambda container would have it (its own store object, the shared tables, our clock). */
function coordinator(doc: DynamoDBDocumentClient = storage.doc, topics: TopicStore = engine.topics): GroupService {
  return new GroupService({
    store: new DynamoLeaseStore({ doc, tableName: storage.config.leaseTable }),
    topics,
    log: engine.log,
    now,
  });
}

const unique = (prefix: string) => `${prefix}${++seq}-${Date.now()}`;

async function newTopic(partitions: number, records = 0): Promise<string> {
  const name = unique('t');
  await engine.topics.create({ name, partitions, retentionHours: 168 });
  for (let p = 0; p < partitions && records > 0; p++) {
    const batch: ProduceRecord[] = Array.from({ length: records }, (_, i) => ({
      key: null,
      value: utf8.encode(JSON.stringify({ p, i })),
      valueIsJson: true,
      headers: {},
      partition: p,
    }));
    await produceTo(engine, name, { records: batch });
  }
  return name;
}

/** Heartbeats every member, round after round, until a round changes no assignment. */
async function settle(groups: GroupService, group: string, memberIds: string[], maxRounds = 12): Promise<Map<string, Membership>> {
  let last = new Map<string, string>();
  const latest = new Map<string, Membership>();
  for (let round = 0; round < maxRounds; round++) {
    const seen = new Map<string, string>();
    for (const id of memberIds) {
      const m = await groups.heartbeat(group, id);
      latest.set(id, m);
      seen.set(id, m.assignments.map((a) => `${a.topic}/${a.partition}/${a.leaseToken}`).join(','));
    }
    if ([...seen].every(([id, s]) => last.get(id) === s)) return latest;
    last = seen;
    clock += INTERVAL_MS;
  }
  throw new Error(`group ${group} did not settle in ${maxRounds} rounds`);
}

/** Lets `ms` pass on the coordinator's clock while only `alive` keep heartbeating (every interval). */
async function passWhileHeartbeating(groups: GroupService, group: string, alive: string[], ms: number): Promise<Map<string, Membership>> {
  const until = clock + ms;
  const latest = new Map<string, Membership>();
  while (clock < until) {
    clock = Math.min(until, clock + INTERVAL_MS);
    for (const id of alive) latest.set(id, await groups.heartbeat(group, id));
  }
  return latest;
}

async function produce(topic: string, count: number, partition = 0): Promise<void> {
  const records: ProduceRecord[] = Array.from({ length: count }, (_, i) => ({
    key: null,
    value: utf8.encode(JSON.stringify({ i })),
    valueIsJson: true,
    headers: {},
    partition,
  }));
  await produceTo(engine, topic, { records });
}

/** Deletes `topic` and creates a topic of the same name again (a new incarnation, a new topicId). */
async function recreate(topic: string, partitions: number): Promise<void> {
  await engine.topics.delete(topic);
  await engine.topics.create({ name: topic, partitions, retentionHours: 168 });
}

/** Subscribes the group to the member's topics (v1.1: a group reads only those), then joins. */
async function join(groups: GroupService, group: string, input: JoinInput): Promise<Membership> {
  for (const topic of input.topics ?? []) await groups.subscribe(group, topic);
  return groups.join(group, input);
}

async function joinAll(groups: GroupService, group: string, topics: string[], n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await join(groups, group, { topics, memberId: `m${i}`, sessionTimeoutMs: SESSION_MS })).memberId);
  return ids;
}

beforeAll(async () => {
  storage = await createTestStorage();
  engine = createShardlog(storage, storage.config, { topicCacheMs: 0, tailCacheMs: 0, metaCacheMs: 0 });
});

afterAll(() => storage?.cleanup());

describe('assignment', () => {
  it.each([
    [1, 1],
    [2, 4],
    [3, 10],
    [4, 3],
    [5, 12],
    [3, 32],
  ])('balances %i members over %i partitions: each holds ⌊P/N⌋ or ⌈P/N⌉ and every partition has one owner', async (n, p) => {
    const groups = coordinator();
    const topic = await newTopic(p);
    const group = unique('g');
    const ids = await joinAll(groups, group, [topic], n);
    const settled = await settle(groups, group, ids);
    const held = ids.map((id) => settled.get(id)!.assignments.length);
    for (const count of held) {
      expect(count).toBeGreaterThanOrEqual(Math.floor(p / n));
      expect(count).toBeLessThanOrEqual(Math.ceil(p / n));
    }
    const owned = ids.flatMap((id) => settled.get(id)!.assignments.map((a) => a.partition)).sort((a, b) => a - b);
    expect(owned).toEqual(Array.from({ length: p }, (_, i) => i));
    const description = await groups.describe(group);
    expect(description.partitions.every((x) => x.owner !== null)).toBe(true);
    expect(description.members.map((m) => m.partitions).sort()).toEqual([...held].sort());
  });

  it('settles members that join and heartbeat concurrently from separate containers, one owner per lease', async () => {
    const topic = await newTopic(12);
    const group = unique('g');
    const containers = Array.from({ length: 5 }, () => coordinator());
    const ids = ['c0', 'c1', 'c2', 'c3', 'c4'];
    await Promise.all(ids.map((id, i) => join(containers[i]!, group, { topics: [topic], memberId: id, sessionTimeoutMs: SESSION_MS })));
    let last = '';
    for (let round = 0; round < 12; round++) {
      clock += INTERVAL_MS;
      const beats = await Promise.all(ids.map((id, i) => containers[i]!.heartbeat(group, id)));
      const shape = beats.map((b) => b.assignments.map((a) => `${a.partition}:${a.leaseToken}`).join(',')).join('|');
      if (shape === last) break;
      last = shape;
    }
    const described = await containers[0]!.describe(group);
    const counts = ids.map((id) => described.partitions.filter((p) => p.owner === id).length);
    expect(counts.every((c) => c === 2 || c === 3)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(12);
  });

  it('keeps independent groups on one topic apart: each gets every partition and its own offsets', async () => {
    const groups = coordinator();
    const topic = await newTopic(2, 5);
    const [g1, g2] = [unique('g'), unique('g')];
    const a = await join(groups, g1, { topics: [topic], memberId: 'same-id' });
    const b = await join(groups, g2, { topics: [topic], memberId: 'same-id' });
    expect(a.assignments).toHaveLength(2);
    expect(b.assignments).toHaveLength(2);
    await groups.commit(g1, 'same-id', [{ topic, partition: 0, offset: 4, leaseToken: a.assignments[0]!.leaseToken }]);
    expect((await groups.describe(g1)).partitions[0]!.committedOffset).toBe(4);
    expect((await groups.describe(g2)).partitions[0]!.committedOffset).toBeNull();
    const listed = await groups.list();
    expect(listed).toEqual(expect.arrayContaining([{ group: g1, members: 1 }, { group: g2, members: 1 }]));
  });

  it('moves the leases of a member that stops heartbeating to the live ones, one heartbeat after its session ends', async () => {
    const groups = coordinator();
    const topic = await newTopic(6);
    const group = unique('g');
    const [a, b, c] = await joinAll(groups, group, [topic], 3);
    await settle(groups, group, [a!, b!, c!]);
    // `c` goes silent. Until its session ends, nobody touches its leases.
    const silentSince = clock;
    clock += INTERVAL_MS;
    expect((await groups.heartbeat(group, a!)).assignments).toHaveLength(2);
    while (clock <= silentSince + SESSION_MS) {
      clock += INTERVAL_MS;
      await groups.heartbeat(group, a!);
      await groups.heartbeat(group, b!);
    }
    // One heartbeat interval after the session ended, both survivors have heartbeaten once: all is owned.
    const after = (await groups.describe(group)).partitions;
    expect(after.every((x) => x.owner === a || x.owner === b)).toBe(true);
    expect(after.filter((x) => x.owner === a)).toHaveLength(3);
    await expect(groups.heartbeat(group, c!)).rejects.toBeInstanceOf(MemberNotFoundError);
  });

  it('hands the partitions of a member that leaves to the others at their next heartbeat, without waiting for a session', async () => {
    const groups = coordinator();
    const topic = await newTopic(4);
    const group = unique('g');
    const [a, b] = await joinAll(groups, group, [topic], 2);
    await settle(groups, group, [a!, b!]);
    await groups.leave(group, a!);
    expect((await groups.describe(group)).partitions.filter((x) => x.owner === null)).toHaveLength(2);
    expect((await groups.heartbeat(group, b!)).assignments).toHaveLength(4); // same clock: no session passed
    await expect(groups.leave(group, a!)).rejects.toBeInstanceOf(MemberNotFoundError);
  });

  it('gives a member that rejoins after its session expired new lease tokens, fencing its old session', async () => {
    const groups = coordinator();
    const topic = await newTopic(1, 3);
    const group = unique('g');
    const first = await join(groups, group, { topics: [topic], memberId: 'x', sessionTimeoutMs: SESSION_MS });
    clock += SESSION_MS + 1;
    await expect(groups.heartbeat(group, 'x')).rejects.toBeInstanceOf(MemberNotFoundError);
    const again = await join(groups, group, { topics: [topic], memberId: 'x', sessionTimeoutMs: SESSION_MS });
    expect(again.assignments[0]!.leaseToken).not.toBe(first.assignments[0]!.leaseToken);
    await expect(
      groups.commit(group, 'x', [{ topic, partition: 0, offset: 1, leaseToken: first.assignments[0]!.leaseToken }]),
    ).rejects.toBeInstanceOf(FencedError);
  });
});

describe('fenced commits', () => {
  it('refuses a commit from a member that lost the lease, and the committed offset does not move', async () => {
    const groups = coordinator();
    const topic = await newTopic(1, 10);
    const group = unique('g');
    const zombie = await join(groups, group, { topics: [topic], memberId: 'zombie', sessionTimeoutMs: SESSION_MS });
    const oldToken = zombie.assignments[0]!.leaseToken;
    await groups.commit(group, 'zombie', [{ topic, partition: 0, offset: 3, leaseToken: oldToken }]);
    // The zombie pauses (a long GC, a frozen Lambda); its session ends and `fresh` takes over.
    const fresh = await join(groups, group, { topics: [topic], memberId: 'fresh', sessionTimeoutMs: SESSION_MS });
    expect(fresh.assignments).toHaveLength(0);
    const takeover = (await passWhileHeartbeating(groups, group, ['fresh'], SESSION_MS + 1)).get('fresh')!;
    expect(takeover.assignments).toEqual([{ topic, partition: 0, leaseToken: expect.any(String), committedOffset: 3 }]);
    await groups.commit(group, 'fresh', [{ topic, partition: 0, offset: 6, leaseToken: takeover.assignments[0]!.leaseToken }]);

    const refused = await groups.commit(group, 'zombie', [{ topic, partition: 0, offset: 9, leaseToken: oldToken }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FencedError);
    expect((refused as FencedError).details.results).toEqual([
      expect.objectContaining({ topic, partition: 0, offset: 9, ok: false, error: expect.objectContaining({ code: 'FENCED' }) }),
    ]);
    expect((await groups.describe(group)).partitions[0]).toMatchObject({ owner: 'fresh', committedOffset: 6, endOffset: 10, lag: 4 });
  });

  it('refuses a commit with a stale token even from the current owner, and reports each offset on its own', async () => {
    const groups = coordinator();
    const topic = await newTopic(2, 4);
    const group = unique('g');
    const m = await join(groups, group, { topics: [topic], memberId: 'm' });
    const results = await groups.commit(group, 'm', [
      { topic, partition: 0, offset: 2, leaseToken: m.assignments[0]!.leaseToken },
      { topic, partition: 1, offset: 2, leaseToken: 'not-the-token' },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(results[1]!.error).toMatchObject({ code: 'FENCED' });
  });

  it('accepts commits only within [startOffset, endOffset]', async () => {
    const groups = coordinator();
    const topic = await newTopic(1, 5);
    const group = unique('g');
    const m = await join(groups, group, { topics: [topic], memberId: 'm' });
    const token = m.assignments[0]!.leaseToken;
    await expect(groups.commit(group, 'm', [{ topic, partition: 0, offset: 6, leaseToken: token }])).rejects.toBeInstanceOf(
      OffsetOutOfRangeError,
    );
    expect(await groups.commit(group, 'm', [{ topic, partition: 0, offset: 5, leaseToken: token }])).toEqual([
      { topic, partition: 0, offset: 5, ok: true },
    ]);
  });

  it('recognizes a retried commit whose first attempt won although the lease moved since', async () => {
    const store = new DynamoLeaseStore({ doc: storage.doc, tableName: storage.config.leaseTable });
    const groups = coordinator();
    const topic = await newTopic(1, 5);
    const group = unique('g');
    const m = await join(groups, group, { topics: [topic], memberId: 'm', sessionTimeoutMs: SESSION_MS });
    const { topicId } = await engine.topics.get(topic);
    const commit = { partition: { topic, partition: 0 }, topicId, memberId: 'm', leaseToken: m.assignments[0]!.leaseToken, offset: 4, now: clock };
    expect(await store.commitOffset(group, commit)).toBe('ok');
    await join(groups, group, { topics: [topic], memberId: 'other', sessionTimeoutMs: SESSION_MS });
    await passWhileHeartbeating(groups, group, ['other'], SESSION_MS + 1); // takes the lease: new token
    // The SDK's retry of the first request (whose answer was lost) fails its condition: the re-read sees it won.
    expect(await store.commitOffset(group, commit)).toBe('ok');
    expect(await store.commitOffset(group, { ...commit, offset: 5 })).toBe('fenced');
  });

  it('recognizes a retried take whose first attempt won', async () => {
    const store = new DynamoLeaseStore({ doc: storage.doc, tableName: storage.config.leaseTable });
    const group = unique('g');
    const take = {
      partition: { topic: 'x', partition: 0 },
      topicId: 'id',
      expected: null,
      owner: 'm',
      ownerSession: 's',
      newToken: 'token-1',
      now: clock,
    };
    expect(await store.takeLease(group, take)).toMatchObject({ owner: 'm', leaseToken: 'token-1' });
    expect(await store.takeLease(group, take)).toMatchObject({ owner: 'm', leaseToken: 'token-1' });
    expect(await store.takeLease(group, { ...take, owner: 'n', newToken: 'token-2' })).toBeNull();
  });
});

describe('a topic deleted and created again', () => {
  it('ends the leases while the topic is gone: heartbeats list nothing, a commit with an old token is FENCED', async () => {
    const groups = coordinator();
    const topic = await newTopic(2, 5);
    const group = unique('g');
    const joined = await join(groups, group, { topics: [topic], memberId: 'm', sessionTimeoutMs: 300_000 });
    const token = joined.assignments[0]!.leaseToken;
    await groups.commit(group, 'm', [{ topic, partition: 0, offset: 3, leaseToken: token }]);

    await engine.topics.delete(topic);
    expect((await groups.heartbeat(group, 'm')).assignments).toEqual([]);
    expect(await groups.fetch(group, 'm', { limit: 10, maxBytes: 1 << 20, waitMs: 0 })).toEqual([]);
    const refused = await groups.commit(group, 'm', [{ topic, partition: 0, offset: 4, leaseToken: token }]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FencedError);
    await expect(groups.describe(group)).resolves.toMatchObject({ partitions: [] });
  });

  it('treats a re-created topic as new: new lease tokens, nothing committed, the old tokens FENCED, and every ok commit stored', async () => {
    const groups = coordinator();
    const topic = await newTopic(1, 5);
    const group = unique('g');
    const joined = await join(groups, group, { topics: [topic], memberId: 'm', sessionTimeoutMs: 300_000 });
    const oldToken = joined.assignments[0]!.leaseToken;
    await groups.commit(group, 'm', [{ topic, partition: 0, offset: 5, leaseToken: oldToken }]);

    await recreate(topic, 1);
    await produce(topic, 8);
    const after = await groups.heartbeat(group, 'm');
    expect(after.assignments).toHaveLength(1);
    expect(after.assignments[0]).toMatchObject({ topic, partition: 0, committedOffset: null });
    expect(after.assignments[0]!.leaseToken).not.toBe(oldToken);
    expect((await groups.describe(group)).partitions[0]).toMatchObject({ owner: 'm', committedOffset: null, endOffset: 8, lag: 8 });

    // The reset policy (earliest) applies, not the old incarnation's offset 5.
    const [batch] = await groups.fetch(group, 'm', { limit: 100, maxBytes: 1 << 20, waitMs: 0 });
    expect(batch!.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(batch!.leaseToken).toBe(after.assignments[0]!.leaseToken);

    // The old token never commits against the new incarnation, even at an offset inside its range.
    await expect(groups.commit(group, 'm', [{ topic, partition: 0, offset: 2, leaseToken: oldToken }])).rejects.toBeInstanceOf(FencedError);
    expect((await groups.describe(group)).partitions[0]!.committedOffset).toBeNull();

    const results = await groups.commit(group, 'm', [{ topic, partition: 0, offset: 8, leaseToken: batch!.leaseToken }]);
    expect(results).toEqual([{ topic, partition: 0, offset: 8, ok: true }]);
    expect((await groups.describe(group)).partitions[0]).toMatchObject({ committedOffset: 8, lag: 0 });
    expect((await groups.heartbeat(group, 'm')).assignments[0]).toMatchObject({ leaseToken: batch!.leaseToken, committedOffset: 8 });
  });

  it('gives a re-created topic with fewer partitions only its own, and fences a lease of a partition that is gone', async () => {
    const groups = coordinator();
    const topic = await newTopic(3, 2);
    const group = unique('g');
    const joined = await join(groups, group, { topics: [topic], memberId: 'm', sessionTimeoutMs: 300_000 });
    const gone = joined.assignments.find((a) => a.partition === 2)!;

    await recreate(topic, 2);
    expect((await groups.heartbeat(group, 'm')).assignments.map((a) => a.partition)).toEqual([0, 1]);
    await expect(groups.commit(group, 'm', [{ topic, partition: 2, offset: 0, leaseToken: gone.leaseToken }])).rejects.toBeInstanceOf(FencedError);
    expect((await groups.describe(group)).partitions.map((p) => p.partition)).toEqual([0, 1]);
  });

  it('keeps the new incarnation’s lease and commits although other containers still cache the old topic', async () => {
    // Containers B and C cache topics for a minute (a long SHARDLOG_TOPIC_CACHE_MS); container A reads them fresh.
    const caching = () => new DynamoTopicStore({ doc: storage.doc, tableName: storage.config.logTable, cacheMs: 60_000, now });
    const a = coordinator();
    const b = coordinator(storage.doc, caching());
    const c = coordinator(storage.doc, caching());
    const topic = await newTopic(1, 3);
    const group = unique('g');
    await join(a, group, { topics: [topic], memberId: 'm', sessionTimeoutMs: 300_000 });
    await Promise.all([b.describe(group), c.describe(group)]); // both cache the first incarnation

    await recreate(topic, 1);
    await produce(topic, 4);
    const taken = (await a.heartbeat(group, 'm')).assignments[0]!;
    expect(await a.commit(group, 'm', [{ topic, partition: 0, offset: 2, leaseToken: taken.leaseToken }])).toMatchObject([{ ok: true }]);

    // B's commit fails its condition against the cached incarnation; B reads the topic again instead of
    // answering FENCED (the member would drop a partition it holds).
    expect(await b.commit(group, 'm', [{ topic, partition: 0, offset: 3, leaseToken: taken.leaseToken }])).toMatchObject([{ ok: true }]);
    // C sees a lease of an incarnation it does not know: it reads the topic again instead of calling the lease
    // stale (which would take it over with a new token and drop the committed offset).
    expect((await c.heartbeat(group, 'm')).assignments[0]).toMatchObject({ leaseToken: taken.leaseToken, committedOffset: 3 });
    expect((await a.describe(group)).partitions[0]).toMatchObject({ owner: 'm', committedOffset: 3, endOffset: 4 });
  });

  it('stores a commit only for the incarnation its lease was taken for', async () => {
    const store = new DynamoLeaseStore({ doc: storage.doc, tableName: storage.config.leaseTable });
    const group = unique('g');
    const partition = { topic: unique('t'), partition: 0 };
    await store.takeLease(group, { partition, topicId: 'first', expected: null, owner: 'm', ownerSession: 's', newToken: 'T1', now: clock });
    const commit = { partition, topicId: 'first', memberId: 'm', leaseToken: 'T1', offset: 4, now: clock };
    expect(await store.commitOffset(group, commit)).toBe('ok');
    // Same owner, same token, another incarnation: refused, and a retry of the stored commit is not "ok" for it.
    expect(await store.commitOffset(group, { ...commit, topicId: 'second', offset: 6 })).toBe('fenced');
    expect(await store.commitOffset(group, { ...commit, topicId: 'second' })).toBe('fenced');
    expect(await store.getLease(group, partition)).toMatchObject({ topicId: 'first', committedOffset: 4 });
  });
});

describe('group fetch', () => {
  it('resumes at the committed offset after a crash between fetch and commit: at-least-once, nothing lost', async () => {
    const groups = coordinator();
    const topic = await newTopic(1, 10);
    const group = unique('g');
    const a = await join(groups, group, { topics: [topic], memberId: 'a', sessionTimeoutMs: SESSION_MS });
    const processed: number[] = [];
    const first = await groups.fetch(group, 'a', { limit: 4, maxBytes: 1 << 20, waitMs: 0 });
    expect(first[0]!.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    processed.push(...first[0]!.records.map((r) => r.offset));
    await groups.commit(group, 'a', [{ topic, partition: 0, offset: first[0]!.nextOffset, leaseToken: a.assignments[0]!.leaseToken }]);
    // Reads 4..7, processes them, and crashes before committing.
    const second = await groups.fetch(group, 'a', { limit: 4, maxBytes: 1 << 20, waitMs: 0, positions: [{ topic, partition: 0, offset: 4 }] });
    expect(second[0]!.records.map((r) => r.offset)).toEqual([4, 5, 6, 7]);
    processed.push(...second[0]!.records.map((r) => r.offset));

    await join(groups, group, { topics: [topic], memberId: 'b', sessionTimeoutMs: SESSION_MS });
    const b = (await passWhileHeartbeating(groups, group, ['b'], SESSION_MS + 1)).get('b')!;
    expect(b.assignments[0]!.committedOffset).toBe(4);
    const resumed = await groups.fetch(group, 'b', { limit: 100, maxBytes: 1 << 20, waitMs: 0 });
    expect(resumed[0]!.records.map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
    processed.push(...resumed[0]!.records.map((r) => r.offset));
    expect(new Set(processed)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => i)));
  });

  it('reads every held partition, bounded by limit over the whole response, and refuses an expired member', async () => {
    const groups = coordinator();
    const topic = await newTopic(3, 5);
    const group = unique('g');
    await join(groups, group, { topics: [topic], memberId: 'm', sessionTimeoutMs: SESSION_MS });
    const all = await groups.fetch(group, 'm', { limit: 100, maxBytes: 1 << 20, waitMs: 0 });
    expect(all.map((b) => [b.partition, b.records.length, b.nextOffset, b.endOffset])).toEqual([
      [0, 5, 5, 5],
      [1, 5, 5, 5],
      [2, 5, 5, 5],
    ]);
    const few = await groups.fetch(group, 'm', { limit: 4, maxBytes: 1 << 20, waitMs: 0 });
    expect(few.reduce((n, b) => n + b.records.length, 0)).toBe(4);
    for (const b of few) expect(b.nextOffset).toBe(b.records.length);
    clock += SESSION_MS + 1;
    await expect(groups.fetch(group, 'm', { limit: 1, maxBytes: 1 << 20, waitMs: 0 })).rejects.toBeInstanceOf(MemberNotFoundError);
  });

  it('long-polls the member’s partitions until a record arrives', async () => {
    const gate = new PollGate();
    const polling = createShardlog(storage, storage.config, { sleep: gate.sleep });
    const groups = new GroupService({ store: new DynamoLeaseStore({ doc: storage.doc, tableName: storage.config.leaseTable }), topics: engine.topics, log: polling.log, now });
    const topic = await newTopic(2);
    const group = unique('g');
    await join(groups, group, { topics: [topic], memberId: 'm' });
    const asleep = gate.arm();
    const fetching = groups.fetch(group, 'm', { limit: 10, maxBytes: 1 << 20, waitMs: 5_000 });
    await asleep; // both partitions read empty; the poll waits
    await produceTo(engine, topic, { records: [{ key: null, value: utf8.encode('1'), valueIsJson: true, headers: {}, partition: 1 }] });
    gate.wake();
    const batches = await fetching;
    expect(batches.find((b) => b.partition === 1)!.records).toHaveLength(1);
  });
});

describe('reset', () => {
  it('moves committed offsets to earliest, latest, an offset or a timestamp, and fences the current owner', async () => {
    const groups = coordinator();
    const topic = await newTopic(2, 10);
    const group = unique('g');
    const m = await join(groups, group, { topics: [topic], memberId: 'm' });
    const token0 = m.assignments[0]!.leaseToken;
    await groups.commit(group, 'm', [{ topic, partition: 0, offset: 7, leaseToken: token0 }]);

    expect(await groups.resetOffsets(group, { topic, to: 'earliest' })).toEqual([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    await expect(groups.commit(group, 'm', [{ topic, partition: 0, offset: 8, leaseToken: token0 }])).rejects.toBeInstanceOf(FencedError);
    const after = await groups.heartbeat(group, 'm');
    expect(after.assignments[0]).toMatchObject({ partition: 0, committedOffset: 0 });
    expect(after.assignments[0]!.leaseToken).not.toBe(token0);

    expect(await groups.resetOffsets(group, { topic, partition: 1, to: 'latest' })).toEqual([{ topic, partition: 1, offset: 10 }]);
    expect(await groups.resetOffsets(group, { topic, partition: 0, to: { offset: 4 } })).toEqual([{ topic, partition: 0, offset: 4 }]);
    await expect(groups.resetOffsets(group, { topic, partition: 0, to: { offset: 11 } })).rejects.toBeInstanceOf(OffsetOutOfRangeError);
    expect(await groups.resetOffsets(group, { topic, partition: 0, to: { timestamp: 0 } })).toEqual([{ topic, partition: 0, offset: 0 }]);
    expect(await groups.resetOffsets(group, { topic, partition: 0, to: { timestamp: Date.now() + 60_000 } })).toEqual([
      { topic, partition: 0, offset: 10 },
    ]);
    const fetched = await groups.fetch(group, 'm', { limit: 100, maxBytes: 1 << 20, waitMs: 0 });
    expect(fetched.map((b) => b.records.length)).toEqual([0, 0]);
  });

  it('resets only a subscribed group: a subscription creates the group, which then describes, lists and resets', async () => {
    const groups = coordinator();
    const topic = await newTopic(1, 3);
    const group = unique('g');
    await expect(groups.describe(group)).rejects.toBeInstanceOf(GroupNotFoundError);
    await expect(groups.resetOffsets(group, { topic, to: 'latest' })).rejects.toBeInstanceOf(NotSubscribedError);
    await expect(groups.describe(group)).rejects.toBeInstanceOf(GroupNotFoundError);
    await groups.subscribe(group, topic);
    await groups.resetOffsets(group, { topic, to: 'latest' });
    expect(await groups.describe(group)).toEqual({
      group,
      subscriptions: [topic],
      members: [],
      partitions: [{ topic, partition: 0, owner: null, committedOffset: 3, endOffset: 3, lag: 0 }],
    });
    expect(await groups.list()).toContainEqual({ group, members: 0 });
  });
});

describe('cost', () => {
  /*
   * Measures what one heartbeat of a settled member costs, with ReturnConsumedCapacity against DynamoDB
   * Local (which reports capacity as on-demand DynamoDB does). KCL renews every held lease: P writes.
   */
  it.each([1, 10, 100])('writes one unit per heartbeat for a member holding %i partitions', async (p) => {
    const dynamo = new DynamoDBClient({ endpoint: storage.endpoints.dynamo, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
    const meter = new CapacityMeter().attach(dynamo);
    try {
      const groups = coordinator(DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }));
      const topic = await newTopic(p);
      const group = unique('g');
      const joined = await join(groups, group, { topics: [topic], memberId: 'm', sessionTimeoutMs: SESSION_MS });
      expect(joined.assignments).toHaveLength(p);
      const heartbeats = 5;
      meter.reset();
      for (let i = 0; i < heartbeats; i++) {
        clock += INTERVAL_MS;
        expect((await groups.heartbeat(group, 'm')).assignments).toHaveLength(p);
      }
      const totals = meter.totals();
      expect(totals.writeUnits / heartbeats).toBe(1);
      expect(totals.dynamoByCommand.UpdateItemCommand).toBe(heartbeats);
    } finally {
      dynamo.destroy();
    }
  });
});
