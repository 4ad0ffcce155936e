/**
 * Where a record goes when the producer does not name a partition.
 *
 * Keyed records: `toPositive(murmur2(keyBytes)) % partitionCount`, exactly as Kafka's Java
 * `DefaultPartitioner` / `BuiltInPartitioner.partitionForKey` places them, so a key lands on the same
 * partition number as it would in Kafka with the same partition count (string keys hash their UTF-8 bytes,
 * as Kafka's `StringSerializer` produces them).
 *
 * Keyless records: one partition for the whole request, like Kafka's sticky partitioner (KIP-480). A request
 * that touches one partition is a single conditional write instead of a transaction, which halves its write
 * cost; successive requests spread over the partitions.
 */

/** Kafka's `Utils.murmur2(byte[])`: MurmurHash2, seed 0x9747b28c, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (seed ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // The Java original's switch falls through from case 3 to case 1; spelled out here as three ifs.
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which fails for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition of a keyed record, as Kafka's DefaultPartitioner computes it. */
export function partitionFor(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/**
 * The partition for the keyless records of one request (sticky, KIP-480): chosen by `random` in [0, 1).
 * Injected randomness keeps this pure and testable.
 */
export function stickyPartition(partitionCount: number, random: () => number = Math.random): number {
  return Math.min(partitionCount - 1, Math.floor(random() * partitionCount));
}
