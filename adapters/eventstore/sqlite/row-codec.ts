// How an event's data and metadata are kept in a row of the SQLite log. Rows written since issue 19
// hold one BLOB in `data`: a byte naming the preset dictionary (0: none) and then
// deflateRaw(metadataText + "\n" + dataText); `metadata` is a zero-length BLOB. Rows written before
// hold both texts as they are. The texts inside are the store's canonical JSON, byte for byte, so the
// hash chain (over the logical event) and `readAllText` see no difference between the two shapes.
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** The dictionary id byte of a row compressed without a dictionary (the log's first events). */
export const NO_DICTIONARY = 0;
/** Dictionary ids are one byte; ids 1… are rows of the `dictionaries` table. */
export const MAX_DICTIONARY_ID = 255;

/** A preset dictionary: immutable once written, so its bytes are kept for the life of the store. */
export interface Dictionary {
  readonly id: number;
  readonly bytes: Buffer;
}

export interface RowTexts {
  readonly data: string;
  readonly metadata: string;
}

/** Why a stored row could not be turned back into its texts (changed outside the store). */
export class RowDecodeError extends Error {
  constructor(
    readonly part: 'data' | 'metadata',
    detail: string,
    /** The data text, when only the metadata is unreadable. */
    readonly data?: string,
  ) {
    super(detail);
    this.name = 'RowDecodeError';
  }
}

const NEWLINE = 0x0a;
// A 16 KiB window holds a whole 16 KiB dictionary; the default 32 KiB one only costs more to set up
// on every call (about a fifth of the time of a compression measured on the scale log).
const DEFLATE_OPTIONS = { windowBits: 14 } as const;

/**
 * The BLOB for an event's texts. Canonical JSON escapes every newline, so the first raw newline of the
 * payload is the separator; metadata with a raw newline would be read back cut short, so it is refused.
 */
export function encodeRow(texts: RowTexts, dictionary: Dictionary | undefined): Buffer {
  if (texts.metadata.includes('\n')) throw new Error('event store: metadata text holds a raw newline; canonical JSON never does');
  const payload = Buffer.from(`${texts.metadata}\n${texts.data}`, 'utf8');
  const deflated = dictionary ? deflateRawSync(payload, { ...DEFLATE_OPTIONS, dictionary: dictionary.bytes }) : deflateRawSync(payload, DEFLATE_OPTIONS);
  const row = Buffer.allocUnsafe(deflated.length + 1);
  row[0] = dictionary?.id ?? NO_DICTIONARY;
  deflated.copy(row, 1);
  return row;
}

/**
 * The texts of a compressed row. `dictionaryBytes` finds a dictionary by id (undefined when the log
 * has none by that id). Raw deflate carries no checksum: a changed byte may still inflate, to other
 * texts, which the hash chain then tells apart; here only what cannot be read at all is refused.
 */
export function decodeRow(blob: Uint8Array, dictionaryBytes: (id: number) => Buffer | undefined): RowTexts {
  if (blob.length === 0) throw new RowDecodeError('data', 'the compressed row is empty');
  const id = blob[0]!;
  let dictionary: Buffer | undefined;
  if (id !== NO_DICTIONARY) {
    dictionary = dictionaryBytes(id);
    if (!dictionary) throw new RowDecodeError('data', `the row names dictionary ${id}, which the log does not hold`);
  }
  const body = blob.subarray(1);
  let payload: Buffer;
  try {
    // Inflating with the widest window reads rows deflated with any narrower one.
    payload = dictionary ? inflateRawSync(body, { dictionary }) : inflateRawSync(body);
  } catch (error) {
    throw new RowDecodeError('data', `the compressed row does not inflate (${error instanceof Error ? error.message : String(error)})`);
  }
  const cut = payload.indexOf(NEWLINE);
  if (cut === -1) throw new RowDecodeError('metadata', 'the compressed row has no separator between metadata and data');
  return { metadata: payload.toString('utf8', 0, cut), data: payload.toString('utf8', cut + 1) };
}

/**
 * The texts of a stored row of either shape: a compressed row's BLOB, or the two texts of a row
 * written before. A RowDecodeError when a compressed row cannot be read.
 */
export function rowTexts(row: { readonly data: string | Uint8Array; readonly metadata: string | Uint8Array }, dictionaryBytes: (id: number) => Buffer | undefined): RowTexts {
  if (typeof row.data === 'string') return { data: row.data, metadata: typeof row.metadata === 'string' ? row.metadata : '' };
  const texts = decodeRow(row.data, dictionaryBytes);
  // A compressed row keeps its metadata inside; anything in the column was put there from outside.
  if (row.metadata.length > 0) throw new RowDecodeError('metadata', 'the metadata column of a compressed row is not empty', texts.data);
  return texts;
}
