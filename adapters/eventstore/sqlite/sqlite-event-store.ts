import Database from 'better-sqlite3';
import type { Database as Db, Statement, Transaction } from 'better-sqlite3';
import {
  CorruptEventError,
  EventStoreClosedError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventData,
  type EventFilter,
  type EventStore,
  type ExpectedRevision,
  type JsonObject,
  type JsonValue,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StoredEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionMessage,
} from '../port.js';
import { GENESIS_HASH, HASH_CHAIN_KEY, chainContentOfText, seal } from '../hash-chain.js';
import { assertExpectedRevision, assertStreamName, serialiseEvents, type SerialisedEvent } from '../validation.js';
import { StreamIndex, type EventRow } from './stream-index.js';
import { Dictionaries, FIRST_DICTIONARY_AT, SAMPLED_EVENTS, type DictionarySample } from './dictionaries.js';
import { RowDecodeError, encodeRow, rowTexts, type Dictionary, type RowTexts } from './row-codec.js';

export interface SqliteEventStoreOptions {
  /**
   * How often a caught-up subscription looks for events written by another process. Appends made
   * through this instance wake subscriptions at once.
   */
  readonly pollIntervalMs?: number;
  /** Page size of catch-up reads. */
  readonly readBatchSize?: number;
  /**
   * The log's length at which the first compression dictionary is built (then at 10x the last one's);
   * only tests set it lower.
   */
  readonly firstDictionaryAt?: number;
}

type Outcome = { ok: true; result: AppendResult } | { ok: false; error: unknown };

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly SerialisedEvent[];
  readonly expected: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

const ANY_REPEAT_LOOKBACK = 100;
const REVISION_CACHE_SIZE = 100_000;

// `data` and `metadata` keep their TEXT declaration: SQLite stores a BLOB in a TEXT-affinity column
// as the BLOB it is, so compressed rows (row-codec.ts) went in without a migration.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    recorded_at TEXT    NOT NULL
  );
