// @ts-check
/**
 * The local console: a read-only page over the JSON API of the same origin (GETs only; no data leaves the
 * machine, nothing is loaded from elsewhere). Views are chosen by the location hash:
 *
 *   #/topics                      every topic, its partitions and offsets
 *   #/groups                      every consumer group, members and lag
 *   #/groups/<group>              one group: members, assignments, committed offsets, lag per partition
 *   #/share-groups                every share group: settings, and per partition its window (in flight, archived)
 *   #/records/<topic>/<partition>?offset=N | timestamp=MS | from=earliest|latest [&limit=L]
 *                                 the record browser
 *
 * Topic, group and share-group views refresh every 5 seconds while "auto-refresh" is on. All DOM building is in render.js.
 */
import { isName, paths } from './api-paths.js';
import { errorView, groupDetailView, groupsView, h, navigation, recordsView, shareGroupsView, topicsView } from './render.js';

const REFRESH_MS = 5_000;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1_000;

const root = /** @type {HTMLElement} */ (document.getElementById('app'));
let autoRefresh = true;
let generation = 0;

/**
 * GET a path of the API; throws its error message (docs/api.md error body) on a non-2xx answer.
 * @param {string} path
 */
async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(body?.error?.message ? `${body.error.message} [${body.error.code}]` : `HTTP ${response.status}`);
  return body;
}

/** @template T, R @param {T[]} items @param {(item: T) => Promise<R>} fn */
async function mapLimit(items, fn, limit = 6) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]);
      }
    }),
  );
  return results;
}

