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
