import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { HOT_COPY_GRACE_MS } from '../lib/maintenance/maintenance-steps.js';
import { offsetSk, partitionPk } from '../lib/storage/log-table.js';
import { summarize, type Sample } from './measure.js';
import { MIB } from './prices.js';
import type { BenchResults } from './report.js';
import { BATCH, createTopic, expectOk, fetchPayload, probe, produceConcurrently, RECORD_BYTES, round, type BenchContext } from './harness.js';
import { prng } from './workload.js';

/** Longer than the hot-retention limit (12 weeks), so this topic is tiered to S3. */
const ARCHIVE_RETENTION_HOURS = 2400;

export interface TieringResults {
  readonly tiering: BenchResults['tiering'];
  readonly coldVsHot: BenchResults['coldVsHot'];
  /** Every maintenance pass that tiered the archive topic (the bill prices their work). */
  readonly passes: readonly Sample[];
}

/**
 * Sections 5 and 6: the maintenance pass moves a long-retention topic to S3 (the hidden cost), then reads of
 * the same offsets hot and cold. A topic whose retention is within hotRetentionLimitHours (the reference
 * workload's 7 days) is never tiered: its batches carry a TTL from the start. Tiering applies to longer
 * retentions, measured on a 100-day topic. `referenceTopic`: the scheduled pass over it is measured too.
 */
export async function measureTiering(ctx: BenchContext, referenceTopic: string): Promise<TieringResults> {
  const { plan, prober, log } = ctx;
  const archive = 'bench-archive';
  const archiveId = await createTopic(ctx, archive, plan.partitions, ARCHIVE_RETENTION_HOURS);
  const archiveBatches = Math.ceil((plan.archiveMiB * MIB) / (BATCH * RECORD_BYTES) / plan.producers);
  log(`tiering: ${plan.archiveMiB} MiB into '${archive}' (retention ${ARCHIVE_RETENTION_HOURS} h), hot fetch probes, then POST /v1/admin/maintenance {"tierOlderThanMs":0} until nothing is left`);
  const archived = await produceConcurrently(ctx, archive, archiveBatches, 500);
  const archiveOffsets = archived.boundaries[0] ?? [];
  const pickArchive = prng(11);
  const archiveProbeOffsets = Array.from({ length: plan.probes }, () => archiveOffsets[Math.floor(pickArchive() * archiveOffsets.length)] ?? 0);
  const fetchArchive = (what: string) => async (i: number) => {
    const { sample, answer } = await prober.call('GET', `/v1/topics/${archive}/partitions/0/records?offset=${archiveProbeOffsets[i]}&limit=1000`, undefined, fetchPayload);
    expectOk(answer, what);
    return sample;
  };
  const archiveHotSamples = await probe(plan.probes, fetchArchive('archive fetch probe'));
  const passes: Sample[] = [];
  let tieredRecords = 0;
  let tieredBytes = 0;
  let tieredSegments = 0;
  for (let pass = 0; pass < 200; pass++) {
    const { sample, answer } = await prober.call('POST', '/v1/admin/maintenance', { topic: archive, tierOlderThanMs: 0 });
    expectOk(answer, 'maintenance');
    passes.push(sample);
    const report = answer.body as { tiered: { segments: number; records: number; bytes: number } };
    tieredRecords += report.tiered.records;
    tieredBytes += report.tiered.bytes;
    tieredSegments += report.tiered.segments;
    if (report.tiered.records === 0) break;
  }
  // The scheduled pass over the reference topic (7-day retention: nothing to tier, retention bookkeeping only).
  const idleSamples = await probe(5, async () => (await prober.call('POST', '/v1/admin/maintenance', { topic: referenceTopic })).sample);
  const payloadMiB = (tieredRecords * RECORD_BYTES) / MIB;
  const sum = (pick: (s: Sample) => number) => passes.reduce((acc, s) => acc + pick(s), 0);
  const unitsByCommand: Record<string, number> = {};
  const dynamoByCommand: Record<string, number> = {};
  for (const s of passes) {
    for (const [k, v] of Object.entries(s.unitsByCommand)) unitsByCommand[k] = (unitsByCommand[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.work.dynamoByCommand)) dynamoByCommand[k] = (dynamoByCommand[k] ?? 0) + v;
  }
  const tiering: BenchResults['tiering'] = {
    passes: passes.length,
    segments: tieredSegments,
    records: tieredRecords,
    payloadMiB: round(payloadMiB),
    segmentBytes: tieredBytes,
    perMiB: {
      writeUnits: round(sum((s) => s.work.writeUnits) / payloadMiB, 3),
      readUnits: round(sum((s) => s.work.readUnits) / payloadMiB, 3),
      dynamoRequests: round(sum((s) => s.work.dynamoRequests) / payloadMiB, 3),
      s3Puts: round(sum((s) => s.work.s3ByCommand.PutObjectCommand ?? 0) / payloadMiB, 4),
      // The TTL update of each hot item (UpdateItem) is billed by the item's size: a second write of the payload.
      unitsByCommand: Object.fromEntries(Object.entries(unitsByCommand).map(([k, v]) => [k, round(v / payloadMiB, 3)])),
    },
    dynamoByCommand,
    passLatencyMs: summarize(passes).latencyMs,
    idlePass: summarize(idleSamples),
  };

  // After tiering, the hot copies live for HOT_COPY_GRACE_MS (then TTL deletes them, and DynamoDB Local does not
  // run TTL). The bench deletes partition 0's hot copies itself, as TTL would, so reads must go to S3.
  log(`cold reads: deleting '${archive}' partition 0 hot copies (as TTL would after the grace period), then fetching`);
  const deleted = await deleteHotCopies(ctx, archiveId, 0);
  const coldSamples = await probe(plan.probes, fetchArchive('cold fetch'));
  return {
    tiering,
    coldVsHot: { hotCopiesDeleted: deleted, hotCopyGraceMs: HOT_COPY_GRACE_MS, hot: summarize(archiveHotSamples), cold: summarize(coldSamples), firstColdRead: coldSamples[0] },
    passes,
  };
}

/** Deletes the batch items of one partition with the bench's own client (as TTL would); returns how many. */
async function deleteHotCopies(ctx: BenchContext, topicId: string, partition: number): Promise<number> {
  const table = ctx.stack.config.logTable;
  let deleted = 0;
  let lastKey: Record<string, unknown> | undefined;
  do {
    const page = await ctx.benchDoc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': partitionPk(topicId, partition), ':lo': offsetSk(0), ':hi': offsetSk(Number.MAX_SAFE_INTEGER) },
        ProjectionExpression: 'pk, sk',
        ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
      }),
    );
    const keys = page.Items ?? [];
    for (let i = 0; i < keys.length; i += 25) {
      await ctx.benchDoc.send(new BatchWriteCommand({ RequestItems: { [table]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }));
    }
    deleted += keys.length;
    lastKey = page.LastEvaluatedKey;
  } while (lastKey);
  return deleted;
}
