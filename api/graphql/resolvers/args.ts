// Typed reads of resolver arguments. GraphQL has already coerced them to the SDL's types, so a
// mismatch here means the SDL and a resolver disagree: a bug, reported as an internal error.
import { ApiError, type LeaseExpiryAction } from '../../control-plane/port.js';
import type { Args } from '../context.js';

type Optional<T> = T | null | undefined;

function mismatch(name: string, expected: string, value: unknown): never {
  throw new TypeError(`argument ${name} should be ${expected} by the schema, got ${typeof value}`);
}

export function requiredString(args: Args, name: string): string {
  const value = args[name];
  return typeof value === 'string' ? value : mismatch(name, 'a string', value);
}

export function optionalString(args: Args, name: string): Optional<string> {
  const value = args[name];
  return value === undefined || value === null || typeof value === 'string' ? value : mismatch(name, 'a string', value);
}

export function optionalBoolean(args: Args, name: string): Optional<boolean> {
  const value = args[name];
  return value === undefined || value === null || typeof value === 'boolean' ? value : mismatch(name, 'a boolean', value);
}

export function optionalNumber(args: Args, name: string): Optional<number> {
  const value = args[name];
  return value === undefined || value === null || typeof value === 'number' ? value : mismatch(name, 'a number', value);
}

export function optionalStringList(args: Args, name: string): Optional<readonly string[]> {
  const value = args[name];
  if (value === undefined || value === null) return value;
  if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) return value;
  return mismatch(name, 'a list of strings', value);
}

export function optionalLeaseExpiryAction(args: Args, name: string): Optional<LeaseExpiryAction> {
  const value = args[name];
  return value === undefined || value === null || value === 'STOP' || value === 'DESTROY' ? value : mismatch(name, 'STOP or DESTROY', value);
}

/**
 * CloudStack's `details` map: string values. Numbers and booleans are accepted and written as
 * CloudStack would receive them (`{ cpuNumber: 2 }` is `cpuNumber=2`); anything nested is refused.
 */
export function optionalDetails(args: Args, name = 'details'): Optional<Readonly<Record<string, string>>> {
  const value = args[name];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError('BAD_USER_INPUT', `${name} must be an object of string values, got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`, name);
  }
  const details: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') details[key] = item;
    else if (typeof item === 'number' || typeof item === 'boolean') details[key] = String(item);
    else throw new ApiError('BAD_USER_INPUT', `${name}.${key} must be a string, a number or a boolean, got ${item === null ? 'null' : typeof item}`, name);
  }
  return details;
}

/** The page arguments every list takes. */
export function pageArgs(args: Args): { first: Optional<number>; after: Optional<string> } {
  return { first: optionalNumber(args, 'first'), after: optionalString(args, 'after') };
}
