// @ts-check
/**
 * The local console's views, as DOM nodes built from API responses.
 *
 * Everything shown comes from the API, and record keys, values and headers are whatever a producer sent: they
 * are attacker-controlled. So nothing here writes HTML: every node is made with `createElement`, every piece of
 * data goes in with `createTextNode`, attributes are set one by one from an allowlist (no `on…` attributes, links
 * only to `#…` places of the page), and handlers are attached with `addEventListener`. No `innerHTML`,
 * `outerHTML`, `insertAdjacentHTML` or `document.write` anywhere in the console
 * (test/unit/infra/local/console-render.test.ts checks both). The page's Content-Security-Policy
 * (infra/local/console/serve.ts) forbids inline script as a second line of defence.
 *
 * Functions take the `document` to build with, so tests run them against a minimal fake.
 */

/**
 * The part of the DOM these views use.
 * @typedef {{ createElement(tag: string): Element, createTextNode(text: string): Node }} Doc
 * @typedef {{ appendChild(child: Node): unknown, setAttribute(name: string, value: string): void,
 *   addEventListener(type: string, listener: (event: any) => void): void }} Element
 * @typedef {object} Node
 * @typedef {Node | string | number | null | undefined | false | Child[]} Child
 */

/** Attributes a view may set. Anything else (an `on…` handler, `style`, `src`) is refused. */
const ATTRIBUTES = new Set([
  'class', 'href', 'title', 'type', 'value', 'min', 'max', 'step', 'name', 'id', 'for', 'placeholder', 'colspan',
  'selected', 'checked', 'aria-label', 'aria-current', 'role', 'data-kind', 'data-offset', 'low', 'high', 'optimum',
]);

/**
 * An element with attributes, event listeners and children. Strings and numbers become text nodes, so data is
 * never parsed as markup.
 * @param {Doc} doc
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined> & { on?: Record<string, (event: any) => void> }} [props]
 * @param {...Child} children
 * @returns {Element}
 */
export function h(doc, tag, props = {}, ...children) {
  const element = doc.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'on') continue;
    if (value === undefined || value === false) continue;
    if (!ATTRIBUTES.has(name)) throw new Error(`attribute '${name}' is not allowed in the console`);
    const text = value === true ? '' : String(value);
    if (name === 'href' && !text.startsWith('#')) throw new Error('console links stay on the page (#…)');
    element.setAttribute(name, text);
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) element.addEventListener(type, listener);
  append(doc, element, children);
  return element;
}

/**
 * @param {Doc} doc
 * @param {Element} parent
 * @param {Child[]} children
 */
function append(doc, parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(doc, parent, child);
    else if (typeof child === 'string' || typeof child === 'number') parent.appendChild(doc.createTextNode(String(child)));
    else parent.appendChild(child);
  }
}

/** @param {number} ms */
export function isoTime(ms) {
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC') : String(ms);
}

/**
 * How a record's value is shown: JSON pretty-printed, or the base64 of bytes that are not JSON (the fetch marks
 * those `valueEncoding: "base64"`, docs/api.md), or null.
 * @param {{ value: unknown, valueEncoding?: string }} record
 * @returns {{ kind: 'json' | 'base64' | 'null', text: string }}
 */
export function formatValue(record) {
  if (record.valueEncoding === 'base64') return { kind: 'base64', text: String(record.value) };
  if (record.value === null || record.value === undefined) return { kind: 'null', text: 'null' };
  return { kind: 'json', text: JSON.stringify(record.value, null, 2) };
}

/**
 * How a record's key is shown: as text, or as base64 when its bytes are not UTF-8 (`keyEncoding: "base64"`).
 * @param {{ key: string | null, keyEncoding?: string }} record
 * @returns {{ text: string, base64: boolean } | null}
 */
export function formatKey(record) {
  if (record.key === null || record.key === undefined) return null;
  return { text: String(record.key), base64: record.keyEncoding === 'base64' };
}

