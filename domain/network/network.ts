// Network aggregate, stream `network-<networkId>`: the network, its CIDR and gateway. A NIC's MAC and
// IP are claimed on streams of their own, one per address (nic-address.ts), so deciding a deployment
// does not fold every address the network ever handed out. Logs written before those streams
// allocated NICs here (NicAddressAllocated on this stream): such addresses stay held until released,
// and an allocation checks this stream first (CheckNicAllocation).

import { Map as ImmutableMap } from 'immutable';
import { isRejection, reject, type Decider, type DomainEvent, type Rejection } from '../shared/decider.js';
import { firstFailure, requireId, requireIntInRange, requireName, requireTimestamp } from '../config/validation.js';
import {
  MAX_MAC_SEED,
  formatCidr,
  formatIpv4,
  inCidr,
  netmask,
  normalizeMac,
  parseCidr,
  parseIpv4,
  type Ipv4Cidr,
} from './addressing.js';

export const NETWORK_STREAM_PREFIX = 'network-';

export function networkStream(networkId: string): string {
  return `${NETWORK_STREAM_PREFIX}${networkId}`;
}

export const GUEST_NETWORK_TYPES = ['L2', 'Shared', 'Isolated'] as const;
export type GuestNetworkType = (typeof GUEST_NETWORK_TYPES)[number];

/** CloudStack's default guest CIDR for isolated networks when none is given. */
export const DEFAULT_ISOLATED_CIDR = '10.1.1.0/24';

export interface NicAddress {
  readonly nicId: string;
  readonly instanceId: string;
  readonly mac: string;
  /** Null on L2 networks, which have no IP management. */
  readonly ip: string | null;
}

export interface Network {
  readonly networkId: string;
  readonly zoneId: string;
  readonly name: string;
  readonly networkType: GuestNetworkType;
  readonly vlan: number | null;
  readonly cidr: string | null;
  readonly gateway: string | null;
  readonly netmask: string | null;
  readonly networkOfferingId: string;
  readonly accountId: string | null;
  readonly created: string;
  readonly deleted: boolean;
  // Persistent maps: a shared network may hold tens of thousands of NICs, and copying a record per
  // allocation made folding the stream quadratic. Read them through the accessors below.
  /** NIC id → its addresses. */
  readonly nics: ImmutableMap<string, NicAddress>;
  /** MAC → id of the NIC holding it. */
  readonly macOwners: ImmutableMap<string, string>;
  /** IP → id of the NIC holding it; L2 networks leave it empty. */
  readonly ipOwners: ImmutableMap<string, string>;
}

export type NetworkState = { readonly kind: 'absent' } | ({ readonly kind: 'network' } & Network);

/** The addresses allocated to `nicId` on this network. */
export function nicOf(network: Pick<Network, 'nics'>, nicId: string): NicAddress | undefined {
  return network.nics.get(nicId);
}

/** Every NIC allocated on this network, in no particular order. */
export function nicsOf(network: Pick<Network, 'nics'>): readonly NicAddress[] {
  return [...network.nics.values()];
}

export function nicCount(network: Pick<Network, 'nics'>): number {
  return network.nics.size;
}

/** Id of the NIC holding `mac` (normalised, lower case) on this network. */
export function macOwner(network: Pick<Network, 'macOwners'>, mac: string): string | undefined {
  return network.macOwners.get(mac);
}

/** Id of the NIC holding `ip` (dotted quad) on this network. */
export function ipOwner(network: Pick<Network, 'ipOwners'>, ip: string): string | undefined {
  return network.ipOwners.get(ip);
}

export interface CreateNetworkCommand {
  readonly type: 'CreateNetwork';
  readonly networkId: string;
  readonly zoneId: string;
  readonly name: string;
  readonly networkType: GuestNetworkType;
  readonly vlan?: number | null;
  readonly cidr?: string | null;
  readonly gateway?: string | null;
  readonly networkOfferingId: string;
  /** Owner of an isolated network; shared and L2 networks may leave it null. */
  readonly accountId?: string | null;
  readonly at: string;
}

/** Asked before a NIC's addresses are claimed on their own streams (nic-address.ts); appends nothing. */
export interface CheckNicAllocationCommand {
  readonly type: 'CheckNicAllocation';
  readonly nicId: string;
  readonly instanceId: string;
  readonly requestedIp?: string | null;
  /** For imports that must keep the guest's MAC; refused when another NIC here has it. */
  readonly requestedMac?: string | null;
  /** Random 32-bit number chosen outside the domain; see `guestMac`. */
  readonly macSeed: number;
}

export type NetworkCommand =
  | CreateNetworkCommand
  | CheckNicAllocationCommand
  | { readonly type: 'ReleaseNic'; readonly nicId: string }
  | { readonly type: 'DeleteNetwork' };

type NetworkCreatedData = Omit<Network, 'deleted' | 'nics' | 'macOwners' | 'ipOwners'>;

