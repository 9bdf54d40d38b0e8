// Instance schedules as vmSchedules lists them, and what the scheduler asks of them: the instance's
// other schedules created before one (first created wins a minute), and the enabled schedules whose
// timer a crash kept from being armed. `seq` is the log position of the creation: the order of
// creation, which CloudStack reads from its auto-increment id.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { VM_SCHEDULE_STREAM_PREFIX, type VMScheduleEvent } from '../../domain/schedule/index.js';
import type { Projection } from '../projection.js';
import { flag } from '../sql.js';

export const vmSchedulesProjection: Projection = {
  name: 'vm-schedules',
  version: 1,
  schema: `
    CREATE TABLE vm_schedules (
      id            TEXT PRIMARY KEY,
      seq           INTEGER NOT NULL,
      instance_id   TEXT NOT NULL,
      account_id    TEXT NOT NULL,
      domain_id     TEXT NOT NULL,
      action        TEXT NOT NULL,
      schedule      TEXT NOT NULL,
      time_zone     TEXT NOT NULL,
      description   TEXT NOT NULL,
      start_date    TEXT NOT NULL,
      end_date      TEXT,
      enabled       INTEGER NOT NULL,
      created       TEXT NOT NULL,
      next_fire_at  TEXT
    );
    CREATE INDEX vm_schedules_by_instance ON vm_schedules (instance_id, created, id);
    CREATE INDEX vm_schedules_by_enabled ON vm_schedules (enabled);
  `,
  filter: { streamNamePrefixes: [VM_SCHEDULE_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<VMScheduleEvent>(recorded);
    const id = event.data.scheduleId;
    switch (event.type) {
      case 'VMScheduleCreated': {
        const d = event.data;
        db.run(
          `INSERT OR IGNORE INTO vm_schedules (id, seq, instance_id, account_id, domain_id, action, schedule, time_zone, description, start_date, end_date, enabled, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          id, recorded.position, d.instanceId, d.accountId, d.domainId, d.action, d.schedule, d.timeZone, d.description, d.startDate, d.endDate, flag(d.enabled), d.created,
        );
        return;
      }
      case 'VMScheduleUpdated': {
        const d = event.data;
        db.run(
          'UPDATE vm_schedules SET schedule = ?, time_zone = ?, description = ?, start_date = ?, end_date = ?, enabled = ?, next_fire_at = NULL WHERE id = ?',
          d.schedule, d.timeZone, d.description, d.startDate, d.endDate, flag(d.enabled), id,
        );
        return;
      }
      case 'VMScheduleDeleted':
        db.run('DELETE FROM vm_schedules WHERE id = ?', id);
        return;
      case 'VMScheduleArmed':
        db.run('UPDATE vm_schedules SET next_fire_at = ? WHERE id = ?', event.data.fireAt, id);
        return;
      case 'VMScheduleFired':
      case 'VMScheduleFireSkipped':
      case 'VMScheduleFiresMissed':
        db.run('UPDATE vm_schedules SET next_fire_at = NULL WHERE id = ?', id);
        return;
      case 'VMScheduleDisabled':
        db.run('UPDATE vm_schedules SET enabled = 0, next_fire_at = NULL WHERE id = ?', id);
        return;
    }
  },
};
