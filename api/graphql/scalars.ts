// DateTime and JSON. Inputs are validated here, before any resolver runs, so the control plane
// receives only normalised UTC timestamps and plain JSON values.
import { GraphQLError, Kind, print, type ValueNode } from './graphql-js.js';
import { CLOUDSTACK_ERROR_CODES, type Json } from '../control-plane/port.js';

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', errorCode: CLOUDSTACK_ERROR_CODES.BAD_USER_INPUT } });
}

// A date-time with an explicit offset: a time without one would depend on the server's time zone.
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))$/i;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The instant as ISO-8601 UTC with milliseconds (how the log stores times), or undefined when not a valid date-time. */
export function normalizeDateTime(text: string): string | undefined {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 8, 9].map((index) => Number(match[index] ?? 0)) as [
    number, number, number, number, number, number, number, number,
  ];
  // Date.parse would roll 2025-02-30 over into March instead of refusing it.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return undefined;
  const time = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value) : String(value);
}

export function parseDateTime(value: unknown): string {
  const normalized = typeof value === 'string' ? normalizeDateTime(value) : undefined;
  if (normalized === undefined) {
    throw badInput(`DateTime must be an ISO-8601 date-time with a time zone, e.g. 2025-01-31T12:00:00Z; got ${quote(value)}`);
  }
  return normalized;
}

export function serializeDateTime(value: unknown): string {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  if (typeof value === 'string' && normalizeDateTime(value) !== undefined) return value;
  throw new TypeError(`DateTime cannot represent ${quote(value)}`);
}

export const MAX_JSON_DEPTH = 32;

/** A copy of `value` that is plain JSON, or a BAD_USER_INPUT error saying where it is not. */
export function parseJson(value: unknown, path = '', depth = 0): Json {
  const at = path === '' ? 'JSON value' : `JSON value at ${path}`;
  if (depth > MAX_JSON_DEPTH) throw badInput(`${at} is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badInput(`${at} must be a finite number, got ${value}`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item: unknown, index) => parseJson(item, `${path}[${index}]`, depth + 1));
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) {
      // Someone's Object.assign or merge further down would treat this key as the prototype.
      if (key === '__proto__') throw badInput(`${at} must not have a "__proto__" key`);
      out[key] = parseJson(item, path === '' ? key : `${path}.${key}`, depth + 1);
    }
    return out;
  }
  throw badInput(`${at} must be null, a boolean, a number, a string, a list or an object; got ${typeof value}`);
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function parseJsonLiteral(node: ValueNode, variables: Readonly<Record<string, unknown>> | null | undefined): Json {
  return parseJson(literalValue(node, variables));
}

function literalValue(node: ValueNode, variables: Readonly<Record<string, unknown>> | null | undefined): unknown {
  switch (node.kind) {
    case Kind.NULL:
      return null;
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.LIST:
      return node.values.map((item) => literalValue(item, variables));
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((field) => [field.name.value, literalValue(field.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[node.name.value] ?? null;
    case Kind.ENUM:
      // An unquoted word is almost always a forgotten pair of quotes; guessing would hide it.
      throw badInput(`JSON value ${print(node)} must be quoted as a string`);
  }
}

export function serializeJson(value: unknown): unknown {
  return value === undefined ? null : value;
}