export type NetworkEvent =
  | DomainEvent<'NetworkCreated', NetworkCreatedData>
  | DomainEvent<'NicAddressAllocated', { readonly networkId: string } & NicAddress>
  | DomainEvent<'NicAddressReleased', { readonly networkId: string } & NicAddress>
  | DomainEvent<'NetworkDeleted', { readonly networkId: string }>;

function validateCreate(command: CreateNetworkCommand): NetworkCreatedData | Rejection {
  const invalid = firstFailure(
    requireId(command.networkId, 'networkId'),
    requireId(command.zoneId, 'zoneId'),
    requireName(command.name, 'name', 'Network name'),
    GUEST_NETWORK_TYPES.includes(command.networkType)
      ? undefined
      : reject('BAD_USER_INPUT', `type must be one of ${GUEST_NETWORK_TYPES.join(', ')}, got ${String(command.networkType)}`, 'type'),
    requireId(command.networkOfferingId, 'networkOfferingId'),
    command.accountId === undefined || command.accountId === null ? undefined : requireId(command.accountId, 'accountId'),
    command.vlan === undefined || command.vlan === null ? undefined : requireIntInRange(command.vlan, 'vlan', 'VLAN id', 1, 4094),
    requireTimestamp(command.at),
  );
  if (invalid) return invalid;
  // An isolated network is one account's own: without one, every account could deploy into it.
  if (command.networkType === 'Isolated' && (command.accountId === undefined || command.accountId === null)) {
    return reject('BAD_USER_INPUT', 'An isolated network belongs to an account; give accountId', 'accountId');
  }
  const vlan = command.vlan ?? null;
  const base = {
    networkId: command.networkId,
    zoneId: command.zoneId,
    name: command.name,
    networkType: command.networkType,
    vlan,
    networkOfferingId: command.networkOfferingId,
    accountId: command.accountId ?? null,
    created: command.at,
  };
  if (command.networkType === 'L2') {
    // L2 networks leave addressing to the guests; accepting a CIDR would suggest an IPAM that is not there.
    if (command.cidr !== undefined && command.cidr !== null) return reject('BAD_USER_INPUT', 'An L2 network has no CIDR', 'cidr');
    if (command.gateway !== undefined && command.gateway !== null) return reject('BAD_USER_INPUT', 'An L2 network has no gateway', 'gateway');
    return { ...base, cidr: null, gateway: null, netmask: null };
  }
  if (command.networkType === 'Shared' && vlan === null) {
    return reject('BAD_USER_INPUT', 'A shared network needs a VLAN id', 'vlan');
  }
  const cidrText = command.cidr ?? (command.networkType === 'Isolated' ? DEFAULT_ISOLATED_CIDR : null);
  if (cidrText === null) return reject('BAD_USER_INPUT', `A ${command.networkType} network needs a CIDR`, 'cidr');
  const parsed = parseCidr(cidrText);
  if (!parsed.ok) return reject('BAD_USER_INPUT', parsed.reason, 'cidr');
  const cidr = parsed.cidr;
  let gateway = cidr.network + 1;
  if (command.gateway !== undefined && command.gateway !== null) {
    const given = parseIpv4(command.gateway);
    if (given === undefined) return reject('BAD_USER_INPUT', `Invalid gateway ${command.gateway}`, 'gateway');
    if (given <= cidr.network || given >= cidr.broadcast) {
      return reject('BAD_USER_INPUT', `Gateway ${command.gateway} is not a host address of ${formatCidr(cidr)}`, 'gateway');
    }
    gateway = given;
  }
  return { ...base, cidr: formatCidr(cidr), gateway: formatIpv4(gateway), netmask: netmask(cidr) };
}

function cidrOf(network: Network): Ipv4Cidr | undefined {
  if (network.cidr === null) return undefined;
  const parsed = parseCidr(network.cidr);
  return parsed.ok ? parsed.cidr : undefined;
}

/** The host addresses a network hands out (first..last, as numbers, less the gateway); none on L2 networks. */
export function hostRange(network: Pick<Network, 'cidr' | 'gateway'>): { readonly first: number; readonly last: number; readonly gateway: number } | undefined {
  const parsed = network.cidr === null ? undefined : parseCidr(network.cidr);
  const gateway = network.gateway === null ? undefined : parseIpv4(network.gateway);
  if (parsed === undefined || !parsed.ok || gateway === undefined || parsed.cidr.broadcast - parsed.cidr.network < 2) return undefined;
  return { first: parsed.cidr.network + 1, last: parsed.cidr.broadcast - 1, gateway };
}

/** The requested IP as the network would hold it (dotted quad), null when none; refused when it cannot be a NIC's. */
function requestedIpOf(network: Network, requested: string | null | undefined): string | null | Rejection {
  if (requested === undefined || requested === null) return null;
  const cidr = cidrOf(network);
  if (cidr === undefined || network.gateway === null) {
    return reject('BAD_USER_INPUT', `Network ${network.name} is ${network.networkType} and assigns no IP addresses`, 'ipAddress');
  }
  const gateway = parseIpv4(network.gateway);
  const address = parseIpv4(requested);
  if (address === undefined) return reject('BAD_USER_INPUT', `Invalid IP address ${requested}`, 'ipAddress');
  if (!inCidr(cidr, address)) {
    return reject('BAD_USER_INPUT', `IP address ${requested} is not in the CIDR ${network.cidr} of network ${network.name}`, 'ipAddress');
  }
  if (address === cidr.network || address === cidr.broadcast || address === gateway) {
    return reject('BAD_USER_INPUT', `IP address ${requested} is the network, broadcast or gateway address of network ${network.name}`, 'ipAddress');
  }
  const text = formatIpv4(address);
  if (ipOwner(network, text) !== undefined) {
    return reject('BAD_USER_INPUT', `IP address ${requested} is not available in network ${network.name}`, 'ipAddress');
  }
  return text;
}

