// Which log a command reads: EventStoreDB when EVENTSTORE_CONNECTION_STRING is set, else the SQLite
// file in the data directory (--data-dir, VMLEDGER_DATA_DIR, ./data), as the main job chooses.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EsdbEventStore } from '../../adapters/eventstore/esdb/esdb-event-store.js';
import type { EventStore } from '../../adapters/eventstore/port.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';

export interface OpenedLog {
  readonly store: EventStore;
  readonly dataDir: string;
  /** SQLite positions are 1, 2, 3…: a hole is a removed event. */
  readonly gapFreePositions: boolean;
  readonly description: string;
}

export class LogNotFoundError extends Error {
  constructor(readonly path: string) {
    super(`no event log at ${path} (set --data-dir or VMLEDGER_DATA_DIR, or EVENTSTORE_CONNECTION_STRING)`);
    this.name = 'LogNotFoundError';
  }
}

export function openLog(dataDirFlag: string | undefined, env: NodeJS.ProcessEnv): OpenedLog {
  const dataDir = resolve(dataDirFlag ?? env.VMLEDGER_DATA_DIR ?? './data');
  const connectionString = env.EVENTSTORE_CONNECTION_STRING;
  if (connectionString) {
    return { store: EsdbEventStore.connect(connectionString), dataDir, gapFreePositions: false, description: 'EventStoreDB' };
  }
  const path = join(dataDir, 'events.sqlite');
  // Opening would create an empty log: a reader pointed at the wrong place should hear so instead.
  if (!existsSync(path)) throw new LogNotFoundError(path);
  return { store: SqliteEventStore.open(path), dataDir, gapFreePositions: true, description: path };
}