/**
 * @param {Doc} doc
 * @param {string} text
 * @param {string} [kind]
 */
function badge(doc, text, kind = '') {
  return h(doc, 'span', { class: `badge ${kind}`.trim() }, text);
}

/**
 * @param {Doc} doc
 * @param {string[]} header
 * @param {Child[][]} rows
 * @param {Set<number>} [numeric] columns aligned right
 */
function table(doc, header, rows, numeric = new Set()) {
  return h(
    doc,
    'table',
    {},
    h(doc, 'thead', {}, h(doc, 'tr', {}, header.map((title, i) => h(doc, 'th', { class: numeric.has(i) ? 'num' : undefined }, title)))),
    h(doc, 'tbody', {}, rows.map((row) => h(doc, 'tr', {}, row.map((cell, i) => h(doc, 'td', { class: numeric.has(i) ? 'num' : undefined }, cell))))),
  );
}

/** @param {string} topic @param {number} partition */
export function recordsHref(topic, partition) {
  return `#/records/${topic}/${partition}`;
}

/**
 * The navigation bar.
 * @param {Doc} doc
 * @param {'topics' | 'groups' | 'share-groups' | 'records'} active
 */
export function navigation(doc, active) {
  const link = (/** @type {string} */ view, /** @type {string} */ label) =>
    h(doc, 'a', { href: `#/${view}`, class: view === active ? 'active' : undefined, 'aria-current': view === active ? 'page' : undefined }, label);
  return h(doc, 'nav', {}, link('topics', 'Topics'), link('groups', 'Consumer groups'), link('share-groups', 'Share groups'), link('records', 'Records'));
}

/**
 * Every topic with its partitions and offsets.
 * @param {Doc} doc
 * @param {Array<{ name: string, partitions: number, retentionHours: number, createdAt: number,
 *   partitionStats: Array<{ partition: number, startOffset: number, endOffset: number }> }>} topics
 */
export function topicsView(doc, topics) {
  if (topics.length === 0) return h(doc, 'p', { class: 'empty' }, 'No topics yet. Create one with ', h(doc, 'code', {}, 'shardlog topics create <name>'), '.');
  return h(
    doc,
    'div',
    { class: 'topics' },
    topics.map((topic) => {
      const records = topic.partitionStats.reduce((sum, p) => sum + (p.endOffset - p.startOffset), 0);
      return h(
        doc,
        'section',
        { class: 'card' },
        h(doc, 'h2', {}, topic.name),
        h(
          doc,
          'p',
          { class: 'meta' },
          `${topic.partitions} partition(s) · ${records} record(s) readable · retention ${topic.retentionHours} h · created ${isoTime(topic.createdAt)}`,
        ),
        table(
          doc,
          ['Partition', 'Start offset', 'End offset', 'Records', ''],
          topic.partitionStats.map((p) => [
            p.partition,
            p.startOffset,
            p.endOffset,
            p.endOffset - p.startOffset,
            h(doc, 'a', { href: recordsHref(topic.name, p.partition) }, 'browse'),
          ]),
          new Set([0, 1, 2, 3]),
        ),
      );
    }),
  );
}

/**
 * Every group with its members and total lag.
 * @param {Doc} doc
 * @param {Array<{ group: string, members: Array<{ memberId: string }>, partitions: Array<{ topic: string, lag: number, owner: string | null }> }>} groups
 */
export function groupsView(doc, groups) {
  if (groups.length === 0) return h(doc, 'p', { class: 'empty' }, 'No consumer groups yet.');
  return table(
    doc,
    ['Group', 'Members', 'Topics', 'Partitions owned', 'Lag (records)'],
    groups.map((g) => {
      const topics = [...new Set(g.partitions.map((p) => p.topic))].sort();
      const lag = g.partitions.reduce((sum, p) => sum + p.lag, 0);
      const owned = g.partitions.filter((p) => p.owner !== null).length;
      return [
        h(doc, 'a', { href: `#/groups/${g.group}` }, g.group),
        g.members.length,
        topics.join(', '),
        `${owned} / ${g.partitions.length}`,
        h(doc, 'span', { class: lag > 0 ? 'lag behind' : 'lag' }, lag),
      ];
    }),
    new Set([1, 4]),
  );
}

