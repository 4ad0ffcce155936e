import { OffsetOutOfRangeError, PartitionNotFoundError, TopicNotFoundError } from '../../../lib/errors.js';
import type { GroupLog } from '../../../lib/groups/context.js';
import { GroupService, type GroupServiceOptions } from '../../../lib/groups/group-service.js';
import type { StoredRecord } from '../../../lib/log/batch-format.js';
import type { PartitionBounds, ReadOptions, ReadResult } from '../../../lib/log/log-types.js';
import { wireSize } from '../../../lib/log/wire-size.js';
import type { Topic, TopicStore } from '../../../lib/topics/topic.js';
import { MemoryLeaseStore } from '../../support/memory-lease-store.js';

/**
 * Topics in memory, with a cache that can fall behind: {@link FakeTopics.cache} freezes what a plain `get`
 * answers for a name (as a container's topic cache does), while `{ fresh: true }` always reads the store.
 */
export class FakeTopics implements Pick<TopicStore, 'get'> {
  private readonly stored = new Map<string, Topic>();
  private readonly cached = new Map<string, Topic | undefined>();
  private incarnations = 0;
  /** Every read, in order, and whether it went past the cache. */
  readonly reads: Array<{ name: string; fresh: boolean }> = [];

  create(name: string, partitions: number): Topic {
    const topic: Topic = { name, topicId: `${name}-X${++this.incarnations}`, partitions, retentionHours: 168, createdAt: 0 };
    this.stored.set(name, topic);
    return topic;
  }

  delete(name: string): void {
    this.stored.delete(name);
  }

  /** From now on a plain `get` of `name` answers what is stored now (undefined: not found). */
  cache(name: string): void {
    this.cached.set(name, this.stored.get(name));
  }

  async get(name: string, options: { readonly fresh?: boolean } = {}): Promise<Topic> {
    const fresh = options.fresh ?? false;
    this.reads.push({ name, fresh });
    const topic = !fresh && this.cached.has(name) ? this.cached.get(name) : this.stored.get(name);
    if (!topic) throw new TopicNotFoundError(name);
    return topic;
  }
}

/**
 * The log as the coordinator sees it, in memory: partitions by incarnation (`topicId`), each a start offset
 * (retention moves it) and its records. A long poll never sleeps: {@link FakeLog.onWait} decides at once
 * whether a record arrived (and may append one).
 */
export class FakeLog implements GroupLog {
  private readonly partitions = new Map<string, { start: number; records: StoredRecord[] }>();
  /** Every long poll, with the positions it waited on. */
  readonly waits: Array<{ positions: Array<{ topic: string; partition: number; offset: number }>; waitMs: number }> = [];
  onWait: () => boolean = () => false;

  /** Appends `count` records of `bytes` each, timestamped `timestamp`, `timestamp + 1`, … by default. */
  append(topic: Topic, partition: number, count: number, options: { timestamp?: number; bytes?: number } = {}): void {
    const p = this.partition(topic, partition);
    for (let i = 0; i < count; i++) {
      const offset = p.start + p.records.length;
      p.records.push({
        offset,
        timestamp: (options.timestamp ?? 1_000) + offset,
        key: null,
        value: new Uint8Array(options.bytes ?? 8).fill(0x61),
        valueIsJson: false,
        headers: {},
      });
    }
  }

  /** Retention: records below `startOffset` are gone. */
  expire(topic: Topic, partition: number, startOffset: number): void {
    const p = this.partition(topic, partition);
    p.records = p.records.filter((r) => r.offset >= startOffset);
    p.start = startOffset;
  }

  async bounds(topic: Topic, partition: number): Promise<PartitionBounds> {
    const p = this.partition(topic, partition);
    return { startOffset: p.start, endOffset: p.start + p.records.length };
  }

  async checkOffset(topic: Topic, partition: number, offset: number): Promise<void> {
    const { startOffset, endOffset } = await this.bounds(topic, partition);
    if (offset < startOffset || offset > endOffset) throw new OffsetOutOfRangeError(offset, startOffset, endOffset);
  }

  async offsetForTimestamp(topic: Topic, partition: number, timestamp: number): Promise<number> {
    const p = this.partition(topic, partition);
    return p.records.find((r) => r.timestamp >= timestamp)?.offset ?? p.start + p.records.length;
  }

  async read(topic: Topic, partition: number, options: ReadOptions): Promise<ReadResult> {
    const { startOffset, endOffset } = await this.bounds(topic, partition);
    const { start } = options;
    const from =
      start.kind === 'offset'
        ? start.offset
        : start.kind === 'earliest'
          ? startOffset
          : start.kind === 'latest'
            ? endOffset
            : await this.offsetForTimestamp(topic, partition, start.timestamp);
    if (from < startOffset || from > endOffset) throw new OffsetOutOfRangeError(from, startOffset, endOffset);
    const records: StoredRecord[] = [];
    let bytes = 0;
    for (const record of this.partition(topic, partition).records.filter((r) => r.offset >= from)) {
      const size = wireSize(record, options.encoding);
      if (records.length >= options.limit || (records.length > 0 && bytes + size > options.maxBytes)) break;
      records.push(record);
      bytes += size;
    }
    return { records, nextOffset: from + records.length, startOffset, endOffset };
  }

  async waitForAny(positions: ReadonlyArray<{ topic: Topic; partition: number; offset: number }>, waitMs: number): Promise<boolean> {
    this.waits.push({ positions: positions.map((p) => ({ topic: p.topic.name, partition: p.partition, offset: p.offset })), waitMs });
    return this.onWait();
  }

  private partition(topic: Topic, partition: number): { start: number; records: StoredRecord[] } {
    if (partition >= topic.partitions) throw new PartitionNotFoundError(topic.name, partition, topic.partitions);
    const key = `${topic.topicId}#${partition}`;
    let p = this.partitions.get(key);
    if (!p) this.partitions.set(key, (p = { start: 0, records: [] }));
    return p;
  }
}

/**
 * A {@link GroupService} over in-memory fakes, with a clock the test moves and lease tokens `T1`, `T2`, … in
 * the order they are drawn.
 */
export function groupHarness(options: Partial<GroupServiceOptions> = {}) {
  const clock = { now: 1_000_000 };
  let tokens = 0;
  const store = new MemoryLeaseStore();
  const topics = new FakeTopics();
  const log = new FakeLog();
  const groups = new GroupService({
    store,
    topics,
    log,
    now: () => clock.now,
    newToken: () => `T${++tokens}`,
    ...options,
  });
  return { groups, store, topics, log, clock };
}
