import type { Database as Db, Statement } from 'better-sqlite3';

/**
 * A stored row of the `events` table. `data` and `metadata` are the texts of a row written before
 * rows were compressed, or the compressed BLOB and an empty one (`row-codec.ts`).
 */
export interface EventRow {
  position: number;
  stream: string;
  revision: number;
  id: string;
  type: string;
  data: string | Uint8Array;
  metadata: string | Uint8Array;
  recorded_at: string;
}

/** Where one event of a stream is, and its id (which idempotent re-appends are matched by). */
export interface StreamEntry {
  readonly revision: number;
  readonly position: number;
  readonly id: string;
}

type Direction = 'forwards' | 'backwards';

/** Unindexed events that make an indexing pass run at once rather than when the writer goes quiet. */
const INDEX_BATCH = 4096;
/** How long after the last write an indexing pass runs. */
const INDEX_DELAY_MS = 200;

const STREAM_INDEX_SCHEMA = `
  CREATE TABLE IF NOT EXISTS stream_index (
    stream   TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (stream, revision)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS stream_index_state (
    only_row        INTEGER PRIMARY KEY CHECK (only_row = 1),
    indexed_through INTEGER NOT NULL
  );
`;

/**
 * Where each stream's events are, built behind the log rather than in every commit. The log itself
 * (`events`, keyed by position) is the truth; this index is derived from it, as EventStoreDB builds its
 * index behind its transaction log. A commit of single events to 64 streams would otherwise dirty one
 * index page per stream, and each dirty page is another WAL frame written by the fsynced commit: that
 * cost more than the events themselves. Instead the events after `indexed_through` (the tail) are held in
 * memory per stream and moved into `stream_index` in bulk, a few thousand at a time or when writes pause,
 * where one page write serves many events of a stream.
 *
 * A crash loses only the memory tail, which is rebuilt from the log on open. Another connection to the
 * same file (another process) may write and index too: `catchUp` reads what it wrote since.
 */
export class StreamIndex {
  private readonly tail = new Map<string, StreamEntry[]>();
  /** Streams whose tail does not run revision by revision: only a log written around the store. */
  private readonly irregular = new Set<string>();
  private tailSize = 0;
  /** Every event up to here is either indexed or in `tail`. */
  private knownThrough = 0;
  private indexedThrough = 0;
  private indexTimer: NodeJS.Timeout | undefined;
  private lastProblem: string | undefined;

  private readonly indexedThroughStmt: Statement<[], { indexed_through: number }>;
  private readonly newEventsStmt: Statement<[number], StreamEntry & { stream: string }>;
  private readonly indexRangeStmt: Statement<[number, number]>;
  private readonly setIndexedThroughStmt: Statement<[number]>;
  private readonly lastIndexedStmt: Statement<[string], { position: number }>;
  private readonly indexedRows: Record<Direction, Statement<[string, number, number], EventRow>>;
  private readonly indexedEntries: Record<Direction, Statement<[string, number, number], StreamEntry>>;
  private readonly byPositionStmt: Statement<[number], EventRow>;

  constructor(private readonly db: Db) {
    migrateFromInlineIndex(db);
    db.exec(STREAM_INDEX_SCHEMA);
    this.indexedThroughStmt = db.prepare('SELECT indexed_through FROM stream_index_state');
    // Only when missing: a process that opens the file to read should not wait for the writer's lock.
    if (!this.indexedThroughStmt.get()) db.prepare('INSERT OR IGNORE INTO stream_index_state (only_row, indexed_through) VALUES (1, 0)').run();
    this.newEventsStmt = db.prepare('SELECT stream, revision, position, id FROM events WHERE position > ? ORDER BY position');
    this.indexRangeStmt = db.prepare(
      'INSERT INTO stream_index (stream, revision, position) SELECT stream, revision, position FROM events WHERE position > ? AND position <= ?',
    );
    this.setIndexedThroughStmt = db.prepare('UPDATE stream_index_state SET indexed_through = ?');
    this.lastIndexedStmt = db.prepare('SELECT position FROM stream_index WHERE stream = ? ORDER BY revision DESC LIMIT 1');
    const indexed = <T>(columns: string): Record<Direction, Statement<[string, number, number], T>> => {
      const from = `SELECT ${columns} FROM stream_index i JOIN events e ON e.position = i.position WHERE i.stream = ?`;
      return {
        forwards: db.prepare(`${from} AND i.revision >= ? ORDER BY i.revision LIMIT ?`),
        backwards: db.prepare(`${from} AND i.revision <= ? ORDER BY i.revision DESC LIMIT ?`),
      };
    };
    this.indexedRows = indexed<EventRow>('e.*');
    this.indexedEntries = indexed<StreamEntry>('i.revision, i.position, e.id');
    this.byPositionStmt = db.prepare('SELECT * FROM events WHERE position = ?');
    this.reload();
  }

