import type { Database } from 'better-sqlite3';
import type { ComputeSpec, LeaseExpiryAction } from '../../../domain/offering/index.js';
import type { Connection, PageRequest } from '../../pagination.js';
import { byCreated, listPage, where } from '../../listing.js';
import { prepared, stringList } from '../../sql.js';

/** CPU in MHz per core, memory in MiB. Fields a kind of offering lacks are null. */
export interface ServiceOfferingNode {
  readonly id: string;
  readonly name: string;
  readonly displayText: string;
  readonly computeKind: ComputeSpec['kind'];
  /** CloudStack's `iscustomized`: cores and memory come from the deploy call. */
  readonly customized: boolean;
  readonly cpuNumber: number | null;
  readonly cpuSpeed: number | null;
  readonly memory: number | null;
  readonly minCpuNumber: number | null;
  readonly maxCpuNumber: number | null;
  readonly minMemory: number | null;
  readonly maxMemory: number | null;
  readonly hostTags: string[];
  readonly storageTags: string[];
  readonly isVolatile: boolean;
  readonly dynamicScalingEnabled: boolean;
  readonly offerHa: boolean;
  /** Days. */
  readonly leaseDuration: number | null;
  readonly leaseExpiryAction: LeaseExpiryAction | null;
  readonly removed: boolean;
  readonly created: string;
}

export interface DiskOfferingNode {
  readonly id: string;
  readonly name: string;
  readonly displayText: string;
  /** Bytes; null for a custom-sized offering. */
  readonly diskSize: number | null;
  readonly customized: boolean;
  readonly storageTags: string[];
  readonly removed: boolean;
  readonly created: string;
}

interface ServiceOfferingRow {
  id: string;
  name: string;
  display_text: string;
  compute_kind: ComputeSpec['kind'];
  cpu_number: number | null;
  cpu_speed: number | null;
  memory: number | null;
  min_cpu_number: number | null;
  max_cpu_number: number | null;
  min_memory: number | null;
  max_memory: number | null;
  host_tags: string;
  storage_tags: string;
  is_volatile: 0 | 1;
  dynamic_scaling_enabled: 0 | 1;
  offer_ha: 0 | 1;
  lease_duration: number | null;
  lease_expiry_action: LeaseExpiryAction | null;
  deleted: 0 | 1;
  created: string;
}

interface DiskOfferingRow {
  id: string;
  name: string;
  display_text: string;
  disk_size: number | null;
  storage_tags: string;
  deleted: 0 | 1;
  created: string;
}

const serviceOfferingNode = (row: ServiceOfferingRow): ServiceOfferingNode => ({
  id: row.id,
  name: row.name,
  displayText: row.display_text,
  computeKind: row.compute_kind,
  customized: row.compute_kind !== 'fixed',
  cpuNumber: row.cpu_number,
  cpuSpeed: row.cpu_speed,
  memory: row.memory,
  minCpuNumber: row.min_cpu_number,
  maxCpuNumber: row.max_cpu_number,
  minMemory: row.min_memory,
  maxMemory: row.max_memory,
  hostTags: stringList(row.host_tags),
  storageTags: stringList(row.storage_tags),
  isVolatile: row.is_volatile === 1,
  dynamicScalingEnabled: row.dynamic_scaling_enabled === 1,
  offerHa: row.offer_ha === 1,
  leaseDuration: row.lease_duration,
  leaseExpiryAction: row.lease_expiry_action,
  removed: row.deleted === 1,
  created: row.created,
});

const diskOfferingNode = (row: DiskOfferingRow): DiskOfferingNode => ({
  id: row.id,
  name: row.name,
  displayText: row.display_text,
  diskSize: row.disk_size,
  customized: row.disk_size === null,
  storageTags: stringList(row.storage_tags),
  removed: row.deleted === 1,
  created: row.created,
});

type ListArgs = PageRequest & { readonly id?: string | null };
type GetOptions = { readonly includeRemoved?: boolean };

/** Offerings not deleted, oldest first. */
export function listServiceOfferings(db: Database, args: ListArgs = {}): Connection<ServiceOfferingNode> {
  const conditions = [where('deleted = 0'), args.id != null ? where('id = ?', args.id) : undefined];
  return listPage(db, byCreated<ServiceOfferingRow>('infra_offering_service', conditions), args, serviceOfferingNode);
}

/** A deleted offering only with `includeRemoved`: instances keep referring to the offering they were deployed with. */
export function getServiceOffering(db: Database, id: string, options: GetOptions = {}): ServiceOfferingNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_offering_service WHERE id = ?').get(id) as ServiceOfferingRow | undefined;
  return row && (options.includeRemoved || row.deleted === 0) ? serviceOfferingNode(row) : undefined;
}

export function listDiskOfferings(db: Database, args: ListArgs = {}): Connection<DiskOfferingNode> {
  const conditions = [where('deleted = 0'), args.id != null ? where('id = ?', args.id) : undefined];
  return listPage(db, byCreated<DiskOfferingRow>('infra_offering_disk', conditions), args, diskOfferingNode);
}

export function getDiskOffering(db: Database, id: string, options: GetOptions = {}): DiskOfferingNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_offering_disk WHERE id = ?').get(id) as DiskOfferingRow | undefined;
  return row && (options.includeRemoved || row.deleted === 0) ? diskOfferingNode(row) : undefined;
}