function requestedMacOf(network: Network, requested: string | null | undefined): string | null | Rejection {
  if (requested === undefined || requested === null) return null;
  const mac = normalizeMac(requested);
  if (mac === undefined) return reject('BAD_USER_INPUT', `Invalid unicast MAC address ${requested}`, 'macAddress');
  if (macOwner(network, mac) !== undefined) return reject('CONFLICT', `NIC with MAC address ${mac} exists on network ${network.name}`, 'macAddress');
  return mac;
}

/**
 * Everything the network stream can say about an allocation: the command is sound, the network takes
 * NICs, and the requested addresses are valid here and not held on this stream (an older log's). The
 * addresses themselves are claimed on their own streams (nic-address.ts); this appends nothing.
 */
function checkAllocation(command: CheckNicAllocationCommand, network: Network): readonly NetworkEvent[] | Rejection {
  const invalid = firstFailure(
    requireId(command.nicId, 'nicId'),
    requireId(command.instanceId, 'instanceId'),
    requireIntInRange(command.macSeed, 'macSeed', 'MAC seed', 0, MAX_MAC_SEED),
  );
  if (invalid) return invalid;
  const existing = nicOf(network, command.nicId);
  if (existing) {
    // An older log's NIC: a retried deploy step gets the addresses it already holds.
    if (existing.instanceId === command.instanceId) return [];
    return reject('CONFLICT', `NIC ${command.nicId} already belongs to instance ${existing.instanceId}`, 'nicId');
  }
  const ip = requestedIpOf(network, command.requestedIp);
  if (isRejection(ip)) return ip;
  const mac = requestedMacOf(network, command.requestedMac);
  if (isRejection(mac)) return mac;
  return [];
}

export const networkDecider: Decider<NetworkCommand, NetworkState, NetworkEvent> = {
  initialState: { kind: 'absent' },

  decide(command, state) {
    if (command.type === 'CreateNetwork') {
      const data = validateCreate(command);
      if (isRejection(data)) return data;
      if (state.kind === 'network') return reject('CONFLICT', `Network ${command.networkId} already exists`, 'networkId');
      return [{ type: 'NetworkCreated', data }];
    }
    if (state.kind !== 'network') return reject('NOT_FOUND', 'Network does not exist', 'networkId');
    if (state.deleted) {
      return command.type === 'DeleteNetwork' ? [] : reject('NOT_FOUND', `Network ${state.name} has been deleted`, 'networkId');
    }
    switch (command.type) {
      case 'CheckNicAllocation':
        return checkAllocation(command, state);
      case 'ReleaseNic': {
        const invalid = requireId(command.nicId, 'nicId');
        if (invalid) return invalid;
        const nic = nicOf(state, command.nicId);
        return nic ? [{ type: 'NicAddressReleased', data: { networkId: state.networkId, ...nic } }] : [];
      }
      case 'DeleteNetwork': {
        // Counts the NICs an older log allocated here; NICs on their own streams are not this
        // stream's to see (no API deletes a network yet: one that does checks the read model too).
        const inUse = nicCount(state);
        if (inUse > 0) return reject('INVALID_STATE', `Network ${state.name} still has ${inUse} NIC(s); remove them first`);
        return [{ type: 'NetworkDeleted', data: { networkId: state.networkId } }];
      }
    }
  },

  evolve(state, event) {
    if (event.type === 'NetworkCreated') {
      return {
        kind: 'network',
        ...event.data,
        deleted: false,
        nics: ImmutableMap(),
        macOwners: ImmutableMap(),
        ipOwners: ImmutableMap(),
      };
    }
    if (state.kind !== 'network') return state;
    switch (event.type) {
      case 'NicAddressAllocated': {
        const { networkId: _networkId, ...nic } = event.data;
        return {
          ...state,
          nics: state.nics.set(nic.nicId, nic),
          macOwners: state.macOwners.set(nic.mac, nic.nicId),
          ipOwners: nic.ip === null ? state.ipOwners : state.ipOwners.set(nic.ip, nic.nicId),
        };
      }
      case 'NicAddressReleased': {
        const ip = event.data.ip;
        return {
          ...state,
          nics: state.nics.delete(event.data.nicId),
          macOwners: state.macOwners.delete(event.data.mac),
          ipOwners: ip === null ? state.ipOwners : state.ipOwners.delete(ip),
        };
      }
      case 'NetworkDeleted':
        return { ...state, deleted: true };
    }
  },
};
