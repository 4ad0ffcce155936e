import { FencedError } from '../errors.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { DEFAULT_WAIT_MS, idlePauseMs } from './polling.js';
import { backoffDelayMs } from './retry.js';
import type { ShareAck, ShareAckResult, ShareAckType, ShareFetchRequest, SharedRecord } from './share-types.js';

export interface ShareConsumerOptions {
  /** Records per fetch (default 10 per unit of `concurrency`, at most 1,000). */
  maxRecords?: number;
  /** How long each fetched record stays locked to this member (default 30,000; the member renews it while it works). */
  lockMs?: number;
  /**
   * Long poll: how long a fetch waits for records (max 20,000). Default 0: a fetch that finds nothing is
   * followed by a 1 s pause instead (a waiting fetch keeps its function billed for the wait).
   */
  waitMs?: number;
  /** Where the group's subscription starts when `run()` creates it: `latest` (the server's default) or `earliest`. */
  from?: 'earliest' | 'latest';
  /**
   * Whether a handler's error may pass on a later delivery: true releases the record (it comes back, up to the
   * group's `maxDeliveries`), false rejects it (dead-lettered at once). Default: false only for an error whose
   * `retriable` property is `false` (as shardlog's and KafkaJS's errors carry it).
   */
  isRetriable?(error: unknown): boolean;
  /** Failures the member survives on its own: a fetch or an ack that failed, a receipt refused as `FENCED`. */
  onError?(error: unknown): void;
}

/** What `eachMessage` receives. */
export interface EachMessagePayload {
  topic: string;
  partition: number;
  record: SharedRecord;
  /** False once `stop()` was called: finish and return. */
  isRunning(): boolean;
  /** True once a renewal was refused: the lock was lost and the record may be with another member now. */
  isStale(): boolean;
}

export interface ShareRunOptions {
  group: string;
  topics: string[];
  /** Called per record. Returning accepts it; throwing releases or rejects it (`isRetriable`). */
  eachMessage(payload: EachMessagePayload): Promise<void>;
  /** Records handled at once (default 1). */
  concurrency?: number;
  /** Called when a fetch found no record to acquire. */
  onIdle?(): void;
}

/** The three calls a {@link ShareConsumer} makes; `ShardlogClient` has them, unit tests give a fake. */
export interface ShareConsumerCalls {
  subscribeShareGroup(group: string, topic: string, from?: 'earliest' | 'latest'): Promise<unknown>;
  shareFetch(group: string, request: ShareFetchRequest): Promise<{ records: SharedRecord[] }>;
  shareAck(group: string, acks: ShareAck[]): Promise<ShareAckResult[]>;
}

const DEFAULT_LOCK_MS = 30_000;
const RECORDS_PER_WORKER = 10;
const MAX_FETCH_RECORDS = 1_000;
/** Backoff after failed fetches grows up to this many doublings. */
const MAX_BACKOFF_ATTEMPT = 6;

/** One fetched record on its way: its handler's verdict once it has one, whether its lock was lost. */
interface InFlight {
  readonly record: SharedRecord;
  verdict?: ShareAckType;
  stale: boolean;
}

/**
 * A share-group member over HTTP (docs/api.md, "Share groups"), in the manner of KafkaJS's
 * `consumer.run({ eachMessage })` over Kafka 4.2 share groups:
 *
 * 1. subscribes the group to `topics` (idempotent), then fetches records under a lock;
 * 2. runs `eachMessage` on up to `concurrency` records at once; a record whose handler returns is accepted, one
 *    whose handler throws is released (retriable error: delivered again) or rejected (dead-lettered);
 * 3. every third of `lockMs` sends ONE ack call for the batch: the verdicts reached so far, and a `renew` of
 *    every record still waiting or in a handler, so a slow handler never loses its lock; the rest of the
 *    verdicts go in one call when the batch is done (one conditional write per partition on the server);
 * 4. on `stop()`, lets running handlers finish, releases the records not started (others get them at once)
 *    and sends the last verdicts; `run()` then resolves.
 *
 * At-least-once: a member that dies holding records loses nothing; the locks expire and others get them.
 *
 * @example
 * const mailer = client.shareConsumer({ from: 'earliest' });
 * process.on('SIGINT', () => void mailer.stop());
 * await mailer.run({ group: 'email-sender', topics: ['orders'], concurrency: 4, eachMessage: async ({ record }) => send(record.value) });
 */
export class ShareConsumer {
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private stopping = false;
  private readonly stopController = new AbortController();
  private finished: Promise<void> = Promise.resolve();
  private acking: Promise<void> = Promise.resolve();

