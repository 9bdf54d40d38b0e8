import type { Database } from 'better-sqlite3';
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

/** The pool a new root volume is placed in when nothing says otherwise: the zone's oldest. */
export function defaultStoragePoolFor(db: Database, zoneId: string): StoragePoolNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_storage_pool WHERE zone_id = ? ORDER BY created, id LIMIT 1').get(zoneId) as StoragePoolRow | undefined;
  return row && storagePoolNode(row);
}

export function getStoragePool(db: Database, id: string): StoragePoolNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_storage_pool WHERE id = ?').get(id) as StoragePoolRow | undefined;
  return row && storagePoolNode(row);
}
