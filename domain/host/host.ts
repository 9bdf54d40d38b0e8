// Host aggregate, stream `host-<hostId>`. The host owns its capacity: every instance placed on it holds a
// reservation in this stream, so two deploys racing for the last free memory are serialised by the
// stream's expected revision and the loser's re-decision sees the winner's reservation.

import { Map as ImmutableMap } from 'immutable';
import { isRejection, reject, type Decider, type DomainEvent, type Rejection } from '../shared/decider.js';
import {
  firstFailure,
  normalizeTags,
  requireId,
  requireIntInRange,
  requireName,
  requirePositiveInt,
  requireTimestamp,
  sameStrings,
} from '../config/validation.js';
import { HOST_CAPABILITIES, isHostCapability, type HostCapability } from '../agent-protocol/index.js';
import { HYPERVISOR_TYPES, type HypervisorType } from '../zone/zone.js';
import { capacityShortfall, describeResources, requestedCpu, totalCpu, type ComputeResources } from './capacity.js';
import { hostSnapshotting } from './host-snapshot.js';

export const HOST_STREAM_PREFIX = 'host-';

export function hostStream(hostId: string): string {
  return `${HOST_STREAM_PREFIX}${hostId}`;
}

export const HOST_DRIVERS = ['simulator', 'libvirt'] as const;
export type HostDriver = (typeof HOST_DRIVERS)[number];

export const SIMULATOR_OPERATIONS = ['START', 'STOP', 'REBOOT', 'MIGRATE', 'SNAPSHOT'] as const;
export type SimulatorOperation = (typeof SIMULATOR_OPERATIONS)[number];

export interface SimulatorConfig {
  readonly startDelayMs: number;
  readonly stopDelayMs: number;
  readonly failOn: readonly SimulatorOperation[];
}

/** Whether the management server can talk to the host's agent. */
export type HostStatus = 'Up' | 'Disconnected' | 'Down';
/** What the operator allows on the host (CloudStack's ResourceState). */
export type HostResourceState = 'Enabled' | 'Disabled' | 'PrepareForMaintenance' | 'Maintenance';
/** The one state the API shows: the operator's state when it restricts the host, otherwise the agent's. */
export type HostState = HostStatus | Exclude<HostResourceState, 'Enabled'>;

export interface Reservation extends ComputeResources {
  readonly instanceId: string;
}

export interface Host {
  readonly hostId: string;
  readonly zoneId: string;
  readonly clusterId: string;
  readonly hypervisor: HypervisorType;
  readonly name: string;
  readonly driver: HostDriver;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  readonly hostTags: readonly string[];
  readonly url: string | null;
  readonly username: string | null;
  /** Reference into the secrets port; the password itself never enters an event. */
  readonly credentialRef: string | null;
  readonly simulator: SimulatorConfig | null;
  readonly created: string;
  readonly status: HostStatus;
  readonly resourceState: HostResourceState;
  // A persistent map: a host may carry thousands of instances, and copying a record per reservation
  // made folding the stream quadratic. Read it through the accessors below.
  /** Instance id → what it holds here. */
  readonly reservations: ImmutableMap<string, Reservation>;
  readonly usedCpu: number;
  readonly usedMemory: number;
  /** What the host's agent last said it can do (its heartbeats); none until it has said so. */
  readonly capabilities: readonly HostCapability[];
  readonly removed: boolean;
}

export type HostAggregateState = { readonly kind: 'absent' } | ({ readonly kind: 'host' } & Host);

export function hostState(host: Pick<Host, 'status' | 'resourceState'>): HostState {
  return host.resourceState === 'Enabled' ? host.status : host.resourceState;
}

/** What `instanceId` holds on this host. */
export function reservationOf(host: Pick<Host, 'reservations'>, instanceId: string): Reservation | undefined {
  return host.reservations.get(instanceId);
}

export function reservationCount(host: Pick<Host, 'reservations'>): number {
  return host.reservations.size;
}

/** Ids of the instances holding capacity here, in no particular order. */
export function reservedInstanceIds(host: Pick<Host, 'reservations'>): readonly string[] {
  return [...host.reservations.keys()];
}

