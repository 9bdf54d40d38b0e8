import { createHash } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { EventFilter, EventStore, RecordedEvent, Subscription } from '../adapters/eventstore/port.js';
import type { Projection, ReadModelWriter } from './projection.js';

export interface ReadModelOptions {
  readonly store: EventStore;
  readonly projections: readonly Projection[];
  /** Folder for the read-model database; ':memory:' keeps it in memory (tests, scratch rebuilds). */
  readonly directory: string;
  /** Events per transaction at most. */
  readonly batchSize?: number;
  readonly onError?: (error: unknown) => void;
}

const FILE_PREFIX = 'readmodel-';
const MEMO_LIMIT = 50_000;

/**
 * The local read model: one SQLite database holding every projection's tables and one checkpoint.
 * Each batch of events is applied to every projection and the checkpoint moves in the same
 * transaction, so a crash at any point replays exactly the events whose rows were not committed.
 *
 * The database file is named after a fingerprint of the projections' names, versions and schemas:
 * a changed projection gets a fresh file, built from position 0 beside the old one and swapped in
 * by a rename once it has caught up.
 */
export class ReadModel {
  readonly db: Db;
  private readonly writer: StatementCache;
  private readonly batchSize: number;
  private reached: number;
  private batch: RecordedEvent[] = [];
  private batchTimer: NodeJS.Immediate | undefined;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private caughtUp = false;
  private failure: unknown;
  private waiters: Array<{ position: number; resolve: (reached: boolean) => void; timer: NodeJS.Timeout }> = [];
  private readonly saveCheckpoint: Statement<[number]>;
  private readonly commitListeners = new Set<(position: number, events: readonly RecordedEvent[]) => void>();

  private constructor(
    db: Db,
    private readonly options: ReadModelOptions,
  ) {
    this.db = db;
    this.writer = new StatementCache(db);
    this.batchSize = options.batchSize ?? 1000;
    this.reached = checkpointOf(db);
    this.saveCheckpoint = db.prepare('UPDATE read_model_checkpoint SET position = ? WHERE id = 1');
  }

  /**
   * Opens the read model for these projections, rebuilding it first when none exists for their
   * current versions, and starts following the log.
   */
  static async open(options: ReadModelOptions): Promise<ReadModel> {
    if (options.directory === ':memory:') {
      const model = new ReadModel(createDatabase(':memory:', options.projections), options);
      model.start();
      return model;
    }
    const file = readModelFile(options.directory, options.projections);
    if (!existsSync(file)) await ReadModel.rebuild(options, file);
    for (const name of readdirSync(options.directory)) {
      if (name.startsWith(FILE_PREFIX) && !file.endsWith(name.replace(/-(wal|shm)$/, ''))) {
        rmSync(join(options.directory, name), { force: true });
      }
    }
    const model = new ReadModel(createDatabase(file, options.projections), options);
    model.start();
    return model;
  }

  /** Builds a read model from position 0 up to the log's current head into `file`, replacing it atomically. */
  static async rebuild(options: ReadModelOptions, file: string): Promise<void> {
    const building = `${file}.building`;
    for (const suffix of ['', '-wal', '-shm']) rmSync(building + suffix, { force: true });
    const model = new ReadModel(createDatabase(building, options.projections, true), options);
    const head = await options.store.headPosition();
    model.start();
    const reached = await model.waitForPosition(head, Number.POSITIVE_INFINITY);
    await model.close();
    if (!reached) throw model.failure ?? new Error(`read model rebuild stopped before position ${head}`);
    renameSync(building, file);
  }

  /** The log position whose effects every projection has committed. */
  get position(): number {
    return this.reached;
  }

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  /** Set when a projection failed; the read model stops rather than skip an event. */
  get error(): unknown {
    return this.failure;
  }

