// The on-disk index of armed timers by due time: what the timer service (sagas/timers.ts) asks every
// second instead of keeping every future timer in memory. A row lives while its timer is armed or
// fired but not completed; `fired = 1` marks a timer whose handler may not have run (a crash between
// the firing and the completion), which the service runs again when it starts.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { TIMER_STREAM_PREFIX, type TimerEvent } from '../../domain/timer/index.js';
import type { Projection } from '../projection.js';

export const timersProjection: Projection = {
  name: 'timers',
  version: 1,
  schema: `
    CREATE TABLE timers (
      timer_id   TEXT PRIMARY KEY,
      kind       TEXT NOT NULL,
      subject_id TEXT NOT NULL,
      due_ms     INTEGER NOT NULL,
      fired      INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE INDEX timers_by_due ON timers (fired, due_ms);
    CREATE INDEX timers_by_subject ON timers (kind, subject_id);
  `,
  filter: { streamNamePrefixes: [TIMER_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<TimerEvent>(recorded);
    switch (event.type) {
      case 'TimerScheduled':
        db.run(
          `INSERT INTO timers (timer_id, kind, subject_id, due_ms, fired) VALUES (?, ?, ?, ?, 0)
           ON CONFLICT (timer_id) DO UPDATE SET kind = excluded.kind, subject_id = excluded.subject_id, due_ms = excluded.due_ms, fired = 0`,
          event.data.timerId,
          event.data.kind,
          event.data.subjectId,
          Date.parse(event.data.dueAt),
        );
        return;
      case 'TimerFired':
        db.run('UPDATE timers SET fired = 1 WHERE timer_id = ?', event.data.timerId);
        return;
      case 'TimerCancelled':
      case 'TimerCompleted':
        db.run('DELETE FROM timers WHERE timer_id = ?', event.data.timerId);
        return;
    }
  },
};
