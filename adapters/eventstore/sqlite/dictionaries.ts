// The preset dictionaries compressed rows are deflated with (row-codec.ts), built from the log itself.
// Events of one type share most of their text (keys, enum values, the actor, the envelope), but one
// event alone is too short for deflate to find it repeated; a dictionary of recent events of every
// type gives it that text to point back into. A log drifts (new event types, new shapes), so a new
// dictionary is built as the log grows tenfold: at 1,000 events, 10,000, 100,000… a handful in all.
import type { Database as Db, Statement } from 'better-sqlite3';
import { MAX_DICTIONARY_ID, type Dictionary, type RowTexts } from './row-codec.js';

/**
 * Measured on the 10,000-instance scale log: one sample of each event type is about 16 KiB; 16 KiB
 * gave 178 bytes per event, 32 KiB 181 at 40 % more time per compression and inflation.
 */
export const DICTIONARY_BYTES = 16 * 1024;
/** How many of the latest events a dictionary is sampled from. */
export const SAMPLED_EVENTS = 2000;
/** The first dictionary is built when the log reaches this many events. */
export const FIRST_DICTIONARY_AT = 1000;
const GROWTH = 10;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS dictionaries (
    id       INTEGER PRIMARY KEY,
    built_at INTEGER NOT NULL,
    bytes    BLOB    NOT NULL
  );
`;

/** An event a dictionary may be sampled from. */
export interface DictionarySample {
  readonly type: string;
  readonly texts: RowTexts;
}

interface KnownDictionary extends Dictionary {
  /** The log's head when it was built. */
  readonly builtAt: number;
}

/**
 * The dictionaries of one log, kept in memory once read (they are few and never change). Another
 * connection may build one: a writer takes it in before deciding to build (`refresh`, under the write
 * lock), a reader meets its id in a row and reads it then (`bytesOf`).
 */
export class Dictionaries {
  private readonly known = new Map<number, KnownDictionary>();
  private newest: KnownDictionary | undefined;
  private readonly newerStmt: Statement<[number], { id: number; built_at: number; bytes: Buffer }>;
  private readonly insertStmt: Statement<[number, number, Buffer]>;

  constructor(
    db: Db,
    private readonly firstAt: number,
  ) {
    db.exec(SCHEMA);
    this.newerStmt = db.prepare('SELECT id, built_at, bytes FROM dictionaries WHERE id > ? ORDER BY id');
    this.insertStmt = db.prepare('INSERT INTO dictionaries (id, built_at, bytes) VALUES (?, ?, ?)');
    this.refresh();
  }

  /** Reads the dictionaries built since this connection last looked. */
  refresh(): void {
    for (const row of this.newerStmt.iterate(this.newest?.id ?? 0)) {
      this.take({ id: row.id, builtAt: row.built_at, bytes: row.bytes });
    }
  }

  /**
   * After a failed commit: a dictionary built in it never was, and another connection may write one
   * by the same id. Forgets them all without reading the (perhaps failing) file; they are read again
   * when next needed.
   */
  forget(): void {
    this.known.clear();
    this.newest = undefined;
  }

  /** A dictionary's bytes by id; undefined when the log holds none by that id. */
  bytesOf(id: number): Buffer | undefined {
    if (!this.known.has(id)) this.refresh();
    return this.known.get(id)?.bytes;
  }

  /**
   * The dictionary to write rows with when the log's head is `head`: the newest, or a new one when
   * the log has grown enough since. Call under the write lock, after `refresh`, in the transaction
   * that writes the rows, so the dictionary is committed with the first rows that need it.
   */
  forWriting(head: number, samples: () => Iterable<DictionarySample>): Dictionary | undefined {
    const due = this.newest ? this.newest.builtAt * GROWTH : this.firstAt;
    const id = (this.newest?.id ?? 0) + 1;
    if (head < due || id > MAX_DICTIONARY_ID) return this.newest;
    const bytes = dictionaryFrom(samples());
    // A log whose recent events could not be read (all changed outside the store) keeps what it has.
    if (bytes.length === 0) return this.newest;
    this.insertStmt.run(id, head, bytes);
    return this.take({ id, builtAt: head, bytes });
  }

  private take(dictionary: KnownDictionary): KnownDictionary {
    this.known.set(dictionary.id, dictionary);
    if (!this.newest || dictionary.id > this.newest.id) this.newest = dictionary;
    return dictionary;
  }
}

/**
 * A sha256 in hex, as the hash chain's links hold two of: random, so they teach deflate nothing, and
 * left out of a sample they leave room for more of what repeats (and a shorter dictionary is set up
 * faster on every call: 13.4 instead of 16 KiB, a sixth less time, on the scale log).
 */
const SHA256_HEX = /[0-9a-f]{64}/g;

/**
 * One sample of each event type (its latest, the nearest to what comes next), the rarest types first:
 * deflate encodes nearer matches in fewer bits, so the most frequent types go last, and when the
 * samples are more than DICTIONARY_BYTES the rarest are the ones cut.
 */
export function dictionaryFrom(samples: Iterable<DictionarySample>): Buffer {
  const byType = new Map<string, { count: number; text: string }>();
  for (const { type, texts } of samples) {
    const entry = byType.get(type);
    const text = `${texts.metadata.replace(SHA256_HEX, '')}\n${texts.data}`;
    if (entry) {
      entry.count++;
      entry.text = text;
    } else {
      byType.set(type, { count: 1, text });
    }
  }
  const ordered = [...byType.values()].sort((a, b) => a.count - b.count);
  const bytes = Buffer.from(ordered.map((entry) => entry.text).join(''), 'utf8');
  return bytes.length > DICTIONARY_BYTES ? Buffer.from(bytes.subarray(bytes.length - DICTIONARY_BYTES)) : bytes;
}

/**
 * Every dictionary of a log file by id, for a reader that reads rows around the store (a benchmark's
 * plainest read); a file written before rows were compressed has none.
 */
export function readDictionaries(db: Db): Map<number, Buffer> {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dictionaries'").get();
  if (!exists) return new Map();
  const rows = db.prepare('SELECT id, bytes FROM dictionaries').all() as Array<{ id: number; bytes: Buffer }>;
  return new Map(rows.map((row) => [row.id, row.bytes]));
}
