import type { Database } from 'better-sqlite3';
import type { ScheduleTiming, VMScheduleAction } from '../../domain/schedule/index.js';
import { byCreated, listPage, where } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';
import { prepared } from '../sql.js';

/** VMSchedule of API.md. */
export interface VMScheduleView {
  readonly id: string;
  readonly virtualMachineId: string;
  readonly accountId: string;
  readonly action: VMScheduleAction;
  readonly schedule: string;
  readonly timeZone: string;
  readonly description: string;
  readonly startDate: string;
  readonly endDate: string | null;
  readonly enabled: boolean;
  readonly created: string;
}

interface Row {
  id: string;
  seq: number;
  instance_id: string;
  account_id: string;
  action: VMScheduleAction;
  schedule: string;
  time_zone: string;
  description: string;
  start_date: string;
  end_date: string | null;
  enabled: number;
  created: string;
}

function toView(row: Row): VMScheduleView {
  return {
    id: row.id,
    virtualMachineId: row.instance_id,
    accountId: row.account_id,
    action: row.action,
    schedule: row.schedule,
    timeZone: row.time_zone,
    description: row.description,
    startDate: row.start_date,
    endDate: row.end_date,
    enabled: row.enabled === 1,
    created: row.created,
  };
}

export interface VMScheduleFilter {
  readonly virtualMachineId: string;
  readonly id?: string | null;
  readonly action?: VMScheduleAction | null;
  readonly enabled?: boolean | null;
}

/** An instance's schedules, oldest first. Visibility is the instance's, checked by the caller. */
export function listVMSchedules(db: Database, filter: VMScheduleFilter, page: PageRequest): Connection<VMScheduleView> {
  const conditions = [
    where('instance_id = ?', filter.virtualMachineId),
    filter.id ? where('id = ?', filter.id) : undefined,
    filter.action ? where('action = ?', filter.action) : undefined,
    filter.enabled === true || filter.enabled === false ? where('enabled = ?', filter.enabled ? 1 : 0) : undefined,
  ];
  return listPage(db, byCreated<Row>('vm_schedules', conditions), page, toView);
}

export function getVMSchedule(db: Database, id: string): VMScheduleView | undefined {
  const row = prepared(db, 'SELECT * FROM vm_schedules WHERE id = ?').get(id) as Row | undefined;
  return row && toView(row);
}

/** The instance's enabled schedules created before this one: the ones whose fire in a minute wins over its. */
export function earlierEnabledSchedules(db: Database, scheduleId: string): ScheduleTiming[] {
  const rows = prepared(
    db,
    `SELECT o.* FROM vm_schedules s JOIN vm_schedules o ON o.instance_id = s.instance_id AND o.seq < s.seq
     WHERE s.id = ? AND o.enabled = 1 ORDER BY o.seq`,
  ).all(scheduleId) as Row[];
  return rows.map((row) => ({ scheduleId: row.id, schedule: row.schedule, timeZone: row.time_zone, startDate: row.start_date, endDate: row.end_date }));
}

/** Enabled schedules with no armed timer `<timerPrefix><id>` (a crash between a change and its arming). */
export function schedulesWithoutTimers(db: Database, timerPrefix: string): string[] {
  const rows = prepared(
    db,
    'SELECT s.id FROM vm_schedules s WHERE s.enabled = 1 AND NOT EXISTS (SELECT 1 FROM timers t WHERE t.timer_id = ? || s.id)',
  ).all(timerPrefix) as Array<{ id: string }>;
  return rows.map((row) => row.id);
}