  constructor(
    private readonly calls: ShareConsumerCalls,
    private readonly options: ShareConsumerOptions = {},
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Runs until `stop()`.
   * @throws the subscription's error (an unknown topic: TopicNotFoundError); Error when already running.
   */
  run(run: ShareRunOptions): Promise<void> {
    if (this.state !== 'idle') throw new Error('a ShareConsumer runs once');
    this.state = 'running';
    this.finished = this.loop(run).finally(() => {
      this.state = 'stopped';
    });
    return this.finished;
  }

  /** Stops after the running handlers return; resolves once `run()` has. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopController.abort(new Error('stopped'));
    await this.finished.catch(() => undefined);
  }

  private async loop(run: ShareRunOptions): Promise<void> {
    for (const topic of run.topics) await this.calls.subscribeShareGroup(run.group, topic, this.options.from);
    const concurrency = Math.max(1, run.concurrency ?? 1);
    const request: ShareFetchRequest = {
      maxRecords: this.options.maxRecords ?? Math.min(MAX_FETCH_RECORDS, RECORDS_PER_WORKER * concurrency),
      lockMs: this.options.lockMs ?? DEFAULT_LOCK_MS,
      waitMs: this.options.waitMs ?? DEFAULT_WAIT_MS,
    };
    let failures = 0;
    while (!this.stopping) {
      let records: SharedRecord[];
      try {
        records = (await this.calls.shareFetch(run.group, request)).records;
        failures = 0;
      } catch (error) {
        this.options.onError?.(error);
        await sleep(backoffDelayMs(Math.min(++failures, MAX_BACKOFF_ATTEMPT)), this.stopController.signal, this.clock).catch(() => undefined);
        continue;
      }
      if (records.length === 0) run.onIdle?.();
      if (this.stopping) break;
      if (records.length > 0) {
        await this.handle(run, records, concurrency, request.lockMs!);
        continue;
      }
      // Nothing to do and no long poll waited long enough: pause, rather than ask again at once.
      const pause = idlePauseMs(request.waitMs!);
      if (pause > 0) await sleep(pause, this.stopController.signal, this.clock).catch(() => undefined);
    }
  }

  /** One fetched batch: the handlers, the periodic ack call (verdicts so far, renewals), the last ack call. */
  private async handle(run: ShareRunOptions, records: SharedRecord[], concurrency: number, lockMs: number): Promise<void> {
    const batch: InFlight[] = records.map((record) => ({ record, stale: false }));
    const unsent = new Set(batch);
    let cancelTick = () => {};
    const tick = () => {
      this.flush(run.group, unsent, true);
      cancelTick = this.clock.schedule(tick, lockMs / 3);
    };
    cancelTick = this.clock.schedule(tick, lockMs / 3);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < batch.length; i = next++) {
        const item = batch[i]!;
        if (this.stopping) item.verdict = 'release';
        else item.verdict = await this.verdictOf(run, item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
    cancelTick();
    this.flush(run.group, unsent, false);
    await this.acking;
  }

  private async verdictOf(run: ShareRunOptions, item: InFlight): Promise<ShareAckType> {
    try {
      await run.eachMessage({
        topic: item.record.topic,
        partition: item.record.partition,
        record: item.record,
        isRunning: () => !this.stopping,
        isStale: () => item.stale,
      });
      return 'accept';
    } catch (error) {
      const retriable = this.options.isRetriable?.(error) ?? (error as { retriable?: unknown } | null)?.retriable !== false;
      return retriable ? 'release' : 'reject';
    }
  }

  /**
   * Queues one ack call: the verdicts of `unsent` reached so far (taken out of it) and, with `renew`, a renewal
   * of the others. Calls go one after another; a failed one is reported (the records come back when their locks
   * expire: at-least-once).
   */
  private flush(group: string, unsent: Set<InFlight>, renew: boolean): void {
    const final = [...unsent].filter((i) => i.verdict !== undefined && !i.stale);
    const renewing = renew ? [...unsent].filter((i) => i.verdict === undefined && !i.stale) : [];
    for (const i of unsent) if (i.verdict !== undefined) unsent.delete(i);
    const sent = [...final, ...renewing];
    if (sent.length === 0) return;
    const acks = sent.map(({ record, verdict }) => ({
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      receipt: record.receipt,
      type: verdict ?? ('renew' as const),
    }));
    this.acking = this.acking.then(async () => {
      try {
        const results = await this.calls.shareAck(group, acks);
        results.forEach((result, k) => {
          if (result.ok) return;
          const item = sent[k]!;
          if (item.verdict === undefined) item.stale = true;
          this.options.onError?.(new FencedError(result.error?.message ?? `receipt refused for ${result.topic}/${result.partition}@${result.offset}`));
        });
      } catch (error) {
        this.options.onError?.(error);
      }
    });
  }
}
