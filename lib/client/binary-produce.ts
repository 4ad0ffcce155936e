import { randomUUID } from 'node:crypto';
import { InvalidRequestError, UnavailableError } from '../errors.js';
import { BinaryRequestBody, seg, type HttpClient } from './http-client.js';
import type { ProduceOptions, ProduceRecord, ProduceResponse, TopicDescription } from './types.js';
import { BATCHES_MEDIA_TYPE, encodeProduce } from './wire.js';

/**
 * A binary produce uploads a batch of at least this many bytes (compressed) to S3 itself: its bytes then pass
 * through no function, for two small requests more (the ticket, the PUT to S3).
 */
export const UPLOAD_MIN_BYTES = 1024 * 1024;

/** How long a topic's partition count is trusted by a binary produce before it is read again. */
const PARTITION_COUNT_MAX_AGE_MS = 60_000;

/**
 * Produces as stored batches (docs/api.md, "Binary record batches"), one per partition, encoded and compressed
 * here: what `ShardlogClient.produce` does with `format: 'binary'` (its Producer's default). Partitions are
 * chosen as the server would (an explicit one, else the key's, else one per request); a record without a
 * timestamp gets this process's clock the first time it is sent, so a retry sends the same bytes.
 */
export class BinaryProduce {
  private readonly partitionCounts = new Map<string, { partitions: number; at: number }>();
  /** The timestamp each record got when first encoded (a retry must carry the same bytes). */
  private readonly stamped = new WeakMap<ProduceRecord, number>();

  constructor(
    private readonly http: HttpClient,
    private readonly describeTopic: (topic: string) => Promise<TopicDescription>,
  ) {}

  /** `POST /v1/topics/{topic}/records` with stored batches; placed again once if the partition count was stale. */
  async produce(topic: string, records: ProduceRecord[], options: ProduceOptions): Promise<ProduceResponse> {
    try {
      return await this.produceOnce(topic, records, options);
    } catch (error) {
      // Placed by a stale partition count: nothing was appended; read the count again and place them anew.
      if (!(error instanceof InvalidRequestError) || error.details.field !== 'partitionCount') throw error;
      this.partitionCounts.delete(topic);
      return this.produceOnce(topic, records, options);
    }
  }

  private async produceOnce(topic: string, records: ProduceRecord[], options: ProduceOptions): Promise<ProduceResponse> {
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    const partitions = records.every((r) => r.partition !== undefined) ? 1 : await this.partitionCount(topic);
    const timestampOf = (record: ProduceRecord): number => {
      if (record.timestamp !== undefined) return record.timestamp;
      let stamp = this.stamped.get(record);
      if (stamp === undefined) this.stamped.set(record, (stamp = Date.now()));
      return stamp;
    };
    const encoded = encodeProduce(records, {
      partitions,
      idempotencyKey,
      timestampOf,
      ...(options.encoding ? { encoding: options.encoding } : {}),
      ...(options.expectedOffsets ? { expectedOffsets: options.expectedOffsets } : {}),
    });
    // Batches large enough to pay for two more requests go straight to S3 (docs/api.md, "Binary record batches").
    const uploads = new Map<number, string>();
    await Promise.all(
      encoded.batches.map(async ({ bytes }, i) => {
        if (bytes.length >= UPLOAD_MIN_BYTES) uploads.set(i, await this.upload(topic, bytes, options.signal));
      }),
    );
    const response = await this.http.request<ProduceResponse>('POST', `/v1/topics/${seg(topic)}/records`, {
      body: new BinaryRequestBody(uploads.size > 0 ? encoded.envelope(uploads) : encoded.body, BATCHES_MEDIA_TYPE),
      headers: { 'idempotency-key': idempotencyKey },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return encoded.order(response);
  }

  /** Uploads one stored batch with a presigned PUT (`POST /v1/topics/{topic}/uploads`); returns its upload id. */
  private async upload(topic: string, bytes: Uint8Array, signal?: AbortSignal): Promise<string> {
    const ticket = await this.http.request<{ upload: string; url: string; headers: Record<string, string> }>('POST', `/v1/topics/${seg(topic)}/uploads`, {
      body: { length: bytes.length },
      ...(signal ? { signal } : {}),
    });
    const response = await fetch(ticket.url, { method: 'PUT', headers: ticket.headers, body: bytes, ...(signal ? { signal } : {}) });
    if (!response.ok) throw new UnavailableError(`the upload of a batch to S3 answered HTTP ${response.status}`);
    return ticket.upload;
  }

  private async partitionCount(topic: string): Promise<number> {
    const known = this.partitionCounts.get(topic);
    if (known && Date.now() - known.at < PARTITION_COUNT_MAX_AGE_MS) return known.partitions;
    const { partitions } = await this.describeTopic(topic);
    this.partitionCounts.set(topic, { partitions, at: Date.now() });
    return partitions;
  }
}
