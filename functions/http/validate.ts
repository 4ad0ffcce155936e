import { echo, InvalidRequestError } from '../../lib/errors.js';
import { isValidName } from '../../lib/names.js';

/**
 * Small validators used at the HTTP boundary to turn untrusted JSON into typed values, once. Each throws an
 * {@link InvalidRequestError} (400) whose message names the offending field, so a caller can fix the request
 * without reading the code.
 */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body must be a JSON object with no fields outside `allowed` (typos are errors, not silently ignored). */
export function objectBody(value: unknown, allowed: readonly string[], what = 'request body'): JsonObject {
  if (value === undefined) return {};
  return strictObject(value, allowed, what);
}

/** Like {@link objectBody}, but a body is required. */
export function requiredObjectBody(value: unknown, allowed: readonly string[], what = 'request body'): JsonObject {
  if (value === undefined) throw new InvalidRequestError(`${what} is required (a JSON object)`);
  return strictObject(value, allowed, what);
}

export function strictObject(value: unknown, allowed: readonly string[], what: string): JsonObject {
  if (!isObject(value)) throw new InvalidRequestError(`${what} must be a JSON object`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new InvalidRequestError(`${what} has an unknown field '${echo(key)}' (allowed: ${allowed.join(', ') || 'none'})`);
    }
  }
  return value;
}

export function name(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isValidName(value)) {
    throw new InvalidRequestError(
      `${field} must be 1 to 200 characters of letters, digits, '.', '_' or '-', and not '.' or '..'`,
      { details: { field } },
    );
  }
  return value;
}

export interface IntRange {
  min: number;
  max: number;
}

/** An integer in [min, max]; `undefined` gives `fallback` (or throws when there is none). */
export function int(value: unknown, field: string, range: IntRange, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new InvalidRequestError(`${field} is required`, { details: { field } });
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new InvalidRequestError(`${field} must be an integer from ${range.min} to ${range.max}`, { details: { field } });
  }
  return value;
}

/** A finite number in [min, max] (e.g. `retentionHours`, which may be fractional). */
export function number(value: unknown, field: string, range: IntRange, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback === undefined) throw new InvalidRequestError(`${field} is required`, { details: { field } });
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max) {
    throw new InvalidRequestError(`${field} must be a number from ${range.min} to ${range.max}`, { details: { field } });
  }
  return value;
}

/**
 * A non-negative integer written canonically: `0` or a digit 1-9 followed by digits, at most 16 of them. Leading
 * zeros, signs, exponents, blanks and fractions are refused, so that one number has exactly one spelling: an
 * IAM policy on `/partitions/1/…` cannot be walked around as `/partitions/01/…` (issue 9).
 */
export const CANONICAL_INT = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * An integer from a string (query string, path parameter, object key) in canonical form ({@link CANONICAL_INT}).
 * `undefined` gives `fallback`; an empty string is an error, not "absent" (`?offset=` does not read from 0).
 */
export function intParam(raw: string | undefined, field: string, range: IntRange, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new InvalidRequestError(`${field} is required`, { details: { field } });
    return fallback;
  }
  if (!CANONICAL_INT.test(raw)) {
    throw new InvalidRequestError(`${field} must be a non-negative integer without leading zeros, got '${echo(raw)}'`, {
      details: { field },
    });
  }
  return int(Number(raw), field, range);
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback?: T): T {
  if (value === undefined) {
    if (fallback === undefined) throw new InvalidRequestError(`${field} is required`, { details: { field } });
    return fallback;
  }
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidRequestError(`${field} must be one of ${allowed.join(', ')}`, { details: { field } });
  }
  return value as T;
}

/**
 * Rejects query parameters the route does not know (a misspelt `ofset=` must not silently read from 0). The
 * shared wrapper calls it for every route with the parameters the route declares (none by default).
 */
export function knownParams(query: Readonly<Record<string, string>>, allowed: readonly string[]): void {
  for (const key of Object.keys(query)) {
    if (!allowed.includes(key)) {
      const accepted = allowed.length === 0 ? 'this route takes no query parameters' : `allowed: ${allowed.join(', ')}`;
      throw new InvalidRequestError(`unknown query parameter '${echo(key)}' (${accepted})`);
    }
  }
}

/** A fresh object without a prototype, so that a key named `__proto__` is stored as data, never dropped. */
export function dictionary<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}