export interface AddHostCommand {
  readonly type: 'AddHost';
  readonly hostId: string;
  readonly zoneId: string;
  readonly clusterId: string;
  /** The cluster's hypervisor, looked up by the caller in the zone stream. */
  readonly hypervisor: HypervisorType;
  readonly name: string;
  readonly driver: HostDriver;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  readonly hostTags?: readonly string[];
  readonly url?: string | null;
  readonly username?: string | null;
  readonly credentialRef?: string | null;
  readonly simulator?: Partial<SimulatorConfig> | null;
  readonly at: string;
}

export type HostCommand =
  | AddHostCommand
  | ({ readonly type: 'ReserveCapacity'; readonly instanceId: string } & ComputeResources)
  | { readonly type: 'ReleaseCapacity'; readonly instanceId: string }
  | { readonly type: 'ReportHostStatus'; readonly status: HostStatus }
  | { readonly type: 'DisableHost' }
  | { readonly type: 'EnableHost' }
  | { readonly type: 'PrepareHostForMaintenance' }
  | { readonly type: 'CompleteHostMaintenance' }
  | { readonly type: 'CancelHostMaintenance' }
  | { readonly type: 'UpdateHostTags'; readonly hostTags: readonly string[] }
  | { readonly type: 'ReportHostCapabilities'; readonly capabilities: readonly HostCapability[] }
  | { readonly type: 'RemoveHost' };

type HostAddedData = Omit<Host, 'status' | 'resourceState' | 'reservations' | 'usedCpu' | 'usedMemory' | 'capabilities' | 'removed'>;
type HostRef = { readonly hostId: string };

export type HostEvent =
  | DomainEvent<'HostAdded', HostAddedData>
  | DomainEvent<'HostCapacityReserved', HostRef & Reservation>
  | DomainEvent<'HostCapacityReleased', HostRef & Reservation>
  | DomainEvent<'HostStatusChanged', HostRef & { readonly from: HostStatus; readonly to: HostStatus }>
  | DomainEvent<'HostDisabled', HostRef>
  | DomainEvent<'HostEnabled', HostRef>
  | DomainEvent<'HostMaintenancePrepared', HostRef>
  | DomainEvent<'HostEnteredMaintenance', HostRef>
  | DomainEvent<'HostMaintenanceCancelled', HostRef>
  | DomainEvent<'HostTagsUpdated', HostRef & { readonly hostTags: readonly string[] }>
  | DomainEvent<'HostCapabilitiesReported', HostRef & { readonly capabilities: readonly HostCapability[] }>
  | DomainEvent<'HostRemoved', HostRef>;

const MAX_SIMULATOR_DELAY_MS = 3_600_000;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\/[^\s/]+\S*$/i;

function validateSimulator(config: Partial<SimulatorConfig> | null | undefined): SimulatorConfig | Rejection {
  const startDelayMs = config?.startDelayMs ?? 0;
  const stopDelayMs = config?.stopDelayMs ?? 0;
  const failOn = config?.failOn ?? [];
  const invalid = firstFailure(
    requireIntInRange(startDelayMs, 'simulator.startDelayMs', 'simulator startDelayMs', 0, MAX_SIMULATOR_DELAY_MS),
    requireIntInRange(stopDelayMs, 'simulator.stopDelayMs', 'simulator stopDelayMs', 0, MAX_SIMULATOR_DELAY_MS),
    Array.isArray(failOn) && failOn.every((op) => SIMULATOR_OPERATIONS.includes(op))
      ? undefined
      : reject('BAD_USER_INPUT', `simulator failOn must list only ${SIMULATOR_OPERATIONS.join(', ')}`, 'simulator.failOn'),
  );
  if (invalid) return invalid;
  return { startDelayMs, stopDelayMs, failOn: [...new Set(failOn)] };
}

