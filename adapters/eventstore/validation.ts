import { HASH_CHAIN_KEY, SEALED_LINK_BYTES } from './hash-chain.js';
import {
  InvalidAppendError,
  MAX_APPEND_BYTES,
  type EventData,
  type ExpectedRevision,
  type JsonObject,
} from './port.js';

export const MAX_STREAM_NAME_LENGTH = 200;
export const MAX_EVENT_TYPE_LENGTH = 200;
/** One append is one transaction; a bound keeps one careless caller from holding the writer. */
export const MAX_EVENTS_PER_APPEND = 10_000;

// `<category>-<id>`: a lowercase category, a dash, then an id of safe characters. No `$` (EventStoreDB's
// system streams), no whitespace, no path or glob characters.
const STREAM_NAME = /^[a-z][a-z0-9]*-[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const EVENT_TYPE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function assertStreamName(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || stream.length === 0) {
    throw new InvalidAppendError('stream', 'stream name must be a non-empty string');
  }
  if (stream.length > MAX_STREAM_NAME_LENGTH) {
    throw new InvalidAppendError('stream', `stream name longer than ${MAX_STREAM_NAME_LENGTH} characters`);
  }
  if (!STREAM_NAME.test(stream)) {
    throw new InvalidAppendError('stream', `malformed stream name ${JSON.stringify(stream)}: expected <category>-<id>`);
  }
}

export function assertExpectedRevision(expected: unknown): asserts expected is ExpectedRevision {
  if (expected === 'no_stream' || expected === 'stream_exists' || expected === 'any') return;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return;
  throw new InvalidAppendError(
    'expected',
    `expected revision must be 'no_stream', 'stream_exists', 'any' or a revision >= 0, got ${safeDescribe(expected)}`,
  );
}

/** A serialised event, checked and ready to store. */
export interface SerialisedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

/** Checks every event of an append and serialises it once (canonical JSON), so the store never writes a half-checked batch. */
export function serialiseEvents(events: unknown): SerialisedEvent[] {
  if (!Array.isArray(events)) throw new InvalidAppendError('events', 'events must be an array');
  if (events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidAppendError('events', `more than ${MAX_EVENTS_PER_APPEND} events in one append`);
  }
  const serialised = events.map(serialiseEvent(new Set<string>()));
  assertAppendSize(serialised);
  return serialised;
}

/**
 * What an event counts against MAX_APPEND_BYTES once stored: data and metadata (with the link the store
 * adds) in UTF-8, and the type twice, as EventStoreDB means to count it.
 */
function storedBytes(event: SerialisedEvent): number {
  return Buffer.byteLength(event.data) + Buffer.byteLength(event.metadata) + SEALED_LINK_BYTES + 2 * Buffer.byteLength(event.type);
}

/** The append's size against MAX_APPEND_BYTES; an event over it alone is named. */
function assertAppendSize(events: readonly SerialisedEvent[]): void {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: count bytes only when the limit is in reach.
  let bound = 0;
  for (const event of events) bound += (event.data.length + event.metadata.length + 2 * event.type.length) * 3 + SEALED_LINK_BYTES;
  if (bound <= MAX_APPEND_BYTES) return;
  let total = 0;
  events.forEach((event, index) => {
    const bytes = storedBytes(event);
    if (bytes > MAX_APPEND_BYTES) {
      throw new InvalidAppendError(`events[${index}]`, `events[${index}] is ${bytes} bytes stored, over the ${MAX_APPEND_BYTES}-byte limit of one append`);
    }
    total += bytes;
  });
  if (total > MAX_APPEND_BYTES) {
    throw new InvalidAppendError(
      'events',
      `the append is ${total} bytes stored (data, metadata and type twice, of all its events), over the ${MAX_APPEND_BYTES}-byte limit of one append; split it`,
    );
  }
}

/**
 * An estimate of what `events` count against MAX_APPEND_BYTES, for a writer that merges appends and must
 * split them under the limit: plain JSON has the same length whatever its key order, so this equals
 * the stored size of what `serialiseEvents` accepts.
 */
export function appendBytes(events: ReadonlyArray<Pick<EventData, 'type' | 'data' | 'metadata'>>): number {
  let total = 0;
  for (const event of events) {
    total += Buffer.byteLength(JSON.stringify(event.data) ?? '') + Buffer.byteLength(JSON.stringify(event.metadata ?? {})) + SEALED_LINK_BYTES + 2 * Buffer.byteLength(event.type);
  }
  return total;
}

