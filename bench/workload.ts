import { partitionFor } from '../lib/log/partitioner.js';

/**
 * The benchmark's records and producers: keyed JSON events of a fixed size, and a producer that batches them
 * per partition as Kafka's producer does (records accumulate per partition; a full batch is one request, so a
 * request never spans partitions and stays one conditional write).
 */

/** Deterministic PRNG (mulberry32), so two runs produce the same bytes and compress the same. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EVENT_TYPES = ['order.created', 'order.paid', 'order.shipped', 'order.delivered', 'order.cancelled', 'cart.updated', 'payment.failed', 'refund.issued', 'invoice.sent', 'customer.updated', 'stock.reserved', 'stock.released'];
const COUNTRIES = ['DE', 'FR', 'NL', 'BE', 'AT', 'CH', 'IT', 'ES', 'PT', 'PL', 'CZ', 'DK', 'SE', 'NO', 'FI', 'IE', 'GB', 'US', 'CA', 'MX', 'BR', 'AR', 'JP', 'KR', 'IN', 'AU', 'NZ', 'ZA', 'SG', 'AE'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'SEK'];
const CHANNELS = ['web', 'ios', 'android', 'pos', 'partner-api'];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'shop-pos/4.12.1 (build 8812; linux-arm64)',
];
// A vocabulary for free text (notes, addresses): enough words that text does not collapse to a few repeats.
const WORDS = (
  'account address after again against almost already also although always among amount another answer anyone ' +
  'anything apartment area around arrive article asked attention available away back balance bank basket before ' +
  'begin behind believe below better between beyond bill billing birthday black blue board body book both box ' +
  'branch brown building business buyer call campaign card care carrier case catalog center change charge check ' +
  'city claim clear close code color come comment company complete confirm contact corner cost could country ' +
  'coupon courier credit current customer damaged date day deliver delivery department deposit desk detail ' +
  'different discount door down dress during early east edition email end entrance every exchange express ' +
  'family fast field final floor follow footwear fragile free friday front full garden gate gift give glass ' +
  'green ground group handle happy heavy help here high hold home house invoice item jacket keep kitchen label ' +
  'large last late leave left letter level light limited line little local lock long main manager market ' +
  'member message middle monday morning north number office online open order other outside package pallet ' +
  'paper parcel partial payment phone pickup place please point post premium price print priority quick ' +
  'receipt receive reception red refund region remote replace request return right road room saturday second ' +
  'send service ship shipment shoes side signature size small south special standard station steel store ' +
  'street student sunday supplier table tax team thursday ticket tower track tuesday unit upstairs urgent ' +
  'value voucher wait warehouse wednesday week west white window winter yard yellow young zone'
).split(' ');

const pick = <T>(random: () => number, list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const hex = (random: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(random() * 16).toString(16);
  return s;
};
const alnum = (random: () => number, n: number) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(random() * 36).toString(36);
  return s;
};

/** Number of distinct keys (customers): records are keyed by customer, as an order stream would be. */
export const KEY_SPACE = 10_000;

export interface BenchRecord {
  readonly key: string;
  /** The JSON value; `JSON.stringify(value)` is exactly `recordBytes` long. */
  readonly value: unknown;
}

/**
 * An e-commerce event of exactly `recordBytes` bytes of JSON: random ids, timestamps, amounts and IP addresses
 * next to repeated field names and a limited vocabulary, which gzip compresses about as much as real business
 * events (about 4× for a batch of 100; the report prints the measured ratio). Deterministic for a given `random`.
 */
export function realisticEvent(random: () => number, sequence: number, recordBytes: number): BenchRecord {
  const customer = `cus_${Math.floor(random() * KEY_SPACE).toString(36).padStart(4, '0')}`;
  const items: unknown[] = [];
  const value: Record<string, unknown> = {
    eventId: `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${hex(random, 4)}-${hex(random, 12)}`,
    type: pick(random, EVENT_TYPES),
    occurredAt: new Date(1_767_225_600_000 + sequence * 37 + Math.floor(random() * 1000)).toISOString(),
    sequence,
    customer: { id: customer, country: pick(random, COUNTRIES), tier: pick(random, ['standard', 'silver', 'gold', 'platinum']) },
    order: {
      id: `ord_${alnum(random, 12)}`,
      currency: pick(random, CURRENCIES),
      total: Math.round(random() * 100_000) / 100,
      channel: pick(random, CHANNELS),
      items,
    },
    session: {
      ip: `${1 + Math.floor(random() * 223)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`,
      userAgent: pick(random, USER_AGENTS),
    },
    note: '',
  };
  const size = () => JSON.stringify(value).length;
  while (size() < recordBytes - 160) {
    items.push({ sku: `SKU-${Math.floor(random() * 1_000_000).toString().padStart(6, '0')}`, qty: 1 + Math.floor(random() * 5), price: Math.round(random() * 20_000) / 100 });
  }
  let note = '';
  while (note.length < recordBytes) note += (note ? ' ' : '') + pick(random, WORDS);
  value.note = note.slice(0, Math.max(0, recordBytes - size()));
  return { key: customer, value };
}

/** The lead's first generator (bench/log-units.ts, now folded in here): few distinct values, compresses ~20×. */
export function repetitiveEvent(sequence: number, recordBytes: number): BenchRecord {
  const words = ['order', 'created', 'customer', 'shipped', 'sku', 'price', 'eur', 'warehouse', 'berlin', 'paid'];
  const base = { id: `ord-${sequence}`, type: words[sequence % words.length], customer: `c-${(sequence * 7919) % 10_000}`, total: (sequence * 37) % 1000, lines: [] as unknown[], pad: '' };
  let n = 0;
  while (JSON.stringify(base).length < recordBytes - 60) {
    base.lines.push({ sku: `sku-${(sequence + n) % 977}`, qty: (n % 5) + 1, note: words[(sequence + n) % words.length] });
    n++;
  }
  base.pad = 'x'.repeat(Math.max(0, recordBytes - JSON.stringify(base).length));
  return { key: base.customer, value: base };
}

/** A produce request body for one partition. */
export interface ProduceBatch {
  readonly partition: number;
  readonly records: readonly BenchRecord[];
  /** Sum of the records' JSON value bytes. */
  readonly payloadBytes: number;
}

/**
 * Batches keyed records per partition (murmur2, as the server and Kafka place keys) and hands out a batch
 * whenever one partition has `batchSize` records.
 */
export class BatchingProducer {
  private readonly buffers: BenchRecord[][];
  private readonly random: () => number;
  private readonly utf8 = new TextEncoder();
  private sequence: number;

  constructor(
    private readonly options: { readonly partitions: number; readonly batchSize: number; readonly recordBytes: number; readonly seed: number },
  ) {
    this.buffers = Array.from({ length: options.partitions }, () => []);
    this.random = prng(options.seed);
    this.sequence = options.seed * 1_000_000_000;
  }

  /** The next full batch. */
  next(): ProduceBatch {
    for (;;) {
      const record = realisticEvent(this.random, this.sequence++, this.options.recordBytes);
      const partition = partitionFor(this.utf8.encode(record.key), this.options.partitions);
      const buffer = this.buffers[partition] as BenchRecord[];
      buffer.push(record);
      if (buffer.length === this.options.batchSize) {
        this.buffers[partition] = [];
        return { partition, records: buffer, payloadBytes: buffer.length * this.options.recordBytes };
      }
    }
  }
}
