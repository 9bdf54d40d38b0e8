// Host allocation: which host should an instance start on. A pure function over a capacity snapshot read
// from the host streams (or their read model). The snapshot may be stale; that is safe because the chosen
// host's stream re-checks capacity when the reservation is appended, and a refused reservation just means
// "plan again with that host avoided".

import { reject, type Rejection } from '../shared/decider.js';
import { firstFailure, requirePositiveInt } from '../config/validation.js';
import {
  HOST_CAPACITY_TYPES,
  VM_ALLOCATION_ALGORITHMS,
  type HostCapacityType,
  type VmAllocationAlgorithm,
} from '../config/registry.js';
import { effectiveSetting, type ConfigState } from '../config/configuration.js';
import { capacityShortfall, describeResources, totalCpu, type ComputeResources } from '../host/capacity.js';
import { hostState, type Host, type HostState } from '../host/host.js';
import type { HypervisorType } from '../zone/zone.js';
import type { GroupHosts } from '../affinity/constraints.js';

export interface HostCandidate {
  readonly hostId: string;
  readonly name: string;
  readonly clusterId: string;
  readonly hypervisor: HypervisorType;
  readonly state: HostState;
  readonly hostTags: readonly string[];
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  /** MHz reserved. */
  readonly usedCpu: number;
  /** MiB reserved. */
  readonly usedMemory: number;
  /** Instances of the deploying account on this host, for `userdispersing`. */
  readonly accountInstanceCount: number;
}

export interface CapacitySnapshot {
  /** In the operator's (database) order, which `firstfit` keeps. */
  readonly hosts: readonly HostCandidate[];
}

export interface AllocationSettings {
  readonly algorithm: VmAllocationAlgorithm;
  readonly capacityType: HostCapacityType;
  readonly cpuToMemoryWeight: number;
}

export interface HostAllocationRequest extends ComputeResources, AllocationSettings {
  /** Host tags of the service offering; a host must carry all of them. */
  readonly hostTags: readonly string[];
  /** The instance's hypervisor (its template's): a host of another cannot run it. */
  readonly hypervisorType?: string | null;
  /** Admin's `hostId`: only this host is considered. */
  readonly explicitHostId?: string | null;
  readonly lastHostId?: string | null;
  /** `considerLastHost` of startVirtualMachine; true unless given as false. */
  readonly considerLastHost?: boolean;
  readonly clusterId?: string | null;
  /** Hosts that must not be chosen (host anti-affinity, hosts that already refused a reservation). */
  readonly avoidHostIds?: readonly string[];
  /** Non-strict affinity priorities (default 0); `-Infinity` prohibits a host. */
  readonly hostPriorities?: Readonly<Record<string, number>>;
  /**
   * Strict affinity groups (domain/affinity): hosts of anti-affinity members are avoided, and with
   * affinity members placed somewhere only their hosts qualify. An explicit host bypasses both (§6.3).
   */
  readonly affinity?: { readonly avoid: readonly GroupHosts[]; readonly require: readonly GroupHosts[] };
}

export interface HostPlan {
  readonly hostId: string;
  /** Every suitable host in the order they would be tried; `hostId` is the first. */
  readonly candidates: readonly string[];
  readonly reason: 'explicit' | 'lastHost' | 'allocator';
}

/** Settings from configuration: `vm.allocation.algorithm` and the least-consumed ordering keys. */
export function allocationSettings(globalConfig: ConfigState, zoneConfig?: ConfigState): AllocationSettings {
  return {
    algorithm: effectiveSetting('vm.allocation.algorithm', globalConfig, zoneConfig),
    capacityType: effectiveSetting('host.capacityType.to.order.clusters', globalConfig, zoneConfig),
    cpuToMemoryWeight: effectiveSetting('host.capacityType.to.order.clusters.cputomemoryweight', globalConfig, zoneConfig),
  };
}

/** Builds the planner's view of a folded host. */
export function hostCandidate(host: Host, accountInstanceCount: number): HostCandidate {
  return {
    hostId: host.hostId,
    name: host.name,
    clusterId: host.clusterId,
    hypervisor: host.hypervisor,
    state: hostState(host),
    hostTags: host.hostTags,
    cpuNumber: host.cpuNumber,
    cpuSpeed: host.cpuSpeed,
    memory: host.memory,
    usedCpu: host.usedCpu,
    usedMemory: host.usedMemory,
    accountInstanceCount,
  };
}

