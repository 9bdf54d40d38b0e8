// Zone aggregate, stream `zone-<zoneId>`. Clusters live in their zone's stream: there are few of them,
// they never move between zones, and the zone is then the one place that can keep cluster names unique.

import { isRejection, reject, type Decider, type DomainEvent, type Rejection } from '../shared/decider.js';
import { firstFailure, requireId, requireName, requireTimestamp } from '../config/validation.js';

export const NETWORK_TYPES = ['Advanced', 'Basic'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

export const HYPERVISOR_TYPES = ['KVM', 'VMware', 'XenServer', 'Hyperv', 'LXC', 'Ovm3', 'Simulator'] as const;
export type HypervisorType = (typeof HYPERVISOR_TYPES)[number];

export type AllocationState = 'Enabled' | 'Disabled';

export function zoneStream(zoneId: string): string {
  return `zone-${zoneId}`;
}

export interface Cluster {
  readonly clusterId: string;
  readonly zoneId: string;
  readonly name: string;
  readonly hypervisor: HypervisorType;
  readonly created: string;
}

export interface Zone {
  readonly zoneId: string;
  readonly name: string;
  readonly networkType: NetworkType;
  readonly allocationState: AllocationState;
  readonly created: string;
  readonly clusters: Readonly<Record<string, Cluster>>;
}

export type ZoneState = { readonly kind: 'absent' } | ({ readonly kind: 'zone' } & Zone);

export type ZoneCommand =
  | { readonly type: 'CreateZone'; readonly zoneId: string; readonly name: string; readonly networkType?: NetworkType; readonly at: string }
  | { readonly type: 'AddCluster'; readonly clusterId: string; readonly name: string; readonly hypervisor: HypervisorType; readonly at: string }
  | { readonly type: 'DisableZone' }
  | { readonly type: 'EnableZone' };

export type ZoneEvent =
  | DomainEvent<'ZoneCreated', { readonly zoneId: string; readonly name: string; readonly networkType: NetworkType; readonly created: string }>
  | DomainEvent<
      'ClusterAdded',
      { readonly zoneId: string; readonly clusterId: string; readonly name: string; readonly hypervisor: HypervisorType; readonly created: string }
    >
  | DomainEvent<'ZoneDisabled', { readonly zoneId: string }>
  | DomainEvent<'ZoneEnabled', { readonly zoneId: string }>;

function requireZone(state: ZoneState): (Zone & { kind: 'zone' }) | Rejection {
  return state.kind === 'zone' ? state : reject('NOT_FOUND', 'Zone does not exist', 'zoneId');
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
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ZoneCreated':
        return { kind: 'zone', ...event.data, allocationState: 'Enabled', clusters: {} };
      case 'ClusterAdded': {
        if (state.kind !== 'zone') return state;
        const { clusterId, zoneId, name, hypervisor, created } = event.data;
        return { ...state, clusters: { ...state.clusters, [clusterId]: { clusterId, zoneId, name, hypervisor, created } } };
      }
      case 'ZoneDisabled':
        return state.kind === 'zone' ? { ...state, allocationState: 'Disabled' } : state;
      case 'ZoneEnabled':
        return state.kind === 'zone' ? { ...state, allocationState: 'Enabled' } : state;
    }
  },
};
