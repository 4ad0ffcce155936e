import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeElement, fakeDocument } from '../../../support/fake-dom.js';

/*
 * The local console's views (infra/local/console/render.js) over hostile data: record keys, values and headers
 * are whatever a producer sent, so each must reach the page as text, never as markup. render.js is browser
 * JavaScript without a declaration file; it is imported untyped and its behaviour is what is tested.
 */
type Doc = typeof fakeDocument;
interface Record_ {
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
  headers?: Record<string, string>;
  keyEncoding?: string;
  valueEncoding?: string;
}
interface Render {
  h(doc: Doc, tag: string, props?: Record<string, unknown>, ...children: unknown[]): FakeElement;
  recordView(doc: Doc, record: Record_): FakeElement;
  recordsView(doc: Doc, response: { records: Record_[]; nextOffset: number; startOffset: number; endOffset: number }): FakeElement;
  topicsView(doc: Doc, topics: unknown[]): FakeElement;
  groupsView(doc: Doc, groups: unknown[]): FakeElement;
  groupDetailView(doc: Doc, group: unknown, now: number): FakeElement;
  shareGroupsView(doc: Doc, groups: unknown[]): FakeElement;
  formatValue(record: Pick<Record_, 'value' | 'valueEncoding'>): { kind: string; text: string };
}
const render = (await import('../../../../infra/local/console/render.js' as string)) as Render;

const CONSOLE_DIR = fileURLToPath(new URL('../../../../infra/local/console/', import.meta.url));
const HOSTILE = [
  '<img src=x onerror="window.pwned=1">',
  '<script>window.pwned=1</script>',
  '"><svg onload=alert(1)>',
  "javascript:alert('x')",
  '&lt;b&gt;entity&lt;/b&gt;',
  '\u202e\u0000 control and bidi',
];

/** The tags a record view is made of; anything else in its tree came from data. */
const RECORD_TAGS = new Set(['article', 'header', 'span', 'time', 'code', 'pre']);

function record(overrides: Partial<Record_> = {}): Record_ {
  return { offset: 7, timestamp: Date.UTC(2026, 10, 22), key: 'k', value: { a: 1 }, headers: {}, ...overrides };
}

describe('console views over attacker-controlled records', () => {
  it.each(HOSTILE)('shows %j in a key, a value and a header as text, creating no element from it', (payload) => {
    const view = render.recordView(fakeDocument, record({ key: payload, value: { html: payload, [payload]: payload }, headers: { [payload]: payload } }));
    for (const element of view.descendants()) {
      expect(RECORD_TAGS.has(element.tagName), element.tagName).toBe(true);
      for (const name of element.attributes.keys()) expect(name).not.toMatch(/^on/i);
    }
    const texts = view.texts();
    expect(texts).toContain(payload); // the key and the header, verbatim
    expect(texts.some((t) => t.includes(JSON.stringify(payload)))).toBe(true); // inside the pretty-printed value
  });

  it('keeps any string a producer sends as text, for keys, values and headers alike', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), fc.string(), (key, name, value) => {
        const view = render.recordView(fakeDocument, record({ key, value, headers: { [name]: value } }));
        expect(view.descendants().every((e) => RECORD_TAGS.has(e.tagName))).toBe(true);
        expect(view.texts()).toEqual(expect.arrayContaining([key, name, value]));
      }),
    );
  });

  it('escapes names and offsets in the topic and group views too', () => {
    const name = '<b onclick=x>';
    const topics = render.topicsView(fakeDocument, [
      { name, partitions: 1, retentionHours: 1, createdAt: 0, partitionStats: [{ partition: 0, startOffset: 0, endOffset: 1 }] },
    ]);
    const group = render.groupDetailView(
      fakeDocument,
      { group: name, members: [{ memberId: name, expiresAt: 0, partitions: 1 }], partitions: [{ topic: name, partition: 0, owner: name, committedOffset: 0, endOffset: 3, lag: 3 }] },
      0,
    );
    const shareGroups = render.shareGroupsView(fakeDocument, [
      {
        group: name,
        subscriptions: [name],
        maxDeliveries: 5,
        deadLetterTopic: name,
        partitions: [{ topic: name, partition: 0, startOffset: 0, endOffset: 9, inFlight: 2, acquired: 1, available: 8, archived: 3, oldestUnackedTimestamp: null }],
      },
    ]);
    for (const view of [topics, group, shareGroups]) {
      expect(view.all('b')).toEqual([]);
      expect(view.texts()).toContain(name);
    }
    expect(shareGroups.textContent).toContain('8 available · 1 acquired · 3 archived');
  });

  it('says when there is no share group yet', () => {
    expect(render.shareGroupsView(fakeDocument, []).textContent).toContain('No share groups yet');
  });

  it('refuses on… attributes, style, and links that leave the page', () => {
    expect(() => render.h(fakeDocument, 'a', { onclick: 'x' })).toThrow(/not allowed/);
    expect(() => render.h(fakeDocument, 'div', { style: 'x' })).toThrow(/not allowed/);
    expect(() => render.h(fakeDocument, 'a', { href: 'javascript:alert(1)' })).toThrow(/stay on the page/);
    expect(() => render.h(fakeDocument, 'a', { href: 'https://example.com' })).toThrow(/stay on the page/);
    expect(render.h(fakeDocument, 'a', { href: '#/topics' }).attributes.get('href')).toBe('#/topics');
  });

  it('never writes markup: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval in the console', () => {
    const scripts = readdirSync(CONSOLE_DIR).filter((file) => file.endsWith('.js'));
    expect(scripts.sort()).toEqual(['api-paths.js', 'console.js', 'render.js']);
    for (const file of scripts) {
      const code = readFileSync(CONSOLE_DIR + file, 'utf8').replace(/^\s*(\/\/|\*).*$/gm, ''); // comments may name them
      expect(code, file).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc/);
    }
  });
});

describe('record values', () => {
  it('pretty-prints JSON values', () => {
    expect(render.formatValue({ value: { a: [1, 2] } })).toEqual({ kind: 'json', text: '{\n  "a": [\n    1,\n    2\n  ]\n}' });
    expect(render.formatValue({ value: 'text' })).toEqual({ kind: 'json', text: '"text"' });
    expect(render.formatValue({ value: null })).toEqual({ kind: 'null', text: 'null' });
  });

  it('shows bytes that are not JSON as base64, marked as such, when the fetch says valueEncoding base64', () => {
    expect(render.formatValue({ value: '3q2+7w==', valueEncoding: 'base64' })).toEqual({ kind: 'base64', text: '3q2+7w==' });
    const view = render.recordView(fakeDocument, record({ value: '3q2+7w==', valueEncoding: 'base64', key: '/w==', keyEncoding: 'base64' }));
    expect(view.all('pre')[0]?.attributes.get('data-kind')).toBe('base64');
    expect(view.all('pre')[0]?.textContent).toBe('3q2+7w==');
    expect(view.texts()).toEqual(expect.arrayContaining(['binary value, shown as base64', 'bytes, base64', '/w==']));
  });

  it('says where the readable offsets are when a page is empty', () => {
    const view = render.recordsView(fakeDocument, { records: [], nextOffset: 5, startOffset: 2, endOffset: 5 });
    expect(view.textContent).toBe('No records here. Readable offsets: 2 to 4 (end offset 5).');
  });
});
