/**
 * Micro-measure of the fetch encoding path (`npx tsx bench/encoding.ts`): sizing records by their encoded size
 * (lib/log/wire-size.ts) and writing them (functions/http/records.ts), for 10,000 records of ~1 KB quote-heavy
 * JSON (a maximal fetch returns about half of them), and the produce side's number-preserving parse and
 * depth-checked serialisation against the native functions. Wall-clock on a shared machine: compare, don't quote.
 */
import { encodeWireRecord } from '../functions/http/records.js';
import { parseJson, stringifyJson } from '../lib/log/json-text.js';
import { wireSize } from '../lib/log/wire-size.js';

const value = (i: number) => ({
  id: i,
  customer: `c-${i % 97}`,
  note: 'she said "hi" \\ '.repeat(24),
  tags: Array.from({ length: 40 }, (_, j) => `t${j}`),
  text: 'x'.repeat(300),
});
const utf8 = new TextEncoder();
const records = Array.from({ length: 10_000 }, (_, i) => ({
  offset: i,
  timestamp: 1_700_000_000_000 + i,
  key: utf8.encode(`k${i}`),
  value: utf8.encode(JSON.stringify(value(i))),
  valueIsJson: true,
  headers: { h: 'v' },
}));
const body = JSON.stringify({ records: Array.from({ length: 2500 }, (_, i) => ({ key: `k${i}`, value: value(i) })) });
const values = (JSON.parse(body) as { records: Array<{ value: unknown }> }).records.map((r) => r.value);

function time(label: string, runs: number, f: () => unknown): void {
  f();
  const started = performance.now();
  for (let k = 0; k < runs; k++) f();
  console.log(`${label}: ${((performance.now() - started) / runs).toFixed(1)} ms`);
}

for (const encoding of ['json', 'base64'] as const) {
  time(`wireSize, 10,000 records (${encoding})`, 10, () => records.reduce((n, r) => n + wireSize(r, encoding), 0));
  time(`encodeWireRecord, 10,000 records (${encoding})`, 10, () => records.map((r) => encodeWireRecord(r, encoding)).join(','));
}
time(`JSON.parse, ${(body.length / 1e6).toFixed(1)} MB produce body`, 10, () => JSON.parse(body));
time('parseJson, the same body', 10, () => parseJson(body));
time('JSON.stringify, 2,500 values', 10, () => values.map((v) => JSON.stringify(v)));
time('stringifyJson, 2,500 values', 10, () => values.map((v) => stringifyJson(v)));
