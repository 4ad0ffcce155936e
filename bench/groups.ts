import { MAX_SESSION_TIMEOUT_MS } from '../lib/groups/group-service.js';
import { summarize, type OperationStats, type Sample } from './measure.js';
import { createTopic, expectOk, groupFetchPayload, probe, type BenchContext } from './harness.js';

export interface GroupStats {
  readonly fetch: OperationStats;
  /** An empty poll (`waitMs` 0) at the end of every partition: the fixed part of each poll. */
  readonly fetchAtTail: OperationStats;
  readonly commit: OperationStats;
  readonly heartbeat: OperationStats;
}

export interface GroupResults {
  /** The section of the results file. */
  readonly groups: Record<string, unknown>;
  /** Absent when the member could not join (then the bill is not modeled). */
  readonly stats: GroupStats | undefined;
}

/**
 * Section 3: a member holding every partition of the reference topic reads it with group fetches, each followed
 * by a commit of what it read; then empty polls at the tail and heartbeats.
 */
export async function measureGroups(ctx: BenchContext, topic: string): Promise<GroupResults> {
  const { plan, prober, http, engine, log } = ctx;
  log(`probes: consumer group fetch, commit, heartbeat (${plan.groupProbes} each)`);
  // The longest session: group fetches do not renew it, and on a busy machine the probes below take longer than
  // the default 30 s (the member would then be gone, MEMBER_NOT_FOUND, before the heartbeat probes).
  const subscribed = await http('PUT', `/v1/groups/bench-group/subscriptions/${topic}`);
  if (subscribed.status !== 200) return { groups: { status: `not measured: subscription answered HTTP ${subscribed.status}` }, stats: undefined };
  const joined = await http('POST', '/v1/groups/bench-group/members', JSON.stringify({ topics: [topic], sessionTimeoutMs: MAX_SESSION_TIMEOUT_MS }));
  if (joined.status !== 200) return { groups: { status: `not measured: join answered HTTP ${joined.status}` }, stats: undefined };
  const member = joined.body as { memberId: string; assignments: Array<{ topic: string; partition: number; leaseToken: string }> };
  const base = `/v1/groups/bench-group/members/${member.memberId}`;
  const tokens = new Map(member.assignments.map((a) => [a.partition, a.leaseToken]));
  const fetchSamples: Sample[] = [];
  const commitSamples: Sample[] = [];
  for (let i = 0; i < plan.groupProbes; i++) {
    const fetched = await prober.call('POST', `${base}/fetch`, { limit: 1000 }, groupFetchPayload);
    expectOk(fetched.answer, 'group fetch');
    fetchSamples.push(fetched.sample);
    const batches = (fetched.answer.body as { batches: Array<{ topic: string; partition: number; leaseToken: string; nextOffset: number; records: unknown[] }> }).batches;
    const offsets = batches
      .filter((b) => b.records.length > 0)
      .map((b) => ({ topic: b.topic, partition: b.partition, offset: b.nextOffset, leaseToken: b.leaseToken }));
    if (offsets.length === 0) continue;
    const committed = await prober.call('POST', `${base}/commit`, { offsets });
    expectOk(committed.answer, 'commit');
    commitSamples.push(committed.sample);
  }
  const ends = await Promise.all(
    member.assignments.map(async (a) => ({ topic, partition: a.partition, offset: (await engine.log.bounds(await engine.topics.get(topic), a.partition)).endOffset })),
  );
  const tailSamples = await probe(plan.groupProbes, async () => (await prober.call('POST', `${base}/fetch`, { positions: ends, waitMs: 0 }, groupFetchPayload)).sample);
  const heartbeatSamples = await probe(plan.groupProbes, async () => {
    const { sample, answer } = await prober.call('POST', `${base}/heartbeat`, {});
    expectOk(answer, 'heartbeat');
    return sample;
  });
  const stats = { fetch: summarize(fetchSamples), fetchAtTail: summarize(tailSamples), commit: summarize(commitSamples), heartbeat: summarize(heartbeatSamples) };
  return { groups: { status: 'measured', partitionsHeld: tokens.size, ...stats }, stats };
}

/** Section 4: heartbeat cost as a member holds 1 → 100 partitions (one topic and group per size). */
export async function measureHeartbeatGrowth(ctx: BenchContext): Promise<Array<{ partitionsHeld: number; stats: OperationStats }>> {
  const { plan, prober, http, log } = ctx;
  log(`heartbeat vs partitions held: ${plan.heartbeatPartitions.join(', ')}`);
  const heartbeatGrowth: Array<{ partitionsHeld: number; stats: OperationStats }> = [];
  for (const n of plan.heartbeatPartitions) {
    await createTopic(ctx, `bench-hb-${n}`, n);
    if ((await http('PUT', `/v1/groups/bench-hb-${n}/subscriptions/bench-hb-${n}`)).status !== 200) break;
    const join = await http('POST', `/v1/groups/bench-hb-${n}/members`, JSON.stringify({ topics: [`bench-hb-${n}`] }));
    if (join.status !== 200) break;
    const member = join.body as { memberId: string; assignments: unknown[] };
    const samples = await probe(plan.heartbeatProbes, async () => (await prober.call('POST', `/v1/groups/bench-hb-${n}/members/${member.memberId}/heartbeat`, {})).sample);
    heartbeatGrowth.push({ partitionsHeld: member.assignments.length, stats: summarize(samples) });
  }
  return heartbeatGrowth;
}
