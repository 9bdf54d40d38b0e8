import type { EventFilter, RecordedEvent } from '../adapters/eventstore/port.js';

/** What a projection may do to the read-model database while it handles one event. */
export interface ReadModelWriter {
  run(sql: string, ...params: unknown[]): void;
  get<Row>(sql: string, ...params: unknown[]): Row | undefined;
  all<Row>(sql: string, ...params: unknown[]): Row[];
  /**
   * Memory that lives as long as this read model and is emptied whenever a batch rolls back, so a
   * projection may keep what it last wrote (parsed) instead of reading and parsing it again.
   * Keys should start with the projection's name.
   */
  readonly memo: Map<string, unknown>;
}

/**
 * A read model: a name, a version, the tables it owns and a handler that turns one event into writes.
 * Changing `version` (or `schema`) rebuilds it from position 0. Handlers must be deterministic: the
 * same events give the same rows, on every replay.
 */
export interface Projection {
  readonly name: string;
  readonly version: number;
  /** DDL run once on a fresh read-model database. Table names should start with the projection's name. */
  readonly schema: string;
  /** Only events that pass the filter reach `handle`. */
  readonly filter?: EventFilter;
  handle(event: RecordedEvent, db: ReadModelWriter): void;
}
