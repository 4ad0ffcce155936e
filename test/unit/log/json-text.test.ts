import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JsonDepthError,
  JsonNumberText,
  jsonTextOf,
  jsonTextTooDeep,
  MAX_JSON_DEPTH,
  parseJson,
  sameNumber,
  stringifyJson,
} from '../../../lib/log/json-text.js';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('parseJson', () => {
  it('parses as JSON.parse does when every number fits a double', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(parseJson(text)).toEqual(JSON.parse(text));
      }),
    );
  });

  it('keeps the digits of numbers a double cannot hold, wherever they are', () => {
    const parsed = parseJson('{"id":12345678901234567890,"list":[1e400,0.1234567890123456789,-0,1.5],"s":"12345678901234567890"}') as {
      id: unknown;
      list: unknown[];
      s: unknown;
    };
    expect(parsed.id).toEqual(new JsonNumberText('12345678901234567890'));
    expect(parsed.list).toEqual([new JsonNumberText('1e400'), new JsonNumberText('0.1234567890123456789'), -0, 1.5]);
    expect(parsed.s).toBe('12345678901234567890'); // a string stays a string
  });

  it('round-trips any integer, however large, digit for digit (through stringifyJson)', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n })), (integers) => {
        const text = `{"n":[${integers.join(',')}]}`;
        expect(stringifyJson(parseJson(text))).toBe(text);
      }),
    );
  });

  it('keeps an integer a double holds exactly but prints in exponent form as the digits written', () => {
    // -1.1920928955078125e+33 is exactly this integer as a double; a consumer that reads big integers must
    // still get an integer literal.
    const text = '{"n":[-1192092895507812500000000000000000,1000000000000000000000]}';
    expect(stringifyJson(parseJson(text))).toBe(text);
  });

  it('keeps __proto__ as an own key, also on the path that swaps numbers', () => {
    for (const text of ['{"__proto__":{"a":1}}', '{"__proto__":{"a":12345678901234567890}}']) {
      const parsed = parseJson(text) as Record<string, unknown>;
      expect(Object.keys(parsed)).toEqual(['__proto__']);
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(stringifyJson(parsed)).toBe(text);
    }
  });

  it('rejects what JSON.parse rejects', () => {
    for (const text of ['', '{', '[1,]', '12345678901234567890x', '"\u0001"']) expect(() => parseJson(text)).toThrow(SyntaxError);
  });
});

describe('sameNumber', () => {
  it.each([
    ['1e3', '1000', true],
    ['1.0', '1', true],
    ['-0', '0', true],
    ['0.00120', '1.2e-3', true],
    ['12345678901234567890', '12345678901234567000', false],
    ['1e400', 'null', false],
    ['-1', '1', false],
  ])('%s and %s: %s', (a, b, same) => {
    expect(sameNumber(a, b)).toBe(same);
  });
});

describe('stringifyJson', () => {
  it('writes what JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (value) => {
        expect(stringifyJson(value)).toBe(JSON.stringify(value));
      }),
    );
  });

  it('writes JSON numbers kept as text back as their digits, without recursion', () => {
    const value = { id: new JsonNumberText('12345678901234567890'), list: [new JsonNumberText('1e400'), 'x', null, { a: [] }] };
    expect(stringifyJson(value)).toBe('{"id":12345678901234567890,"list":[1e400,"x",null,{"a":[]}]}');
  });

  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses one more, however deep the value`, () => {
    expect(stringifyJson(JSON.parse(nested(MAX_JSON_DEPTH)))).toBe(nested(MAX_JSON_DEPTH));
    for (const depth of [MAX_JSON_DEPTH + 1, 5_000, 100_000]) {
      expect(() => stringifyJson(JSON.parse(nested(depth)))).toThrow(JsonDepthError);
    }
  });
});

describe('jsonTextOf', () => {
  it('returns the text of UTF-8 JSON bytes, as they are', () => {
    expect(jsonTextOf(utf8(' {"a": 12345678901234567890}\n'))).toBe(' {"a": 12345678901234567890}\n');
  });

  it('refuses bytes that are not UTF-8, not JSON, or nested deeper than the limit', () => {
    expect(jsonTextOf(new Uint8Array([0xff, 0x00]))).toBeUndefined();
    expect(jsonTextOf(utf8('not json'))).toBeUndefined();
    expect(jsonTextOf(new Uint8Array(0))).toBeUndefined();
    expect(jsonTextOf(utf8(nested(MAX_JSON_DEPTH + 1)))).toBeUndefined();
    expect(jsonTextOf(utf8(nested(10_000)))).toBeUndefined();
    expect(jsonTextOf(utf8(nested(MAX_JSON_DEPTH)))).toBe(nested(MAX_JSON_DEPTH));
  });

  it('measures depth outside strings only', () => {
    expect(jsonTextTooDeep(`["${'['.repeat(100)}"]`)).toBe(false);
    expect(jsonTextTooDeep(`["\\"", ${nested(MAX_JSON_DEPTH)}]`)).toBe(true);
  });
});
