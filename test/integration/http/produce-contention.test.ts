import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLocalServer, type TestLocalServer } from '../../support/local-server.js';

/**
 * Issue 9, defect 4, as it was reproduced against `npm start`: concurrent producers whose requests span the
 * partitions of a topic. A lost race for a partition's end offset is not throttling: every request must
 * succeed, and what they appended must read back dense, each acknowledged offset holding the record acknowledged
 * for it. Half the producers send an `Idempotency-Key` on every request, as the SDK producer does.
 */
const PRODUCERS = 16;
const REQUESTS_PER_PRODUCER = 25;
const RECORDS_PER_REQUEST = 40;
const PARTITIONS = 8;

let server: TestLocalServer;

beforeAll(async () => {
  server = await startTestLocalServer();
});

afterAll(() => server?.stop());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

interface Value {
  readonly producer: number;
  readonly request: number;
  readonly index: number;
}

describe('concurrent producers', () => {
  it(
    `lets ${PRODUCERS} producers of multi-partition requests all succeed, and reads back every partition dense`,
    async () => {
      expect((await call('POST', '/v1/topics', { name: 'contended', partitions: PARTITIONS })).status).toBe(201);
      const failures: unknown[] = [];
      const acked: Array<{ partition: number; offset: number; value: Value }> = [];
      const partitionsPerRequest: number[] = [];
      await Promise.all(
        Array.from({ length: PRODUCERS }, async (_, producer) => {
          for (let request = 0; request < REQUESTS_PER_PRODUCER; request++) {
            const values: Value[] = Array.from({ length: RECORDS_PER_REQUEST }, (_, index) => ({ producer, request, index }));
            const records = values.map((value) => ({ key: `customer-${producer}-${request}-${value.index}`, value }));
            const headers: Record<string, string> = producer % 2 === 1 ? { 'idempotency-key': `producer-${producer}-request-${request}` } : {};
            const answer = await call('POST', '/v1/topics/contended/records', { records }, headers);
            if (answer.status !== 200) {
              failures.push({ status: answer.status, error: answer.body?.error?.code });
              continue;
            }
            const acks = answer.body.records as Array<{ partition: number; offset: number }>;
            acks.forEach((ack, i) => acked.push({ partition: ack.partition, offset: ack.offset, value: values[i]! }));
            partitionsPerRequest.push(new Set(acks.map((a) => a.partition)).size);
          }
        }),
      );
      expect(failures).toEqual([]);
      // The scenario's premise: keyed requests of 40 records span partitions (so each is one transaction).
      expect(Math.min(...partitionsPerRequest)).toBeGreaterThan(1);

      for (let partition = 0; partition < PARTITIONS; partition++) {
        const stored: Array<{ offset: number; value: Value }> = [];
        let offset = 0;
        for (;;) {
          const page = await call('GET', `/v1/topics/contended/partitions/${partition}/records?offset=${offset}&limit=10000`);
          expect(page.status).toBe(200);
          stored.push(...page.body.records);
          offset = page.body.nextOffset;
          if (offset >= page.body.endOffset) break;
        }
        const mine = acked.filter((a) => a.partition === partition);
        // Dense: offsets 0..n-1, no gap, no duplicate, exactly as many records as were acknowledged here.
        expect(stored.map((r) => r.offset)).toEqual(Array.from({ length: mine.length }, (_, i) => i));
        // Every acknowledged offset holds the record acknowledged for it.
        for (const ack of mine) expect(stored[ack.offset]?.value).toEqual(ack.value);
      }
    },
    120_000,
  );
});
