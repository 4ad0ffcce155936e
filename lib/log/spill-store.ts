import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PayloadTooLargeError, UnavailableError } from '../errors.js';
import { PRESIGNED_URL_SECONDS } from './upload-store.js';
import { spillObjectKey } from '../storage/prefixes.js';

/** TransactWriteItems carries at most 4 MB; keep the inline payload of one transaction below this. */
export const MAX_TRANSACTION_INLINE_BYTES = 3.5 * 1024 * 1024;

/**
 * Batches too large for a DynamoDB item (or for one transaction) live in the segment bucket under
 * `spill/` (lib/storage/prefixes.ts), and their batch item holds only the object's key. An object is written
 * before the append that points at it and is unreadable until then: a failed append leaves an orphan object,
 * never a record. Retention and reclaim delete the objects once their offsets are gone.
 */
export class SpillStore {
  private readonly s3: S3Client | undefined;
  private readonly bucket: string | undefined;

  private readonly now: () => number;

  /** Without a bucket, batches that need spilling are refused with 413. */
  constructor(options: { readonly s3?: S3Client; readonly bucket?: string; readonly now?: () => number }) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.now = options.now ?? Date.now;
  }

  /**
   * A presigned GET of a spilled batch's object, valid for {@link PRESIGNED_URL_SECONDS}: a reader hands it to
   * a client that fetches the bytes from S3 itself (docs/api.md, "Binary record batches"). It carries this
   * process's permission to read `spill/`, for that one key.
   */
  async presignGet(key: string): Promise<{ url: string; expiresAt: number }> {
    if (!this.s3 || !this.bucket) throw new Error(`spilled batch ${key} cannot be read: no bucket is configured`);
    const signedAt = this.now();
    const url = await getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: PRESIGNED_URL_SECONDS,
      signingDate: new Date(signedAt),
    });
    return { url, expiresAt: signedAt + PRESIGNED_URL_SECONDS * 1000 };
  }

  /**
   * Writes a batch's bytes to a fresh object of its partition; returns the key.
   * @throws PayloadTooLargeError when no bucket is configured.
   */
  async put(topicId: string, partition: number, id: string, bytes: Uint8Array): Promise<string> {
    if (!this.s3 || !this.bucket) {
      throw new PayloadTooLargeError(`a batch of ${bytes.length} bytes needs S3 spill storage, which is not configured`);
    }
    const key = spillObjectKey(topicId, partition, id);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes }));
    return key;
  }

  /**
   * The bytes of a spilled batch.
   * @throws UnavailableError (retriable) when retention removed the object while a reader held its item.
   */
  async load(key: string): Promise<Uint8Array> {
    if (!this.s3 || !this.bucket) throw new Error(`spilled batch ${key} cannot be read: no bucket is configured`);
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await object.Body!.transformToByteArray();
    } catch (error) {
      // Retention deletes a spilled batch's object once the batch is below the start offset; a read that
      // found the item just before that races it. A retry answers 416 (or reads the cold copy).
      if (error instanceof NoSuchKey) {
        throw new UnavailableError('a batch was removed by retention while it was being read; retry', { cause: error });
      }
      throw error;
    }
  }
}

/**
 * Which of an append's batches to spill, by their encoded sizes: every batch over `thresholdBytes` (`first`,
 * written in parallel), then, largest first, as many more as it takes to bring the inline rest within
 * `maxInlineBytes` (`then`, one after another). Indexes into `sizes`.
 */
export function chooseSpills(sizes: readonly number[], thresholdBytes: number, maxInlineBytes: number): { first: number[]; then: number[] } {
  const first = sizes.flatMap((size, i) => (size > thresholdBytes ? [i] : []));
  let inline = sizes.reduce((sum, size, i) => (size > thresholdBytes ? sum : sum + size), 0);
  const then: number[] = [];
  for (const i of [...sizes.keys()].sort((a, b) => sizes[b]! - sizes[a]!)) {
    if (inline <= maxInlineBytes) break;
    if (sizes[i]! > thresholdBytes) continue;
    inline -= sizes[i]!;
    then.push(i);
  }
  return { first, then };
}
