import { randomUUID } from 'node:crypto';

/**
 * JSON record values as text: parsed from a request without losing digits, serialised without recursion,
 * limited in depth, and recognised in raw bytes. A value produced with `encoding: json` is stored as the UTF-8
 * JSON text this module writes and spliced into fetch responses as is: it is never parsed again, so what a
 * produce accepted a fetch can always return.
 */

/**
 * The deepest nesting of arrays and objects a JSON record value may have (`[[1]]` is 2 deep). A fetch response
 * adds up to 5 levels around a value (`{"batches":[{"records":[{"value":…}]}]}`), so a value at the limit gives
 * a document 69 deep: within the default limits of the strict parsers consumers use (Ruby's JSON 100,
 * serde_json 128) and equal to .NET System.Text.Json's default `MaxDepth` of 64 for the value itself.
 * Recursive serialisers (V8's `JSON.stringify` overflows its stack near 5,000) are far away.
 */
export const MAX_JSON_DEPTH = 64;

/** A JSON number that a double cannot hold (`12345678901234567890`, `1e400`): kept as it was written. */
export class JsonNumberText {
  constructor(readonly text: string) {}
}

/** Thrown by {@link stringifyJson} for a value nested deeper than allowed. */
export class JsonDepthError extends Error {
  constructor(readonly maxDepth: number) {
    super(`JSON value is nested more than ${maxDepth} levels deep`);
    this.name = 'JsonDepthError';
  }
}

/**
 * `JSON.parse`, except that a number whose digits a double cannot hold comes back as a {@link JsonNumberText}
 * with the digits as written, so that a record value keeps them (`JSON.parse` turns `12345678901234567890`
 * into `12345678901234567000`). Any number with at most 15 significant digits and an exponent below 100 is
 * exact as a double, so texts without a longer run of digits take `JSON.parse`'s path alone.
 * @throws SyntaxError as `JSON.parse` does.
 */
export function parseJson(text: string): unknown {
  if (!LOSSY_NUMBER_CANDIDATE.test(text)) return JSON.parse(text);
  const lossy = lossyNumbers(text);
  if (lossy.length === 0) return JSON.parse(text);
  // Each lossy number becomes a string no request can contain (a NUL and a random UUID), parsed natively, then
  // swapped for its JsonNumberText.
  const marker = `\u0000${randomUUID()}:`;
  let substituted = '';
  let at = 0;
  lossy.forEach(([start, end], i) => {
    substituted += text.slice(at, start) + JSON.stringify(marker + i);
    at = end;
  });
  substituted += text.slice(at);
  const numbers = lossy.map(([start, end]) => new JsonNumberText(text.slice(start, end)));
  const swap = (v: unknown): unknown => (typeof v === 'string' && v.startsWith(marker) ? numbers[Number(v.slice(marker.length))] : v);
  const root = swap(JSON.parse(substituted));
  // Iterative walk: request bodies may be nested arbitrarily deep (V8's JSON.parse is iterative too).
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        node[i] = swap(node[i]);
        if (typeof node[i] === 'object' && node[i] !== null) pending.push(node[i]);
      }
    } else if (typeof node === 'object' && node !== null && !(node instanceof JsonNumberText)) {
      const object = node as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        const value = swap(object[key]);
        defineOwn(object, key, value);
        if (typeof value === 'object' && value !== null) pending.push(value);
      }
    }
  }
  return root;
}

/** Texts that may hold a number a double cannot represent: 16+ significant digits, or a 3-digit exponent. */
const LOSSY_NUMBER_CANDIDATE = /[0-9]{16}|[0-9.]{17}|[eE][+-]?[0-9]{3}/;
const NUMBER_TOKEN = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * [start, end) of every number token outside strings whose double prints as a different number, or as a
 * non-integer for an integer token.
 */
function lossyNumbers(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip a string, escapes included.
      i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      const match = NUMBER_TOKEN.exec(text);
      if (!match) return []; // not JSON: JSON.parse will say so
      const token = match[0];
      const printed = JSON.stringify(Number(token));
      // Kept as written: a number a double cannot hold, and an integer a double holds but prints in exponent
      // form (10^21 and up), so that a consumer reading it as a big integer still can.
      const integerReprinted = !/[.eE]/.test(token) && /[eE]/.test(printed);
      if (integerReprinted || !sameNumber(token, printed)) out.push([i, i + token.length]);
      i += token.length;
    } else {
      i++;
    }
  }
  return out;
}

