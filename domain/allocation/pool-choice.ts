// Volume allocation: which primary storage pool each of an instance's volumes goes to once a host is
// chosen (CloudStack's StoragePoolAllocators: ZoneWide, ClusterScope, LocalStorage). A pure function
// over a snapshot of the pools read from their streams (or their read model); the pool's stream
// re-checks the space when the reservation is appended, as a host's does for CPU and memory.
import { isRejection, reject, type Rejection } from '../shared/decider.js';
import { overprovisionedBytes, storageShortfall } from '../storage/capacity.js';
import { poolHasTags, type StoragePoolScope, type StoragePoolType } from '../storage/pool.js';

export interface PoolCandidate {
  readonly poolId: string;
  readonly name: string;
  readonly scope: StoragePoolScope;
  readonly clusterId: string | null;
  readonly hostId: string | null;
  readonly type: StoragePoolType;
  readonly capacityBytes: number;
  /** Bytes reserved in all. */
  readonly allocatedBytes: number;
  /**
   * What the volumes being placed hold here already, by volume (a placement interrupted after it
   * reserved): a volume's own reservation is not counted against it.
   */
  readonly heldBy?: Readonly<Record<string, number>>;
  readonly tags: readonly string[];
}

/** Where a host is: what decides which pools it reaches. */
export interface PoolHost {
  readonly hostId: string;
  readonly name: string;
  readonly clusterId: string;
}

export interface VolumeToPlace {
  readonly volumeId: string;
  readonly name: string;
  /** Bytes. */
  readonly size: number;
  /** The pool the volume is on already, or null for a volume not created yet. */
  readonly storagePoolId: string | null;
}

export interface PoolChoiceRequest {
  readonly volumes: readonly VolumeToPlace[];
  /** Storage tags of the offering: a pool must carry all of them. */
  readonly storageTags: readonly string[];
  readonly overprovisioningFactor: number;
}

export interface VolumePlacement {
  readonly volumeId: string;
  readonly poolId: string;
  readonly bytes: number;
}

/** A zone-wide pool reaches every host of its zone, a cluster's its hosts, a local one its own host. */
export function reaches(pool: Pick<PoolCandidate, 'scope' | 'clusterId' | 'hostId'>, host: Pick<PoolHost, 'hostId' | 'clusterId'>): boolean {
  switch (pool.scope) {
    case 'ZONE':
      return true;
    case 'CLUSTER':
      return pool.clusterId === host.clusterId;
    case 'HOST':
      return pool.hostId === host.hostId;
  }
}

function allocatedExcept(pool: PoolCandidate, volumeId: string, extra: number): number {
  return pool.allocatedBytes - (pool.heldBy?.[volumeId] ?? 0) + extra;
}

function tagsText(tags: readonly string[]): string {
  return tags.length > 0 ? ` with storage tags [${tags.join(', ')}]` : '';
}

/**
 * A pool for every volume of `request` reachable from `host`: a volume already on a pool stays there
 * (which the host must reach); a new one goes to the first pool, in the pools' order (CloudStack's
 * firstfit), that the host reaches, that carries the offering's storage tags and that still holds it
 * with the volumes placed before it. Refused with INSUFFICIENT_CAPACITY and every pool's reason.
 */
export function choosePools(host: PoolHost, request: PoolChoiceRequest, pools: readonly PoolCandidate[]): readonly VolumePlacement[] | Rejection {
  const placed = new Map<string, number>();
  const placements: VolumePlacement[] = [];
  for (const volume of request.volumes) {
    if (volume.storagePoolId !== null) {
      const pool = pools.find((p) => p.poolId === volume.storagePoolId);
      if (pool && !reaches(pool, host)) {
        return reject('INSUFFICIENT_CAPACITY', `Host ${host.name} cannot reach storage pool ${pool.name} of volume ${volume.name}`);
      }
      placements.push({ volumeId: volume.volumeId, poolId: volume.storagePoolId, bytes: volume.size });
      continue;
    }
    const reasons: string[] = [];
    const pool = pools.find((candidate) => {
      const why = !reaches(candidate, host)
        ? candidate.scope === 'HOST'
          ? 'is local to another host'
          : 'is in another cluster'
        : !poolHasTags(candidate, request.storageTags)
          ? `lacks storage tags [${request.storageTags.filter((t) => !candidate.tags.includes(t)).join(', ')}]`
          : storageShortfall(candidate, allocatedExcept(candidate, volume.volumeId, placed.get(candidate.poolId) ?? 0), volume.size, request.overprovisioningFactor);
      if (why !== undefined) reasons.push(`${candidate.name} ${why}`);
      return why === undefined;
    });
    if (!pool) {
      const detail = reasons.length === 0 ? 'the zone has no storage pools' : reasons.join('; ');
      return reject('INSUFFICIENT_CAPACITY', `No storage pool reachable from host ${host.name} can hold volume ${volume.name} of ${volume.size} bytes${tagsText(request.storageTags)}: ${detail}`);
    }
    placed.set(pool.poolId, (placed.get(pool.poolId) ?? 0) + volume.size);
    placements.push({ volumeId: volume.volumeId, poolId: pool.poolId, bytes: volume.size });
  }
  return placements;
}

/**
 * The first of `hosts` (in the order the host planner tried them) whose reachable pools can hold the
 * volumes, with the placement; or a refusal naming why the first host's pools could not.
 */
export function firstHostWithStorage(
  hosts: readonly PoolHost[],
  request: PoolChoiceRequest,
  pools: readonly PoolCandidate[],
): { readonly host: PoolHost; readonly placements: readonly VolumePlacement[] } | Rejection {
  let first: Rejection | undefined;
  for (const host of hosts) {
    const placements = choosePools(host, request, pools);
    if (!isRejection(placements)) return { host, placements };
    first ??= placements;
  }
  return first ?? reject('INSUFFICIENT_CAPACITY', 'No suitable host to place the volumes on');
}

/**
 * The largest volume any pool of the zone could ever take with the offering's storage tags, empty:
 * a size above it is refused before a deployment is recorded, rather than failing its start.
 */
export function largestPossibleVolume(pools: readonly PoolCandidate[], storageTags: readonly string[], overprovisioningFactor: number): number {
  let largest = 0;
  for (const pool of pools) {
    if (poolHasTags(pool, storageTags)) largest = Math.max(largest, overprovisionedBytes(pool, overprovisioningFactor));
  }
  return largest;
}
