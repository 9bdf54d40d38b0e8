import type { Database } from 'better-sqlite3';
import type { Instance, VmState } from '../../domain/instance/index.js';
import { byCreated, listPage, where, type Condition } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';
import { prepared } from '../sql.js';
import { visibleTo, type Visibility } from '../visibility.js';
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

/** The trigram index finds substrings of three characters or more; a shorter keyword is looked for row by row. */
const INDEXED_KEYWORD_LENGTH = 3;
/**
 * A keyword naming at most this many instances is listed from the index's matches, read and sorted
 * (a handful of rows, whatever the table's size); one naming more, by walking the list in its order
 * and keeping the matches (soon 50 of them, as they are common), where sorting them all would not pay.
 */
const FEW_MATCHES = 1000;

/** Rows whose name or display name holds `keyword`, case-insensitively; `fromMatches` when the list is to start from them. */
function keywordCondition(db: Database, keyword: string): { condition: Condition; fromMatches: boolean } {
  if ([...keyword].length < INDEXED_KEYWORD_LENGTH) {
    const lower = keyword.toLowerCase();
    return { condition: where('instr(lower(name), ?) > 0 OR instr(lower(display_name), ?) > 0', lower, lower), fromMatches: false };
  }
  // One FTS5 phrase: the keyword's characters in order, anything in it literal but the quote, doubled.
  const phrase = `"${keyword.replaceAll('"', '""')}"`;
  const matches = prepared(db, 'SELECT COUNT(*) FROM (SELECT rowid FROM instances_keyword WHERE instances_keyword MATCH ? LIMIT ?)').pluck().get(phrase, FEW_MATCHES + 1) as number;
  return { condition: where('rowid IN (SELECT rowid FROM instances_keyword WHERE instances_keyword MATCH ?)', phrase), fromMatches: matches <= FEW_MATCHES };
}

interface InstanceRow {
  id: string;
  created: string;
  instance: string;
}

/** Expunged instances are not listed (CloudStack's `removed`). */
export function listInstances(db: Database, visibility: Visibility, filter: InstanceFilter, page: PageRequest): Connection<VirtualMachineView> {
  const keyword = filter.keyword ? keywordCondition(db, filter.keyword) : undefined;
  const conditions = [
    // `+expunged` keeps SQLite from walking the whole list by its index to test each row against a
    // few matches: it starts from them instead.
    where(keyword?.fromMatches ? '+expunged = 0' : 'expunged = 0'),
    visibleTo(visibility),
    filter.id ? where('id = ?', filter.id) : undefined,
    filter.ids ? where('id IN (SELECT value FROM json_each(?))', JSON.stringify(filter.ids)) : undefined,
    filter.state ? where('state = ?', filter.state) : undefined,
    filter.zoneId ? where('zone_id = ?', filter.zoneId) : undefined,
    filter.hostId ? where('host_id = ?', filter.hostId) : undefined,
    filter.accountId ? where('account_id = ?', filter.accountId) : undefined,
    filter.leased === null || filter.leased === undefined ? undefined : where('leased = ?', filter.leased ? 1 : 0),
    keyword?.condition,
  ];
  return listPage(db, byCreated<InstanceRow>('instances', conditions), page, (row) => toVirtualMachineView(parse(row)), maintainedCount(db, visibility, filter));
}

/**
 * The list's total from instance_counts when its filters name at most one scope (everything, an
 * account, a domain subtree or a zone) and a state; undefined when the rows must be counted.
 */
function maintainedCount(db: Database, visibility: Visibility, filter: InstanceFilter): number | undefined {
  if (filter.id || filter.ids || filter.hostId || filter.keyword || (filter.leased !== null && filter.leased !== undefined)) return undefined;
  let scopes: string[];
  if (visibility.kind === 'all') {
    if (filter.accountId && filter.zoneId) return undefined;
    scopes = [filter.accountId ? `a:${filter.accountId}` : filter.zoneId ? `z:${filter.zoneId}` : '*'];
  } else if (visibility.kind === 'account') {
    if (filter.zoneId || (filter.accountId && filter.accountId !== visibility.accountId)) return undefined;
    scopes = [`a:${visibility.accountId}`];
  } else {
    if (filter.zoneId || filter.accountId) return undefined;
    scopes = visibility.domainIds.map((id) => `d:${id}`);
  }
  const state = filter.state ? ' AND state = ?' : '';
  const sql = `SELECT COALESCE(SUM(n), 0) FROM instance_counts WHERE scope IN (SELECT value FROM json_each(?))${state}`;
  return prepared(db, sql).pluck().get(JSON.stringify(scopes), ...(filter.state ? [filter.state] : [])) as number;
}

