import type { Database } from 'better-sqlite3';
import type { PoolCandidate } from '../../../domain/allocation/index.js';
import type { StoragePoolScope, StoragePoolType } from '../../../domain/storage/index.js';
import type { Connection, PageRequest } from '../../pagination.js';
import { byCreated, listPage, where } from '../../listing.js';
import { prepared, stringList } from '../../sql.js';

/** Sizes in bytes. */
export interface StoragePoolNode {
  readonly id: string;
  readonly name: string;
  readonly zoneId: string;
  readonly clusterId: string | null;
  readonly hostId: string | null;
  readonly scope: StoragePoolScope;
  readonly type: StoragePoolType;
  /** NFS server; null for pools mounted on the hosts. */
  readonly server: string | null;
  readonly path: string;
  readonly capacityBytes: number;
  readonly allocatedBytes: number;
  readonly freeBytes: number;
  readonly tags: string[];
  readonly created: string;
}

interface StoragePoolRow {
  id: string;
  name: string;
  zone_id: string;
  scope: StoragePoolScope;
  cluster_id: string | null;
  host_id: string | null;
  type: StoragePoolType;
  server: string | null;
  path: string;
  capacity_bytes: number;
  allocated_bytes: number;
  tags: string;
  created: string;
}

const storagePoolNode = (row: StoragePoolRow): StoragePoolNode => ({
  id: row.id,
  name: row.name,
  zoneId: row.zone_id,
  clusterId: row.cluster_id,
  hostId: row.host_id,
  scope: row.scope,
  type: row.type,
  server: row.server,
  path: row.path,
  capacityBytes: row.capacity_bytes,
  allocatedBytes: row.allocated_bytes,
  freeBytes: row.capacity_bytes - row.allocated_bytes,
  tags: stringList(row.tags),
  created: row.created,
});

export interface ListStoragePoolsArgs extends PageRequest {
  readonly zoneId?: string | null;
  readonly clusterId?: string | null;
  readonly id?: string | null;
}

export function listStoragePools(db: Database, args: ListStoragePoolsArgs = {}): Connection<StoragePoolNode> {
  const conditions = [
    args.zoneId != null ? where('zone_id = ?', args.zoneId) : undefined,
    args.clusterId != null ? where('cluster_id = ?', args.clusterId) : undefined,
    args.id != null ? where('id = ?', args.id) : undefined,
  ];
  return listPage(db, byCreated<StoragePoolRow>('infra_storage_pool', conditions), args, storagePoolNode);
}

export function getStoragePool(db: Database, id: string): StoragePoolNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_storage_pool WHERE id = ?').get(id) as StoragePoolRow | undefined;
  return row && storagePoolNode(row);
}

/**
 * The zone's pools as volume allocation sees them, oldest first (CloudStack's firstfit order), with
 * what `volumeIds` hold in each already.
 */
export function storagePoolSnapshot(db: Database, zoneId: string, volumeIds: readonly string[] = []): PoolCandidate[] {
  const rows = prepared(db, 'SELECT * FROM infra_storage_pool WHERE zone_id = ? ORDER BY created, id').all(zoneId) as StoragePoolRow[];
  const held = new Map<string, Record<string, number>>();
  for (const row of volumeReservations(db, volumeIds)) {
    held.set(row.poolId, { ...held.get(row.poolId), [row.volumeId]: row.bytes });
  }
  return rows.map((row) => ({
    poolId: row.id,
    name: row.name,
    scope: row.scope,
    clusterId: row.cluster_id,
    hostId: row.host_id,
    type: row.type,
    capacityBytes: row.capacity_bytes,
    allocatedBytes: row.allocated_bytes,
    heldBy: held.get(row.id) ?? {},
    tags: stringList(row.tags),
  }));
}

export interface VolumeReservation {
  readonly poolId: string;
  readonly volumeId: string;
  readonly bytes: number;
}

/** Every reservation the volumes hold, on whichever pool. */
export function volumeReservations(db: Database, volumeIds: readonly string[]): VolumeReservation[] {
  const statement = prepared(db, 'SELECT pool_id AS poolId, volume_id AS volumeId, bytes FROM infra_storage_pool_reservation WHERE volume_id = ?');
  return volumeIds.flatMap((id) => statement.all(id) as VolumeReservation[]);
}
