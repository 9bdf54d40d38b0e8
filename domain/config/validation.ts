// Input checks shared by the configuration registry and the infrastructure/account aggregates. They
// exist because commands arrive from GraphQL and the CLI: the TypeScript type says `number`, but only a
// runtime check tells a safe integer from 1.5 or NaN, and every refusal must name the API field.

import { reject, type Rejection } from '../shared/decider.js';

/** CloudStack stores cores, MHz and MiB in signed 32-bit columns; larger values are refused there too. */
export const MAX_INT32 = 2_147_483_647;

/** Returns the first rejection among already-evaluated checks. */
export function firstFailure(...checks: ReadonlyArray<Rejection | undefined>): Rejection | undefined {
  for (const check of checks) if (check !== undefined) return check;
  return undefined;
}

export function requireId(value: unknown, field: string): Rejection | undefined {
  return typeof value === 'string' && value.trim() !== '' && value === value.trim()
    ? undefined
    : reject('BAD_USER_INPUT', `${field} must be a non-empty identifier`, field);
}

// C0 controls, DEL and C1 controls (U+0080-U+009F): invisible or terminal-driving characters (an ANSI
// escape starts with ESC, or with the one-character CSI) that make a name look like another on screen or
// rewrite the screen of the operator who lists it. Every name and text the API takes is held to this.
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

function controlCharacterIn(value: string, field: string, label: string): Rejection | undefined {
  const found = CONTROL_CHARACTER.exec(value);
  if (found === null) return undefined;
  const codePoint = `U+${found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return reject('BAD_USER_INPUT', `${label} must not contain control characters (found ${codePoint} at position ${found.index})`, field);
}

// Control characters and surrounding blanks make names that look equal on screen but are not; refuse
// them rather than silently trimming, so what is stored is exactly what the caller sent.
export function requireName(value: unknown, field: string, label: string, maxLength = 255): Rejection | undefined {
  if (typeof value !== 'string' || value.trim() === '') return reject('BAD_USER_INPUT', `${label} must not be empty`, field);
  if (value !== value.trim()) return reject('BAD_USER_INPUT', `${label} "${value}" must not start or end with whitespace`, field);
  if (value.length > maxLength) return reject('BAD_USER_INPUT', `${label} must be at most ${maxLength} characters`, field);
  return controlCharacterIn(value, field, label);
}

/** A name the caller may leave out (null or undefined); when given, it is held to `requireName`. */
export function optionalName(value: unknown, field: string, label: string, maxLength = 255): Rejection | undefined {
  return value === undefined || value === null ? undefined : requireName(value, field, label, maxLength);
}

/** Free text (a description, a display text): may be empty, but not hold control characters. */
export function optionalText(value: unknown, field: string, label: string, maxLength = 4096): Rejection | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return reject('BAD_USER_INPUT', `${label} must be a string`, field);
  if (value.length > maxLength) return reject('BAD_USER_INPUT', `${label} must be at most ${maxLength} characters`, field);
  return controlCharacterIn(value, field, label);
}

export function requireIntInRange(value: unknown, field: string, label: string, min: number, max: number): Rejection | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return reject('BAD_USER_INPUT', `${label} must be an integer between ${min} and ${max}, got ${String(value)}`, field);
  }
  return undefined;
}

export function requirePositiveInt(value: unknown, field: string, label: string, max = MAX_INT32): Rejection | undefined {
  return requireIntInRange(value, field, label, 1, max);
}

export function requireBoolean(value: unknown, field: string, label: string): Rejection | undefined {
  return typeof value === 'boolean' ? undefined : reject('BAD_USER_INPUT', `${label} must be true or false`, field);
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** `at` is supplied by the caller's clock; a malformed one would corrupt every time-ordered read model. */
export function requireTimestamp(value: unknown, field = 'at'): Rejection | undefined {
  return typeof value === 'string' && ISO_UTC.test(value) && !Number.isNaN(Date.parse(value))
    ? undefined
    : reject('BAD_USER_INPUT', `${field} must be an ISO-8601 UTC timestamp, got ${String(value)}`, field);
}

/**
 * Host and storage tags: CloudStack keeps them as a comma-separated string, so a comma inside one tag
 * would split it on the way back out. Duplicates are dropped keeping first-seen order.
 */
export function normalizeTags(tags: readonly string[] | undefined, field: string): readonly string[] | Rejection {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) return reject('BAD_USER_INPUT', `${field} must be a list of strings`, field);
  const out: string[] = [];
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.trim() === '') return reject('BAD_USER_INPUT', `${field} must not contain empty tags`, field);
    const trimmed = tag.trim();
    if (trimmed.includes(',')) return reject('BAD_USER_INPUT', `tag "${trimmed}" in ${field} must not contain a comma`, field);
    if (trimmed.length > 255) return reject('BAD_USER_INPUT', `tag "${trimmed}" in ${field} is longer than 255 characters`, field);
    if (!out.includes(trimmed)) out.push(trimmed);
  }
  return out;
}

export function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
