import type { Database } from 'better-sqlite3';
import { prepared } from '../sql.js';

export interface TimerRow {
  readonly timerId: string;
  readonly kind: string;
  readonly subjectId: string;
  readonly dueMs: number;
}

/** Armed timers due at `nowMs` or before, earliest first, at most `limit`. */
export function dueTimers(db: Database, nowMs: number, limit: number): TimerRow[] {
  return prepared(
    db,
    'SELECT timer_id AS timerId, kind, subject_id AS subjectId, due_ms AS dueMs FROM timers WHERE fired = 0 AND due_ms <= ? ORDER BY due_ms LIMIT ?',
  ).all(nowMs, limit) as TimerRow[];
}

/** Timers that fired but whose handler's end was not recorded (a crash in between), at most `limit`. */
export function unfinishedFirings(db: Database, limit: number): TimerRow[] {
  return prepared(
    db,
    'SELECT timer_id AS timerId, kind, subject_id AS subjectId, due_ms AS dueMs FROM timers WHERE fired = 1 ORDER BY due_ms LIMIT ?',
  ).all(limit) as TimerRow[];
}

/** The armed (or firing) timer, if any. */
export function armedTimer(db: Database, timerId: string): TimerRow | undefined {
  return prepared(db, 'SELECT timer_id AS timerId, kind, subject_id AS subjectId, due_ms AS dueMs FROM timers WHERE timer_id = ?').get(timerId) as
    | TimerRow
    | undefined;
}

/**
 * PENDING leases whose expiry timer (`<expiryTimerPrefix><instance id>`) is not in the index: armed
 * at start-up, after a crash between a deployment or an update and the arming of its timer.
 */
export function leasesWithoutTimers(db: Database, expiryTimerPrefix: string): Array<{ id: string; leaseExecution: 'PENDING'; leaseExpiryDate: string }> {
  const rows = prepared(
    db,
    `SELECT i.id, json_extract(i.instance, '$.leaseExpiryDate') AS expiry FROM instances i
     WHERE i.leased = 1 AND i.expunged = 0 AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.timer_id = ? || i.id)`,
  ).all(expiryTimerPrefix) as Array<{ id: string; expiry: string | null }>;
  return rows.flatMap((row) => (row.expiry === null ? [] : [{ id: row.id, leaseExecution: 'PENDING' as const, leaseExpiryDate: row.expiry }]));
}
