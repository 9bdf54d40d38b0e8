// Reading an operation's arguments: the one reader for the GraphQL resolvers and the control plane.
// GraphQL has typed what its schema could, but the CLI and tests call the control plane directly, and
// some arguments (a host's simulator settings, details) are open objects, so every value's type is
// checked here and every refusal is BAD_USER_INPUT naming its argument. An optional argument that was
// not given reads as undefined and one given as null as null: an update tells "leave it" from "clear
// it"; an operation that means null by both writes `?? null`.
import { ApiError } from './port.js';

/** Arguments as a resolver receives them, or as a caller of the control plane passes them. */
export type Args = Readonly<Record<string, unknown>>;

export type Optional<T> = T | null | undefined;

function badInput(field: string, message: string): never {
  throw new ApiError('BAD_USER_INPUT', message, field);
}

export function requiredString(args: Args, name: string): string {
  const value = args[name];
  if (value === undefined || value === null) badInput(name, `${name} is required`);
  if (typeof value !== 'string') badInput(name, `${name} must be a string, got ${typeof value}`);
  return value;
}

export function optionalString(args: Args, name: string): Optional<string> {
  const value = args[name];
  if (value === undefined || value === null || typeof value === 'string') return value;
  return badInput(name, `${name} must be a string, got ${typeof value}`);
}

/** Integer-ness and ranges are the aggregate's to judge; here only that a number came. */
export function optionalNumber(args: Args, name: string): Optional<number> {
  const value = args[name];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'number' || !Number.isFinite(value)) badInput(name, `${name} must be a number, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalBoolean(args: Args, name: string): Optional<boolean> {
  const value = args[name];
  if (value === undefined || value === null || typeof value === 'boolean') return value;
  return badInput(name, `${name} must be true or false, got ${JSON.stringify(value)}`);
}

export function optionalStringList(args: Args, name: string): Optional<readonly string[]> {
  const value = args[name];
  if (value === undefined || value === null) return value;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) badInput(name, `${name} must be a list of strings`);
  return value;
}

/** CloudStack matches these names case-insensitively (`kvm`, `nfs`); the canonical spelling is returned. */
export function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (match === undefined) badInput(name, `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return match;
}

export function requiredEnum<T extends string>(args: Args, name: string, allowed: readonly T[]): T {
  return oneOf(requiredString(args, name), allowed, name);
}

export function optionalEnum<T extends string>(args: Args, name: string, allowed: readonly T[]): Optional<T> {
  const value = optionalString(args, name);
  return value === undefined || value === null ? value : oneOf(value, allowed, name);
}

/**
 * CloudStack's `details` map: string values. Numbers and booleans are accepted and written as
 * CloudStack would receive them (`{ cpuNumber: 2 }` is `cpuNumber=2`); anything nested is refused.
 */
export function optionalDetails(args: Args, name = 'details'): Optional<Readonly<Record<string, string>>> {
  const value = args[name];
  if (value === undefined || value === null) return value;
  if (typeof value !== 'object' || Array.isArray(value)) {
    badInput(name, `${name} must be an object of string values, got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
  }
  const details: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === 'string') details[key] = item;
    else if (typeof item === 'number' || typeof item === 'boolean') details[key] = String(item);
    else badInput(name, `${name}.${key} must be a string, a number or a boolean, got ${item === null ? 'null' : typeof item}`);
  }
  return details;
}

/** The page arguments every list takes. */
export function pageArgs(args: Args): { first: Optional<number>; after: Optional<string> } {
  return { first: optionalNumber(args, 'first'), after: optionalString(args, 'after') };
}
