// The state snapshots of state-snapshots.ts in a SQLite file of their own (`snapshots.sqlite` in the
// data directory), so they sit beside either log, the embedded one or EventStoreDB. Derived data: a
// write is not fsynced (a crash at worst loses the last snapshots, which costs a re-fold), and the
// file may be deleted while vmledger is stopped.
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { JsonValue } from './port.js';
import type { StateSnapshot, StateSnapshotStore } from './state-snapshots.js';

export const STATE_SNAPSHOTS_FILE_NAME = 'snapshots.sqlite';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS state_snapshots (
    stream   TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    event_id TEXT    NOT NULL,
    state    TEXT    NOT NULL,
    PRIMARY KEY (stream, kind)
  ) WITHOUT ROWID;
`;

interface Row {
  readonly version: number;
  readonly revision: number;
  readonly event_id: string;
  readonly state: string;
}

export class SqliteStateSnapshotStore implements StateSnapshotStore {
  private readonly select: Statement<[string, string], Row>;
  private readonly upsert: Statement<[string, string, number, number, string, string]>;

  private constructor(private readonly db: Db) {
    this.select = db.prepare('SELECT version, revision, event_id, state FROM state_snapshots WHERE stream = ? AND kind = ?');
    this.upsert = db.prepare(
      `INSERT INTO state_snapshots (stream, kind, version, revision, event_id, state) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream, kind) DO UPDATE SET version = excluded.version, revision = excluded.revision, event_id = excluded.event_id, state = excluded.state`,
    );
  }

  static open(path: string): SqliteStateSnapshotStore {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(SCHEMA);
    return new SqliteStateSnapshotStore(db);
  }

  async read(stream: string, kind: string): Promise<StateSnapshot | undefined> {
    const row = this.select.get(stream, kind);
    if (!row) return undefined;
    return { stream, kind, version: row.version, revision: row.revision, eventId: row.event_id, state: JSON.parse(row.state) as JsonValue };
  }

  async write(snapshot: StateSnapshot): Promise<void> {
    this.upsert.run(snapshot.stream, snapshot.kind, snapshot.version, snapshot.revision, snapshot.eventId, JSON.stringify(snapshot.state));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