/** True when two JSON number texts denote the same number (`1e3` and `1000`; `-0` and `0`). */
export function sameNumber(a: string, b: string): boolean {
  const x = decimal(a);
  const y = decimal(b);
  return x !== undefined && y !== undefined && x.digits === y.digits && x.exponent === y.exponent && x.negative === y.negative;
}

/** A number text as sign, significant digits (no leading or trailing zeros) and the exponent of the first digit. */
function decimal(text: string): { negative: boolean; digits: string; exponent: number } | undefined {
  const match = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!match) return undefined;
  const all = match[2]! + (match[3] ?? '');
  const lead = all.search(/[1-9]/);
  if (lead < 0) return { negative: false, digits: '', exponent: 0 }; // zero, whatever its sign
  const digits = all.slice(lead).replace(/0+$/, '');
  return { negative: match[1] === '-', digits, exponent: match[2]!.length - lead + Number(match[4] ?? 0) };
}

/**
 * `JSON.stringify` for a parsed JSON value, without recursion and with a depth limit; a {@link JsonNumberText}
 * is written as its digits. For values without one the result equals `JSON.stringify(value)`.
 * @throws JsonDepthError when arrays and objects nest deeper than `maxDepth`.
 */
export function stringifyJson(value: unknown, maxDepth = MAX_JSON_DEPTH): string {
  const shape = inspect(value, maxDepth);
  // Native and fast when there is nothing to splice; its recursion is safe this shallow.
  if (!shape.hasNumberText) return JSON.stringify(value) ?? 'null';
  const out: string[] = [];
  type Frame = { array: readonly unknown[]; i: number } | { object: Record<string, unknown>; keys: string[]; i: number };
  const stack: Frame[] = [];
  const write = (v: unknown): void => {
    if (v instanceof JsonNumberText) out.push(v.text);
    else if (Array.isArray(v)) {
      out.push('[');
      stack.push({ array: v, i: 0 });
    } else if (typeof v === 'object' && v !== null) {
      out.push('{');
      const object = v as Record<string, unknown>;
      stack.push({ object, keys: Object.keys(object).filter((k) => isJsonable(object[k])), i: 0 });
    } else out.push(JSON.stringify(isJsonable(v) ? v : null) ?? 'null');
  };
  write(value);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if ('array' in frame) {
      if (frame.i === frame.array.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      if (frame.i > 0) out.push(',');
      write(frame.array[frame.i++]);
    } else {
      if (frame.i === frame.keys.length) {
        out.push('}');
        stack.pop();
        continue;
      }
      if (frame.i > 0) out.push(',');
      const key = frame.keys[frame.i++]!;
      out.push(JSON.stringify(key), ':');
      write(frame.object[key]);
    }
  }
  return out.join('');
}

/** Values `JSON.stringify` writes in an object (it skips the others, and writes `null` for them in an array). */
const isJsonable = (v: unknown): boolean => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

/** Walks a value without recursion: checks its depth and looks for {@link JsonNumberText}. */
function inspect(value: unknown, maxDepth: number): { hasNumberText: boolean } {
  let hasNumberText = false;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node instanceof JsonNumberText) hasNumberText = true;
    else if (typeof node === 'object' && node !== null) {
      if (depth + 1 > maxDepth) throw new JsonDepthError(maxDepth);
      const children = Array.isArray(node) ? node : Object.values(node);
      for (const child of children) if (typeof child === 'object' && child !== null) pending.push([child, depth + 1]);
    }
  }
  return { hasNumberText };
}

/** True when the JSON text nests arrays and objects deeper than `maxDepth` (a scan; strings are skipped). */
export function jsonTextTooDeep(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

// ignoreBOM: bytes that begin with U+FEFF are not JSON text (JSON.parse refuses it), so they stay base64.
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const jsonTextCache = new WeakMap<Uint8Array, string | null>();

/**
 * The JSON text in raw bytes (a value produced with `encoding: base64`), or undefined when the bytes are not
 * UTF-8 JSON text within {@link MAX_JSON_DEPTH}: such a value is returned as base64 in a JSON fetch. The answer
 * is remembered per byte array, so sizing a record and encoding it decide once.
 */
export function jsonTextOf(bytes: Uint8Array): string | undefined {
  const known = jsonTextCache.get(bytes);
  if (known !== undefined) return known ?? undefined;
  let text: string | null = null;
  try {
    const decoded = fatalUtf8.decode(bytes);
    if (!jsonTextTooDeep(decoded)) {
      JSON.parse(decoded);
      text = decoded;
    }
  } catch {
    text = null;
  }
  jsonTextCache.set(bytes, text);
  return text ?? undefined;
}

/** Sets an own property, `__proto__` included (an assignment would call the prototype setter instead). */
function defineOwn(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}
