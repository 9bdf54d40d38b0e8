import type { Database } from 'better-sqlite3';
import type { Instance } from '../../domain/instance/index.js';
import { decodeCursor, pageSize, toConnection, type Connection, type PageRequest } from '../pagination.js';
import { restrictTo, type Visibility } from '../visibility.js';
import { toVirtualMachineView, type VirtualMachineView } from './view.js';

export interface InstanceFilter {
  readonly id?: string | null;
  readonly ids?: readonly string[] | null;
  readonly state?: string | null;
  readonly zoneId?: string | null;
  readonly hostId?: string | null;
  readonly accountId?: string | null;
  readonly leased?: boolean | null;
  /** Matches name or display name, case-insensitively, anywhere in them. */
  readonly keyword?: string | null;
}

interface InstanceRow {
  id: string;
  created: string;
  instance: string;
}

/** Expunged instances are not listed (CloudStack's `removed`). */
export function listInstances(
  db: Database,
  visibility: Visibility,
  filter: InstanceFilter,
  page: PageRequest,
): Connection<VirtualMachineView> {
  const size = pageSize(page);
  const after = decodeCursor(page.after);
  const where: string[] = ['expunged = 0'];
  const params: unknown[] = [];
  restrictTo(visibility, where, params);
  if (filter.id) {
    where.push('id = ?');
    params.push(filter.id);
  }
  if (filter.ids) {
    where.push(`id IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(filter.ids));
  }
  for (const [column, value] of [
    ['state', filter.state],
    ['zone_id', filter.zoneId],
    ['host_id', filter.hostId],
    ['account_id', filter.accountId],
  ] as const) {
    if (value) {
      where.push(`${column} = ?`);
      params.push(value);
    }
  }
  if (filter.leased !== null && filter.leased !== undefined) {
    where.push('leased = ?');
    params.push(filter.leased ? 1 : 0);
  }
  if (filter.keyword) {
    where.push(`(instr(lower(name), ?) > 0 OR instr(lower(display_name), ?) > 0)`);
    params.push(filter.keyword.toLowerCase(), filter.keyword.toLowerCase());
  }
  const whereSql = where.join(' AND ');
  const totalCount = (db.prepare(`SELECT COUNT(*) AS n FROM instances WHERE ${whereSql}`).get(...params) as { n: number }).n;
  const pageWhere = after ? `${whereSql} AND (created, id) > (?, ?)` : whereSql;
  const pageParams = after ? [...params, after[0], after[1]] : params;
  const rows = db
    .prepare(`SELECT id, created, instance FROM instances WHERE ${pageWhere} ORDER BY created, id LIMIT ?`)
    .all(...pageParams, size + 1) as InstanceRow[];
  return toConnection(rows, size, totalCount, (row) => [row.created, row.id], (row) => toVirtualMachineView(parse(row)));
}

/** The instance if it exists, is not expunged, and the caller may see it. */
export function getInstance(db: Database, visibility: Visibility, id: string): VirtualMachineView | undefined {
  const instance = findInstance(db, visibility, id);
  return instance && !instance.expunged ? toVirtualMachineView(instance) : undefined;
}

/** The folded instance, expunged or not, for the application layer's decisions. */
export function findInstance(db: Database, visibility: Visibility, id: string): Instance | undefined {
  const where = ['id = ?'];
  const params: unknown[] = [id];
  restrictTo(visibility, where, params);
  const row = db.prepare(`SELECT id, created, instance FROM instances WHERE ${where.join(' AND ')}`).get(...params) as
    | InstanceRow
    | undefined;
  return row ? parse(row) : undefined;
}

/** Instances per host for one account: what the `userdispersing` allocator orders by. */
export function accountInstancesPerHost(db: Database, accountId: string): Map<string, number> {
  const rows = db
    .prepare(`SELECT host_id AS hostId, COUNT(*) AS n FROM instances WHERE account_id = ? AND host_id IS NOT NULL GROUP BY host_id`)
    .all(accountId) as Array<{ hostId: string; n: number }>;
  return new Map(rows.map((row) => [row.hostId, row.n]));
}

function parse(row: InstanceRow): Instance {
  return JSON.parse(row.instance) as Instance;
}
