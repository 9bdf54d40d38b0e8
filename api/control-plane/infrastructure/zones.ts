// Zones (their names claimed in the region) and the clusters within them.
import { HYPERVISOR_TYPES, NETWORK_TYPES, REGION_STREAM, regionDecider, zoneDecider, zoneStream } from '../../../domain/zone/index.js';
import { getCluster, getZone, listClusters, listZones, type ClusterNode, type ZoneNode } from '../../../projections/infrastructure/index.js';
import type { Connection, PageRequest } from '../../../projections/pagination.js';
import { optionalEnum, requiredEnum, requiredString } from '../args.js';
import { db, envelopeOf, guarded, now, requireRootAdmin, type ControlPlaneContext } from '../context.js';
import type { Caller } from '../port.js';
import { created, createdClaimed, page, requireZone, type Args, type ZoneFilter } from './shared.js';

export async function createZone(context: ControlPlaneContext, caller: Caller, args: Args): Promise<ZoneNode> {
  requireRootAdmin(caller, 'createZone');
  const name = requiredString(args, 'name');
  const networkType = optionalEnum(args, 'networkType', NETWORK_TYPES);
  const zoneId = context.newId();
  return createdClaimed(
    context,
    { stream: REGION_STREAM, decider: regionDecider, claim: { type: 'RegisterZoneName', zoneId, name }, release: { type: 'ReleaseZoneName', zoneId } },
    { stream: zoneStream(zoneId), decider: zoneDecider, command: { type: 'CreateZone', zoneId, name, ...(networkType ? { networkType } : {}), at: now(context) } },
    envelopeOf(context, caller, zoneId),
    () => getZone(db(context), zoneId),
    'zone',
    zoneId,
  );
}

export async function addCluster(context: ControlPlaneContext, caller: Caller, args: Args): Promise<ClusterNode> {
  requireRootAdmin(caller, 'addCluster');
  const zone = requireZone(context, requiredString(args, 'zoneId'));
  const name = requiredString(args, 'name');
  const hypervisor = requiredEnum(args, 'hypervisor', HYPERVISOR_TYPES);
  const clusterId = context.newId();
  return created(context, zoneStream(zone.id), zoneDecider, { type: 'AddCluster', clusterId, name, hypervisor, at: now(context) }, envelopeOf(context, caller, clusterId), () => getCluster(db(context), clusterId), 'cluster', clusterId);
}

export function zones(context: ControlPlaneContext, _caller: Caller, args: PageRequest): Connection<ZoneNode> {
  return guarded(() => listZones(db(context), page(args)));
}

export function clusters(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<ClusterNode> {
  requireRootAdmin(caller, 'clusters');
  return guarded(() => listClusters(db(context), { ...page(args), zoneId: args.zoneId ?? null }));
}