/** The instance if it exists, is not expunged, and the caller may see it. */
export function getInstance(db: Database, visibility: Visibility, id: string): VirtualMachineView | undefined {
  const instance = findInstance(db, visibility, id);
  return instance && !instance.expunged ? toVirtualMachineView(instance) : undefined;
}

/** The folded instance, expunged or not, for the application layer's decisions. */
export function findInstance(db: Database, visibility: Visibility, id: string): Instance | undefined {
  const visible = visibleTo(visibility);
  const sql = `SELECT id, created, instance FROM instances WHERE id = ?${visible ? ` AND (${visible.sql})` : ''}`;
  const row = prepared(db, sql).get(id, ...(visible?.params ?? [])) as InstanceRow | undefined;
  return row ? parse(row) : undefined;
}

/** Instances per host for one account: what the `userdispersing` allocator orders by. */
export function accountInstancesPerHost(db: Database, accountId: string): Map<string, number> {
  const rows = prepared(db, 'SELECT host_id AS hostId, COUNT(*) AS n FROM instances WHERE account_id = ? AND host_id IS NOT NULL GROUP BY host_id')
    .all(accountId) as Array<{ hostId: string; n: number }>;
  return new Map(rows.map((row) => [row.hostId, row.n]));
}

function parse(row: InstanceRow): Instance {
  return JSON.parse(row.instance) as Instance;
}

/** The instances a host holds in these states, as the log last recorded them. */
export function instancesOnHost(db: Database, hostId: string, states: readonly VmState[]): Instance[] {
  const rows = prepared(db, `SELECT instance FROM instances WHERE host_id = ? AND expunged = 0 AND state IN (${states.map(() => '?').join(', ')})`).all(hostId, ...states) as Array<{ instance: string }>;
  return rows.map((row) => JSON.parse(row.instance) as Instance);
}

/** The instance (not expunged) a hypervisor knows by this internal name: how an agent's report finds it. */
export function instanceIdByInstanceName(db: Database, instanceName: string): string | undefined {
  const row = prepared(db, 'SELECT id FROM instances WHERE instance_name = ? AND expunged = 0').get(instanceName) as { id: string } | undefined;
  return row?.id;
}

/** The instance (not expunged) a hypervisor knows by this internal name, with its state and host as last recorded. */
export function instanceByInstanceName(db: Database, instanceName: string): { id: string; state: string; hostId: string | null } | undefined {
  return prepared(db, 'SELECT id, state, host_id AS hostId FROM instances WHERE instance_name = ? AND expunged = 0').get(instanceName) as
    | { id: string; state: string; hostId: string | null }
    | undefined;
}

/**
 * The latest instance that was unmanaged from a domain of this name: an import of the domain
 * continues it (its history stays linked, where CloudStack #11737 made a new id and forgot the old).
 */
export function unmanagedInstanceNamed(db: Database, instanceName: string): string | undefined {
  const row = prepared(
    db,
    "SELECT id FROM instances WHERE instance_name = ? AND expunged = 1 AND json_extract(instance, '$.unmanaged') = 1 ORDER BY state_since DESC, id LIMIT 1",
  ).get(instanceName) as { id: string } | undefined;
  return row?.id;
}

/** Destroyed instances not expunged yet, with when they were destroyed: what the expunge sweep weighs. */
export function destroyedInstances(db: Database): Array<{ id: string; zoneId: string; accountId: string; since: string }> {
  return prepared(db, "SELECT id, zone_id AS zoneId, account_id AS accountId, state_since AS since FROM instances WHERE state = 'Destroyed' AND expunged = 0").all() as Array<{
    id: string;
    zoneId: string;
    accountId: string;
    since: string;
  }>;
}

/** Instances with a PENDING lease that expires at `from` or later (what turning leases off cancels). */
export function pendingLeases(db: Database, from: string): Array<{ id: string }> {
  return prepared(
    db,
    `SELECT id FROM instances WHERE leased = 1 AND expunged = 0 AND json_extract(instance, '$.leaseExpiryDate') >= ? ORDER BY id`,
  ).all(from) as Array<{ id: string }>;
}

/**
 * The instance (not expunged) one of whose volumes is the disk image `path` on pool `poolId`, as an
 * import from local or shared storage took it in place (CloudStack: "Disk image is already in use").
 * Scans the volumes of live instances: imports are rare, and no index is worth keeping for them.
 */
export function instanceUsingDiskImage(db: Database, poolId: string, path: string): string | undefined {
  const row = prepared(
    db,
    `SELECT instances.id AS id FROM instances, json_each(instances.instance, '$.volumes') AS volume
     WHERE instances.expunged = 0 AND json_extract(volume.value, '$.storagePoolId') = ? AND json_extract(volume.value, '$.path') = ?
       AND json_extract(volume.value, '$.state') <> 'Expunged' LIMIT 1`,
  ).get(poolId, path) as { id: string } | undefined;
  return row?.id;
}
