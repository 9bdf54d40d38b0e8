// Readers for the fields of a message that came over the bus, shared by the parsers at both ends of
// the agent protocol. Each names the field it refuses by its path, so a dead-lettered or failed
// message says what was wrong with it.
import type { JsonValue } from '../eventstore/port.js';
import { CONTROL_CHARACTER } from '../../domain/config/validation.js';

export type JsonObject = { readonly [key: string]: JsonValue };

/** A message that does not fit the protocol; its message is the reason. */
export class Malformed extends Error {}

export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function object(value: JsonValue | undefined, path: string): JsonObject {
  if (!isObject(value)) throw new Malformed(`${path} must be an object`);
  return value;
}

/** `max`: the most items a well-formed message has there. */
export function array(value: JsonValue | undefined, path: string, max = Number.POSITIVE_INFINITY): readonly JsonValue[] {
  if (!Array.isArray(value)) throw new Malformed(`${path} must be an array`);
  if (value.length > max) throw new Malformed(`${path} must have at most ${max} items, has ${value.length}`);
  return value;
}

/** A name or an id: never empty. */
export function text(value: JsonValue | undefined, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new Malformed(`${path} must be a non-empty string`);
  return value;
}

export function textOrNull(value: JsonValue | undefined, path: string): string | null {
  return value === null ? null : text(value, path);
}

/** Free text, such as an error message or a remote command's stderr, which may be empty. */
export function anyText(value: JsonValue | undefined, path: string): string {
  if (typeof value !== 'string') throw new Malformed(`${path} must be a string`);
  return value;
}

/**
 * Free text a command carries to a host (a description): bounded, possibly empty, and without the
 * control characters the API refuses, since it reaches a host's command line and its logs.
 */
export function plainText(value: JsonValue | undefined, path: string, maxLength: number): string {
  if (typeof value !== 'string') throw new Malformed(`${path} must be a string`);
  if (value.length > maxLength) throw new Malformed(`${path} must be at most ${maxLength} characters, has ${value.length}`);
  const found = CONTROL_CHARACTER.exec(value);
  if (found !== null) throw new Malformed(`${path} must not contain control characters (found U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at position ${found.index})`);
  return value;
}

export function plainTextOrNull(value: JsonValue | undefined, path: string, maxLength: number): string | null {
  return value === null ? null : plainText(value, path, maxLength);
}

export function integer(value: JsonValue | undefined, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Malformed(max === Number.MAX_SAFE_INTEGER ? `${path} must be an integer ≥ ${min}` : `${path} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function integerOrNull(value: JsonValue | undefined, path: string, min: number, max?: number): number | null {
  return value === null ? null : integer(value, path, min, max);
}

/**
 * A string of a known form: an id, a name, an address. The refusal shows at most the value's start,
 * so a huge or hostile value is not copied whole into the reason (which goes into a reply and a log).
 */
export function matching(value: JsonValue | undefined, path: string, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : typeof value;
    throw new Malformed(`${path} must be ${what}, got ${shown}`);
  }
  return value;
}

export function flag(value: JsonValue | undefined, path: string): boolean {
  if (typeof value !== 'boolean') throw new Malformed(`${path} must be a boolean`);
  return value;
}

/** One of the listed words. */
export function oneOf<T extends string>(value: JsonValue | undefined, path: string, allowed: readonly T[]): T {
  const found = allowed.find((word) => word === value);
  if (found === undefined) throw new Malformed(`${path} must be one of ${allowed.join(', ')}`);
  return found;
}

/** An ISO-8601 time, as the agents stamp their reports. */
export function timestamp(value: JsonValue | undefined, path: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw new Malformed(`${path} must be an ISO-8601 time`);
  return value;
}
