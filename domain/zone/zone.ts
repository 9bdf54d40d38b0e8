// Zone aggregate, stream `zone-<zoneId>`. Clusters live in their zone's stream: there are few of them,
// they never move between zones, and the zone is then the one place that can keep cluster names unique.
// Hosts, storage pools and networks have streams of their own, so the zone keeps claims for what must
// be unique among them: host and pool names, a network's VLAN, a shared network's CIDR. A creation
// appends its claim here first (the stream's expected revision serialises concurrent ones), then creates
// its own stream, and gives the claim back if that fails.

import { isRejection, reject, type Decider, type Decision, type DomainEvent, type Rejection } from '../shared/decider.js';
import { firstFailure, requireId, requireIntInRange, requireName, requireTimestamp } from '../config/validation.js';
import { cidrsOverlap, parseCidr } from '../network/addressing.js';

export const NETWORK_TYPES = ['Advanced', 'Basic'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

export const HYPERVISOR_TYPES = ['KVM', 'VMware', 'XenServer', 'Hyperv', 'LXC', 'Ovm3', 'Simulator'] as const;
export type HypervisorType = (typeof HYPERVISOR_TYPES)[number];

export type AllocationState = 'Enabled' | 'Disabled';

export const ZONE_STREAM_PREFIX = 'zone-';

export function zoneStream(zoneId: string): string {
  return `${ZONE_STREAM_PREFIX}${zoneId}`;
}

export interface Cluster {
  readonly clusterId: string;
  readonly zoneId: string;
  readonly name: string;
  readonly hypervisor: HypervisorType;
  readonly created: string;
}

/** Things of the zone whose names it keeps unique (case-insensitively, as CloudStack's collation). */
export const ZONE_NAME_KINDS = ['host', 'storagePool'] as const;
export type ZoneNameKind = (typeof ZONE_NAME_KINDS)[number];
const KIND_LABEL: Readonly<Record<ZoneNameKind, string>> = { host: 'host', storagePool: 'storage pool' };

export interface NameClaim {
  readonly id: string;
  readonly name: string;
}

/** What a network holds in its zone: its VLAN, and for a shared network its CIDR. */
export interface NetworkClaim {
  readonly networkId: string;
  readonly name: string;
  readonly vlan: number | null;
  readonly sharedCidr: string | null;
}

export interface Zone {
  readonly zoneId: string;
  readonly name: string;
  readonly networkType: NetworkType;
  readonly allocationState: AllocationState;
  readonly created: string;
  readonly clusters: Readonly<Record<string, Cluster>>;
  /** Kind → lower-cased name → claim. */
  readonly names: Readonly<Record<ZoneNameKind, Readonly<Record<string, NameClaim>>>>;
  /** Network id → what it holds. */
  readonly networks: Readonly<Record<string, NetworkClaim>>;
}

export type ZoneState = { readonly kind: 'absent' } | ({ readonly kind: 'zone' } & Zone);

export type ZoneCommand =
  | { readonly type: 'CreateZone'; readonly zoneId: string; readonly name: string; readonly networkType?: NetworkType; readonly at: string }
  | { readonly type: 'AddCluster'; readonly clusterId: string; readonly name: string; readonly hypervisor: HypervisorType; readonly at: string }
  | { readonly type: 'DisableZone' }
  | { readonly type: 'EnableZone' }
  | { readonly type: 'ClaimName'; readonly kind: ZoneNameKind; readonly id: string; readonly name: string }
  | { readonly type: 'ReleaseName'; readonly kind: ZoneNameKind; readonly id: string }
  | ({ readonly type: 'ClaimNetworkAddressing' } & NetworkClaim)
  | { readonly type: 'ReleaseNetworkAddressing'; readonly networkId: string };

export type ZoneEvent =
  | DomainEvent<'ZoneCreated', { readonly zoneId: string; readonly name: string; readonly networkType: NetworkType; readonly created: string }>
  | DomainEvent<
      'ClusterAdded',
      { readonly zoneId: string; readonly clusterId: string; readonly name: string; readonly hypervisor: HypervisorType; readonly created: string }
    >
  | DomainEvent<'ZoneDisabled', { readonly zoneId: string }>
  | DomainEvent<'ZoneEnabled', { readonly zoneId: string }>
  | DomainEvent<'NameClaimed', { readonly zoneId: string; readonly kind: ZoneNameKind } & NameClaim>
  | DomainEvent<'NameReleased', { readonly zoneId: string; readonly kind: ZoneNameKind } & NameClaim>
  | DomainEvent<'NetworkAddressingClaimed', { readonly zoneId: string } & NetworkClaim>
  | DomainEvent<'NetworkAddressingReleased', { readonly zoneId: string } & NetworkClaim>;

function requireZone(state: ZoneState): (Zone & { kind: 'zone' }) | Rejection {
  return state.kind === 'zone' ? state : reject('NOT_FOUND', 'Zone does not exist', 'zoneId');
}

function claimOf(names: Readonly<Record<string, NameClaim>>, id: string): NameClaim | undefined {
  return Object.values(names).find((claim) => claim.id === id);
}

function decideClaimName(command: Extract<ZoneCommand, { type: 'ClaimName' }>, zone: Zone): Decision<ZoneEvent> {
  const label = KIND_LABEL[command.kind] ?? String(command.kind);
  const invalid = firstFailure(
    ZONE_NAME_KINDS.includes(command.kind) ? undefined : reject('BAD_USER_INPUT', `Unknown kind of name ${String(command.kind)}`, 'kind'),
    requireId(command.id, 'id'),
    requireName(command.name, 'name', `${label[0]?.toUpperCase()}${label.slice(1)} name`),
  );
  if (invalid) return invalid;
  const names = zone.names[command.kind];
  const holder = names[command.name.toLowerCase()];
  if (holder?.id === command.id) return [];
  if (holder !== undefined) return reject('CONFLICT', `A ${label} named ${command.name} already exists in zone ${zone.name}`, 'name');
  if (claimOf(names, command.id) !== undefined) return reject('CONFLICT', `The ${label} ${command.id} already holds another name in zone ${zone.name}`, 'id');
  return [{ type: 'NameClaimed', data: { zoneId: zone.zoneId, kind: command.kind, id: command.id, name: command.name } }];
}

/**
 * NetworkServiceImpl / NetworkOrchestrator: a VLAN is used by one network of the zone (CloudStack's
 * vlan overlap check, without its bypass), and a shared network's addresses may not overlap another
 * shared network's (ConfigurationManagerImpl's zone VLAN/IP overlap check: a subnet is added once).
 */
function decideClaimNetwork(command: Extract<ZoneCommand, { type: 'ClaimNetworkAddressing' }>, zone: Zone): Decision<ZoneEvent> {
  const invalid = firstFailure(
    requireId(command.networkId, 'networkId'),
    requireName(command.name, 'name', 'Network name'),
    command.vlan === null ? undefined : requireIntInRange(command.vlan, 'vlan', 'VLAN id', 1, 4094),
  );
  if (invalid) return invalid;
  const cidr = command.sharedCidr === null ? null : parseCidr(command.sharedCidr);
  if (cidr !== null && !cidr.ok) return reject('BAD_USER_INPUT', cidr.reason, 'cidr');
  const claim: NetworkClaim = { networkId: command.networkId, name: command.name, vlan: command.vlan, sharedCidr: command.sharedCidr };
  const held = zone.networks[command.networkId];
  if (held !== undefined) {
    if (held.vlan === claim.vlan && held.sharedCidr === claim.sharedCidr) return [];
    return reject('CONFLICT', `Network ${command.networkId} already holds other addressing in zone ${zone.name}`, 'networkId');
  }
  const others = Object.values(zone.networks);
  const sameVlan = claim.vlan === null ? undefined : others.find((other) => other.vlan === claim.vlan);
  if (sameVlan !== undefined) {
    return reject('BAD_USER_INPUT', `Network with vlan ${claim.vlan} already exists or overlaps with other network vlans in zone ${zone.name} (network ${sameVlan.name})`, 'vlan');
  }
  if (cidr !== null && cidr.ok) {
    const overlapping = others.find((other) => {
      const theirs = other.sharedCidr === null ? undefined : parseCidr(other.sharedCidr);
      return theirs !== undefined && theirs.ok && cidrsOverlap(cidr.cidr, theirs.cidr);
    });
    if (overlapping !== undefined) {
      return reject(
        'BAD_USER_INPUT',
        `The IP range ${overlapping.sharedCidr} of network ${overlapping.name} (vlan ${overlapping.vlan}) in zone ${zone.name} has overlapped with the subnet ${claim.sharedCidr}. Please specify a different gateway/netmask.`,
        'cidr',
      );
    }
  }
  return [{ type: 'NetworkAddressingClaimed', data: { zoneId: zone.zoneId, ...claim } }];
}

export const zoneDecider: Decider<ZoneCommand, ZoneState, ZoneEvent> = {
  initialState: { kind: 'absent' },

  decide(command, state) {
    switch (command.type) {
      case 'CreateZone': {
        const networkType = command.networkType ?? 'Advanced';
        const invalid = firstFailure(
          requireId(command.zoneId, 'zoneId'),
          requireName(command.name, 'name', 'Zone name'),
          NETWORK_TYPES.includes(networkType)
            ? undefined
            : reject('BAD_USER_INPUT', `networkType must be one of ${NETWORK_TYPES.join(', ')}, got ${String(networkType)}`, 'networkType'),
          requireTimestamp(command.at),
        );
        if (invalid) return invalid;
        if (state.kind === 'zone') return reject('CONFLICT', `Zone ${command.zoneId} already exists`, 'zoneId');
        return [{ type: 'ZoneCreated', data: { zoneId: command.zoneId, name: command.name, networkType, created: command.at } }];
      }
      case 'AddCluster': {
        const invalid = firstFailure(
          requireId(command.clusterId, 'clusterId'),
          requireName(command.name, 'name', 'Cluster name'),
          HYPERVISOR_TYPES.includes(command.hypervisor)
            ? undefined
            : reject('BAD_USER_INPUT', `hypervisor must be one of ${HYPERVISOR_TYPES.join(', ')}, got ${String(command.hypervisor)}`, 'hypervisor'),
          requireTimestamp(command.at),
        );
        if (invalid) return invalid;
        const zone = requireZone(state);
        if (isRejection(zone)) return zone;
        const existing = zone.clusters[command.clusterId];
        if (existing) {
          // A retried AddCluster is harmless; the same id with different contents is a real clash.
          if (existing.name === command.name && existing.hypervisor === command.hypervisor) return [];
          return reject('CONFLICT', `Cluster ${command.clusterId} already exists in zone ${zone.name}`, 'clusterId');
        }
        const clash = Object.values(zone.clusters).find((c) => c.name.toLowerCase() === command.name.toLowerCase());
        if (clash) return reject('CONFLICT', `A cluster named ${command.name} already exists in zone ${zone.name}`, 'name');
        return [
          {
            type: 'ClusterAdded',
            data: { zoneId: zone.zoneId, clusterId: command.clusterId, name: command.name, hypervisor: command.hypervisor, created: command.at },
          },
        ];
      }
      case 'DisableZone': {
        const zone = requireZone(state);
        if (isRejection(zone)) return zone;
        return zone.allocationState === 'Disabled' ? [] : [{ type: 'ZoneDisabled', data: { zoneId: zone.zoneId } }];
      }
      case 'EnableZone': {
        const zone = requireZone(state);
        if (isRejection(zone)) return zone;
        return zone.allocationState === 'Enabled' ? [] : [{ type: 'ZoneEnabled', data: { zoneId: zone.zoneId } }];
      }
      case 'ClaimName': {
        const zone = requireZone(state);
        return isRejection(zone) ? zone : decideClaimName(command, zone);
      }
      case 'ReleaseName': {
        const zone = requireZone(state);
        if (isRejection(zone)) return zone;
        const held = claimOf(zone.names[command.kind] ?? {}, command.id);
        return held === undefined ? [] : [{ type: 'NameReleased', data: { zoneId: zone.zoneId, kind: command.kind, ...held } }];
      }
      case 'ClaimNetworkAddressing': {
        const zone = requireZone(state);
        return isRejection(zone) ? zone : decideClaimNetwork(command, zone);
      }
      case 'ReleaseNetworkAddressing': {
        const zone = requireZone(state);
        if (isRejection(zone)) return zone;
        const held = zone.networks[command.networkId];
        return held === undefined ? [] : [{ type: 'NetworkAddressingReleased', data: { zoneId: zone.zoneId, ...held } }];
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ZoneCreated':
        return { kind: 'zone', ...event.data, allocationState: 'Enabled', clusters: {}, names: { host: {}, storagePool: {} }, networks: {} };
      case 'ClusterAdded': {
        if (state.kind !== 'zone') return state;
        const { clusterId, zoneId, name, hypervisor, created } = event.data;
        return { ...state, clusters: { ...state.clusters, [clusterId]: { clusterId, zoneId, name, hypervisor, created } } };
      }
      case 'ZoneDisabled':
        return state.kind === 'zone' ? { ...state, allocationState: 'Disabled' } : state;
      case 'ZoneEnabled':
        return state.kind === 'zone' ? { ...state, allocationState: 'Enabled' } : state;
      case 'NameClaimed': {
        if (state.kind !== 'zone') return state;
        const { kind, id, name } = event.data;
        return { ...state, names: { ...state.names, [kind]: { ...state.names[kind], [name.toLowerCase()]: { id, name } } } };
      }
      case 'NameReleased': {
        if (state.kind !== 'zone') return state;
        const { [event.data.name.toLowerCase()]: _released, ...rest } = state.names[event.data.kind];
        return { ...state, names: { ...state.names, [event.data.kind]: rest } };
      }
      case 'NetworkAddressingClaimed': {
        if (state.kind !== 'zone') return state;
        const { zoneId: _zoneId, ...claim } = event.data;
        return { ...state, networks: { ...state.networks, [claim.networkId]: claim } };
      }
      case 'NetworkAddressingReleased': {
        if (state.kind !== 'zone') return state;
        const { [event.data.networkId]: _released, ...networks } = state.networks;
        return { ...state, networks };
      }
    }
  },
};
