// The per-stream hash chain that makes the log tamper-evident. Every store seals each event it writes
// with `metadata.hashChain = { hash, previous }`, where `previous` is the hash of the stream's prior
// event (or GENESIS_HASH) and
//
//   hash = sha256(previous + canonicalJson({ stream, revision, id, type, data, metadata }))
//
// with `metadata` taken without its `hashChain`. Revision and stream are inside the hash, so an event
// moved, renumbered, removed or inserted breaks the link of the event that follows it; a changed
// payload breaks its own. The stores and `vmledger audit verify` share this module, so writer and
// verifier cannot drift apart.
//
// Stores write data and metadata in canonical key order, so a verifier can serialise what it parsed
// with plain JSON.stringify and usually get the canonical text at once; the full canonicalisation is
// only the fallback (see checkLink).
import { hash as digest } from 'node:crypto';
import type { JsonObject, JsonValue, StoredEvent } from './port.js';

export const HASH_CHAIN_KEY = 'hashChain';
export const GENESIS_HASH = '0'.repeat(64);

export interface HashChainLink {
  readonly hash: string;
  readonly previous: string;
}

/**
 * JSON with object keys in code-point order at every depth and no whitespace: one text per value,
 * whatever order its keys were written or parsed in. Numbers and strings are rendered by
 * JSON.stringify, so a value and its parsed JSON text always give the same canonical text.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) text += ',';
    text += `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`;
  }
  return `${text}}`;
}

/** What of an event the chain covers, serialised; stream and revision are added when it is placed. */
export interface ChainContent {
  readonly id: string;
  readonly type: string;
  readonly canonicalData: string;
  /** The metadata without any `hashChain`. */
  readonly canonicalMetadata: string;
}

type ChainedEvent = { readonly id: string; readonly type: string; readonly data: JsonValue; readonly metadata: JsonObject };

export function chainContent(event: ChainedEvent): ChainContent {
  return { id: event.id, type: event.type, canonicalData: canonicalJson(event.data), canonicalMetadata: canonicalJson(withoutLink(event.metadata)) };
}

/** The same from the texts `serialiseEvents` produced: already canonical and without a link, so taken as they are. */
export function chainContentOfText(event: { readonly id: string; readonly type: string; readonly data: string; readonly metadata: string }): ChainContent {
  return { id: event.id, type: event.type, canonicalData: event.data, canonicalMetadata: event.metadata };
}

/** The hash of an event at `revision` of `stream` whose predecessor's hash is `previous`. */
export function linkHash(previous: string, stream: string, revision: number, content: ChainContent): string {
  // The canonical JSON of { data, id, metadata, revision, stream, type }: keys already in order.
  const body =
    `{"data":${content.canonicalData},"id":${JSON.stringify(content.id)},"metadata":${content.canonicalMetadata},` +
    `"revision":${revision},"stream":${JSON.stringify(stream)},"type":${JSON.stringify(content.type)}}`;
  return digest('sha256', previous + body, 'hex');
}

/** An event placed in its stream: its link, and the data and metadata texts to store (canonical, the link last). */
export interface SealedEvent {
  readonly link: HashChainLink;
  readonly data: string;
  readonly metadata: string;
}

export function seal(previous: string, stream: string, revision: number, content: ChainContent): SealedEvent {
  const link = { hash: linkHash(previous, stream, revision, content), previous };
  // The hash is hex, nothing to escape; `previous` is read back from the file, so it is quoted properly.
  const linkText = `"${HASH_CHAIN_KEY}":{"hash":"${link.hash}","previous":${JSON.stringify(previous)}}`;
  const metadata = content.canonicalMetadata === '{}' ? `{${linkText}}` : `${content.canonicalMetadata.slice(0, -1)},${linkText}}`;
  return { link, data: content.canonicalData, metadata };
}

/** What seal() adds to the metadata text at most: the link and the comma before it. */
export const SEALED_LINK_BYTES = `,"${HASH_CHAIN_KEY}":{"hash":"${'0'.repeat(64)}","previous":"${'0'.repeat(64)}"}`.length;

/** The link stored in an event's metadata, or undefined when there is none or it is malformed. */
export function storedLink(metadata: JsonObject): HashChainLink | undefined {
  const link = metadata[HASH_CHAIN_KEY];
  if (typeof link !== 'object' || link === null || Array.isArray(link)) return undefined;
  const { hash, previous } = link;
  return isHash(hash) && isHash(previous) ? { hash, previous } : undefined;
}

/** `not-json`: the stored data or metadata text does not parse, so nothing but its link can be checked. */
export type LinkProblem = 'missing' | 'previous-mismatch' | 'hash-mismatch' | 'not-json';

export interface LinkCheck {
  /** The hash to continue the stream's walk from; undefined when the event's own link could not be read. */
  readonly hash: string | undefined;
  readonly problem?: LinkProblem;
  /** For `not-json`: the part that does not parse. */
  readonly unreadable?: 'data' | 'metadata';
}

