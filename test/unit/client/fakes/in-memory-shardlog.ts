import { Consumer, type ConsumerOptions } from '../../../../lib/client/consumer.js';
import type { CliClient } from '../../../../lib/client/cli/io.js';
import { Producer, type ProducerOptions } from '../../../../lib/client/producer.js';
import type {
  CreateTopicRequest,
  FetchOptions,
  FetchResponse,
  MaintenanceRequest,
  MaintenanceResponse,
  TopicDescription,
  TopicSummary,
} from '../../../../lib/client/types.js';
import { FakeClock } from './fake-clock.js';
import { InMemoryGroups } from './in-memory-groups.js';
import { InMemoryLog } from './in-memory-log.js';

/**
 * Every call the CLI makes ({@link CliClient}), in memory: an {@link InMemoryLog} and {@link InMemoryGroups}
 * on one {@link FakeClock}, with the real `Producer` and `Consumer` on top.
 */
export class InMemoryShardlog implements CliClient {
  readonly clock = new FakeClock();
  readonly log = new InMemoryLog(this.clock);
  readonly groups = new InMemoryGroups(this.log);
  /** The admin calls made, with their arguments (produce, fetch and group calls are in `log` and `groups`). */
  readonly adminCalls: Array<{ call: string; args: unknown[] }> = [];

  async createTopic(request: CreateTopicRequest): Promise<TopicDescription> {
    this.adminCalls.push({ call: 'createTopic', args: [request] });
    this.log.createTopic(request.name, request.partitions, request.retentionHours);
    return this.log.describeTopic(request.name);
  }

  async listTopics(): Promise<TopicSummary[]> {
    return [...this.log.topics].map(([name, t]) => ({ name, partitions: t.partitions.length }));
  }

  describeTopic(topic: string): Promise<TopicDescription> {
    return this.log.describeTopic(topic);
  }

  async deleteTopic(topic: string): Promise<void> {
    this.log.topic(topic);
    this.log.topics.delete(topic);
  }

  fetch(topic: string, partition: number, options?: FetchOptions, signal?: AbortSignal): Promise<FetchResponse> {
    return this.log.fetch(topic, partition, options, signal);
  }

  producer(options?: ProducerOptions): Producer {
    return new Producer(this.log, options, this.clock);
  }

  consumer(options?: ConsumerOptions): Consumer {
    return new Consumer(this.groups, options, this.clock);
  }

  listGroups = () => this.groups.listGroups();
  describeGroup = (group: string) => this.groups.describeGroup(group);
  subscribe = (group: string, topic: string) => this.groups.subscribe(group, topic);
  unsubscribe = (group: string, topic: string) => this.groups.unsubscribe(group, topic);
  deleteGroup = (group: string) => this.groups.deleteGroup(group);

  async resetOffsets(...args: Parameters<InMemoryGroups['resetOffsets']>) {
    this.adminCalls.push({ call: 'resetOffsets', args });
    return this.groups.resetOffsets(...args);
  }

  async runMaintenance(request: MaintenanceRequest = {}): Promise<MaintenanceResponse> {
    this.adminCalls.push({ call: 'runMaintenance', args: [request] });
    return { tiered: { segments: 0, records: 0, bytes: 0 }, expired: { records: 0, segments: 0 } };
  }

  // Share groups are not modelled in memory: their CLI commands run against the local stack
  // (test/integration/share-groups/cli.test.ts).
  shareConsumer(): never {
    throw new Error('share groups are not in the in-memory fake');
  }
  listShareGroups = async () => [];
  describeShareGroup(): never {
    throw new Error('share groups are not in the in-memory fake');
  }
  deleteShareGroup(): never {
    throw new Error('share groups are not in the in-memory fake');
  }
}
