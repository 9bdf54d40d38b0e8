// Small conversions between SQLite rows and the plain objects queries return.
import type { Database, Statement } from 'better-sqlite3';

const statements = new WeakMap<Database, Map<string, Statement>>();

/** Queries run on every API request (authentication, lists); preparing each once per database saves a parse. */
export function prepared(db: Database, sql: string): Statement {
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

/** SQLite has no boolean; better-sqlite3 refuses to bind one. */
export function flag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}

/** Tag lists are stored as JSON text: they are only ever read back whole. */
export function stringList(json: string): string[] {
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
}

/**
 * Timestamps are compared as text in ORDER BY and cursors. The domain accepts ISO-8601 UTC with 0 to 9
 * fractional digits, whose text order is not time order ("…00Z" sorts after "…00.5Z"); one fixed format
 * restores it. A pure function of the event, so rebuilds agree.
 */
export function canonicalTime(iso: string): string {
  return new Date(iso).toISOString();
}

/** When the command behind an event happened, in canonical form: its envelope's time, else when it was stored. */
export function occurredAt(event: { readonly metadata: Readonly<Record<string, unknown>>; readonly recordedAt: string }): string {
  const at = event.metadata.occurredAt;
  return canonicalTime(typeof at === 'string' ? at : event.recordedAt);
}
