// Bounds on argument values, for every operation and transport, before the control plane sees them.
// The JSON body limit bounds a request as a whole; these name the argument that is too big.
import { ApiError } from '../../control-plane/port.js';

/** Any string argument, in UTF-8 bytes. */
export const MAX_STRING_BYTES = 64 * 1024;
/** Names, ids, tags and other short identifiers, in characters (CloudStack's varchar(255)). */
export const MAX_NAME_LENGTH = 255;
/** Items in a list argument or keys in a JSON object. */
export const MAX_LIST_LENGTH = 1_000;

const SHORT_ARGUMENTS: ReadonlySet<string> = new Set([
  'name',
  'displayName',
  'group',
  'account',
  'keyword',
  'username',
  'osType',
  'hypervisor',
  'driver',
  'networkType',
  'type',
  'format',
  'scope',
  'state',
  'cidr',
  'gateway',
  'after',
  'clientToken',
  'keyPairs',
  'hostTags',
  'storageTags',
  'tags',
  'volume',
  'pool',
]);

function isShort(key: string): boolean {
  return SHORT_ARGUMENTS.has(key) || key === 'id' || key === 'ids' || key.endsWith('Id') || key.endsWith('Ids');
}

function preview(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

interface Site {
  readonly operation: string;
  readonly argument: string;
}

function refuse(site: Site, message: string): never {
  throw new ApiError('BAD_USER_INPUT', `${message} (argument ${site.argument} of ${site.operation})`, site.argument);
}

function check(site: Site, path: string, key: string, value: unknown): void {
  if (typeof value === 'string') {
    if (isShort(key) && value.length > MAX_NAME_LENGTH) {
      refuse(site, `${path} ${preview(value)} is ${value.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`);
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_STRING_BYTES) {
      refuse(site, `${path} ${preview(value)} is ${bytes} bytes long; at most ${MAX_STRING_BYTES} are allowed`);
    }
    return;
  }
  if (Array.isArray(value)) {
    if (value.length > MAX_LIST_LENGTH) {
      refuse(site, `${path} has ${value.length} items; at most ${MAX_LIST_LENGTH} are allowed`);
    }
    value.forEach((item: unknown, index) => check(site, `${path}[${index}]`, key, item));
    return;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length > MAX_LIST_LENGTH) {
      refuse(site, `${path} has ${entries.length} keys; at most ${MAX_LIST_LENGTH} are allowed`);
    }
    for (const [name, item] of entries) {
      if (name.length > MAX_NAME_LENGTH) {
        refuse(site, `${path} has a key ${preview(name)} of ${name.length} characters; at most ${MAX_NAME_LENGTH} are allowed`);
      }
      check(site, `${path}.${name}`, name, item);
    }
  }
}

/** Throws BAD_USER_INPUT naming the first argument of `operation` that is too long or too large. */
export function guardArguments(operation: string, args: Readonly<Record<string, unknown>>): void {
  for (const [argument, value] of Object.entries(args)) check({ operation, argument }, argument, argument, value);
}
