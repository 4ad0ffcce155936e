import { describe, expect, it } from 'vitest';
import { recordFetch } from '../../../../functions/http/route-metrics.js';
import { RecordingMetricsSink } from '../../../support/telemetry.js';

/* What a fetch emits (functions/http/route-metrics.ts), for JSON reads (records) and binary reads (stored batches). */

const record = (offset: number, value: string) => ({
  offset, timestamp: 1, key: null, value: new TextEncoder().encode(value), valueIsJson: false, headers: {},
});

describe('recordFetch', () => {
  it('counts decoded records and their bytes per topic', () => {
    const metrics = new RecordingMetricsSink();
    recordFetch(metrics, { startedAt: performance.now(), waited: false, returned: [
      { topic: 'a', records: [record(0, 'xy'), record(1, 'z')], nextOffset: 2 },
      { topic: 'a', records: [record(5, 'q')], nextOffset: 6 },
    ] });
    expect(metrics.points.filter((p) => p.name !== 'FetchLatency').map((p) => [p.name, p.value, p.dimensions])).toEqual([
      ['RecordsFetched', 3, { Topic: 'a' }],
      ['BytesFetched', 4, { Topic: 'a' }],
    ]);
  });

  it('counts a binary read by the offsets its batches cover and their stored bytes, without decoding them', () => {
    const metrics = new RecordingMetricsSink();
    recordFetch(metrics, { startedAt: performance.now(), waited: false, returned: [
      // Batches [0, 10) and [10, 20); the read's records are [4, 15).
      { topic: 'b', records: [], firstOffset: 4, nextOffset: 15, batches: [{ baseOffset: 0, count: 10, length: 300 }, { baseOffset: 10, count: 10, length: 200 }] },
      { topic: 'b', records: [], nextOffset: 30, batches: [] },
    ] });
    expect(metrics.points.filter((p) => p.name !== 'FetchLatency').map((p) => [p.name, p.value])).toEqual([
      ['RecordsFetched', 11],
      ['BytesFetched', 500],
    ]);
  });

  it('counts an empty long poll, and no latency, when it waited and found nothing', () => {
    const metrics = new RecordingMetricsSink();
    recordFetch(metrics, { startedAt: performance.now(), waited: true, returned: [{ topic: 'c', records: [], nextOffset: 0, batches: [] }] });
    expect(metrics.points.map((p) => p.name)).toEqual(['EmptyLongPolls']);
  });
});
