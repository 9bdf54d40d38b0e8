// Guest networks: their VLAN (and a shared network's CIDR) claimed in the zone; the networks a caller
// may attach to.
import { v5 as uuidv5 } from 'uuid';
import { EVENT_ID_NAMESPACE } from '../../../adapters/eventstore/command-handler.js';
import { GUEST_NETWORK_TYPES, networkDecider, networkStream, type GuestNetworkType } from '../../../domain/network/index.js';
import { zoneDecider, zoneStream, type ZoneCommand, type ZoneEvent, type ZoneState } from '../../../domain/zone/index.js';
import { getAccount } from '../../../projections/accounts/index.js';
import { getNetwork, listNetworks, listReachableNetworks, type NetworkNode } from '../../../projections/infrastructure/index.js';
import type { Connection } from '../../../projections/pagination.js';
import { optionalNumber, optionalString, requiredEnum, requiredString } from '../args.js';
import type { Claim } from '../claims.js';
import { db, envelopeOf, guarded, now, requireRootAdmin, type ControlPlaneContext } from '../context.js';
import type { Caller } from '../port.js';
import { badInput, createdClaimed, page, reachOf, requireZone, type Args, type ZoneFilter } from './shared.js';

/**
 * vmledger has no network-offering catalogue; each guest network type maps to CloudStack's default
 * offering of that type under a fixed id, so usage records name the same offering across restarts.
 */
const DEFAULT_NETWORK_OFFERINGS: Readonly<Record<GuestNetworkType, string>> = {
  L2: 'DefaultL2NetworkOffering',
  Shared: 'DefaultSharedNetworkOffering',
  Isolated: 'DefaultIsolatedNetworkOfferingWithSourceNatService',
};

export function defaultNetworkOfferingId(type: GuestNetworkType): string {
  return uuidv5(`network-offering|${DEFAULT_NETWORK_OFFERINGS[type]}`, EVENT_ID_NAMESPACE);
}

export async function createNetwork(context: ControlPlaneContext, caller: Caller, args: Args): Promise<NetworkNode> {
  requireRootAdmin(caller, 'createNetwork');
  const zone = requireZone(context, requiredString(args, 'zoneId'));
  const name = requiredString(args, 'name');
  const networkType = requiredEnum(args, 'type', GUEST_NETWORK_TYPES);
  const vlan = optionalNumber(args, 'vlan') ?? null;
  const cidr = optionalString(args, 'cidr') ?? null;
  const gateway = optionalString(args, 'gateway') ?? null;
  const accountId = optionalString(args, 'accountId') ?? null;
  if (accountId !== null && !getAccount(db(context), accountId)) badInput('accountId', `Unable to find account ${JSON.stringify(accountId)}`);

  const networkId = context.newId();
  const addressing: Claim<ZoneCommand, ZoneState, ZoneEvent> = {
    stream: zoneStream(zone.id),
    decider: zoneDecider,
    // Only a shared network's addresses are the zone's to keep apart: an isolated one lives behind its own router.
    claim: { type: 'ClaimNetworkAddressing', networkId, name, vlan, sharedCidr: networkType === 'Shared' ? cidr : null },
    release: { type: 'ReleaseNetworkAddressing', networkId },
  };
  return createdClaimed(context, addressing, { stream: networkStream(networkId), decider: networkDecider, command: {
    type: 'CreateNetwork',
    networkId,
    zoneId: zone.id,
    name,
    networkType,
    vlan,
    cidr,
    gateway,
    networkOfferingId: defaultNetworkOfferingId(networkType),
    accountId,
    at: now(context),
  } }, envelopeOf(context, caller, networkId), () => getNetwork(db(context), networkId), 'network', networkId);
}

/** Shared and L2 networks of the zone, and the isolated networks of the accounts the caller may see. */
export function networks(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<NetworkNode> {
  const filter = { ...page(args), zoneId: args.zoneId ?? null };
  if (caller.role === 'ROOT_ADMIN') return guarded(() => listNetworks(db(context), filter));
  return guarded(() => listReachableNetworks(db(context), reachOf(caller), filter));
}
