import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRecord } from '../../../functions/http/records.js';
import type { ProduceRecord } from '../../../lib/client/types.js';
import { decodeGroupFetch, encodeProduce, URL_LOADS_IN_FLIGHT } from '../../../lib/client/wire.js';
import { decodeBatch, encodeBatch, type LogRecord } from '../../../lib/log/batch-format.js';
import { validateBatch } from '../../../lib/log/batch-validation.js';
import { parseJson } from '../../../lib/log/json-text.js';
import { decodeEnvelope, encodeEnvelope, type GroupFetchFrame } from '../../../lib/log/wire-batches.js';
import { encodeWireRecord } from '../../../lib/log/wire-record.js';

const utf8 = (text: string) => new TextEncoder().encode(text);

/** What a JSON produce stores of `records` (the server's parse of the body the SDK would send), read back as JSON. */
function viaJson(records: ProduceRecord[]): string[] {
  const parsed = parseJson(JSON.stringify({ records })) as { records: unknown[] };
  const log: LogRecord[] = parsed.records.map((raw, i) => ({ ...parseRecord(raw, i, 'json'), timestamp: 7 }));
  return decodeBatch(encodeBatch(0, log)).map((r) => encodeWireRecord(r, 'json'));
}

/** What a binary produce of `records` stores, after the server's checks, read back as JSON. */
function viaBinary(records: ProduceRecord[]): string[] {
  const { payload } = decodeEnvelope(encodeProduce(records, { partitions: 1, idempotencyKey: 'k', timestampOf: () => 7 }).body);
  const checked = validateBatch(payload, 'recordBatches[0]', 0, 6 * 1024 * 1024);
  return decodeBatch(checked.bytes).map((r) => encodeWireRecord(r, 'json'));
}

const outcome = (run: () => string[]): string[] | 'refused' => {
  try {
    return run();
  } catch {
    return 'refused';
  }
};

const text = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }));
const record: fc.Arbitrary<ProduceRecord> = fc.record(
  {
    key: fc.option(text, { nil: null }),
    value: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<ProduceRecord['value']>,
    headers: fc.dictionary(text, text, { maxKeys: 3 }),
    partition: fc.constant(0),
  },
  { requiredKeys: ['value', 'partition'] },
);

describe('the SDK binary encoding', () => {
  it('stores what a JSON produce of the same records stores, byte for byte as a JSON fetch reads it, or both refuse', () => {
    let stored = 0;
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), (records) => {
        const json = outcome(() => viaJson(records));
        expect(outcome(() => viaBinary(records))).toEqual(json);
        if (json !== 'refused') stored++;
      }),
      { numRuns: 300 },
    );
    // Not vacuous: most generated requests are valid.
    expect(stored).toBeGreaterThan(100);
  });

  it('puts the server answer back in the order of the request when records go to several partitions', () => {
    const records: ProduceRecord[] = [0, 2, 1, 2, 0].map((partition, i) => ({ value: i, partition }));
    const encoded = encodeProduce(records, { partitions: 3, idempotencyKey: 'k', timestampOf: () => 1 });
    // The server lists records batch by batch in frame order: partitions 0, 2, 1 as first seen.
    const byBatch = [0, 0, 2, 2, 1].map((partition, i) => ({ partition, offset: i, timestamp: 1 }));
    expect(encoded.order({ records: byBatch }).records.map((r) => r.partition)).toEqual([0, 2, 1, 2, 0]);
  });

  it('loads the presigned URLs of a response, across its partitions, at most URL_LOADS_IN_FLIGHT at a time, into records in order', async () => {
    // Two partitions of 30 batches each, every batch handed out as a URL, and one inline batch between them.
    const batchOf = (partition: number, i: number) => encodeBatch(i * 2, [0, 1].map((k) => ({ key: null, value: utf8(`{"p":${partition},"o":${i * 2 + k}}`), valueIsJson: true, headers: {}, timestamp: 1 })));
    const stored = new Map<string, Uint8Array>();
    const part = (partition: number, inline: boolean) => {
      const entries = Array.from({ length: 30 }, (_, i) => {
        const bytes = batchOf(partition, i);
        const url = `https://bucket.test/spill/${partition}/${i}`;
        stored.set(url, bytes);
        return { baseOffset: i * 2, count: 2, length: bytes.length, url, expiresAt: 0 };
      });
      const extra = batchOf(partition, 30);
      return {
        frame: { topic: 't', partition, leaseToken: 'x', firstOffset: 0, nextOffset: 62, endOffset: 62, recordBatches: [...entries, ...(inline ? [{ baseOffset: 60, count: 2, length: extra.length }] : [])] },
        payload: inline ? [extra] : [],
      };
    };
    const parts = [part(0, true), part(1, false)];
    const frame: GroupFetchFrame = { batches: parts.map((p) => p.frame) };
    const body = encodeEnvelope(frame, parts.flatMap((p) => p.payload));
    let inFlight = 0;
    let most = 0;
    const response = await decodeGroupFetch(body, async (url) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      inFlight--;
      return stored.get(url)!;
    });
    expect(most).toBe(URL_LOADS_IN_FLIGHT);
    expect(response.batches.map((b) => b.records.map((r) => (r.value as { o: number }).o))).toEqual([
      Array.from({ length: 62 }, (_, o) => o),
      Array.from({ length: 60 }, (_, o) => o),
    ]);
    expect(response.batches[1]!.records.every((r) => (r.value as { p: number }).p === 1)).toBe(true);
  });
});
