import type { Database } from 'better-sqlite3';
import type { HostCapability } from '../../../domain/agent-protocol/index.js';
import type { HostStatus } from '../../../domain/host/index.js';
import type { Connection, PageRequest } from '../../pagination.js';
import { byCreated, listPage, where } from '../../listing.js';
import { prepared } from '../../sql.js';
import { capabilityList, hostNode, type HostNode, type HostRow } from './rows.js';

export interface ListHostsArgs extends PageRequest {
  readonly zoneId?: string | null;
  readonly clusterId?: string | null;
  readonly id?: string | null;
}

/** Hosts not removed, oldest first. */
export function listHosts(db: Database, args: ListHostsArgs = {}): Connection<HostNode> {
  const conditions = [
    where('removed = 0'),
    args.zoneId != null ? where('zone_id = ?', args.zoneId) : undefined,
    args.clusterId != null ? where('cluster_id = ?', args.clusterId) : undefined,
    args.id != null ? where('id = ?', args.id) : undefined,
  ];
  return listPage(db, byCreated<HostRow>('infra_host', conditions), args, hostNode);
}

/** A removed host only with `includeRemoved` (history views still name the host an instance ran on). */
export function getHost(db: Database, id: string, options: { readonly includeRemoved?: boolean } = {}): HostNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_host WHERE id = ?').get(id) as HostRow | undefined;
  return row && (options.includeRemoved || row.removed === 0) ? hostNode(row) : undefined;
}

/**
 * What the host's agent last reported it can do (e.g. `snapshot.memory`); none for a host not heard
 * of yet, and for an unknown or removed one.
 */
export function hostCapabilities(db: Database, hostId: string): readonly HostCapability[] {
  const row = prepared(db, 'SELECT capabilities FROM infra_host WHERE id = ? AND removed = 0').get(hostId) as { capabilities: string } | undefined;
  return row === undefined ? [] : capabilityList(row.capabilities);
}

export interface HostReservationNode {
  readonly hostId: string;
  readonly instanceId: string;
  readonly cpuNumber: number;
  /** MHz per core. */
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
}

interface ReservationRow {
  host_id: string;
  instance_id: string;
  cpu_number: number;
  cpu_speed: number;
  memory: number;
}

const reservationNode = (row: ReservationRow): HostReservationNode => ({
  hostId: row.host_id,
  instanceId: row.instance_id,
  cpuNumber: row.cpu_number,
  cpuSpeed: row.cpu_speed,
  memory: row.memory,
});

/** The reservations a host holds, by instance id. */
export function listHostReservations(db: Database, hostId: string): HostReservationNode[] {
  const rows = prepared(db, 'SELECT * FROM infra_host_reservation WHERE host_id = ? ORDER BY instance_id').all(hostId) as ReservationRow[];
  return rows.map(reservationNode);
}

/** Where an instance holds capacity: one host normally, two while a migration holds both ends. */
export function listInstanceReservations(db: Database, instanceId: string): HostReservationNode[] {
  const rows = prepared(db, 'SELECT * FROM infra_host_reservation WHERE instance_id = ? ORDER BY host_id').all(instanceId) as ReservationRow[];
  return rows.map(reservationNode);
}

// Liveness is watched for hosts whose agent sends heartbeats: not removed, and not simulated (a
// simulated host's agent lives in this process and cannot fall silent on its own).

/** The status of a host whose heartbeats are watched; undefined for any other host. */
export function watchedHostStatus(db: Database, hostId: string): HostStatus | undefined {
  const row = prepared(db, "SELECT status FROM infra_host WHERE id = ? AND removed = 0 AND driver <> 'simulator'").get(hostId) as { status: HostStatus } | undefined;
  return row?.status;
}

/** The watched hosts that are Up: those a silence can disconnect. */
export function watchedHostsUp(db: Database): string[] {
  const rows = prepared(db, "SELECT id FROM infra_host WHERE removed = 0 AND driver <> 'simulator' AND status = 'Up'").all() as Array<{ id: string }>;
  return rows.map((row) => row.id);
}
