// migrateVirtualMachineWithVolume for a stopped instance: each volume named in migrateTo moves to the
// named pool, copied by the host the instance's domain is defined on (its last host). The pools are
// checked here against the read model (in the zone, reachable from that host, with the offering's
// storage tags and the space); the job reserves the space on the pools' streams.
import { reaches } from '../../../domain/allocation/index.js';
import { poolHasTags, storageShortfall } from '../../../domain/storage/index.js';
import { getHost, getStoragePool } from '../../../projections/infrastructure/index.js';
import { overprovisioningFactor } from '../../../sagas/volume-storage.js';
import { db, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller, type JobView } from '../port.js';
import { instanceCaller, requireInstance } from './resolve.js';
import { instanceJob } from './run.js';

export interface MigrateWithVolumeArgs {
  readonly virtualMachineId: string;
  readonly hostId?: string | null;
  readonly migrateTo: readonly { readonly volume: string; readonly pool: string }[];
}

export async function migrateVirtualMachineWithVolume(context: ControlPlaneContext, caller: Caller, args: MigrateWithVolumeArgs): Promise<JobView> {
  if (caller.role !== 'ROOT_ADMIN') throw new ApiError('FORBIDDEN', 'Only the root admin may migrate an instance’s volumes', 'virtualMachineId');
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  const hostId = instance.hostId ?? instance.lastHostId;
  if (!hostId) throw new ApiError('INVALID_STATE', `Virtual machine ${instance.id} has never run on a host; its volumes are not on any pool yet`, 'virtualMachineId');
  if (args.hostId != null && args.hostId !== hostId) {
    throw new ApiError('BAD_USER_INPUT', `A stopped instance's volumes are copied by the host its domain is defined on, ${hostId}, not ${args.hostId}`, 'hostId');
  }
  const host = getHost(db(context), hostId);
  if (!host) throw new ApiError('INTERNAL_ERROR', `host ${hostId} of virtual machine ${instance.id} is not in the read model`);
  const factor = overprovisioningFactor(db(context), instance.zoneId);
  const storageTags = instance.serviceOffering.storageTags ?? [];
  const incoming = new Map<string, number>();
  const migrations = args.migrateTo.map(({ volume: volumeId, pool: poolId }, i) => {
    const field = `migrateTo[${i}].pool`;
    const pool = getStoragePool(db(context), poolId);
    if (!pool || pool.zoneId !== instance.zoneId) throw new ApiError('BAD_USER_INPUT', `Unable to find storage pool ${JSON.stringify(poolId)} in zone ${instance.zoneId}`, field);
    if (!reaches(pool, { hostId: host.id, clusterId: host.clusterId })) throw new ApiError('BAD_USER_INPUT', `Storage pool ${pool.name} is not reachable from host ${host.name} (cluster ${host.clusterId})`, field);
    if (!poolHasTags(pool, storageTags)) throw new ApiError('BAD_USER_INPUT', `Storage pool ${pool.name} lacks the storage tags [${storageTags.join(', ')}] of the instance's offering`, field);
    const volume = instance.volumes.find((v) => v.id === volumeId);
    const source = volume?.storagePoolId ? getStoragePool(db(context), volume.storagePoolId) : undefined;
    if (volume && source && source.id !== pool.id) {
      const before = incoming.get(pool.id) ?? 0;
      const shortfall = storageShortfall(pool, pool.allocatedBytes + before, volume.size, factor);
      if (shortfall !== undefined) throw new ApiError('INSUFFICIENT_CAPACITY', `Storage pool ${pool.name} ${shortfall} for volume ${volume.name}`, field);
      incoming.set(pool.id, before + volume.size);
    }
    // A volume the instance lacks, or one not on a pool yet, is the decider's to refuse.
    return { volumeId, storagePoolId: pool.id, fromPath: source?.path ?? pool.path, toPath: pool.path };
  });
  return instanceJob(context, caller, instance, 'migrateVirtualMachineWithVolume', (jobId, at) => ({
    type: 'MigrateVolumes',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    hostId,
    migrations,
  }));
}