function decideAddHost(command: AddHostCommand, state: HostAggregateState): readonly HostEvent[] | Rejection {
  const hostTags = normalizeTags(command.hostTags, 'hostTags');
  if (isRejection(hostTags)) return hostTags;
  const invalid = firstFailure(
    requireId(command.hostId, 'hostId'),
    requireId(command.zoneId, 'zoneId'),
    requireId(command.clusterId, 'clusterId'),
    requireName(command.name, 'name', 'Host name'),
    HOST_DRIVERS.includes(command.driver)
      ? undefined
      : reject('BAD_USER_INPUT', `driver must be one of ${HOST_DRIVERS.join(', ')}, got ${String(command.driver)}`, 'driver'),
    HYPERVISOR_TYPES.includes(command.hypervisor)
      ? undefined
      : reject('BAD_USER_INPUT', `Unknown hypervisor ${String(command.hypervisor)}`, 'hypervisor'),
    requirePositiveInt(command.cpuNumber, 'cpuNumber', 'CPU cores'),
    requirePositiveInt(command.cpuSpeed, 'cpuSpeed', 'CPU speed (MHz)'),
    requirePositiveInt(command.memory, 'memory', 'Memory (MiB)'),
    requireTimestamp(command.at),
  );
  if (invalid) return invalid;
  const url = command.url ?? null;
  const username = command.username ?? null;
  const credentialRef = command.credentialRef ?? null;
  let simulator: SimulatorConfig | null = null;
  if (command.driver === 'libvirt') {
    // A libvirt host is reached over SSH; without an address and credentials no agent could ever drive it.
    const missing = firstFailure(
      command.hypervisor === 'KVM'
        ? undefined
        : reject('BAD_USER_INPUT', `The libvirt driver manages KVM hosts, but cluster ${command.clusterId} is ${command.hypervisor}`, 'driver'),
      url !== null && URL_LIKE.test(url) ? undefined : reject('BAD_USER_INPUT', 'A libvirt host needs a url such as ssh://10.0.0.5', 'url'),
      username !== null && username.trim() !== '' ? undefined : reject('BAD_USER_INPUT', 'A libvirt host needs a username', 'username'),
      credentialRef !== null && credentialRef.trim() !== '' ? undefined : reject('BAD_USER_INPUT', 'A libvirt host needs a password', 'password'),
      command.simulator === undefined || command.simulator === null
        ? undefined
        : reject('BAD_USER_INPUT', 'simulator settings apply only to the simulator driver', 'simulator'),
    );
    if (missing) return missing;
  } else {
    const config = validateSimulator(command.simulator);
    if (isRejection(config)) return config;
    simulator = config;
    if (url !== null && !URL_LIKE.test(url)) return reject('BAD_USER_INPUT', `Invalid host url ${url}`, 'url');
  }
  if (state.kind === 'host') return reject('CONFLICT', `Host ${command.hostId} already exists`, 'hostId');
  return [
    {
      type: 'HostAdded',
      data: {
        hostId: command.hostId,
        zoneId: command.zoneId,
        clusterId: command.clusterId,
        hypervisor: command.hypervisor,
        name: command.name,
        driver: command.driver,
        cpuNumber: command.cpuNumber,
        cpuSpeed: command.cpuSpeed,
        memory: command.memory,
        hostTags,
        url,
        username,
        credentialRef,
        simulator,
        created: command.at,
      },
    },
  ];
}

/**
 * The capabilities a heartbeat reports, in the protocol's order without repeats, so that the same set
 * reported in another order is no change. An unknown one is refused here: the agent's parser has left
 * out those this version does not know already.
 */
function reportedCapabilities(capabilities: readonly HostCapability[]): readonly HostCapability[] | Rejection {
  if (!Array.isArray(capabilities)) return reject('BAD_USER_INPUT', 'capabilities must be a list', 'capabilities');
  const unknown: unknown = capabilities.find((capability) => !isHostCapability(capability));
  if (unknown !== undefined) {
    return reject('BAD_USER_INPUT', `Unknown host capability ${JSON.stringify(unknown)}; known: ${HOST_CAPABILITIES.join(', ')}`, 'capabilities');
  }
  return HOST_CAPABILITIES.filter((capability) => capabilities.includes(capability));
}

function liveHost(state: HostAggregateState): (Host & { kind: 'host' }) | Rejection {
  if (state.kind !== 'host') return reject('NOT_FOUND', 'Host does not exist', 'hostId');
  if (state.removed) return reject('NOT_FOUND', `Host ${state.name} has been removed`, 'hostId');
  return state;
}

