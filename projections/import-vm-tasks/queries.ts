import type { Database } from 'better-sqlite3';
import { listPage, where, type ListQuery } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';

export type ImportVmTaskState = 'Running' | 'Completed' | 'Failed';

export interface ImportVmTaskRow {
  readonly id: string;
  readonly zoneId: string;
  readonly accountId: string;
  readonly instanceId: string;
  readonly displayName: string;
  readonly sourceHost: string;
  readonly sourceVmName: string;
  readonly convertHostId: string;
  readonly importHostId: string;
  readonly state: ImportVmTaskState;
  readonly step: string;
  readonly progress: number;
  /** Why it failed (the job's error), for a Failed task. */
  readonly failure: string | null;
  readonly created: string;
  readonly stepStarted: string;
  readonly lastUpdated: string;
  readonly completed: string | null;
}

interface Row {
  id: string;
  zone_id: string;
  account_id: string;
  instance_id: string;
  display_name: string;
  source_host: string;
  source_vm_name: string;
  convert_host_id: string;
  import_host_id: string;
  state: ImportVmTaskState;
  step: string;
  progress: number;
  failure: string | null;
  created: string;
  step_started: string;
  last_updated: string;
  completed: string | null;
}

const toTask = (row: Row): ImportVmTaskRow => ({
  id: row.id,
  zoneId: row.zone_id,
  accountId: row.account_id,
  instanceId: row.instance_id,
  displayName: row.display_name,
  sourceHost: row.source_host,
  sourceVmName: row.source_vm_name,
  convertHostId: row.convert_host_id,
  importHostId: row.import_host_id,
  state: row.state,
  step: row.step,
  progress: row.progress,
  failure: row.failure,
  created: row.created,
  stepStarted: row.step_started,
  lastUpdated: row.last_updated,
  completed: row.completed,
});

export interface ImportVmTaskFilter {
  readonly zoneId: string;
  readonly accountId?: string | null;
  readonly convertHostId?: string | null;
  readonly state?: ImportVmTaskState | null;
}

/** A zone's conversions, newest first (listImportVmTasks). */
export function listImportVmTasks(db: Database, filter: ImportVmTaskFilter, page: PageRequest): Connection<ImportVmTaskRow> {
  const query: ListQuery<Row> = {
    from: 'import_vm_tasks',
    conditions: [
      where('zone_id = ?', filter.zoneId),
      filter.accountId ? where('account_id = ?', filter.accountId) : undefined,
      filter.convertHostId ? where('convert_host_id = ?', filter.convertHostId) : undefined,
      filter.state ? where('state = ?', filter.state) : undefined,
    ],
    orderBy: ['created', 'id'],
    keyTypes: ['string', 'string'],
    keyOf: (row) => [row.created, row.id],
    descending: true,
  };
  return listPage(db, query, page, toTask);
}
