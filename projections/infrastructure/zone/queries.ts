import type { Database } from 'better-sqlite3';
import type { AllocationState, HypervisorType, NetworkType } from '../../../domain/zone/index.js';
import type { Connection, PageRequest } from '../../pagination.js';
import { byCreated, listPage, where } from '../../listing.js';
import { prepared } from '../../sql.js';

export interface ZoneNode {
  readonly id: string;
  readonly name: string;
  readonly networkType: NetworkType;
  readonly allocationState: AllocationState;
  readonly created: string;
}

export interface ClusterNode {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly hypervisor: HypervisorType;
  readonly created: string;
}

interface ZoneRow {
  id: string;
  name: string;
  network_type: NetworkType;
  allocation_state: AllocationState;
  created: string;
}

interface ClusterRow {
  id: string;
  zone_id: string;
  name: string;
  hypervisor: HypervisorType;
  created: string;
}

const zoneNode = (row: ZoneRow): ZoneNode => ({
  id: row.id,
  name: row.name,
  networkType: row.network_type,
  allocationState: row.allocation_state,
  created: row.created,
});

const clusterNode = (row: ClusterRow): ClusterNode => ({
  id: row.id,
  zoneId: row.zone_id,
  name: row.name,
  hypervisor: row.hypervisor,
  created: row.created,
});

export function listZones(db: Database, args: PageRequest & { readonly id?: string | null } = {}): Connection<ZoneNode> {
  return listPage(db, byCreated<ZoneRow>('infra_zone', [args.id != null ? where('id = ?', args.id) : undefined]), args, zoneNode);
}

export function getZone(db: Database, id: string): ZoneNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_zone WHERE id = ?').get(id) as ZoneRow | undefined;
  return row && zoneNode(row);
}

export function listClusters(
  db: Database,
  args: PageRequest & { readonly zoneId?: string | null; readonly id?: string | null } = {},
): Connection<ClusterNode> {
  const conditions = [args.zoneId != null ? where('zone_id = ?', args.zoneId) : undefined, args.id != null ? where('id = ?', args.id) : undefined];
  return listPage(db, byCreated<ClusterRow>('infra_zone_cluster', conditions), args, clusterNode);
}

export function getCluster(db: Database, id: string): ClusterNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_zone_cluster WHERE id = ?').get(id) as ClusterRow | undefined;
  return row && clusterNode(row);
}
