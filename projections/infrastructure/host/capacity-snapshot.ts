// The allocation planner's input, read from the host table instead of folding every host stream.
import type { Database } from 'better-sqlite3';
import type { CapacitySnapshot, HostCandidate } from '../../../domain/allocation/index.js';
import { hostState } from '../../../domain/host/index.js';
import { prepared, stringList } from '../../sql.js';
import type { HostRow } from './rows.js';

export interface CapacitySnapshotArgs {
  readonly zoneId?: string | null;
  readonly clusterId?: string | null;
  /**
   * Instances of the deploying account per host id, for `userdispersing`. Instances are not known to
   * this read model; a host missing from the map counts 0.
   */
  readonly accountInstanceCounts?: Readonly<Record<string, number>>;
}

/**
 * Every host not removed, in the operator's order (creation, then id) that `firstfit` keeps. Hosts
 * that are down or in maintenance stay in: the planner itself refuses them and names them in its reason.
 */
export function hostCapacitySnapshot(db: Database, args: CapacitySnapshotArgs = {}): CapacitySnapshot {
  const conditions = ['removed = 0'];
  const params: string[] = [];
  // Separate statements per filter, so each can use its index.
  if (args.zoneId != null) {
    conditions.push('zone_id = ?');
    params.push(args.zoneId);
  }
  if (args.clusterId != null) {
    conditions.push('cluster_id = ?');
    params.push(args.clusterId);
  }
  const sql = `SELECT * FROM infra_host WHERE ${conditions.join(' AND ')} ORDER BY created, id`;
  const rows = prepared(db, sql).all(...params) as HostRow[];
  const counts = args.accountInstanceCounts ?? {};
  const hosts = rows.map(
    (row): HostCandidate => ({
      hostId: row.id,
      name: row.name,
      clusterId: row.cluster_id,
      hypervisor: row.hypervisor,
      state: hostState({ status: row.status, resourceState: row.resource_state }),
      hostTags: stringList(row.host_tags),
      cpuNumber: row.cpu_number,
      cpuSpeed: row.cpu_speed,
      memory: row.memory,
      usedCpu: row.used_cpu,
      usedMemory: row.used_memory,
      accountInstanceCount: counts[row.id] ?? 0,
    }),
  );
  return { hosts };
}