  /** Resolves true once the read model has reached `position`, false after the timeout or on failure. */
  waitForPosition(position: number, timeoutMs: number): Promise<boolean> {
    if (this.reached >= position) return Promise.resolve(true);
    if (this.failure !== undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.waiters = this.waiters.filter((w) => w.resolve !== resolve);
          resolve(false);
        },
        Number.isFinite(timeoutMs) ? timeoutMs : 2 ** 31 - 1,
      );
      this.waiters.push({ position, resolve, timer });
    });
  }

  /** Calls back after every committed batch with the position reached and its events; returns the unsubscribe. */
  onCommit(listener: (position: number, events: readonly RecordedEvent[]) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  private start(): void {
    const subscription = this.options.store.subscribe({ fromPosition: this.reached });
    this.subscription = subscription;
    this.loop = (async () => {
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            this.batch.push(message.event);
            if (this.batch.length >= this.batchSize) this.commit();
            else this.batchTimer ??= setImmediate(() => this.commit());
          } else {
            this.commit(message.position);
            if (message.kind === 'caught_up') this.caughtUp = true;
          }
        }
        this.commit();
      } catch (error) {
        this.fail(error);
      }
    })();
  }

  /**
   * Applies the pending events to every projection and moves the checkpoint, in one transaction.
   * `through` moves the checkpoint past positions the subscription reported without events.
   */
  private commit(through?: number): void {
    if (this.batchTimer) clearImmediate(this.batchTimer);
    this.batchTimer = undefined;
    if (this.failure !== undefined) return;
    const events = this.batch;
    this.batch = [];
    const last = events.length > 0 ? events[events.length - 1]!.position : this.reached;
    const target = Math.max(last, through ?? 0, this.reached);
    if (target === this.reached && events.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const event of events) {
          for (const projection of this.options.projections) {
            if (passes(projection.filter, event)) projection.handle(event, this.writer);
          }
        }
        this.saveCheckpoint.run(target);
      })();
    } catch (error) {
      this.writer.memo.clear();
      this.fail(error);
      return;
    }
    // Bounded: a memo is a cache of rows, never the only copy of anything.
    if (this.writer.memo.size > MEMO_LIMIT) this.writer.memo.clear();
    this.reached = target;
    for (const listener of this.commitListeners) listener(target, events);
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.position > target) return true;
      clearTimeout(waiter.timer);
      waiter.resolve(true);
      return false;
    });
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error ?? new Error('read model failed');
    this.options.onError?.(this.failure);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters = [];
    void this.subscription?.close();
  }

  async close(): Promise<void> {
    await this.subscription?.close();
    await this.loop;
    if (this.batchTimer) clearImmediate(this.batchTimer);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters = [];
    this.db.close();
  }
}

/** The file the read model of these projections lives in, inside `directory`. */
/** The log position a read model database has applied every event up to. */
export function checkpointOf(db: Db): number {
  return (db.prepare('SELECT position FROM read_model_checkpoint WHERE id = 1').get() as { position: number }).position;
}

export function readModelFile(directory: string, projections: readonly Projection[]): string {
  return join(directory, `${FILE_PREFIX}${fingerprint(projections)}.sqlite`);
}

/**
 * `scratch`: a file being rebuilt, renamed into place only once complete and built again from the
 * start if the process dies first, so it needs no journal and no syncs. Through a WAL a rebuild of the
 * 100,000-instance log wrote 35 GB for a 2.3 GB file: every batch rewrote its pages into the WAL and
 * every checkpoint copied them again.
 */
function createDatabase(path: string, projections: readonly Projection[], scratch = false): Db {
  const db = new Database(path);
  if (scratch) {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
  } else {
    db.pragma('journal_mode = WAL');
    // Rows are rebuilt from the log at will: a commit lost to power failure is replayed, and the
    // checkpoint always moves in the same transaction as its rows, so NORMAL is enough here.
    db.pragma('synchronous = NORMAL');
  }
  // Projections rewrite the same rows often; checkpointing every 1,000 WAL pages (the default)
  // would copy them to the database file many times over.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('cache_size = -65536');
  const fresh = !db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'read_model_checkpoint'").get();
  if (fresh) {
    db.transaction(() => {
      db.exec('CREATE TABLE read_model_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL)');
      db.exec('INSERT INTO read_model_checkpoint (id, position) VALUES (1, 0)');
      db.exec('CREATE TABLE read_model_projections (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
      const insert = db.prepare('INSERT INTO read_model_projections (name, version) VALUES (?, ?)');
      for (const projection of projections) {
        db.exec(projection.schema);
        insert.run(projection.name, projection.version);
      }
    })();
  }
  return db;
}

function fingerprint(projections: readonly Projection[]): string {
  const names = projections.map((p) => p.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate) throw new Error(`two projections are named ${duplicate}`);
  const identity = [...projections]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => [p.name, p.version, p.schema, p.filter ?? null]);
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 16);
}

function passes(filter: EventFilter | undefined, event: RecordedEvent): boolean {
  if (!filter) return true;
  const types = filter.eventTypePrefixes;
  if (types && types.length > 0 && !types.some((p) => event.type.startsWith(p))) return false;
  const streams = filter.streamNamePrefixes;
  if (streams && streams.length > 0 && !streams.some((p) => event.stream.startsWith(p))) return false;
  return true;
}

class StatementCache implements ReadModelWriter {
  private readonly statements = new Map<string, Statement>();
  readonly memo = new Map<string, unknown>();
  constructor(private readonly db: Db) {}

  run(sql: string, ...params: unknown[]): void {
    this.statement(sql).run(...params);
  }

  get<Row>(sql: string, ...params: unknown[]): Row | undefined {
    return this.statement(sql).get(...params) as Row | undefined;
  }

  all<Row>(sql: string, ...params: unknown[]): Row[] {
    return this.statement(sql).all(...params) as Row[];
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
