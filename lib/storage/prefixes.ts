/**
 * Key prefixes of the segment bucket. The code that writes objects and the CDK stacks (lifecycle rules, IAM
 * grants scoped to a prefix) both import them from here, so they cannot drift; this module has no
 * dependencies, so the CDK app can load it without the AWS SDK.
 */
/** Batches too large for a DynamoDB item, written by produce before the append commits. */
export const SPILL_PREFIX = 'spill/';
/** Cold segments written by the maintenance pass. */
export const SEGMENT_PREFIX = 'segments/';
