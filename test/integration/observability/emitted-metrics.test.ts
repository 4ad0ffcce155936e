import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMaintenance, createSegmentStore } from '../../../lib/maintenance/create-maintenance.js';
import { EMITTED_METRICS, METRICS, SERVICE_DIMENSION, type MetricName } from '../../../lib/observability/metrics.js';
import { createShardlog } from '../../../lib/shardlog.js';
import { call as httpCall, type HttpAnswer } from '../../support/http.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';
import { createTestStorage, type TestStorage } from '../../support/storage.js';
import { EmfCapture } from '../../support/telemetry.js';
import { ShardlogClient } from '../../../lib/client/index.js';
import { Clock, HOUR_MS, sampleRecord } from '../maintenance/harness.js';
import { produceTo } from '../../support/by-name.js';

/*
 * The metrics the engine and the handlers emit (README "Operating shardlog"), read as CloudWatch reads them: the
 * real handlers behind the local API Gateway, over an engine whose sink is the Lambda one (Powertools Metrics,
 * functions/telemetry.ts), flushed as the end of an invocation flushes it, its EMF lines parsed back.
 */

let storage: TestStorage;
let server: TestLocalServer;
const capture = new EmfCapture('Shardlog-Test');

beforeAll(async () => {
  storage = await createTestStorage();
  server = await startTestLocalServer({ storage, engine: { metrics: capture.sink } });
});
afterAll(async () => {
  await server?.stop();
  await storage?.cleanup();
});

const call = (method: string, path: string, body?: unknown): Promise<HttpAnswer> => httpCall(server.url, method, path, body);
const service = { [SERVICE_DIMENSION]: 'Shardlog-Test' };