/** The parsed hash: a view, its path parts, and its query. */
function location_() {
  const hash = window.location.hash.replace(/^#/, '') || '/topics';
  const [path = '', search = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean).map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return { view: parts[0] ?? 'topics', parts: parts.slice(1), query: new URLSearchParams(search) };
}

/**
 * Renders the view of the current hash. A slower, older render never overwrites a newer one.
 * @param {boolean} [background] a refresh: keep the page as it is until the new data is there
 */
async function render(background = false) {
  const mine = ++generation;
  const { view, parts, query } = location_();
  const active = view === 'groups' ? 'groups' : view === 'share-groups' ? 'share-groups' : view === 'records' ? 'records' : 'topics';
  /** @type {any} */
  let content;
  try {
    if (!background) show(active, h(document, 'p', { class: 'loading' }, 'Loading…'));
    if (view === 'groups' && parts[0] !== undefined) content = await groupPage(parts[0]);
    else if (view === 'groups') content = await groupsPage();
    else if (view === 'share-groups') content = await shareGroupsPage();
    else if (view === 'records') content = await recordsPage(parts[0], parts[1], query);
    else content = await topicsPage();
  } catch (error) {
    content = errorView(document, error instanceof Error ? error.message : String(error));
  }
  if (mine === generation) show(active, content);
}

/**
 * @param {'topics' | 'groups' | 'share-groups' | 'records'} active
 * @param {any} content
 */
function show(active, content) {
  const refresh = h(document, 'label', { class: 'refresh' },
    h(document, 'input', { type: 'checkbox', checked: autoRefresh, on: { change: (/** @type {Event} */ e) => { autoRefresh = /** @type {HTMLInputElement} */ (e.target).checked; } } }),
    ' auto-refresh');
  root.replaceChildren(
    h(document, 'header', { class: 'top' }, h(document, 'h1', {}, 'shardlog'), h(document, 'span', { class: 'subtitle' }, 'local console · read-only'), navigation(document, active), active === 'records' ? null : refresh),
    h(document, 'main', {}, content),
  );
}

async function topicsPage() {
  const { topics } = await api(paths.topics());
  const described = await mapLimit(/** @type {Array<{ name: string }>} */ (topics).map((t) => t.name).sort(), (name) => api(paths.topic(name)).catch(() => null));
  return topicsView(document, described.filter(Boolean));
}

async function groupsPage() {
  const { groups } = await api(paths.groups());
  const described = await mapLimit(/** @type {Array<{ group: string }>} */ (groups).map((g) => g.group).sort(), (name) => api(paths.group(name)).catch(() => null));
  return groupsView(document, described.filter(Boolean));
}

async function shareGroupsPage() {
  const { groups } = await api(paths.shareGroups());
  const described = await mapLimit(/** @type {Array<{ group: string }>} */ (groups).map((g) => g.group).sort(), (name) => api(paths.shareGroup(name)).catch(() => null));
  return shareGroupsView(document, described.filter(Boolean));
}

/** @param {string} group */
async function groupPage(group) {
  if (!isName(group)) throw new Error('That is not a group name.');
  return groupDetailView(document, await api(paths.group(group)), Date.now());
}

/**
 * The record browser: a form (topic, partition, where to start, how many) and the page of records it asks for.
 * @param {string | undefined} topic
 * @param {string | undefined} partitionText
 * @param {URLSearchParams} query
 */
async function recordsPage(topic, partitionText, query) {
  const { topics } = await api(paths.topics());
  const names = /** @type {Array<{ name: string, partitions: number }>} */ (topics).sort((a, b) => (a.name < b.name ? -1 : 1));
  if (topic === undefined && names.length > 0) topic = names[0]?.name;
  const partition = partitionText === undefined ? 0 : Number(partitionText);
  const limit = clamp(Number(query.get('limit') ?? DEFAULT_LIMIT), 1, MAX_LIMIT);
  const mode = query.has('timestamp') ? 'timestamp' : query.has('offset') ? 'offset' : query.get('from') === 'latest' ? 'latest' : 'earliest';
  const form = browserForm(names, topic, partition, mode, query, limit);
  if (topic === undefined) return [form, h(document, 'p', { class: 'empty' }, 'No topics yet.')];
  if (!isName(topic)) throw new Error('That is not a topic name.');
  if (!Number.isSafeInteger(partition) || partition < 0) throw new Error('That is not a partition number.');

  /** @type {import('./api-paths.js').RecordQuery} */
  const request = { limit };
  if (mode === 'offset') request.offset = Number(query.get('offset'));
  else if (mode === 'timestamp') request.timestamp = Number(query.get('timestamp'));
  else if (mode === 'latest') {
    // The newest `limit` records: read backward from the end, then show them oldest first like every page.
    request.from = 'latest';
    request.direction = 'backward';
  } else request.from = 'earliest';
  let response;
  try {
    response = await api(paths.records(topic, partition, request));
  } catch (error) {
    // Keep the form: an offset past the end (416) is a typo to fix, not a dead end.
    return [form, errorView(document, error instanceof Error ? error.message : String(error))];
  }
  if (request.direction === 'backward') response.records.reverse();

  const first = response.records[0]?.offset;
  const pager = h(document, 'p', { class: 'pager' },
    first !== undefined && first > response.startOffset
      ? h(document, 'a', { href: browseHref(topic, partition, { offset: Math.max(response.startOffset, first - limit), limit }) }, '← older')
      : h(document, 'span', { class: 'muted' }, '← older'),
    ' ',
    response.records.length > 0 && response.nextOffset < response.endOffset
      ? h(document, 'a', { href: browseHref(topic, partition, { offset: response.nextOffset, limit }) }, 'newer →')
      : h(document, 'span', { class: 'muted' }, 'newer →'),
  );
  return [form, pager, recordsView(document, response), pager.cloneNode(true)];
}

/**
 * @param {string} topic
 * @param {number} partition
 * @param {Record<string, string | number>} params
 */
function browseHref(topic, partition, params) {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  return `#/records/${topic}/${partition}?${search}`;
}

/**
 * @param {Array<{ name: string, partitions: number }>} topics
 * @param {string | undefined} topic
 * @param {number} partition
 * @param {string} mode
 * @param {URLSearchParams} query
 * @param {number} limit
 */
function browserForm(topics, topic, partition, mode, query, limit) {
  const current = topics.find((t) => t.name === topic);
  const topicSelect = h(document, 'select', { name: 'topic', 'aria-label': 'topic' },
    topics.map((t) => h(document, 'option', { value: t.name, selected: t.name === topic }, t.name)));
  const partitionSelect = h(document, 'select', { name: 'partition', 'aria-label': 'partition' },
    Array.from({ length: current?.partitions ?? 1 }, (_, p) => h(document, 'option', { value: p, selected: p === partition }, `partition ${p}`)));
  const modeSelect = h(document, 'select', { name: 'mode', 'aria-label': 'start at' },
    [['earliest', 'from the earliest'], ['latest', 'the latest'], ['offset', 'from offset'], ['timestamp', 'from time']].map(([value, label]) =>
      h(document, 'option', { value, selected: value === mode }, label)));
  const offsetInput = h(document, 'input', { type: 'number', name: 'offset', min: 0, placeholder: 'offset', value: query.get('offset') ?? undefined, 'aria-label': 'offset' });
  const timestamp = Number(query.get('timestamp'));
  const timeInput = h(document, 'input', {
    type: 'datetime-local', name: 'time', step: 1, 'aria-label': 'time (local)',
    value: Number.isFinite(timestamp) && query.has('timestamp') ? localInputValue(timestamp) : undefined,
  });
  const limitInput = h(document, 'input', { type: 'number', name: 'limit', min: 1, max: MAX_LIMIT, value: limit, 'aria-label': 'records per page' });
  const submit = (/** @type {Event} */ event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const data = new FormData(form);
    const chosen = String(data.get('mode'));
    /** @type {Record<string, string | number>} */
    const params = { limit: clamp(Number(data.get('limit')), 1, MAX_LIMIT) };
    if (chosen === 'offset') params.offset = Math.max(0, Math.floor(Number(data.get('offset')) || 0));
    else if (chosen === 'timestamp') {
      const ms = new Date(String(data.get('time'))).getTime();
      if (Number.isFinite(ms)) params.timestamp = ms;
    } else params.from = chosen;
    window.location.hash = browseHref(String(data.get('topic')), Number(data.get('partition')), params);
  };
  const onTopic = (/** @type {Event} */ event) => {
    window.location.hash = browseHref(/** @type {HTMLSelectElement} */ (event.target).value, 0, { limit });
  };
  topicSelect.addEventListener('change', onTopic);
  return h(document, 'form', { class: 'browser', on: { submit } },
    topicSelect, partitionSelect, modeSelect, offsetInput, timeInput, limitInput,
    h(document, 'button', { type: 'submit' }, 'Read'));
}

/** @param {number} ms a datetime-local input value for the browser's time zone */
function localInputValue(ms) {
  const date = new Date(ms);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** @param {number} value @param {number} min @param {number} max */
function clamp(value, min, max) {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.floor(value))) : min;
}

window.addEventListener('hashchange', () => void render());
setInterval(() => {
  const { view } = location_();
  if (autoRefresh && view !== 'records' && document.visibilityState === 'visible') void render(true);
}, REFRESH_MS);
void render();
