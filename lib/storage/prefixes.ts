/**
 * The key layout of the segment bucket. The code that writes objects and the CDK stacks (lifecycle rules, IAM
 * grants scoped to a prefix) both import it from here, so they cannot drift; this module has no
 * dependencies, so the CDK app can load it without the AWS SDK.
 */
/** Batches too large for a DynamoDB item, written by produce before the append commits. */
export const SPILL_PREFIX = 'spill/';
/** Cold segments written by the maintenance pass. */
export const SEGMENT_PREFIX = 'segments/';

/** `spill/p/<topicId>/`: every spill object of a topic incarnation. */
export const topicSpillPrefix = (topicId: string): string => `${SPILL_PREFIX}p/${topicId}/`;
/** A spill object: under its partition, named by a random id (an orphan of a failed append is never read). */
export const spillObjectKey = (topicId: string, partition: number, id: string): string => `${topicSpillPrefix(topicId)}${partition}/${id}.batch`;

/** `segments/<topicId>/`: every segment object of a topic incarnation. */
export const topicSegmentPrefix = (topicId: string): string => `${SEGMENT_PREFIX}${topicId}/`;
/** `segments/<topicId>/<partition>/`: every segment object of a partition, in offset order by key. */
export const partitionSegmentPrefix = (topicId: string, partition: number): string => `${topicSegmentPrefix(topicId)}${partition}/`;
/**
 * Record batches a client uploads straight to S3 with a presigned PUT (docs/api.md, "Binary record batches").
 * Nothing ever references an object here: an append reads the upload, checks it and writes its own copy under
 * `spill/` (or inline), so a lifecycle rule may expire everything under this prefix after a day.
 */
export const UPLOAD_PREFIX = 'upload/';
/** An upload of a topic incarnation, named by a random id the presign step hands out. */
export const uploadObjectKey = (topicId: string, id: string): string => `${UPLOAD_PREFIX}${topicId}/${id}.batch`;
