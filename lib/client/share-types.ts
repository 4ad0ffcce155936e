import type { ConsumedRecord } from './types.js';

/*
 * The share-group bodies of docs/api.md ("Share groups (v1.1)"), as the client sends and receives them.
 */

/** `POST /v1/share-groups/{group}/fetch` */
export interface ShareFetchRequest {
  /** Records to acquire at most (default 100, max 1,000). */
  maxRecords?: number;
  /** How long the records stay locked to this fetch's receipt (default 30,000; 1,000..43,200,000). */
  lockMs?: number;
  /** Long poll: wait up to this long for a record (max 20,000). */
  waitMs?: number;
  encoding?: 'json' | 'base64';
}

/** A record a share-group fetch acquired: the record, where it is from, and the receipt that holds it. */
export interface SharedRecord extends ConsumedRecord {
  topic: string;
  partition: number;
  /** How many times the record has been acquired, this time included. */
  deliveryCount: number;
  /** Fences every acknowledgement of this delivery. */
  receipt: string;
}

export type ShareAckType = 'accept' | 'release' | 'reject' | 'renew';

export interface ShareAck {
  topic: string;
  partition: number;
  offset: number;
  receipt: string;
  type: ShareAckType;
}

export interface ShareAckResult {
  topic: string;
  partition: number;
  offset: number;
  ok: boolean;
  /** `FENCED` when the receipt no longer holds the record. */
  error?: { code: string; message: string; retriable: boolean };
}

/** `PATCH /v1/share-groups/{group}` */
export interface ShareGroupSettings {
  maxDeliveries?: number;
  deadLetterTopic?: string | null;
}

export interface SharePartitionDescription {
  topic: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  inFlight: number;
  acquired: number;
  available: number;
  archived: number;
  oldestUnackedTimestamp: number | null;
}

/** `GET /v1/share-groups/{group}` */
export interface ShareGroupDescription {
  group: string;
  subscriptions: string[];
  maxDeliveries: number;
  deadLetterTopic: string | null;
  partitions: SharePartitionDescription[];
}

/** An entry of `GET /v1/share-groups`. */
export interface ShareGroupSummary {
  group: string;
  subscriptions: string[];
}
