import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call as callAt } from '../../support/http.js';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/*
 * Issue 15's acceptance run, over HTTP on the local stack: 10 members share a 2-partition topic of 5,000
 * records. Three of them crash (take a batch, never acknowledge it); their records come back when the locks
 * expire and others accept them. Poison records fail every time (released) and go to the dead-letter topic
 * after maxDeliveries. At the end every good record was accepted exactly once, every poison record is in the
 * dead-letter topic exactly once, and the crashed members' receipts, tried after the redelivery, are FENCED.
 * Real clock: locks of a second for the crashing members (the contract's minimum), so redelivery is waited for.
 */

let server: TestLocalServer;
beforeAll(async () => {
  server = await startTestLocalServer();
});
afterAll(() => server?.stop());

const call = (method: string, path: string, body?: unknown) => callAt(server.url, method, path, body);

interface Shared {
  topic: string;
  partition: number;
  offset: number;
  deliveryCount: number;
  receipt: string;
  value: { i: number };
}

const RECORDS = 5_000;
const MEMBERS = 10;
const CRASHING = 3;
const MAX_DELIVERIES = 3;
const isPoison = (i: number) => i % 500 === 7;

describe('a share group of 10 members, 3 of them crashing', () => {
  it('accepts each of 5,000 records exactly once, dead-letters the poison ones once each, and fences stale receipts', async () => {
    const stamp = Date.now();
    const topic = `sg-members-${stamp}`;
    const dlq = `${topic}-dlq`;
    const group = `mailers-${stamp}`;
    expect((await call('POST', '/v1/topics', { name: topic, partitions: 2 })).status).toBe(201);
    expect((await call('POST', '/v1/topics', { name: dlq, partitions: 1 })).status).toBe(201);
    for (let from = 0; from < RECORDS; from += 500) {
      const records = Array.from({ length: 500 }, (_, k) => ({ value: { i: from + k }, partition: (from + k) % 2 }));
      expect((await call('POST', `/v1/topics/${topic}/records`, { records })).status).toBe(200);
    }
    expect((await call('PUT', `/v1/share-groups/${group}/subscriptions/${topic}`, { from: 'earliest' })).status).toBe(200);
    expect((await call('PATCH', `/v1/share-groups/${group}`, { maxDeliveries: MAX_DELIVERIES, deadLetterTopic: dlq })).status).toBe(200);

    const accepted = new Map<number, number>();
    const crashedHolds: Shared[] = [];
    let finished = false;

    const fetchSome = async (lockMs: number): Promise<Shared[]> => {
      const answer = await call('POST', `/v1/share-groups/${group}/fetch`, { maxRecords: 50, lockMs, waitMs: 200 });
      expect(answer.status, answer.text).toBe(200);
      return answer.body.records;
    };
    const ack = async (records: readonly Shared[], type: (r: Shared) => string) => {
      const acks = records.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset, receipt: r.receipt, type: type(r) }));
      const answer = await call('POST', `/v1/share-groups/${group}/acks`, { acks });
      expect(answer.status, answer.text).toBe(200);
      return answer.body.results as Array<{ ok: boolean; error?: { code: string } }>;
    };

    const member = async (m: number) => {
      if (m < CRASHING) {
        // Takes a batch under a short lock and dies holding it.
        crashedHolds.push(...(await fetchSome(1_000)));
        return;
      }
      while (!finished) {
        const records = await fetchSome(30_000);
        if (records.length === 0) continue;
        const results = await ack(records, (r) => (isPoison(r.value.i) ? 'release' : 'accept'));
        records.forEach((r, k) => {
          expect(results[k]!.ok, `${r.offset}: ${JSON.stringify(results[k])}`).toBe(true);
          if (!isPoison(r.value.i)) accepted.set(r.value.i, (accepted.get(r.value.i) ?? 0) + 1);
        });
      }
    };

    const monitor = async () => {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const { body } = await call('GET', `/v1/share-groups/${group}`);
        if (body.partitions.every((p: { startOffset: number; endOffset: number; inFlight: number }) => p.startOffset === p.endOffset && p.inFlight === 0)) {
          finished = true;
          return body;
        }
      }
    };

    const [described] = await Promise.all([monitor(), ...Array.from({ length: MEMBERS }, (_, m) => member(m))]);

    const good = Array.from({ length: RECORDS }, (_, i) => i).filter((i) => !isPoison(i));
    expect(good.filter((i) => accepted.get(i) !== 1)).toEqual([]);
    expect([...accepted.keys()].filter(isPoison)).toEqual([]);
    expect(described.partitions.map((p: { archived: number }) => p.archived).reduce((a: number, b: number) => a + b, 0)).toBe(RECORDS - good.length);

    // The crashed members held records; each was redelivered and accepted by another member (or is poison).
    expect(crashedHolds.length).toBeGreaterThan(0);
    const stale = await ack(crashedHolds, () => 'accept');
    expect(stale.filter((r) => r.error?.code !== 'FENCED')).toEqual([]);

    const dead = await call('GET', `/v1/topics/${dlq}/partitions/0/records?limit=1000`);
    const origins = dead.body.records.map((r: { value: { i: number }; headers: Record<string, string> }) => {
      expect(r.headers['shardlog-origin-reason']).toBe('max-deliveries');
      expect(r.headers['shardlog-origin-delivery-count']).toBe(String(MAX_DELIVERIES));
      return r.value.i;
    });
    expect(origins.sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: RECORDS }, (_, i) => i).filter(isPoison));
  }, 240_000);
});