function decideReserve(command: Extract<HostCommand, { type: 'ReserveCapacity' }>, host: Host): readonly HostEvent[] | Rejection {
  const invalid = firstFailure(
    requireId(command.instanceId, 'instanceId'),
    requirePositiveInt(command.cpuNumber, 'cpuNumber', 'CPU cores'),
    requirePositiveInt(command.cpuSpeed, 'cpuSpeed', 'CPU speed (MHz)'),
    requirePositiveInt(command.memory, 'memory', 'Memory (MiB)'),
  );
  if (invalid) return invalid;
  const request = { cpuNumber: command.cpuNumber, cpuSpeed: command.cpuSpeed, memory: command.memory };
  const held = reservationOf(host, command.instanceId);
  // Idempotent by instance: a saga step retried after a crash must not reserve twice.
  if (held && held.cpuNumber === request.cpuNumber && held.cpuSpeed === request.cpuSpeed && held.memory === request.memory) return [];
  const state = hostState(host);
  if (state !== 'Up') {
    return reject('INSUFFICIENT_CAPACITY', `Host ${host.name} is ${state} and cannot take ${describeResources(request)}`, 'hostId');
  }
  // A different size for an instance already here is a resize (scaling): only the difference must fit.
  const usedWithoutHeld = {
    usedCpu: host.usedCpu - (held ? requestedCpu(held) : 0),
    usedMemory: host.usedMemory - (held ? held.memory : 0),
  };
  const shortfall = capacityShortfall({ ...host, ...usedWithoutHeld }, request);
  if (shortfall !== undefined) {
    return reject('INSUFFICIENT_CAPACITY', `Host ${host.name} cannot take ${describeResources(request)}: ${shortfall}`, 'hostId');
  }
  return [{ type: 'HostCapacityReserved', data: { hostId: host.hostId, instanceId: command.instanceId, ...request } }];
}