function serialiseEvent(ids: Set<string>): (event: unknown, index: number) => SerialisedEvent {
  return (event: unknown, index) => {
    const field = `events[${index}]`;
    if (typeof event !== 'object' || event === null) throw new InvalidAppendError(field, `${field} must be an object`);
    const { id, type, data, metadata } = event as EventData;
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw new InvalidAppendError(`${field}.id`, `${field}.id must be a lowercase UUID, got ${safeDescribe(id)}`);
    }
    if (ids.has(id)) throw new InvalidAppendError(`${field}.id`, `${field}.id ${id} repeats an id of the same append`);
    ids.add(id);
    if (typeof type !== 'string' || type.length === 0 || type.length > MAX_EVENT_TYPE_LENGTH || !EVENT_TYPE.test(type)) {
      throw new InvalidAppendError(`${field}.type`, `${field}.type is not a valid event type: ${safeDescribe(type)}`);
    }
    const meta = metadata === undefined ? {} : metadata;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      throw new InvalidAppendError(`${field}.metadata`, `${field}.metadata must be an object`);
    }
    // Canonical text (sorted keys) is what the hash chain covers; writing it as stored saves the
    // store a parse and a re-serialisation. The chain link itself is the store's to write.
    const { [HASH_CHAIN_KEY]: _link, ...ownMetadata } = meta as JsonObject;
    const dataText = canonicalText(data, `${field}.data`);
    const metadataText = canonicalText(ownMetadata, `${field}.metadata`);
    return { id, type, data: dataText, metadata: metadataText };
  };
}

/** Sentinel of `inCanonicalOrder`: the value needs the careful walk. */
const UNUSUAL = Symbol('unusual');
/** Deeper than any event needs; a cycle gets here too and is then named by the careful walk. */
const FAST_PATH_DEPTH = 64;

/**
 * The canonical JSON text of a value. Most payloads are plain: for those, the value with its object
 * keys put in order is handed to the native JSON.stringify, which is much faster than building the
 * text in JavaScript. Anything else takes the careful walk, which also words the refusal.
 */
function canonicalText(value: unknown, field: string): string {
  const ordered = inCanonicalOrder(value, 0);
  return ordered === UNUSUAL ? checkedCanonicalJson(value, [field], new Set()) : JSON.stringify(ordered);
}

/**
 * The value itself when every object in it already has its keys in code-point order, else a copy
 * whose objects do; UNUSUAL for anything JSON.stringify would not write canonically or at all:
 * non-finite numbers, undefined, functions, bigints, class instances, depth (cycles), and keys that
 * begin with a digit (objects list integer-like keys first, whatever order they were set in) or are
 * `__proto__` (setting it on a copy would change the copy's prototype).
 */
function inCanonicalOrder(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : UNUSUAL;
    case 'object': {
      if (value === null) return value;
      if (depth > FAST_PATH_DEPTH) return UNUSUAL;
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          const ordered = inCanonicalOrder(item, depth + 1);
          if (ordered === UNUSUAL) return UNUSUAL;
          if (ordered !== item) (copy ??= value.slice())[i] = ordered;
        }
        return copy ?? value;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return UNUSUAL;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      const values = new Array<unknown>(keys.length);
      let sorted = true;
      let copied = false;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const first = key.charCodeAt(0);
        if ((first >= 48 && first <= 57) || key === '__proto__') return UNUSUAL;
        if (i > 0 && keys[i - 1]! > key) sorted = false;
        const item = record[key];
        const ordered = inCanonicalOrder(item, depth + 1);
        if (ordered === UNUSUAL) return UNUSUAL;
        if (ordered !== item) copied = true;
        values[i] = ordered;
      }
      if (sorted && !copied) return value;
      const order = keys.map((_, i) => i);
      if (!sorted) order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
      const copy: Record<string, unknown> = {};
      for (const i of order) copy[keys[i]!] = values[i];
      return copy;
    }
    default:
      return UNUSUAL;
  }
}

/**
 * The canonical JSON text of a value (as hash-chain.ts's canonicalJson writes it), refusing on the way
 * what JSON cannot hold — undefined, NaN, Infinity, functions, bigints, class instances, cycles —
 * which JSON.stringify would silently drop or mangle: an event must read back exactly as written.
 * One walk does both; the offending path is only spelled out when something is refused.
 */
function checkedCanonicalJson(value: unknown, path: Array<string | number>, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw refused(path, 'is not a finite number');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (seen.has(value)) throw refused(path, 'contains a cycle');
      seen.add(value);
      let text: string;
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          items.push(checkedCanonicalJson(value[i], path, seen));
          path.pop();
        }
        text = `[${items.join(',')}]`;
      } else {
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const name = (proto as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'non-plain';
          throw refused(path, `is a ${name} object, not JSON`);
        }
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record).sort();
        text = '{';
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          path.push(key);
          text += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:${checkedCanonicalJson(record[key], path, seen)}`;
          path.pop();
        }
        text += '}';
      }
      seen.delete(value);
      return text;
    }
    default:
      throw refused(path, `is ${typeof value}, which JSON cannot hold`);
  }
}

function refused(path: ReadonlyArray<string | number>, problem: string): InvalidAppendError {
  const [root, ...rest] = path;
  const where = `${String(root)}${rest.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('')}`;
  return new InvalidAppendError(where, `${where} ${problem}`);
}

function safeDescribe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'object') return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