  /** Forgets the memory tail and reads it again from the log: after a failed commit, whose events never were. */
  reload(): void {
    this.tail.clear();
    this.irregular.clear();
    this.tailSize = 0;
    this.indexedThrough = this.indexedThroughStmt.get()!.indexed_through;
    this.knownThrough = this.indexedThrough;
    this.catchUp();
  }

  /**
   * Takes in what other connections wrote or indexed since this one last looked. Call inside the
   * transaction whose snapshot the caller reads next.
   */
  catchUp(): void {
    const indexedThrough = this.indexedThroughStmt.get()!.indexed_through;
    if (indexedThrough > this.indexedThrough) this.dropTailThrough(indexedThrough);
    for (const row of this.newEventsStmt.iterate(Math.max(this.knownThrough, this.indexedThrough))) {
      this.noteWritten(row.stream, { revision: row.revision, position: row.position, id: row.id });
    }
  }

  /** Records an event this connection is writing, inside the transaction that writes it. */
  noteWritten(stream: string, entry: StreamEntry): void {
    let entries = this.tail.get(stream);
    if (!entries) this.tail.set(stream, (entries = []));
    const last = entries.at(-1);
    if (last && entry.revision !== last.revision + 1) this.irregular.add(stream);
    entries.push(entry);
    this.tailSize++;
    this.knownThrough = entry.position;
  }

  /** The position of the stream's last event, or undefined when it has none. */
  lastPosition(stream: string): number | undefined {
    return this.tail.get(stream)?.at(-1)?.position ?? this.lastIndexedStmt.get(stream)?.position;
  }

  /** The stream's events in revision order, forwards or backwards from `revision`; limit -1 is all. */
  rows(stream: string, revision: number, direction: Direction, limit: number): EventRow[] {
    return this.collect(stream, revision, direction, limit, this.indexedRows[direction], (entry) => this.byPosition(entry.position));
  }

  /** The same as `rows`, only where the events are and their ids. */
  entries(stream: string, revision: number, direction: Direction, limit: number): StreamEntry[] {
    return this.collect(stream, revision, direction, limit, this.indexedEntries[direction], (entry) => entry);
  }

  private collect<T>(
    stream: string,
    revision: number,
    direction: Direction,
    limit: number,
    indexed: Statement<[string, number, number], T>,
    fromTail: (entry: StreamEntry) => T,
  ): T[] {
    // Every indexed revision of a stream is below every revision in its tail: forwards, the index
    // comes first; backwards, the tail does.
    const room = (taken: number) => (limit < 0 ? -1 : limit - taken);
    if (direction === 'forwards') {
      const tail = this.tailFrom(stream, revision, direction, -1);
      // From inside a regular tail the index has nothing to add: the common read of what was
      // appended since a cached revision takes no query at all.
      const insideTail = tail.length > 0 && !this.irregular.has(stream) && revision >= this.tail.get(stream)![0]!.revision;
      const found = insideTail ? [] : indexed.all(stream, revision, limit);
      for (let i = 0; i < tail.length && room(found.length) !== 0; i++) found.push(fromTail(tail[i]!));
      return found;
    }
    const found = this.tailFrom(stream, revision, direction, limit).map(fromTail);
    if (room(found.length) !== 0) found.push(...indexed.all(stream, revision, room(found.length)));
    return found;
  }