export const hostDecider: Decider<HostCommand, HostAggregateState, HostEvent> = {
  initialState: { kind: 'absent' },
  snapshot: hostSnapshotting,

  decide(command, state) {
    if (command.type === 'AddHost') return decideAddHost(command, state);
    if (command.type === 'RemoveHost' && state.kind === 'host' && state.removed) return [];
    const host = liveHost(state);
    if (isRejection(host)) return host;
    const hostId = host.hostId;
    switch (command.type) {
      case 'ReserveCapacity':
        return decideReserve(command, host);
      case 'ReleaseCapacity': {
        const invalid = requireId(command.instanceId, 'instanceId');
        if (invalid) return invalid;
        const held = reservationOf(host, command.instanceId);
        return held ? [{ type: 'HostCapacityReleased', data: { hostId, ...held } }] : [];
      }
      case 'ReportHostStatus': {
        if (!(['Up', 'Disconnected', 'Down'] as const).includes(command.status)) {
          return reject('BAD_USER_INPUT', `Unknown host status ${String(command.status)}`, 'status');
        }
        return command.status === host.status ? [] : [{ type: 'HostStatusChanged', data: { hostId, from: host.status, to: command.status } }];
      }
      case 'DisableHost':
        if (host.resourceState === 'Disabled') return [];
        if (host.resourceState !== 'Enabled') {
          return reject('INVALID_STATE', `Host ${host.name} is in ${host.resourceState}; cancel maintenance before disabling it`);
        }
        return [{ type: 'HostDisabled', data: { hostId } }];
      case 'EnableHost':
        if (host.resourceState === 'Enabled') return [];
        if (host.resourceState !== 'Disabled') {
          return reject('INVALID_STATE', `Host ${host.name} is in ${host.resourceState}; cancel maintenance to enable it`);
        }
        return [{ type: 'HostEnabled', data: { hostId } }];
      case 'PrepareHostForMaintenance':
        if (host.resourceState === 'PrepareForMaintenance' || host.resourceState === 'Maintenance') return [];
        return [{ type: 'HostMaintenancePrepared', data: { hostId } }];
      case 'CompleteHostMaintenance': {
        if (host.resourceState === 'Maintenance') return [];
        if (host.resourceState !== 'PrepareForMaintenance') {
          return reject('INVALID_STATE', `Host ${host.name} is ${host.resourceState}, not preparing for maintenance`);
        }
        const remaining = reservationCount(host);
        if (remaining > 0) {
          return reject('INVALID_STATE', `Host ${host.name} still holds ${remaining} instance(s); migrate or stop them first`);
        }
        return [{ type: 'HostEnteredMaintenance', data: { hostId } }];
      }
      case 'CancelHostMaintenance':
        if (host.resourceState !== 'PrepareForMaintenance' && host.resourceState !== 'Maintenance') {
          return reject('INVALID_STATE', `Host ${host.name} is not in maintenance (state ${host.resourceState})`);
        }
        return [{ type: 'HostMaintenanceCancelled', data: { hostId } }];
      case 'UpdateHostTags': {
        const hostTags = normalizeTags(command.hostTags, 'hostTags');
        if (isRejection(hostTags)) return hostTags;
        return sameStrings(hostTags, host.hostTags) ? [] : [{ type: 'HostTagsUpdated', data: { hostId, hostTags } }];
      }
      case 'ReportHostCapabilities': {
        const capabilities = reportedCapabilities(command.capabilities);
        if (isRejection(capabilities)) return capabilities;
        // Heartbeats repeat the same list every few seconds: only a change is worth an event.
        return sameStrings(capabilities, host.capabilities) ? [] : [{ type: 'HostCapabilitiesReported', data: { hostId, capabilities } }];
      }
      case 'RemoveHost': {
        // CloudStack's deleteHost wants the host in maintenance so no agent command is in flight.
        if (host.resourceState !== 'Maintenance' && host.resourceState !== 'Disabled') {
          return reject('INVALID_STATE', `Host ${host.name} must be in maintenance or disabled before it is removed (state ${hostState(host)})`);
        }
        const remaining = reservationCount(host);
        if (remaining > 0) return reject('INVALID_STATE', `Host ${host.name} still holds ${remaining} instance(s)`);
        return [{ type: 'HostRemoved', data: { hostId } }];
      }
    }
  },

  evolve(state, event) {
    if (event.type === 'HostAdded') {
      return {
        kind: 'host',
        ...event.data,
        status: 'Up',
        resourceState: 'Enabled',
        reservations: ImmutableMap(),
        usedCpu: 0,
        usedMemory: 0,
        capabilities: [],
        removed: false,
      };
    }
    if (state.kind !== 'host') return state;
    switch (event.type) {
      case 'HostCapacityReserved': {
        const { hostId: _hostId, ...reservation } = event.data;
        const previous = reservationOf(state, reservation.instanceId);
        return {
          ...state,
          reservations: state.reservations.set(reservation.instanceId, reservation),
          usedCpu: state.usedCpu - (previous ? requestedCpu(previous) : 0) + requestedCpu(reservation),
          usedMemory: state.usedMemory - (previous ? previous.memory : 0) + reservation.memory,
        };
      }
      case 'HostCapacityReleased': {
        const previous = reservationOf(state, event.data.instanceId);
        if (!previous) return state;
        return {
          ...state,
          reservations: state.reservations.delete(event.data.instanceId),
          usedCpu: state.usedCpu - requestedCpu(previous),
          usedMemory: state.usedMemory - previous.memory,
        };
      }
      case 'HostStatusChanged':
        return { ...state, status: event.data.to };
      case 'HostDisabled':
        return { ...state, resourceState: 'Disabled' };
      case 'HostEnabled':
      case 'HostMaintenanceCancelled':
        return { ...state, resourceState: 'Enabled' };
      case 'HostMaintenancePrepared':
        return { ...state, resourceState: 'PrepareForMaintenance' };
      case 'HostEnteredMaintenance':
        return { ...state, resourceState: 'Maintenance' };
      case 'HostTagsUpdated':
        return { ...state, hostTags: event.data.hostTags };
      case 'HostCapabilitiesReported':
        return { ...state, capabilities: event.data.capabilities };
      case 'HostRemoved':
        return { ...state, removed: true };
    }
  },
};

/** Total and used capacity in the units the planner and the API show (MHz, MiB). */
export function hostCapacitySummary(host: Host) {
  return {
    totalCpu: totalCpu(host),
    usedCpu: host.usedCpu,
    totalMemory: host.memory,
    usedMemory: host.usedMemory,
    instanceCount: reservationCount(host),
  } as const;
}