/**
 * One group: members, which partition each owns, committed offsets and lag, per topic.
 * @param {Doc} doc
 * @param {{ group: string, subscriptions?: string[], members: Array<{ memberId: string, expiresAt: number, partitions: number }>,
 *   partitions: Array<{ topic: string, partition: number, owner: string | null, committedOffset: number | null, endOffset: number, lag: number }> }} group
 * @param {number} now ms since the epoch, for "expires in"
 */
export function groupDetailView(doc, group, now) {
  const byTopic = new Map();
  for (const p of group.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
  const maxLag = Math.max(1, ...group.partitions.map((p) => p.lag));
  return h(
    doc,
    'div',
    { class: 'group' },
    h(doc, 'h2', {}, group.group),
    Array.isArray(group.subscriptions) ? h(doc, 'p', { class: 'meta' }, `subscribed to ${group.subscriptions.join(', ') || 'nothing'}`) : null,
    h(
      doc,
      'section',
      { class: 'card' },
      h(doc, 'h3', {}, `Members (${group.members.length})`),
      group.members.length === 0
        ? h(doc, 'p', { class: 'empty' }, 'No live member: nobody is consuming, and lag grows with every record produced.')
        : table(
            doc,
            ['Member', 'Partitions', 'Session expires in'],
            group.members.map((m) => [m.memberId, m.partitions, `${Math.max(0, Math.round((m.expiresAt - now) / 1000))} s`]),
            new Set([1, 2]),
          ),
    ),
    [...byTopic.entries()].map(([topic, partitions]) =>
      h(
        doc,
        'section',
        { class: 'card' },
        h(doc, 'h3', {}, `${topic}: lag ${partitions.reduce((/** @type {number} */ s, /** @type {{ lag: number }} */ p) => s + p.lag, 0)} record(s)`),
        table(
          doc,
          ['Partition', 'Owner', 'Committed', 'End offset', 'Lag', ''],
          partitions.map((/** @type {typeof group.partitions[number]} */ p) => [
            h(doc, 'a', { href: recordsHref(topic, p.partition) }, p.partition),
            p.owner ?? h(doc, 'span', { class: 'muted' }, 'unassigned'),
            p.committedOffset ?? h(doc, 'span', { class: 'muted' }, 'none'),
            p.endOffset,
            p.lag,
            // optimum 0: the browser draws little lag green, a third of the worst amber, two thirds red.
            h(doc, 'meter', { min: 0, max: maxLag, low: maxLag / 3, high: (2 * maxLag) / 3, optimum: 0, value: p.lag, 'aria-label': `lag ${p.lag}` }),
          ]),
          new Set([0, 2, 3, 4]),
        ),
      ),
    ),
  );
}

/**
 * Every share group: its settings, and per subscribed partition where it stands (GET /v1/share-groups/{group}).
 * @param {Doc} doc
 * @param {Array<{ group: string, subscriptions: string[], maxDeliveries: number, deadLetterTopic: string | null,
 *   partitions: Array<{ topic: string, partition: number, startOffset: number, endOffset: number, inFlight: number,
 *   acquired: number, available: number, archived: number, oldestUnackedTimestamp: number | null }> }>} groups
 */
export function shareGroupsView(doc, groups) {
  if (groups.length === 0) {
    return h(doc, 'p', { class: 'empty' }, 'No share groups yet. Start one with ', h(doc, 'code', {}, 'shardlog consume <topic> --share-group <name>'), '.');
  }
  return h(
    doc,
    'div',
    { class: 'share-groups' },
    groups.map((g) => {
      const sum = (/** @type {'inFlight' | 'acquired' | 'available' | 'archived'} */ field) => g.partitions.reduce((s, p) => s + p[field], 0);
      return h(
        doc,
        'section',
        { class: 'card' },
        h(doc, 'h2', {}, g.group),
        h(
          doc,
          'p',
          { class: 'meta' },
          `subscribed to ${g.subscriptions.join(', ') || 'nothing'} · up to ${g.maxDeliveries} deliveries · ` +
            `dead letters ${g.deadLetterTopic === null ? 'archived only' : `to ${g.deadLetterTopic}`} · ` +
            `${sum('available')} available · ${sum('acquired')} acquired · ${sum('archived')} archived`,
        ),
        g.partitions.length === 0
          ? h(doc, 'p', { class: 'empty' }, 'No partition to read: no subscription, or its topics were deleted.')
          : table(
              doc,
              ['Topic', 'Partition', 'Start offset', 'End offset', 'In flight', 'Acquired', 'Available', 'Archived', 'Oldest unacknowledged'],
              g.partitions.map((p) => [
                p.topic,
                h(doc, 'a', { href: recordsHref(p.topic, p.partition) }, p.partition),
                p.startOffset,
                p.endOffset,
                p.inFlight,
                p.acquired,
                p.available,
                p.archived,
                p.oldestUnackedTimestamp === null ? h(doc, 'span', { class: 'muted' }, 'none') : isoTime(p.oldestUnackedTimestamp),
              ]),
              new Set([1, 2, 3, 4, 5, 6, 7]),
            ),
      );
    }),
  );
}

/**
 * One record: offset, time, key and headers, then the value.
 * @param {Doc} doc
 * @param {{ offset: number, timestamp: number, key: string | null, value: unknown, headers?: Record<string, string>,
 *   keyEncoding?: string, valueEncoding?: string }} record
 */
export function recordView(doc, record) {
  const key = formatKey(record);
  const value = formatValue(record);
  const headers = Object.entries(record.headers ?? {});
  return h(
    doc,
    'article',
    { class: 'record', 'data-offset': record.offset },
    h(
      doc,
      'header',
      {},
      h(doc, 'span', { class: 'offset' }, `#${record.offset}`),
      h(doc, 'time', {}, isoTime(record.timestamp)),
      key === null
        ? h(doc, 'span', { class: 'key muted' }, 'no key')
        : h(doc, 'span', { class: 'key' }, 'key ', h(doc, 'code', {}, key.text), key.base64 ? badge(doc, 'bytes, base64', 'binary') : null),
      headers.map(([name, text]) => h(doc, 'span', { class: 'header' }, h(doc, 'code', {}, name), '=', h(doc, 'code', {}, text))),
    ),
    value.kind === 'base64' ? badge(doc, 'binary value, shown as base64', 'binary') : null,
    h(doc, 'pre', { class: `value ${value.kind}`, 'data-kind': value.kind }, value.text),
  );
}

/**
 * A page of records from one partition, with the bounds the fetch reported.
 * @param {Doc} doc
 * @param {{ records: Array<Parameters<typeof recordView>[1]>, nextOffset: number, startOffset: number, endOffset: number }} response
 */
export function recordsView(doc, response) {
  const first = response.records[0]?.offset;
  const last = response.records[response.records.length - 1]?.offset;
  return h(
    doc,
    'div',
    { class: 'records' },
    h(
      doc,
      'p',
      { class: 'meta' },
      response.records.length === 0
        ? `No records here. Readable offsets: ${response.startOffset} to ${response.endOffset - 1} (end offset ${response.endOffset}).`
        : `Offsets ${first} to ${last} of ${response.startOffset}…${response.endOffset - 1} (end offset ${response.endOffset}).`,
    ),
    response.records.map((record) => recordView(doc, record)),
  );
}

/**
 * @param {Doc} doc
 * @param {string} message
 */
export function errorView(doc, message) {
  return h(doc, 'p', { class: 'error', role: 'alert' }, message);
}