describe('emitted metrics', () => {
  it('count records and bytes produced and fetched per topic, latencies, empty long polls and errors by code', async () => {
    expect((await call('POST', '/v1/topics', { name: 'orders', partitions: 2 })).status).toBe(201);
    // `{"i":0}` is 7 bytes as stored: the bytes metrics count keys, values and headers as stored.
    expect((await call('POST', '/v1/topics/orders/records', { records: [0, 1, 2].map((i) => ({ value: { i }, partition: 0 })) })).status).toBe(200);
    expect((await call('POST', '/v1/topics/orders/records', { records: [{ key: 'k', value: { i: 3 }, headers: { h: 'v' }, partition: 1 }] })).status).toBe(200);
    expect((await call('GET', '/v1/topics/orders/partitions/0/records?offset=0')).body.records).toHaveLength(3);
    expect((await call('GET', '/v1/topics/orders/partitions/0/records?offset=3&waitMs=50')).body.records).toEqual([]);
    expect((await call('GET', '/v1/topics/nope/partitions/0/records')).status).toBe(404);
    expect((await call('POST', '/v1/topics/orders/records', { records: [] })).status).toBe(400);
    capture.flush();

    const orders = { ...service, Topic: 'orders' };
    expect(capture.sum('RecordsProduced', orders)).toBe(4);
    expect(capture.sum('BytesProduced', orders)).toBe(3 * 7 + (1 + 7 + 2));
    expect(capture.values('ProduceLatency', service)).toHaveLength(2);
    expect(capture.sum('RecordsFetched', orders)).toBe(3);
    expect(capture.sum('BytesFetched', orders)).toBe(3 * 7);
    // The fetch that long-polled counts as an empty poll, not in the latency.
    expect(capture.values('FetchLatency', service)).toHaveLength(1);
    expect(capture.sum('EmptyLongPolls', service)).toBe(1);
    expect(capture.sum('ErrorResponses', { ...service, ErrorCode: 'TOPIC_NOT_FOUND' })).toBe(1);
    expect(capture.sum('ErrorResponses', { ...service, ErrorCode: 'INVALID_REQUEST' })).toBe(1);
    expect(capture.points('ErrorResponses')).toHaveLength(2);
  });

  it('count a binary produce and a binary fetch (the SDK\'s default wire) by their records and record bytes', async () => {
    const client = new ShardlogClient({ url: server.url });
    await client.createTopic({ name: 'binary-metrics', partitions: 1 });
    capture.flush();
    const latenciesBefore = capture.values('ProduceLatency', service).length;
    // Three records of 7 value bytes (`{"i":N}`), one with a 1-byte key and a header of 1 + 1 bytes.
    await client.produce('binary-metrics', [{ value: { i: 0 } }, { value: { i: 1 } }, { key: 'k', value: { i: 2 }, headers: { h: 'v' } }], { format: 'binary' });
    const fetched = await client.fetch('binary-metrics', 0, { from: 'earliest' }, undefined, 'binary');
    expect(fetched.records).toHaveLength(3);
    capture.flush();
    const topic = { ...service, Topic: 'binary-metrics' };
    expect(capture.sum('RecordsProduced', topic)).toBe(3);
    expect(capture.sum('BytesProduced', topic)).toBe(3 * 7 + 1 + 2);
    expect(capture.values('ProduceLatency', service)).toHaveLength(latenciesBefore + 1);
    // A binary fetch decodes nothing: its records are the offsets its batches cover, its bytes the stored batch.
    expect(capture.sum('RecordsFetched', topic)).toBe(3);
    expect(capture.sum('BytesFetched', topic)).toBeGreaterThan(0);
  });

  it('emit the lag a group fetch sees, commit latency, and the lag of a group whose consumers stopped', async () => {
    expect((await call('PUT', '/v1/groups/billing/subscriptions/orders')).status).toBe(200);
    const joined = await call('POST', '/v1/groups/billing/members', { topics: ['orders'] });
    expect(joined.status).toBe(200);
    const member = joined.body.memberId as string;
    const before = Date.now();
    const fetched = await call('POST', `/v1/groups/billing/members/${member}/fetch`, { limit: 1 });
    expect(fetched.status).toBe(200);
    capture.flush();
    const billing = { ...service, ConsumerGroup: 'billing', Topic: 'orders' };
    // Partition 0 has 3 unread records, partition 1 one: the worst partition, whatever the response's cut.
    expect(capture.values('RecordsBehind', billing)).toEqual([3]);
    const [age] = capture.values('OldestUnreadRecordAge', billing);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(Date.now() - before + 60_000);

    const tokens = new Map<number, string>(joined.body.assignments.map((a: { partition: number; leaseToken: string }) => [a.partition, a.leaseToken]));
    const committed = await call('POST', `/v1/groups/billing/members/${member}/commit`, {
      offsets: [0, 1].map((partition) => ({ topic: 'orders', partition, offset: partition === 0 ? 3 : 1, leaseToken: tokens.get(partition) })),
    });
    expect(committed.status).toBe(200);
    expect((await call('DELETE', `/v1/groups/billing/members/${member}`)).status).toBe(204);
    capture.flush();
    expect(capture.values('CommitLatency', service)).toHaveLength(1);

    // Nobody fetches any more; two records arrive. The sweep after each scheduled pass reports the lag.
    await call('POST', '/v1/topics/orders/records', { records: [5, 6].map((i) => ({ value: { i }, partition: 0 })) });
    const sweep = await server.engine.groups.reportLag();
    expect(sweep).toEqual({ groups: 1, behind: 1, skipped: 0 });
    capture.flush();
    expect(capture.values('RecordsBehind', billing)).toEqual([3, 2]);
    expect(capture.values('OldestUnreadRecordAge', billing)).toHaveLength(2);
  });

  it('emit what a maintenance pass tiered and expired, how long it took, how old the oldest due batch was, and its failures', async () => {
    const clock = new Clock();
    const engine = createShardlog(storage, storage.config, { now: clock.now, topicCacheMs: 0, tailCacheMs: 0, metaCacheMs: 0, metrics: capture.sink });
    await engine.topics.create({ name: 'tiered', partitions: 1, retentionHours: 24 * 7 * 13 }); // above 12 weeks: tiered
    await engine.topics.create({ name: 'short', partitions: 1, retentionHours: 1 }); // hot retention
    await produceTo(engine, 'tiered', { records: [0, 1, 2].map((i) => sampleRecord(i, clock.ms)) });
    await produceTo(engine, 'short', { records: [0, 1].map((i) => sampleRecord(i, clock.ms)) });
    capture.flush();
    clock.advance(2 * HOUR_MS);

    const report = await engine.maintenance.runOnce();
    expect(report.tiered).toMatchObject({ segments: 1, records: 3 });
    expect(report.expired.records).toBe(2);
    const pass = capture.flush();
    expect(capture.sum('SegmentsWritten', service)).toBe(1);
    expect(capture.sum('BytesTiered', service)).toBe(report.tiered.bytes);
    expect(capture.sum('RecordsExpired', service)).toBe(2);
    expect(capture.values('OldestUntieredBatchAge', service)).toEqual([2 * HOUR_MS]);
    expect(capture.values('MaintenancePassDuration', service)).toEqual([0]); // the clock stood still
    expect(pass.some((p) => p.name === 'MaintenanceFailures')).toBe(false);

    // A pass with nothing to do emits its duration only: an idle deployment pays for one metric.
    await engine.maintenance.runOnce();
    expect(capture.flush().map((p) => p.name)).toEqual(['MaintenancePassDuration']);

    const failing = createMaintenance({
      clients: storage,
      config: storage.config,
      topics: engine.topics,
      store: engine.store,
      segments: createSegmentStore(storage, storage.config, clock.now),
      now: clock.now,
      metrics: capture.sink,
      onStep: () => {
        throw new Error('injected');
      },
    });
    await produceTo(engine, 'tiered', { records: [sampleRecord(3, clock.ms)] });
    clock.advance(2 * HOUR_MS);
    await expect(failing.runOnce({ topic: 'tiered' })).rejects.toThrow('injected');
    capture.flush();
    expect(capture.sum('MaintenanceFailures', service)).toBe(1);
  });

  it("count a share group's records accepted, redelivered and archived", async () => {
    expect((await call('POST', '/v1/topics', { name: 'mail', partitions: 1 })).status).toBe(201);
    expect((await call('PUT', '/v1/share-groups/mailers/subscriptions/mail', { from: 'earliest' })).status).toBe(200);
    expect((await call('POST', '/v1/topics/mail/records', { records: [0, 1, 2].map((i) => ({ value: { i } })) })).status).toBe(200);
    type Shared = { topic: string; partition: number; offset: number; receipt: string; deliveryCount: number };
    const first = (await call('POST', '/v1/share-groups/mailers/fetch', { maxRecords: 3, lockMs: 60_000 })).body.records as Shared[];
    expect(first.map((r) => r.deliveryCount)).toEqual([1, 1, 1]);
    const ack = (r: Shared, type: string) => ({ topic: r.topic, partition: r.partition, offset: r.offset, receipt: r.receipt, type });
    const acked = await call('POST', '/v1/share-groups/mailers/acks', { acks: [ack(first[0]!, 'accept'), ack(first[1]!, 'release'), ack(first[2]!, 'reject')] });
    expect((acked.body.results as Array<{ ok: boolean }>).every((r) => r.ok)).toBe(true);
    const again = (await call('POST', '/v1/share-groups/mailers/fetch', { maxRecords: 3, lockMs: 60_000 })).body.records as Shared[];
    expect(again.map((r) => [r.offset, r.deliveryCount])).toEqual([[1, 2]]);
    expect((await call('POST', '/v1/share-groups/mailers/acks', { acks: [ack(again[0]!, 'accept')] })).status).toBe(200);
    capture.flush();

    const mailers = { ...service, ShareGroup: 'mailers' };
    expect(capture.sum('ShareRecordsAccepted', mailers)).toBe(2);
    expect(capture.sum('ShareRecordsRedelivered', mailers)).toBe(1);
    expect(capture.sum('ShareRecordsArchived', mailers)).toBe(1);
  });

  it('wrote every point with the unit and exactly the dimensions the catalogue gives it, plus service', () => {
    const seen = capture.points();
    expect(seen.length).toBeGreaterThan(0);
    for (const point of seen) {
      const name = point.name as MetricName;
      expect(EMITTED_METRICS, point.name).toContain(name);
      expect(point.unit, name).toBe(METRICS[name].unit);
      expect(Object.keys(point.dimensions).sort(), name).toEqual([...METRICS[name].dimensions, SERVICE_DIMENSION].sort());
    }
  });
});
