// Primary storage pools: in a zone, a cluster or on one host, their names claimed in the zone.
import {
  STORAGE_POOL_SCOPES,
  STORAGE_POOL_TYPES,
  storagePoolDecider,
  storagePoolStream,
  type StoragePoolScope,
} from '../../../domain/storage/index.js';
import { getHost, getStoragePool, listStoragePools, type StoragePoolNode } from '../../../projections/infrastructure/index.js';
import type { Connection } from '../../../projections/pagination.js';
import { optionalEnum, optionalNumber, optionalString, optionalStringList, requiredEnum, requiredString } from '../args.js';
import { db, envelopeOf, guarded, now, requireRootAdmin, type ControlPlaneContext } from '../context.js';
import type { Caller } from '../port.js';
import { badInput, createdClaimed, page, requireCluster, requireZone, zoneNameClaim, type Args, type ZoneFilter } from './shared.js';

const TiB = 1024 ** 4;

/**
 * CloudStack reads a pool's capacity from the storage itself; vmledger does not mount it, so a pool
 * registered without `capacityBytes` is taken to hold this much.
 */
export const DEFAULT_POOL_CAPACITY_BYTES = TiB;

/** `nfs://server/path` names both halves; other schemes (`file://`, `SharedMountPoint://`) only the path. */
function parsePoolUrl(text: string): { server: string | null; path: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    badInput('url', `url must look like nfs://server/export/path, got ${JSON.stringify(text)}`);
  }
  const path = decodeURIComponent(url.pathname);
  if (url.protocol === 'nfs:') {
    if (url.hostname === '') badInput('url', `An NFS url needs a server: ${JSON.stringify(text)}`);
    return { server: url.hostname, path };
  }
  return { server: null, path };
}

export async function createStoragePool(context: ControlPlaneContext, caller: Caller, args: Args): Promise<StoragePoolNode> {
  requireRootAdmin(caller, 'createStoragePool');
  const zone = requireZone(context, requiredString(args, 'zoneId'));
  const name = requiredString(args, 'name');
  const poolType = requiredEnum(args, 'type', STORAGE_POOL_TYPES);
  const url = optionalString(args, 'url') ?? null;
  let server = optionalString(args, 'server') ?? null;
  let path = optionalString(args, 'path') ?? null;
  if (url !== null) {
    if (server !== null || path !== null) badInput('url', 'Give either url or server and path, not both');
    ({ server, path } = parsePoolUrl(url));
    if (server !== null && poolType !== 'NFS') badInput('url', `An nfs:// url names NFS storage, but type is ${poolType}`);
  }
  if (path === null) badInput(url === null ? 'path' : 'url', 'A storage pool needs a path (or a url such as nfs://server/export/path)');
  const capacityBytes = optionalNumber(args, 'capacityBytes') ?? DEFAULT_POOL_CAPACITY_BYTES;
  const tags = optionalStringList(args, 'tags');

  const hostId = optionalString(args, 'hostId') ?? null;
  const host = hostId === null ? undefined : getHost(db(context), hostId);
  if (hostId !== null && (!host || host.zoneId !== zone.id)) badInput('hostId', `Unable to find host ${JSON.stringify(hostId)} in zone ${zone.name}`);
  // A host-local pool belongs to the host's cluster whether or not the caller repeats it.
  const clusterId = optionalString(args, 'clusterId') ?? host?.clusterId ?? null;
  if (clusterId !== null) {
    const cluster = requireCluster(context, clusterId);
    if (cluster.zoneId !== zone.id) badInput('clusterId', `Cluster ${cluster.name} is not in zone ${zone.name}`);
    if (host && host.clusterId !== cluster.id) badInput('hostId', `Host ${host.name} is not in cluster ${cluster.name}`);
  }
  const scope: StoragePoolScope = optionalEnum(args, 'scope', STORAGE_POOL_SCOPES) ?? (hostId !== null ? 'HOST' : clusterId !== null ? 'CLUSTER' : 'ZONE');

  const poolId = context.newId();
  return createdClaimed(context, zoneNameClaim(zone.id, 'storagePool', poolId, name), { stream: storagePoolStream(poolId), decider: storagePoolDecider, command: {
    type: 'CreateStoragePool',
    poolId,
    zoneId: zone.id,
    scope,
    clusterId,
    hostId,
    name,
    poolType,
    server,
    path,
    capacityBytes,
    ...(tags ? { tags } : {}),
    at: now(context),
  } }, envelopeOf(context, caller, poolId), () => getStoragePool(db(context), poolId), 'storage pool', poolId);
}

export function storagePools(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<StoragePoolNode> {
  requireRootAdmin(caller, 'storagePools');
  return guarded(() => listStoragePools(db(context), { ...page(args), zoneId: args.zoneId ?? null }));
}