/**
 * Checks a stored event against the hash of its stream's prior event. The content is checked against
 * the predecessor the event itself names (so a changed event is told apart from a changed
 * predecessor), then that name against `expectedPrevious`. Returns the hash to continue the walk
 * from: the stored one, so one tampered event is reported once, not for the rest of its stream.
 */
export function checkLink(expectedPrevious: string, event: ChainedEvent & { readonly stream: string; readonly revision: number }): { hash: string; problem?: LinkProblem } {
  const link = storedLink(event.metadata);
  if (!link) return { hash: linkHash(expectedPrevious, event.stream, event.revision, chainContent(event)), problem: 'missing' };
  if (!contentMatches(link, event)) return { hash: link.hash, problem: 'hash-mismatch' };
  if (link.previous !== expectedPrevious) return { hash: link.hash, problem: 'previous-mismatch' };
  return { hash: link.hash };
}

/**
 * The same check on an event as stored, before parsing: a store wrote canonical data and metadata
 * texts with the link last, so the texts are hashed as they are. Text that is not laid out so, or
 * does not match, is parsed and decided by checkLink, so the result is the same either way.
 */
export function checkStoredEvent(expectedPrevious: string, event: StoredEvent): LinkCheck {
  const cut = cutLink(event.metadata);
  if (cut) {
    const content: ChainContent = { id: event.id, type: event.type, canonicalData: event.data, canonicalMetadata: cut.rest };
    if (linkHash(cut.link.previous, event.stream, event.revision, content) === cut.link.hash) {
      return cut.link.previous === expectedPrevious ? { hash: cut.link.hash } : { hash: cut.link.hash, problem: 'previous-mismatch' };
    }
  }
  // Text that is not JSON was not written by a store. Its link, when it can still be cut from the
  // metadata, carries the walk on; otherwise the next event's link is the only word on its hash.
  const data = parseOrUndefined(event.data);
  if (data === undefined) return { hash: cut?.link.hash, problem: 'not-json', unreadable: 'data' };
  const metadata = parseOrUndefined(event.metadata);
  if (metadata === undefined) return { hash: cut?.link.hash, problem: 'not-json', unreadable: 'metadata' };
  return checkLink(expectedPrevious, { ...event, data, metadata: typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) ? metadata : {} });
}

function parseOrUndefined(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

const LINK_HEAD = `"${HASH_CHAIN_KEY}":{"hash":"`;
const LINK_MIDDLE = '","previous":"';
const LINK_LENGTH = LINK_HEAD.length + 64 + LINK_MIDDLE.length + 64 + '"}}'.length;

/** The link at the end of metadata text as seal() writes it, and the text without it. */
function cutLink(text: string): { link: HashChainLink; rest: string } | undefined {
  if (text.length < LINK_LENGTH + 1) return undefined;
  const tail = text.slice(text.length - LINK_LENGTH);
  const middle = LINK_HEAD.length + 64;
  if (!tail.startsWith(LINK_HEAD) || tail.slice(middle, middle + LINK_MIDDLE.length) !== LINK_MIDDLE || !tail.endsWith('"}}')) return undefined;
  const link = { hash: tail.slice(LINK_HEAD.length, middle), previous: tail.slice(middle + LINK_MIDDLE.length, LINK_LENGTH - 3) };
  const before = text.charAt(text.length - LINK_LENGTH - 1);
  if (before === '{' && text.length === LINK_LENGTH + 1) return { link, rest: '{}' };
  if (before !== ',') return undefined;
  return { link, rest: `${text.slice(0, text.length - LINK_LENGTH - 1)}}` };
}

function contentMatches(link: HashChainLink, event: ChainedEvent & { readonly stream: string; readonly revision: number }): boolean {
  // Parsed from canonical text, the keys are in canonical order and JSON.stringify is the canonical
  // text; anything else falls back to canonicalising, so a match always means the canonical hash.
  const asStored: ChainContent = { id: event.id, type: event.type, canonicalData: JSON.stringify(event.data), canonicalMetadata: metadataTextWithoutLink(event.metadata, link) };
  if (linkHash(link.previous, event.stream, event.revision, asStored) === link.hash) return true;
  return linkHash(link.previous, event.stream, event.revision, chainContent(event)) === link.hash;
}

/** The metadata's text without its link, cut from the end where a store put it (no copy of the object). */
function metadataTextWithoutLink(metadata: JsonObject, link: HashChainLink): string {
  const text = JSON.stringify(metadata);
  const suffix = `"${HASH_CHAIN_KEY}":{"hash":"${link.hash}","previous":"${link.previous}"}}`;
  if (!text.endsWith(suffix)) return JSON.stringify(withoutLink(metadata));
  const rest = text.slice(0, text.length - suffix.length);
  return rest === '{' ? '{}' : `${rest.slice(0, -1)}}`;
}

function withoutLink(metadata: JsonObject): JsonObject {
  if (!(HASH_CHAIN_KEY in metadata)) return metadata;
  const { [HASH_CHAIN_KEY]: _link, ...rest } = metadata;
  return rest;
}

/** The shape of a sha256 in hex; a 64-character string that is not one never equals a computed hash. */
function isHash(value: JsonValue | undefined): value is string {
  return typeof value === 'string' && value.length === 64;
}