`;

/**
 * The embedded event store. One SQLite file in WAL mode with `synchronous=FULL`: an append is
 * acknowledged only after its transaction is fsynced. Event ids are deduplicated per stream, as in
 * EventStoreDB; they are not indexed globally, because a random-UUID index would cost every
 * commit a page write per event. For the same reason the stream index is built behind the log
 * (`stream-index.ts`). Appends that arrive within one tick of the event
 * loop are committed together (group commit), each checked against its own expected revision, so many
 * writers share one fsync. Positions are SQLite rowids: gap-free because nothing is ever deleted and a
 * failed transaction leaves no row behind (a SQLite-only fact: the port promises increasing positions).
 * Each event is sealed into its stream's hash chain (`hash-chain.ts`) inside the write transaction,
 * from the stream tip the transaction itself sees.
 *
 * Rows are compressed (`row-codec.ts`): `data` holds a dictionary id byte and the deflated metadata
 * and data texts, `metadata` an empty BLOB; rows written before hold the two texts, and both shapes
 * read alike, so old logs need no migration. The dictionary is built from the log's own latest events
 * (`dictionaries.ts`), in the write transaction whose head reaches 1,000 events and then ten times the
 * last one's, and committed with the first rows deflated with it; a connection that meets an id it has
 * not seen reads that dictionary then. On the 10,000-instance scale log, 1,139 → 398 bytes per event.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Db;
  private readonly pollIntervalMs: number;
  private readonly readBatchSize: number;
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly wakers = new Set<() => void>();
  private readonly filterStatements = new Map<string, Statement<unknown[], EventRow>>();

  private readonly tipAtStmt: Statement<[number], Pick<EventRow, 'stream' | 'revision' | 'position' | 'data' | 'metadata'>>;
  private readonly insertStmt: Statement<[number, string, number, string, string, Buffer, Buffer, string]>;
  private readonly recentStmt: Statement<[number], Pick<EventRow, 'type' | 'data' | 'metadata'>>;
  private readonly dictionaries: Dictionaries;
  /** Dictionary bytes by id, for the codec; made once rather than per row. */
  private readonly dictionaryBytes = (id: number): Buffer | undefined => this.dictionaries.bytesOf(id);
  private readonly headStmt: Statement<[], { head: number | null }>;
  private readonly commitBatch: Transaction<(batch: readonly PendingAppend[]) => Outcome[]>;
  private readonly index: StreamIndex;
  private readonly dataVersionStmt: Statement<[], number>;
  private readonly readStreamRows: Transaction<(version: number, stream: string, from: number, direction: 'forwards' | 'backwards', limit: number) => EventRow[]>;

  private constructor(path: string, options: SqliteEventStoreOptions) {
    const firstDictionaryAt = options.firstDictionaryAt ?? FIRST_DICTIONARY_AT;
    // Checked before the file is opened. Built at 0 events, every batch would build another (ten times 0 is 0).
    if (!Number.isSafeInteger(firstDictionaryAt) || firstDictionaryAt < 1) {
      throw new RangeError(`firstDictionaryAt must be a positive integer, got ${firstDictionaryAt}`);
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.readBatchSize = options.readBatchSize ?? 1000;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    // Group commits touch many index pages; checkpointing the WAL every 1,000 pages (the default)
    // would copy them back to the database every few commits.
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma('cache_size = -65536');
    this.db.exec(SCHEMA);
    this.index = new StreamIndex(this.db);
    this.dictionaries = new Dictionaries(this.db, firstDictionaryAt);
    // Prepared once: db.pragma() prepares its statement on every call, and this runs on every read.
    this.dataVersionStmt = this.db.prepare<[], number>('PRAGMA data_version').pluck();
    this.tipAtStmt = this.db.prepare('SELECT stream, revision, position, data, metadata FROM events WHERE position = ?');
    this.recentStmt = this.db.prepare('SELECT type, data, metadata FROM events WHERE position > ? ORDER BY position');
    this.insertStmt = this.db.prepare(
      'INSERT INTO events (position, stream, revision, id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.headStmt = this.db.prepare('SELECT MAX(position) AS head FROM events');
    this.commitBatch = this.db.transaction((batch: readonly PendingAppend[]) => this.writeBatch(batch));
    // One snapshot for catching up with other connections and reading: the version is read before it.
    this.readStreamRows = this.db.transaction((version: number, stream: string, from: number, direction: 'forwards' | 'backwards', limit: number) => {
      this.syncWithOthers(version);
      return this.index.rows(stream, from, direction, limit);
    });
  }

  static open(path: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    return new SqliteEventStore(path, options);
  }

  append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    try {
      if (this.closed) throw new EventStoreClosedError();
      assertStreamName(stream);
      assertExpectedRevision(expected);
      const serialised = serialiseEvents(events);
      return new Promise<AppendResult>((resolve, reject) => {
        this.pending.push({ stream, events: serialised, expected, resolve, reject });
        this.scheduleFlush();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate, not a microtask: writers resumed by the previous commit re-enter append() in
    // microtasks, so by the time this runs every writer of the tick has queued its append.
    setImmediate(() => this.flush());
  }

  /** Every append of a tick, in one transaction; refusals are decided before their append writes. */
  private writeBatch(batch: readonly PendingAppend[]): Outcome[] {
    const outcomes: Outcome[] = [];
    // The write lock is held: nobody else can commit, so this version is exact.
    this.syncWithOthers(this.dataVersionNow());
    const head = this.head();
    let nextPosition = head + 1;
    const recordedAt = new Date().toISOString();
    const dictionary = this.dictionaries.forWriting(head, () => this.recentSamples(head));
    for (const append of batch) {
      try {
        const { result, written } = this.applyAppend(append, nextPosition, recordedAt, dictionary);
        nextPosition += written;
        outcomes.push({ ok: true, result });
      } catch (error) {
        // Only a refused expected revision is this append's own failure; any other error fails
        // the whole transaction.
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.commitBatch.immediate(batch);
    } catch (error) {
      // The commit failed (disk full, I/O error): nothing of the batch is durable, and what this
      // connection noted of it must be read again from the file.
      this.forget();
      this.dictionaries.forget();
      this.stale = true;
      for (const append of batch) append.reject(error);
      return;
    }
    this.index.committed();
    batch.forEach((append, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) append.resolve(outcome.result);
      else append.reject(outcome.error);
    });
    if (outcomes.some((o) => o.ok)) this.wake();
  }

  /** The latest events a new dictionary is sampled from; one that cannot be read is left out. */
  private *recentSamples(head: number): Iterable<DictionarySample> {
    for (const row of this.recentStmt.all(Math.max(0, head - SAMPLED_EVENTS))) {
      try {
        yield { type: row.type, texts: rowTexts(row, this.dictionaryBytes) };
      } catch (error) {
        if (!(error instanceof RowDecodeError)) throw error;
      }
    }
  }

  /** Writes one append, or throws before writing anything when its expected revision does not hold. */
  private applyAppend(append: PendingAppend, nextPosition: number, recordedAt: string, dictionary: Dictionary | undefined): { result: AppendResult; written: number } {
    const { stream, events, expected } = append;
    const last = this.lastEvent(stream);
    const current = last.revision;
    const actual = current === -1 ? 'no_stream' : current;
    const wrong = () => new WrongExpectedRevisionError(stream, expected, actual);

    let appendAfter: number;
    if (expected === 'any') {
      const repeat = this.findRepeat(stream, events);
      if (repeat) return { result: repeat, written: 0 };
      appendAfter = current;
    } else if (expected === 'stream_exists') {
      if (current === -1) throw wrong();
      const repeat = this.findRepeat(stream, events);
      if (repeat) return { result: repeat, written: 0 };
      appendAfter = current;
    } else {
      const expectedLast = expected === 'no_stream' ? -1 : expected;
      if (current !== expectedLast) {
        const repeat = current > expectedLast ? this.matchAt(stream, expectedLast + 1, events) : undefined;
        if (repeat) return { result: repeat, written: 0 };
        throw wrong();
      }
      appendAfter = current;
    }

    if (events.length === 0) return { result: { revision: current, positions: [] }, written: 0 };
    const positions: number[] = [];
    let previous = last.hash;
    events.forEach((event, i) => {
      const position = nextPosition + i;
      const revision = appendAfter + 1 + i;
      const sealed = seal(previous, stream, revision, chainContentOfText(event));
      this.insertStmt.run(position, stream, revision, event.id, event.type, encodeRow(sealed, dictionary), EMPTY_BLOB, recordedAt);
      this.index.noteWritten(stream, { revision, position, id: event.id });
      previous = sealed.link.hash;
      positions.push(position);
    });
    this.remember(stream, { revision: appendAfter + events.length, hash: previous }, nextPosition + events.length - 1);
    return { result: { revision: appendAfter + events.length, positions }, written: events.length };
  }

  // The store knows the revisions and head it wrote last and its stream index's tail, unless another
  // connection (another process on the same file) committed since: SQLite's data_version changes
  // exactly then, so the cache is dropped and the index catches up.
  private readonly revisions = new Map<string, StreamTip>();
  private cachedHead: number | undefined;
  private dataVersion: number | undefined;
  /** A commit failed: what this connection noted in memory may not be in the file. */
  private stale = false;

  private dataVersionNow(): number {
    return this.dataVersionStmt.get()!;
  }

  /**
   * Inside a transaction, before reading: takes in what other connections committed up to `version`.
   * A version read before the transaction's snapshot only ever makes this catch up again, never miss.
   */
  private syncWithOthers(version: number): void {
    if (this.stale) {
      this.index.reload();
      this.dictionaries.refresh();
      this.stale = false;
    } else if (version !== this.dataVersion) {
      this.index.catchUp();
      this.dictionaries.refresh();
    } else {
      return;
    }
    this.forget();
    this.dataVersion = version;
  }

  private forget(): void {
    this.revisions.clear();
    this.cachedHead = undefined;
    this.dataVersion = undefined;
  }

  private head(): number {
    this.cachedHead ??= this.headStmt.get()?.head ?? 0;
    return this.cachedHead;
  }

  /** The stream's last revision (-1: none) and the hash the next event chains to. */
  private lastEvent(stream: string): StreamTip {
    let tip = this.revisions.get(stream);
    if (tip === undefined) {
      const position = this.index.lastPosition(stream);
      const row = position === undefined ? undefined : this.tipAtStmt.get(position);
      // A stream written before the chain existed continues from the genesis hash; verify reports it.
      tip = row ? { revision: row.revision, hash: linkHashOf(parseStored(row, this.readableTexts(row), 'metadata')) ?? GENESIS_HASH } : { revision: -1, hash: GENESIS_HASH };
      this.remember(stream, tip);
    }
    return tip;
  }

  private remember(stream: string, tip: StreamTip, head?: number): void {
    if (this.revisions.size >= REVISION_CACHE_SIZE) this.revisions.clear();
    this.revisions.set(stream, tip);
    if (head !== undefined) this.cachedHead = head;
  }

  /**
   * For 'any'/'stream_exists': the batch was already stored if its first id is among the stream's
   * recent events and the rest follow it. Like EventStoreDB, which checks these against recent ids
   * only, the look-back is bounded; an exact expected revision is the way to full idempotency.
   */
  private findRepeat(stream: string, events: readonly SerialisedEvent[]): AppendResult | undefined {
    const first = events[0];
    if (!first) return undefined;
    const found = this.index.entries(stream, Number.MAX_SAFE_INTEGER, 'backwards', ANY_REPEAT_LOOKBACK).find((row) => row.id === first.id);
    return found ? this.matchAt(stream, found.revision, events) : undefined;
  }

  /** The stored result when the stream holds exactly these event ids from `revision` on; otherwise undefined. */
  private matchAt(stream: string, revision: number, events: readonly SerialisedEvent[]): AppendResult | undefined {
    if (events.length === 0) return undefined;
    const stored = this.index.entries(stream, revision, 'forwards', events.length);
    if (stored.length !== events.length || stored.some((row, i) => row.id !== events[i]!.id)) return undefined;
    return { revision: revision + events.length - 1, positions: stored.map((row) => row.position) };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    assertStreamName(stream);
    const direction = options.direction ?? 'forwards';
    const from = options.fromRevision ?? (direction === 'forwards' ? 0 : Number.MAX_SAFE_INTEGER);
    return this.readStreamRows(this.dataVersionNow(), stream, from, direction, options.maxCount ?? -1).map((row) => this.recorded(row));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const from = options.fromPosition === undefined || options.fromPosition === 'start' ? 0 : options.fromPosition;
    return this.readAllRows(from, Number.MAX_SAFE_INTEGER, options.maxCount ?? -1, options.filter).map((row) => this.recorded(row));
  }

  async readAllText(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const from = options.fromPosition === undefined || options.fromPosition === 'start' ? 0 : options.fromPosition;
    return this.readAllRows(from, Number.MAX_SAFE_INTEGER, options.maxCount ?? -1, options.filter).map((row) => this.stored(row));
  }

  /** Rows after `from` up to and including `to`, in position order. */
  private readAllRows(from: number, to: number, limit: number, filter: EventFilter | undefined): EventRow[] {
    return this.filteredStatement(filter).all(from, to, ...filterParams(filter), limit);
  }

  private filteredStatement(filter: EventFilter | undefined): Statement<unknown[], EventRow> {
    const types = filter?.eventTypePrefixes ?? [];
    const streams = filter?.streamNamePrefixes ?? [];
    const key = `${types.map((t) => t.length).join(',')}|${streams.map((s) => s.length).join(',')}`;
    let statement = this.filterStatements.get(key);
    if (!statement) {
      const clauses = ['position > ?', 'position <= ?'];
      // substr() rather than LIKE: LIKE is case-insensitive and treats _ and % as wildcards.
      if (types.length > 0) clauses.push(`(${types.map((t) => `substr(type, 1, ${t.length}) = ?`).join(' OR ')})`);
      if (streams.length > 0) clauses.push(`(${streams.map((s) => `substr(stream, 1, ${s.length}) = ?`).join(' OR ')})`);
      statement = this.db.prepare<unknown[], EventRow>(
        `SELECT * FROM events WHERE ${clauses.join(' AND ')} ORDER BY position LIMIT ?`,
      );
      this.filterStatements.set(key, statement);
    }
    return statement;
  }

  /** The canonical texts of a row of either shape, or CorruptEventError naming where the row is. */
  private readableTexts(row: Pick<EventRow, 'stream' | 'revision' | 'position' | 'data' | 'metadata'>): RowTexts {
    try {
      return rowTexts(row, this.dictionaryBytes);
    } catch (error) {
      if (!(error instanceof RowDecodeError)) throw error;
      throw new CorruptEventError(row.stream, row.revision, row.position, error.part, error.message);
    }
  }

  /** A row as the port's RecordedEvent: parsed, or CorruptEventError naming where it is. */
  recorded(row: EventRow): RecordedEvent {
    const texts = this.readableTexts(row);
    return {
      id: row.id,
      type: row.type,
      stream: row.stream,
      revision: row.revision,
      position: row.position,
      data: parseStored(row, texts, 'data') as JsonValue,
      metadata: parseStored(row, texts, 'metadata') as JsonObject,
      recordedAt: row.recorded_at,
    };
  }

  /**
   * A row as stored text. A compressed row that cannot be read comes out with the unreadable part
   * empty, so a reader that hashes or parses the text (audit verify) reports it as not JSON where it
   * is and goes on to the next event, as it does for a text row changed into something unparsable.
   */
  private stored(row: EventRow): StoredEvent {
    let texts: RowTexts;
    try {
      texts = rowTexts(row, this.dictionaryBytes);
    } catch (error) {
      if (!(error instanceof RowDecodeError)) throw error;
      texts = { data: error.data ?? '', metadata: '' };
    }
    return {
      id: row.id,
      type: row.type,
      stream: row.stream,
      revision: row.revision,
      position: row.position,
      data: texts.data,
      metadata: texts.metadata,
      recordedAt: row.recorded_at,
    };
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    return new SqliteSubscription(this, options);
  }

  /** One page of a subscription: events after `from` and the head the page was read against, from one snapshot. */
  readPage(from: number, filter: EventFilter | undefined): { rows: EventRow[]; head: number; complete: boolean } {
    return this.db.transaction(() => {
      const head = this.headStmt.get()?.head ?? 0;
      const rows = this.readAllRows(from, head, this.readBatchSize, filter);
      return { rows, head, complete: rows.length < this.readBatchSize };
    })();
  }

  /** Resolves when an append commits through this instance, or after the poll interval. */
  waitForAppend(): { promise: Promise<void>; cancel: () => void } {
    let cancel!: () => void;
    const promise = new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      const waker = () => {
        this.wakers.delete(waker);
        done();
      };
      this.wakers.add(waker);
      cancel = waker;
    });
    return { promise, cancel };
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.headStmt.get()?.head ?? 0;
  }

  /** Positions are the rowids 1, 2, 3…: every integer up to the head is one. */
  async isPosition(position: number): Promise<boolean> {
    return Number.isSafeInteger(position) && position >= 0 && position <= (await this.headPosition());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) this.flush();
    this.closed = true;
    this.wake();
    // Leaves nothing for the next open to read back into memory; a crash instead would only cost that.
    this.index.indexTail();
    this.index.stop();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosedError();
  }
}

class SqliteSubscription implements Subscription {
  private closed = false;
  private cancelWait: (() => void) | undefined;

  constructor(
    private readonly store: SqliteEventStore,
    private readonly options: SubscribeOptions,
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<SubscriptionMessage> {
    const filter = this.options.filter;
    const from = this.options.fromPosition ?? 'start';
    let position = from === 'start' ? 0 : from === 'end' ? await this.store.headPosition() : from;
    let caughtUp = false;
    try {
      while (!this.closed && !this.store.isClosed) {
        const page = this.store.readPage(position, filter);
        for (const row of page.rows) {
          if (this.closed) return;
          position = row.position;
          yield { kind: 'event', event: this.store.recorded(row) };
        }
        if (!page.complete) continue;
        if (position < page.head) {
          // The filter skipped the tail of the log: move past it and tell the consumer so its
          // checkpoint can move too.
          position = page.head;
          if (caughtUp) yield { kind: 'checkpoint', position };
        }
        if (!caughtUp) {
          caughtUp = true;
          yield { kind: 'caught_up', position };
          continue;
        }
        const wait = this.store.waitForAppend();
        this.cancelWait = wait.cancel;
        await wait.promise;
        this.cancelWait = undefined;
      }
    } finally {
      this.closed = true;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelWait?.();
  }
}

interface StreamTip {
  readonly revision: number;
  readonly hash: string;
}

/** JSON.parse's own error names only an offset; a reader needs to know which event it was. */
function parseStored(at: Pick<EventRow, 'stream' | 'revision' | 'position'>, texts: RowTexts, part: 'data' | 'metadata'): unknown {
  try {
    return JSON.parse(texts[part]);
  } catch (error) {
    throw new CorruptEventError(at.stream, at.revision, at.position, part, error instanceof Error ? error.message : String(error));
  }
}

/** The hash of the link in parsed metadata, or undefined when it has none. */
function linkHashOf(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const link = (metadata as Record<string, unknown>)[HASH_CHAIN_KEY];
  if (typeof link !== 'object' || link === null) return undefined;
  const hash = (link as Record<string, unknown>)['hash'];
  return typeof hash === 'string' ? hash : undefined;
}

/** What a compressed row's `metadata` column holds: the metadata is inside the `data` BLOB. */
const EMPTY_BLOB = Buffer.alloc(0);

function filterParams(filter: EventFilter | undefined): string[] {
  return [...(filter?.eventTypePrefixes ?? []), ...(filter?.streamNamePrefixes ?? [])];
}
