// @ts-check
/**
 * The API requests the local console makes, all GETs on the same origin (docs/api.md): the page and the
 * integration test (test/integration/local-console.test.ts) build them with these functions, so the test calls
 * exactly what the page calls. Names follow the contract's alphabet; anything else is refused before a request.
 */

/** Topic and group names (docs/api.md, "Conventions"). */
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,200}$/;

/** @param {unknown} name */
export function isName(name) {
  return typeof name === 'string' && NAME_PATTERN.test(name) && name !== '.' && name !== '..';
}

/** @param {string} name */
function segment(name) {
  if (!isName(name)) throw new Error(`not a valid topic or group name: ${JSON.stringify(String(name)).slice(0, 80)}`);
  return name; // the name alphabet needs no percent-encoding (and canonical paths refuse any)
}

/**
 * Where to start reading a partition, and how much.
 * @typedef {{ offset?: number, timestamp?: number, from?: 'earliest' | 'latest', direction?: 'forward' | 'backward', limit?: number }} RecordQuery
 */

export const paths = {
  topics: () => '/v1/topics',
  /** @param {string} topic */
  topic: (topic) => `/v1/topics/${segment(topic)}`,
  groups: () => '/v1/groups',
  /** @param {string} group */
  group: (group) => `/v1/groups/${segment(group)}`,
  shareGroups: () => '/v1/share-groups',
  /** @param {string} group */
  shareGroup: (group) => `/v1/share-groups/${segment(group)}`,
  /**
   * @param {string} topic
   * @param {number} partition
   * @param {RecordQuery} query
   */
  records: (topic, partition, query) => {
    if (!Number.isSafeInteger(partition) || partition < 0) throw new Error(`not a partition: ${partition}`);
    const params = new URLSearchParams();
    if (query.offset !== undefined) params.set('offset', String(query.offset));
    else if (query.timestamp !== undefined) params.set('timestamp', String(query.timestamp));
    else params.set('from', query.from ?? 'earliest');
    if (query.direction === 'backward') params.set('direction', 'backward');
    params.set('limit', String(query.limit ?? 50));
    return `/v1/topics/${segment(topic)}/partitions/${partition}/records?${params}`;
  },
};