/** Why `host` cannot take `request`, or undefined when it can. */
export function unsuitability(
  host: HostCandidate,
  request: ComputeResources & { readonly hostTags: readonly string[]; readonly hypervisorType?: string | null },
): string | undefined {
  if (host.state !== 'Up') return `is ${host.state}`;
  const hypervisor = request.hypervisorType ?? null;
  if (hypervisor !== null && host.hypervisor !== hypervisor) return `is a ${host.hypervisor} host, not ${hypervisor}`;
  const missing = request.hostTags.filter((tag) => !host.hostTags.includes(tag));
  if (missing.length > 0) return `lacks host tags [${missing.join(', ')}]`;
  return capacityShortfall(host, request);
}

function freeCpu(host: HostCandidate): number {
  return totalCpu(host) - host.usedCpu;
}

function freeMemory(host: HostCandidate): number {
  return host.memory - host.usedMemory;
}

/**
 * Free-capacity metric for `firstfitleastconsumed`. CPU and RAM order by absolute free capacity, as
 * CloudStack's capacity query does; COMBINED mixes the two as fractions so MHz and MiB can be weighed.
 */
export function leastConsumedMetric(host: HostCandidate, capacityType: HostCapacityType, cpuToMemoryWeight: number): number {
  switch (capacityType) {
    case 'CPU':
      return freeCpu(host);
    case 'RAM':
      return freeMemory(host);
    case 'COMBINED': {
      const cpuFraction = totalCpu(host) > 0 ? freeCpu(host) / totalCpu(host) : 0;
      const memoryFraction = host.memory > 0 ? freeMemory(host) / host.memory : 0;
      return cpuToMemoryWeight * cpuFraction + (1 - cpuToMemoryWeight) * memoryFraction;
    }
  }
}

/** Fisher–Yates with the caller's random source, so a fixed source gives a fixed order. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const r = random();
    const j = Number.isFinite(r) ? Math.min(i, Math.max(0, Math.floor(r * (i + 1)))) : 0;
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

// The `userconcentratedpod_*` variants differ from their plain forms only in how CloudStack orders pods;
// vmledger has no pods, so at host level they order exactly like `random` and `firstfit`.
function orderByAlgorithm(hosts: readonly HostCandidate[], request: HostAllocationRequest, random: () => number): HostCandidate[] {
  switch (request.algorithm) {
    case 'random':
    case 'userconcentratedpod_random':
      return shuffle(hosts, random);
    case 'firstfit':
    case 'userconcentratedpod_firstfit':
      return [...hosts];
    case 'userdispersing':
      return [...hosts].sort((a, b) => a.accountInstanceCount - b.accountInstanceCount);
    case 'firstfitleastconsumed':
      return [...hosts].sort(
        (a, b) =>
          leastConsumedMetric(b, request.capacityType, request.cpuToMemoryWeight) -
          leastConsumedMetric(a, request.capacityType, request.cpuToMemoryWeight),
      );
  }
}

function validateRequest(request: HostAllocationRequest): Rejection | undefined {
  return firstFailure(
    requirePositiveInt(request.cpuNumber, 'cpuNumber', 'CPU cores'),
    requirePositiveInt(request.cpuSpeed, 'cpuSpeed', 'CPU speed (MHz)'),
    requirePositiveInt(request.memory, 'memory', 'Memory (MiB)'),
    VM_ALLOCATION_ALGORITHMS.includes(request.algorithm)
      ? undefined
      : reject('BAD_USER_INPUT', `Unknown allocation algorithm ${String(request.algorithm)}`, 'vm.allocation.algorithm'),
    HOST_CAPACITY_TYPES.includes(request.capacityType)
      ? undefined
      : reject('BAD_USER_INPUT', `Unknown capacity type ${String(request.capacityType)}`, 'host.capacityType.to.order.clusters'),
    typeof request.cpuToMemoryWeight === 'number' && request.cpuToMemoryWeight >= 0 && request.cpuToMemoryWeight <= 1
      ? undefined
      : reject('BAD_USER_INPUT', `cpuToMemoryWeight must be between 0 and 1`, 'host.capacityType.to.order.clusters.cputomemoryweight'),
  );
}

/** Why a strict group rules `hostId` out, naming the group, or undefined when none does. */
export function affinityUnsuitability(hostId: string, affinity: NonNullable<HostAllocationRequest['affinity']>): string | undefined {
  return affinityCheck(affinity)(hostId);
}

