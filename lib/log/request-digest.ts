import { createHash } from 'node:crypto';
import type { BatchesProduceInput, ProduceInput } from './log-types.js';

/**
 * The digest an idempotency record keeps of the request that first used its key, so that a retry can be told
 * apart from a different request under the same key (docs/api.md v1.1: 409 `IDEMPOTENCY_KEY_REUSED`, as Stripe
 * compares the parameters of a reused key).
 *
 * It is SHA-256 over a canonical form of the PARSED request, not of its text: whitespace, the order of fields,
 * the order of header names and the spelling of numbers (`1.0` / `1`) do not change it; anything that would
 * change what is stored does (a value, a key, a header, a partition, a timestamp, the encoding, since a
 * base64 value and a JSON string are different bytes, or `expectedOffsets`). Grammar, every number a uint64
 * (big-endian; -1 stands for "absent"), every byte string length-prefixed so no two requests share a form:
 * ```
 * digestInput := "shardlog-produce-v1" recordCount record{recordCount} expectedCount (partition offset){expectedCount}
 * record      := partition timestamp flags key? value headerCount (name value){headerCount}   names sorted
 * flags       := bit 0 value is JSON text · bit 1 key present
 * ```
 *
 * @returns the digest, base64url (43 characters).
 */
export function requestDigest(input: Pick<ProduceInput, 'records' | 'expectedOffsets'>): string {
  const { hash, number, bytes, text } = digestWriter();
  text('shardlog-produce-v1');
  number(input.records.length);
  for (const record of input.records) {
    number(record.partition ?? -1);
    number(record.timestamp ?? -1);
    number((record.valueIsJson ? 1 : 0) | (record.key !== null ? 2 : 0));
    if (record.key !== null) bytes(record.key);
    bytes(record.value);
    const names = Object.keys(record.headers).sort();
    number(names.length);
    for (const name of names) {
      text(name);
      text(record.headers[name]!);
    }
  }
  expectedOffsets(number, input.expectedOffsets);
  return hash.digest('base64url');
}

/**
 * The digest of a produce of batches sent as stored (docs/api.md, "Binary record batches"): over each batch's
 * partition and bytes, in order, and `expectedOffsets`. The log passes uploads once loaded, so a batch sent
 * inline and the same one uploaded (under any id) digest alike; an entry still naming an upload counts its id. A request sent
 * once as JSON and retried as batches has another digest (409 on reuse), as the two are different bodies.
 * ```
 * digestInput := "shardlog-produce-batches-v1" batchCount (partition kind bytes){batchCount} expected…
 * kind        := 0 inline (bytes: the batch) · 1 upload (bytes: the id, then its length as a number)
 * ```
 */
export function batchesDigest(input: Pick<BatchesProduceInput, 'batches' | 'expectedOffsets'>): string {
  const { hash, number, bytes, text } = digestWriter();
  text('shardlog-produce-batches-v1');
  number(input.batches.length);
  for (const entry of input.batches) {
    number(entry.partition);
    if ('batch' in entry) {
      number(0);
      bytes(entry.batch.bytes);
    } else {
      number(1);
      text(entry.upload.id);
      number(entry.upload.length);
    }
  }
  expectedOffsets(number, input.expectedOffsets);
  return hash.digest('base64url');
}

function digestWriter() {
  const hash = createHash('sha256');
  const number = (n: number) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64BE(BigInt(n));
    hash.update(buffer);
  };
  const bytes = (b: Uint8Array) => {
    number(b.length);
    hash.update(b);
  };
  const text = (s: string) => bytes(Buffer.from(s, 'utf8'));
  return { hash, number, bytes, text };
}

function expectedOffsets(number: (n: number) => void, offsets: ReadonlyMap<number, number> | undefined): void {
  const expected = [...(offsets ?? new Map<number, number>())].sort(([a], [b]) => a - b);
  number(expected.length);
  for (const [partition, offset] of expected) {
    number(partition);
    number(offset);
  }
}
