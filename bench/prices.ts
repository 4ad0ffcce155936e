/**
 * Published AWS list prices, us-east-1, in one table: every dollar the cost model prints comes from here.
 *
 * Assumed as of {@link PRICES_AS_OF}; check the sources before quoting a figure. Free tiers are ignored
 * (they would make small workloads look free and favour no design). Data transfer inside the region is free
 * and transfer to the internet is left out for both shardlog and Kinesis (the same for both).
 */
export const PRICES_AS_OF = '2026-11-01';

export interface PriceTable {
  readonly asOf: string;
  readonly dynamodb: {
    /** On-demand, per write request unit (1 KB; a transactional write costs 2). Source: DynamoDB pricing, on-demand. */
    readonly perWriteUnit: number;
    /** On-demand, per read request unit (4 KB strongly consistent; eventually consistent costs half). */
    readonly perReadUnit: number;
    /** Standard table class, per GB-month of item storage (items count their attribute names and values + 100 B). */
    readonly storagePerGbMonth: number;
  };
  readonly s3: {
    /** S3 Standard, per GB-month. Source: S3 pricing, storage. */
    readonly storagePerGbMonth: number;
    /** PUT, COPY, POST, LIST, per request. */
    readonly perPut: number;
    /** GET, SELECT and all other requests, per request. */
    readonly perGet: number;
  };
  readonly lambda: {
    /** arm64 (Graviton), per GB-second. Source: Lambda pricing, first 7.5 billion GB-s/month tier. */
    readonly perGbSecond: number;
    readonly perRequest: number;
  };
  readonly apiGateway: {
    /** HTTP API, per request, first 300 million a month. Source: API Gateway pricing, HTTP APIs. */
    readonly perRequest: number;
    /** HTTP API requests are metered in increments of this many bytes (a 1.1 MB response counts 3 requests). */
    readonly meteringIncrementBytes: number;
  };
  readonly kinesis: {
    readonly onDemand: {
      /** Per stream-hour. Source: Kinesis Data Streams pricing, on-demand. */
      readonly perStreamHour: number;
      /** Per GB written (records rounded up to 1 KB). */
      readonly perGbIn: number;
      /** Per GB read, per consumer that reads it (shared-throughput GetRecords). */
      readonly perGbOut: number;
      /** Extended retention (beyond 24 h, up to 7 days), per GB-month stored. */
      readonly extendedRetentionPerGbMonth: number;
    };
    /**
     * On-demand Advantage, an account-level mode (launched November 2025): no stream-hour charge, and data in,
     * data out and extended retention "at least 60% lower" than on-demand (standard), against a commitment.
     */
    readonly onDemandAdvantage: {
      /** Per GB written (records rounded up to 1 KB). */
      readonly perGbIn: number;
      /** Per GB read, per consumer. Assumed 60% below on-demand's (the documented "at least 60% lower"). */
      readonly perGbOut: number;
      /** Extended retention, per GB-month. Assumed 60% below on-demand's, as `perGbOut`. */
      readonly extendedRetentionPerGbMonth: number;
      /**
       * The account commits to this much throughput (MiB/s) across its on-demand streams; below it the
       * commitment, not the usage, is billed. Read here as: the account writes at least this much, and reads
       * at least this much.
       */
      readonly commitmentMiBPerSecond: number;
    };
    readonly provisioned: {
      /** Per shard-hour; a shard takes 1 MB/s or 1,000 records/s in and gives 2 MB/s out. Source: pricing, provisioned. */
      readonly perShardHour: number;
      /** Per PUT payload unit (each record rounded up to 25 KB). */
      readonly perPutPayloadUnit: number;
      /** Extended retention (beyond 24 h, up to 7 days), per shard-hour. */
      readonly extendedRetentionPerShardHour: number;
    };
  };
}

const PER_MILLION = 1 / 1_000_000;
const PER_THOUSAND = 1 / 1_000;

/** us-east-1 list prices (sources: the AWS pricing pages of DynamoDB, S3, Lambda, API Gateway and Kinesis Data Streams). */
export const US_EAST_1: PriceTable = {
  asOf: PRICES_AS_OF,
  dynamodb: { perWriteUnit: 0.625 * PER_MILLION, perReadUnit: 0.125 * PER_MILLION, storagePerGbMonth: 0.25 },
  s3: { storagePerGbMonth: 0.023, perPut: 0.005 * PER_THOUSAND, perGet: 0.0004 * PER_THOUSAND },
  lambda: { perGbSecond: 0.0000133334, perRequest: 0.2 * PER_MILLION },
  apiGateway: { perRequest: 1.0 * PER_MILLION, meteringIncrementBytes: 512 * 1024 },
  kinesis: {
    onDemand: { perStreamHour: 0.04, perGbIn: 0.08, perGbOut: 0.04, extendedRetentionPerGbMonth: 0.1 },
    onDemandAdvantage: { perGbIn: 0.032, perGbOut: 0.016, extendedRetentionPerGbMonth: 0.04, commitmentMiBPerSecond: 25 },
    provisioned: { perShardHour: 0.015, perPutPayloadUnit: 0.014 * PER_MILLION, extendedRetentionPerShardHour: 0.02 },
  },
};

/** Where the prices above come from (read 2026-11-01; Kinesis On-demand Advantage and the transaction rule added 2026-11-29). */
export const PRICE_SOURCES: readonly string[] = [
  'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html (2 write units per KB of each item of a transaction)',
  'https://aws.amazon.com/s3/pricing/',
  'https://aws.amazon.com/lambda/pricing/',
  'https://aws.amazon.com/api-gateway/pricing/',
  'https://aws.amazon.com/kinesis/data-streams/pricing/',
  'https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html (On-demand Advantage: no per-stream charge, at least 60% lower data prices)',
  'https://aws.amazon.com/blogs/big-data/amazon-kinesis-data-streams-launches-on-demand-advantage-for-instant-throughput-increases-and-streaming-at-scale/',
];

/** AWS bills a month as 730 hours. */
export const HOURS_PER_MONTH = 730;
export const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
/** AWS's "GB" in data and storage prices is 2^30 bytes; Kinesis's KB is 1,024 bytes. */
export const GB = 1024 ** 3;
export const MIB = 1024 ** 2;
export const KB = 1024;
