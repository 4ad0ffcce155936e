import { randomBytes } from 'node:crypto';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MAX_UPLOAD_BATCH_BYTES } from '../contract/limits.js';
import { InvalidRequestError } from '../errors.js';
import { uploadObjectKey } from '../storage/prefixes.js';

/**
 * How long a presigned URL (an upload's PUT, a spilled batch's GET) stays valid: long enough to move 16 MiB on
 * a slow link, short enough that a URL seen in a log is soon worthless. A presigned URL also dies with the
 * credentials that signed it (a Lambda role's session), whichever comes first.
 */
export const PRESIGNED_URL_SECONDS = 300;

/** An id of an upload: 16 random bytes, base64url. */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{22}$/;

/** What a client needs to upload a batch straight to S3: a presigned PUT of exactly `length` bytes. */
export interface UploadTicket {
  /** Names the upload in the append that follows (`recordBatches[i].upload`). */
  readonly upload: string;
  readonly url: string;
  readonly method: 'PUT';
  /** Headers the PUT must carry as they are (they are signed). */
  readonly headers: Readonly<Record<string, string>>;
  readonly length: number;
  /** Epoch ms after which the URL is refused. */
  readonly expiresAt: number;
}

/**
 * Batches uploaded by clients (lib/storage/prefixes.ts, `upload/`). Objects here are never referenced by the
 * log: an append reads one, checks it (lib/log/batch-validation.ts) and stores its own copy, so an upload that
 * is never appended, appended twice or overwritten after the append changes nothing, and a lifecycle rule
 * removes them all after a day (infra/stateful-stack.ts).
 */
export interface UploadStore {
  /** A presigned PUT for a new upload of `length` bytes to the topic incarnation `topicId`. */
  presignPut(topicId: string, length: number): Promise<UploadTicket>;
  /**
   * The bytes of an upload, `length` of them.
   * @throws InvalidRequestError (400) when the upload is missing or not `length` bytes long.
   */
  load(topicId: string, upload: string, length: number): Promise<Uint8Array>;
}

/** {@link UploadStore} in the segment bucket. */
export class S3UploadStore implements UploadStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly now: () => number;

  constructor(options: { readonly s3: S3Client; readonly bucket: string; readonly now?: () => number }) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    this.now = options.now ?? Date.now;
  }

  async presignPut(topicId: string, length: number): Promise<UploadTicket> {
    const upload = randomBytes(16).toString('base64url');
    const signedAt = this.now();
    // Content-Length is signed: S3 refuses a PUT of any other size, so a ticket cannot store more than it says.
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: uploadObjectKey(topicId, upload), ContentLength: length });
    const url = await getSignedUrl(this.s3, command, {
      expiresIn: PRESIGNED_URL_SECONDS,
      signingDate: new Date(signedAt),
      signableHeaders: new Set(['content-length']),
    });
    return { upload, url, method: 'PUT', headers: { 'content-length': String(length) }, length, expiresAt: signedAt + PRESIGNED_URL_SECONDS * 1000 };
  }

  async load(topicId: string, upload: string, length: number): Promise<Uint8Array> {
    const key = uploadObjectKey(topicId, upload);
    let bytes: Uint8Array;
    try {
      // One byte more than announced: an object of another size shows without reading all of it.
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${length}` }));
      bytes = await object.Body!.transformToByteArray();
    } catch (error) {
      // An empty object has no byte 0: S3 answers 416 InvalidRange, which says the same as a short object.
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) {
        throw new InvalidRequestError(`upload '${upload}' is empty, not ${length} bytes as the append says; nothing was appended`, { cause: error, details: { upload, length } });
      }
      if (!(error instanceof NoSuchKey)) throw error;
      throw new InvalidRequestError(`upload '${upload}' does not exist (never uploaded, or older than a day); nothing was appended`, {
        cause: error,
        details: { upload },
      });
    }
    if (bytes.length !== length) {
      throw new InvalidRequestError(`upload '${upload}' is ${bytes.length > length ? 'longer' : `${bytes.length} bytes, not`} ${length} bytes as the append says; nothing was appended`, {
        details: { upload, length },
      });
    }
    return bytes;
  }
}

/** @throws InvalidRequestError unless 1 ≤ length ≤ {@link MAX_UPLOAD_BATCH_BYTES}. */
export function checkUploadLength(length: unknown, field: string): number {
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 1 || length > MAX_UPLOAD_BATCH_BYTES) {
    throw new InvalidRequestError(`${field} must be an integer from 1 to ${MAX_UPLOAD_BATCH_BYTES} (bytes of the batch)`, { details: { field } });
  }
  return length;
}