/** The strict groups' test for one host at a time, with each group's hosts in a set (a planner call asks it of every host). */
function affinityCheck(affinity: NonNullable<HostAllocationRequest['affinity']>): (hostId: string) => string | undefined {
  const avoid = affinity.avoid.map((g) => ({ group: g, hosts: new Set(g.hostIds) }));
  const require = affinity.require.map((g) => ({ group: g, hosts: new Set(g.hostIds) }));
  return (hostId) => {
    const avoided = avoid.find((g) => g.hosts.has(hostId));
    if (avoided) return `is excluded by ${avoided.group.type} group ${avoided.group.groupName} (a member runs there)`;
    const elsewhere = require.find((g) => !g.hosts.has(hostId));
    if (elsewhere) return `is not where the members of ${elsewhere.group.type} group ${elsewhere.group.groupName} run`;
    return undefined;
  };
}

function needed(request: HostAllocationRequest): string {
  const tags = request.hostTags.length > 0 ? ` with host tags [${request.hostTags.join(', ')}]` : '';
  return `${describeResources(request)}${tags}`;
}

/**
 * Chooses a host (CloudStack's planDeployment + FirstFitAllocator, §6.4): an explicit host short-circuits
 * everything but must still fit; otherwise the suitable hosts (Up, carrying every offering tag, with free
 * cores × MHz and memory, not avoided, in the requested cluster) are ordered by the algorithm, then by
 * non-strict affinity priority, and the last host goes first when it is suitable and may be considered.
 */
export function planHost(request: HostAllocationRequest, snapshot: CapacitySnapshot, random: () => number): HostPlan | Rejection {
  const invalid = validateRequest(request);
  if (invalid) return invalid;

  if (request.explicitHostId !== undefined && request.explicitHostId !== null) {
    const host = snapshot.hosts.find((h) => h.hostId === request.explicitHostId);
    if (!host) return reject('BAD_USER_INPUT', `Unable to find host ${request.explicitHostId}`, 'hostId');
    const why = unsuitability(host, request);
    if (why !== undefined) return reject('INSUFFICIENT_CAPACITY', `Cannot deploy on host ${host.name} which ${why}; needed ${needed(request)}`, 'hostId');
    return { hostId: host.hostId, candidates: [host.hostId], reason: 'explicit' };
  }

  const avoid = new Set(request.avoidHostIds ?? []);
  const priorities = request.hostPriorities ?? {};
  const affinity = affinityCheck(request.affinity ?? { avoid: [], require: [] });
  const rejected: string[] = [];
  const suitable: HostCandidate[] = [];
  for (const host of snapshot.hosts) {
    const why =
      request.clusterId !== undefined && request.clusterId !== null && host.clusterId !== request.clusterId
        ? `is not in cluster ${request.clusterId}`
        : avoid.has(host.hostId)
          ? 'is in the avoid set'
          : priorities[host.hostId] === Number.NEGATIVE_INFINITY
            ? 'is prohibited by affinity'
            : (affinity(host.hostId) ?? unsuitability(host, request));
    if (why === undefined) suitable.push(host);
    else rejected.push(`${host.name} ${why}`);
  }
  if (suitable.length === 0) {
    const detail = rejected.length === 0 ? 'there are no hosts' : rejected.join('; ');
    return reject('INSUFFICIENT_CAPACITY', `No suitable host for ${needed(request)}: ${detail}`);
  }

  // Stable sort: hosts of equal priority keep the allocator's order (reorderHostsByPriority).
  const ordered = orderByAlgorithm(suitable, request, random).sort((a, b) => (priorities[b.hostId] ?? 0) - (priorities[a.hostId] ?? 0));
  const ids = ordered.map((h) => h.hostId);
  const last = request.lastHostId ?? null;
  if (request.considerLastHost !== false && last !== null && ids.includes(last)) {
    return { hostId: last, candidates: [last, ...ids.filter((id) => id !== last)], reason: 'lastHost' };
  }
  return { hostId: ids[0] as string, candidates: ids, reason: 'allocator' };
}