  /** The stream's tail entries a read from `revision` takes, in read order; limit -1 is all. */
  private tailFrom(stream: string, revision: number, direction: Direction, limit: number): StreamEntry[] {
    const tail = this.tail.get(stream);
    if (!tail) return [];
    if (this.irregular.has(stream)) {
      // Only a log written around the store (tampered with, say) gets here: read as it is, in revision order.
      const taken = tail
        .filter((entry) => (direction === 'forwards' ? entry.revision >= revision : entry.revision <= revision))
        .sort((a, b) => (direction === 'forwards' ? a.revision - b.revision : b.revision - a.revision));
      return limit < 0 ? taken : taken.slice(0, limit);
    }
    // A regular tail has no gaps: the entry of revision r is at r - tail[0].revision.
    const at = revision - tail[0]!.revision;
    if (direction === 'forwards') return tail.slice(Math.max(0, at));
    const end = Math.min(tail.length, Math.max(0, at + 1));
    return tail.slice(limit < 0 ? 0 : Math.max(0, end - limit), end).reverse();
  }

  /** After a commit: index the tail now when it is long, otherwise once writes pause. */
  committed(): void {
    if (this.tailSize >= INDEX_BATCH) {
      this.indexTail();
      return;
    }
    if (this.tailSize > 0 && this.indexTimer === undefined) this.indexLater();
  }

  private indexLater(): void {
    this.indexTimer = setTimeout(() => {
      this.indexTimer = undefined;
      this.indexTail();
    }, INDEX_DELAY_MS);
    this.indexTimer.unref();
  }

  /** Moves every event of the log not yet indexed into `stream_index`, in one transaction. */
  indexTail(): void {
    clearTimeout(this.indexTimer);
    this.indexTimer = undefined;
    if (!this.db.open) return;
    try {
      this.db.transaction(() => {
        // After catching up, knownThrough is the last position in the file.
        this.catchUp();
        if (this.knownThrough <= this.indexedThrough) return;
        this.indexRangeStmt.run(this.indexedThrough, this.knownThrough);
        this.setIndexedThroughStmt.run(this.knownThrough);
      }).immediate();
    } catch (error) {
      // The file is busy or failing; the tail stays in memory, reads stay right, and appends see the
      // same failure themselves. Try again later from what the file holds. Anything but a busy file
      // is said once, since the tail would otherwise grow unseen.
      const problem = error instanceof Error ? error.message : String(error);
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY' && problem !== this.lastProblem) {
        process.emitWarning(`event store: indexing streams failed, will retry: ${problem}`);
      }
      this.lastProblem = problem;
      this.retryLater();
      return;
    }
    this.lastProblem = undefined;
    this.tail.clear();
    this.irregular.clear();
    this.tailSize = 0;
    this.indexedThrough = this.knownThrough;
  }

  private retryLater(): void {
    try {
      this.reload();
    } catch {
      // Reads will fail on the same file and say why.
    }
    this.indexLater();
  }

  stop(): void {
    clearTimeout(this.indexTimer);
    this.indexTimer = undefined;
  }

  private dropTailThrough(position: number): void {
    for (const [stream, entries] of this.tail) {
      const kept = entries.filter((entry) => entry.position > position);
      this.tailSize -= entries.length - kept.length;
      if (kept.length > 0) {
        this.tail.set(stream, kept);
      } else {
        this.tail.delete(stream);
        this.irregular.delete(stream);
      }
    }
    this.indexedThrough = position;
    this.knownThrough = Math.max(this.knownThrough, position);
  }

  private byPosition(position: number): EventRow {
    const row = this.byPositionStmt.get(position);
    if (!row) throw new Error(`event store: position ${position} is in the stream index but not in the log`);
    return row;
  }
}

/** A file written before the index moved behind the log has an inline (stream, revision) index: move it. */
function migrateFromInlineIndex(db: Db): void {
  const inline = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'events_by_stream'");
  if (!inline.get()) return;
  db.transaction(() => {
    // Another process may have migrated the file while this one waited for the write lock.
    if (!inline.get()) return;
    db.exec(STREAM_INDEX_SCHEMA);
    db.exec('INSERT INTO stream_index (stream, revision, position) SELECT stream, revision, position FROM events');
    db.exec('INSERT OR REPLACE INTO stream_index_state (only_row, indexed_through) VALUES (1, (SELECT COALESCE(MAX(position), 0) FROM events))');
    db.exec('DROP INDEX events_by_stream');
  }).immediate();
}
