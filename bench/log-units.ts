/**
 * Measures the DynamoDB capacity units that producing and fetching cost per MB of record payload, against
 * DynamoDB Local (which reports `ConsumedCapacity` as on-demand DynamoDB does) and s3rver.
 *
 *   npx tsx bench/log-units.ts [--mb 8] [--batch 100] [--record-bytes 1024] [--partitions 4]
 *
 * Workload: keyed 1 KB JSON records, produced in batches of `--batch` records per request (each request to one
 * partition, as the SDK producer batches), then read back from offset 0 by a consumer loop (limit 1000 per
 * fetch). Prints units per MB and requests per call; the payload MB counts the records' JSON value bytes.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { parseArgs } from 'node:util';
import { startDynamoDbLocal } from '../infra/local/dynamodb-local.js';
import { FAKE_CREDENTIALS, LOCAL_REGION } from '../infra/local/local-env.js';
import { startS3Local } from '../infra/local/s3-local.js';
import { DEFAULT_HOT_RETENTION_LIMIT_HOURS, DEFAULT_TIER_AFTER_MS } from '../lib/config.js';
import type { ProduceRecord } from '../lib/log/log-service.js';
import { createShardlog } from '../lib/shardlog.js';
import { ensureStorage } from '../lib/storage/bootstrap.js';
import { CapacityMeter } from '../lib/storage/capacity-meter.js';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '8' },
    batch: { type: 'string', default: '100' },
    'record-bytes': { type: 'string', default: '1024' },
    partitions: { type: 'string', default: '4' },
  },
});
const totalMb = Number(values.mb);
const batchSize = Number(values.batch);
const recordBytes = Number(values['record-bytes']);
const partitions = Number(values.partitions);

const utf8 = new TextEncoder();
const words = ['order', 'created', 'customer', 'shipped', 'sku', 'price', 'eur', 'warehouse', 'berlin', 'paid'];

/** A realistic-looking 1 KB JSON event: repeated field names, varied values (compresses like real JSON). */
function event(i: number): Uint8Array {
  const base = { id: `ord-${i}`, type: words[i % words.length], customer: `c-${(i * 7919) % 10_000}`, total: (i * 37) % 1000, lines: [] as unknown[] };
  let json = JSON.stringify(base);
  let n = 0;
  while (json.length < recordBytes - 60) {
    base.lines.push({ sku: `sku-${(i + n) % 977}`, qty: (n % 5) + 1, note: words[(i + n) % words.length] });
    n++;
    json = JSON.stringify(base);
  }
  return utf8.encode(json);
}

const dynamoLocal = await startDynamoDbLocal();
const s3Local = await startS3Local();
try {
  const dynamo = new DynamoDBClient({ endpoint: dynamoLocal.endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS });
  const s3 = new S3Client({ endpoint: s3Local.endpoint, region: LOCAL_REGION, credentials: FAKE_CREDENTIALS, forcePathStyle: true });
  const config = {
    logTable: 'bench-log',
    leaseTable: 'bench-leases',
    segmentBucket: 'bench-segments',
    tierAfterMs: DEFAULT_TIER_AFTER_MS,
    topicCacheMs: 60_000,
    s3ForcePathStyle: true,
    hotRetentionLimitHours: DEFAULT_HOT_RETENTION_LIMIT_HOURS,
  };
  await ensureStorage({ dynamo, s3 }, config);
  const meter = new CapacityMeter().attach(dynamo, s3);
  const engine = createShardlog({ doc: DynamoDBDocumentClient.from(dynamo), s3 }, config);
  await engine.topics.create({ name: 'bench', partitions, retentionHours: 168 });

  const totalRecords = Math.ceil((totalMb * 1024 * 1024) / recordBytes);
  let payloadBytes = 0;
  const requests = Math.ceil(totalRecords / batchSize);
  meter.reset();
  for (let r = 0; r < requests; r++) {
    const partition = r % partitions;
    const records: ProduceRecord[] = [];
    for (let i = 0; i < batchSize && r * batchSize + i < totalRecords; i++) {
      const value = event(r * batchSize + i);
      payloadBytes += value.length;
      records.push({ key: utf8.encode(`c-${i}`), value, valueIsJson: true, headers: {}, partition });
    }
    await engine.log.produce('bench', { records });
  }
  const produced = meter.totals();
  const mb = payloadBytes / (1024 * 1024);

  meter.reset();
  let fetches = 0;
  let fetchedRecords = 0;
  for (let p = 0; p < partitions; p++) {
    let offset = 0;
    for (;;) {
      const page = await engine.log.read('bench', p, {
        start: { kind: 'offset', offset },
        limit: 1000,
        maxBytes: 6 * 1024 * 1024,
        waitMs: 0,
        direction: 'forward',
      });
      fetches++;
      fetchedRecords += page.records.length;
      if (page.records.length === 0) break;
      offset = page.nextOffset;
    }
  }
  const fetched = meter.totals();
  const fmt = (n: number) => n.toFixed(2);
  console.log(`workload: ${totalRecords} records of ~${recordBytes} B JSON (${fmt(mb)} MB payload), ${batchSize} per produce request, ${partitions} partitions`);
  console.log(`produce: ${requests} requests, ${produced.dynamoRequests} DynamoDB requests ${JSON.stringify(produced.dynamoByCommand)}`);
  console.log(`produce: ${fmt(produced.writeUnits)} WCU, ${fmt(produced.readUnits)} RCU -> ${fmt(produced.writeUnits / mb)} WCU/MB, ${fmt(produced.readUnits / mb)} RCU/MB`);
  console.log(`fetch:   ${fetches} fetches (${fetchedRecords} records), ${fetched.dynamoRequests} DynamoDB requests ${JSON.stringify(fetched.dynamoByCommand)}`);
  console.log(`fetch:   ${fmt(fetched.readUnits)} RCU -> ${fmt(fetched.readUnits / mb)} RCU/MB (strongly consistent reads)`);
  console.log(`uncompressed baseline: ${fmt((1024 * 1024) / 1024)} WCU/MB for 1 KB items written one by one`);
  dynamo.destroy();
  s3.destroy();
} finally {
  await Promise.all([dynamoLocal.stop(), s3Local.stop()]);
}
