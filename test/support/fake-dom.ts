/**
 * A minimal DOM for the local console's views (infra/local/console/render.js), which build with createElement,
 * createTextNode, setAttribute, appendChild and addEventListener only. Text stays text: a test can see exactly
 * which elements a view made and that data ended up in text nodes, never parsed as markup.
 */
export class FakeText {
  readonly nodeType = 3;
  constructor(readonly data: string) {}
}

export class FakeElement {
  readonly nodeType = 1;
  readonly attributes = new Map<string, string>();
  readonly children: Array<FakeElement | FakeText> = [];
  readonly listeners = new Map<string, Array<(event: unknown) => void>>();

  constructor(readonly tagName: string) {}

  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }

  appendChild(child: FakeElement | FakeText): void {
    this.children.push(child);
  }

  addEventListener(type: string, listener: (event: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  /** The concatenated text, as the DOM's textContent. */
  get textContent(): string {
    return this.children.map((c) => (c instanceof FakeText ? c.data : c.textContent)).join('');
  }

  /** This element and every element below it. */
  descendants(): FakeElement[] {
    return [this, ...this.children.flatMap((c) => (c instanceof FakeElement ? c.descendants() : []))];
  }

  /** Every text node below. */
  texts(): string[] {
    return this.children.flatMap((c) => (c instanceof FakeText ? [c.data] : c.texts()));
  }

  /** The elements below with this tag name. */
  all(tag: string): FakeElement[] {
    return this.descendants().filter((e) => e.tagName === tag);
  }
}

export const fakeDocument = {
  createElement: (tag: string) => new FakeElement(tag),
  createTextNode: (text: string) => new FakeText(text),
};
