import { MAX_RECORDS_PER_REQUEST, MAX_UPLOAD_BATCH_BYTES } from '../contract/limits.js';
import { InvalidRequestError, PayloadTooLargeError } from '../errors.js';
import type { Topic } from '../topics/topic.js';
import { validateBatch, type ValidatedBatch } from './batch-validation.js';
import type { BatchToProduce } from './log-types.js';
import type { UploadStore } from './upload-store.js';

/**
 * The batches of a produce sent as stored, each with its bytes: uploads are read from S3 and checked as the
 * HTTP boundary checked the inline ones (`validateBatch`, bounded by {@link MAX_UPLOAD_BATCH_BYTES}), in
 * parallel. Refuses a partition named twice (one batch per partition and request: an append writes one item
 * per partition) and more than {@link MAX_RECORDS_PER_REQUEST} records in all.
 * @throws InvalidRequestError, PayloadTooLargeError; nothing has been written.
 */
export async function loadUploads(
  topic: Topic,
  entries: readonly BatchToProduce[],
  uploads: UploadStore | undefined,
): Promise<Array<{ partition: number; batch: ValidatedBatch }>> {
  const seen = new Set<number>();
  for (const [i, entry] of entries.entries()) {
    if (seen.has(entry.partition)) {
      throw new InvalidRequestError(`recordBatches[${i}] names partition ${entry.partition} again; send one batch per partition`);
    }
    seen.add(entry.partition);
  }
  let firstIndex = 0;
  const starts = entries.map((entry) => {
    const start = firstIndex;
    firstIndex += 'batch' in entry ? entry.batch.count : 0;
    return start;
  });
  const batches = await Promise.all(
    entries.map(async (entry, i) => {
      if ('batch' in entry) return { partition: entry.partition, batch: entry.batch };
      if (!uploads) throw new InvalidRequestError('uploads to S3 are not configured here; send the batch in the request');
      const bytes = await uploads.load(topic.topicId, entry.upload.id, entry.upload.length);
      return { partition: entry.partition, batch: validateBatch(bytes, `recordBatches[${i}]`, starts[i]!, MAX_UPLOAD_BATCH_BYTES) };
    }),
  );
  const records = batches.reduce((sum, b) => sum + b.batch.count, 0);
  if (records > MAX_RECORDS_PER_REQUEST) {
    throw new PayloadTooLargeError(`a request holds at most ${MAX_RECORDS_PER_REQUEST} records, got ${records}`, {
      details: { limitRecords: MAX_RECORDS_PER_REQUEST },
    });
  }
  return batches;
}
