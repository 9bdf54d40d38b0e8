import type { Database } from 'better-sqlite3';
import { byCreated, listPage, where, type Condition } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';
import { prepared } from '../sql.js';

/** VMSnapshot of API.md. */
export interface VMSnapshotView {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly description: string | null;
  readonly virtualMachineId: string;
  readonly accountId: string | null;
  readonly type: string;
  readonly state: string;
  readonly current: boolean;
  readonly parentId: string | null;
  readonly serviceOfferingId: string | null;
  readonly size: number | null;
  readonly created: string;
}

interface Row {
  id: string;
  instance_id: string;
  account_id: string | null;
  name: string;
  display_name: string;
  description: string | null;
  type: string;
  state: string;
  current: number;
  parent_id: string | null;
  service_offering_id: string | null;
  size: number | null;
  created: string;
}

function toView(row: Row): VMSnapshotView {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    virtualMachineId: row.instance_id,
    accountId: row.account_id,
    type: row.type,
    state: row.state,
    current: row.current === 1,
    parentId: row.parent_id,
    serviceOfferingId: row.service_offering_id,
    size: row.size,
    created: row.created,
  };
}

export interface VMSnapshotFilter {
  /** The caller's visibility (projections/visibility.ts), over the snapshot's owner. */
  readonly visible: Condition | undefined;
  readonly virtualMachineId: string | null;
  readonly id?: string | null;
  readonly name?: string | null;
  readonly state?: string | null;
}

/** Snapshots not removed, oldest first; visibility comes in as the instances the caller may see. */
export function listVMSnapshots(db: Database, filter: VMSnapshotFilter, page: PageRequest): Connection<VMSnapshotView> {
  const conditions = [
    where("state <> 'Removed'"),
    filter.visible,
    filter.virtualMachineId ? where('instance_id = ?', filter.virtualMachineId) : undefined,
    filter.id ? where('id = ?', filter.id) : undefined,
    filter.name ? where('display_name = ?', filter.name) : undefined,
    filter.state ? where('state = ?', filter.state) : undefined,
  ];
  return listPage(db, byCreated<Row>('vm_snapshots', conditions), page, toView);
}

export function getVMSnapshot(db: Database, id: string): VMSnapshotView | undefined {
  const row = prepared(db, "SELECT * FROM vm_snapshots WHERE id = ? AND state <> 'Removed'").get(id) as Row | undefined;
  return row && toView(row);
}
