// CloudStack's rules for converting a VMware guest into a KVM instance (behaviour §4.7,
// UnmanagedVMsManagerImpl.importUnmanagedInstanceFromVmwareToKvm): which host converts, which host
// imports, where the converted files wait, whether the offering covers the source, whether the NICs
// line up, and which virt-v2v parameters an operator may add. Pure: the control plane applies them to
// the read model and to what an agent listed before anything is appended (and the preview applies
// the same ones without appending). The messages are CloudStack's where it has one; where vmledger
// differs (no vCenter, so no clone of a running guest; no secondary storage) the message says why.
import type { HostCapability } from '../agent-protocol/index.js';
import type { StoragePoolScope, StoragePoolType } from '../storage/index.js';
import { reject, type Rejection } from '../shared/decider.js';

/** What the host rules read of a host. */
export interface ConversionHostFacts {
  readonly id: string;
  readonly name: string;
  readonly zoneId: string;
  readonly clusterId: string;
  readonly status: 'Up' | 'Disconnected' | 'Down';
  readonly resourceState: 'Enabled' | 'Disabled' | 'PrepareForMaintenance' | 'Maintenance';
  readonly capabilities: readonly HostCapability[];
}

/** What the temporary-location rules read of a storage pool. */
export interface ConversionPoolFacts {
  readonly id: string;
  readonly name: string;
  readonly zoneId: string;
  readonly scope: StoragePoolScope;
  readonly type: StoragePoolType;
  readonly clusterId: string | null;
  readonly hostId: string | null;
  /** Where the pool is mounted on its hosts: the agents' temporary directory lives under it. */
  readonly path: string;
}

export interface DestinationCluster {
  readonly id: string;
  readonly zoneId: string;
}

export const vmwareMessages = {
  convertHostUnknown: (id: string) => `Cannot find host with ID ${id} for conversion`,
  convertHostState: (name: string, state: string) => `Cannot perform the conversion on the host ${name} as the host is in ${state} state`,
  convertHostDown: (name: string) => `Cannot perform the conversion on the host ${name} as it is not running`,
  convertHostZone: (name: string) => `Cannot perform the conversion on the host ${name} as it is not in the same zone as the destination cluster`,
  noConvertHost: (cluster: string) => `Could not find any suitable KVM host in cluster ${cluster} to perform the instance conversion`,
  noVirtV2v: (name: string) =>
    `Cannot convert the instance from VMware as the virt-v2v binary is not found on host ${name}. Please install virt-v2v, nbdkit on the host before attempting the instance conversion.`,
  importHostUnknown: (id: string) => `Cannot find host with ID ${id} to import the instance`,
  importHostState: (name: string) => `Cannot import the converted instance on the host ${name} as it is not in Enabled state`,
  importHostDown: (name: string) => `Cannot import the converted instance on the host ${name} as it is not running`,
  importHostCluster: (name: string) => `Cannot import the converted instance on the host ${name} as it is not in the same cluster as the destination cluster`,
  noImportHost: (cluster: string) => `Could not find any suitable KVM host in cluster ${cluster} to import the converted instance`,
  poolUnknown: (id: string) => `Cannot find a storage pool with ID ${id}`,
  poolScope: (pool: string, cluster: string) => `Cannot use the storage pool ${pool} for the instance conversion as it is not in the scope of the cluster ${cluster}`,
  poolOtherCluster: (pool: string, host: string) => `Cannot use the storage pool ${pool} for the instance conversion as the host ${host} for conversion is in a different cluster`,
  // CloudStack asks for forceconverttopool too; vmledger converts into a local pool's directory without it.
  localPoolHosts: 'Please select the same host as convert and importing host to use a local storage pool for conversion',
  poolType: (pool: string) =>
    `The storage pool ${pool} is not supported for temporary conversion location, only NFS, SharedMountPoint and the conversion host's local storage pools are supported`,
  // CloudStack falls back to an NFS secondary storage; vmledger has none, so it takes an NFS primary pool.
  noTemporaryPool: (cluster: string) =>
    `Could not find an NFS storage pool in the scope of cluster ${cluster} to use as a temporary location for instance conversion: give convertInstancePoolId`,
  requestedLess: (resource: string, requested: number, source: number) => `The requested ${resource} (${requested}) is less than the source VM ${resource} (${source})`,
  // CloudStack clones a running guest through vCenter; a standalone ESXi host reached over SSH has no clone.
  sourceRunning: (vm: string, host: string) =>
    `VM ${vm} might be on standalone host ${host} and is Running, cannot be imported: without vCenter there is no clone to convert. Please shut it down before attempting the import`,
  nicCount: (vm: string, source: number, given: number) => `Different number of nics found on instance ${vm}: ${source} vs ${given} nics provided`,
  macConflict: (nic: string, mac: string, network: string) =>
    `NIC ${nic} with MAC address ${mac} already exists on network ${network} and forced flag is disabled. Retry with forced flag enabled if a new MAC address to be generated.`,
  extraParamsDisabled: 'Extra parameters for Vmware to KVM conversion are disabled by the administrator',
  extraParamsListEmpty: 'Extra parameters for Vmware to KVM conversion are enabled but the allowed list of parameters is empty',
  extraParamNotAllowed: (param: string) => `The parameter ${param} is not allowed by the administrator`,
} as const;

/**
 * `checkExtraParamsAllowed`: extra virt-v2v parameters only when the administrator allows them, and
 * each option (a token starting with `-`, hyphens stripped) only when it is in the allowed list.
 * Resolves the tokens to pass, in order (values after an option pass with it).
 */
export function checkExtraParams(extraParams: string | null | undefined, allowed: boolean, allowList: readonly string[]): readonly string[] | Rejection {
  const tokens = (extraParams ?? '').split(/\s+/).filter((token) => token !== '');
  if (tokens.length === 0) return [];
  if (!allowed) return reject('BAD_USER_INPUT', vmwareMessages.extraParamsDisabled, 'extraParams');
  const list = allowList.map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (list.length === 0) return reject('BAD_USER_INPUT', vmwareMessages.extraParamsListEmpty, 'extraParams');
  for (const token of tokens) {
    if (!token.startsWith('-')) continue;
    // `--name=value` names `name`.
    const name = token.replace(/^-+/, '').split('=')[0]!;
    if (!list.includes(name)) return reject('BAD_USER_INPUT', vmwareMessages.extraParamNotAllowed(name), 'extraParams');
  }
  return tokens;
}

const converts = (host: ConversionHostFacts) => host.capabilities.includes('instance.conversion');

/**
 * `selectKVMHostForConversionInCluster`: the host named (Enabled or Disabled, Up, in the destination
 * zone, with virt-v2v), else one of the destination cluster's Up, Enabled hosts that report the
 * `instance.conversion` capability, picked by `pick` (CloudStack picks at random).
 */
export function selectConversionHost(
  explicitId: string | null | undefined,
  hosts: readonly ConversionHostFacts[],
  cluster: DestinationCluster,
  pick: (count: number) => number,
): ConversionHostFacts | Rejection {
  const field = 'convertInstanceHostId';
  if (explicitId) {
    const host = hosts.find((candidate) => candidate.id === explicitId);
    if (!host) return reject('BAD_USER_INPUT', vmwareMessages.convertHostUnknown(explicitId), field);
    if (host.resourceState !== 'Enabled' && host.resourceState !== 'Disabled') return reject('INVALID_STATE', vmwareMessages.convertHostState(host.name, host.resourceState), field);
    if (host.status !== 'Up') return reject('INVALID_STATE', vmwareMessages.convertHostDown(host.name), field);
    if (host.zoneId !== cluster.zoneId) return reject('BAD_USER_INPUT', vmwareMessages.convertHostZone(host.name), field);
    // CloudStack's CheckConvertInstanceCommand; here the host's heartbeat said so already.
    if (!converts(host)) return reject('INVALID_STATE', vmwareMessages.noVirtV2v(host.name), field);
    return host;
  }
  const candidates = hosts.filter((host) => host.clusterId === cluster.id && host.status === 'Up' && host.resourceState === 'Enabled' && converts(host));
  if (candidates.length === 0) return reject('INVALID_STATE', vmwareMessages.noConvertHost(cluster.id), 'clusterId');
  return candidates[pick(candidates.length)]!;
}

/**
 * `selectKVMHostForImportingInCluster`: the host named (Enabled, Up, in the destination cluster),
 * else the conversion host when it is one of the destination cluster's Up, Enabled hosts (the
 * converted files are then where they are imported, and a local temporary pool works), else one of
 * those hosts picked by `pick`.
 */
export function selectImportHost(
  explicitId: string | null | undefined,
  hosts: readonly ConversionHostFacts[],
  cluster: DestinationCluster,
  convertHost: ConversionHostFacts,
  pick: (count: number) => number,
): ConversionHostFacts | Rejection {
  const field = 'importInstanceHostId';
  if (explicitId) {
    const host = hosts.find((candidate) => candidate.id === explicitId);
    if (!host) return reject('BAD_USER_INPUT', vmwareMessages.importHostUnknown(explicitId), field);
    if (host.resourceState !== 'Enabled') return reject('INVALID_STATE', vmwareMessages.importHostState(host.name), field);
    if (host.status !== 'Up') return reject('INVALID_STATE', vmwareMessages.importHostDown(host.name), field);
    if (host.clusterId !== cluster.id) return reject('BAD_USER_INPUT', vmwareMessages.importHostCluster(host.name), field);
    return host;
  }
  const candidates = hosts.filter((host) => host.clusterId === cluster.id && host.status === 'Up' && host.resourceState === 'Enabled');
  if (candidates.length === 0) return reject('INVALID_STATE', vmwareMessages.noImportHost(cluster.id), 'clusterId');
  return candidates.find((host) => host.id === convertHost.id) ?? candidates[pick(candidates.length)]!;
}

const inScope = (pool: ConversionPoolFacts, cluster: DestinationCluster, hosts: readonly ConversionHostFacts[]): boolean => {
  if (pool.zoneId !== cluster.zoneId) return false;
  if (pool.scope === 'ZONE') return true;
  if (pool.scope === 'CLUSTER') return pool.clusterId === cluster.id;
  return hosts.some((host) => host.id === pool.hostId && host.clusterId === cluster.id);
};

/**
 * `selectInstanceConversionTemporaryLocation`: the pool named (in the destination cluster's scope;
 * a cluster pool in the conversion host's cluster; NFS or SharedMountPoint, or the conversion host's
 * local pool when that host also imports), else the first NFS pool of the zone both hosts reach.
 */
export function selectTemporaryPool(
  explicitId: string | null | undefined,
  pools: readonly ConversionPoolFacts[],
  hosts: readonly ConversionHostFacts[],
  cluster: DestinationCluster,
  convertHost: ConversionHostFacts,
  importHost: ConversionHostFacts,
): ConversionPoolFacts | Rejection {
  const field = 'convertInstancePoolId';
  if (explicitId) {
    const pool = pools.find((candidate) => candidate.id === explicitId);
    if (!pool) return reject('BAD_USER_INPUT', vmwareMessages.poolUnknown(explicitId), field);
    if (!inScope(pool, cluster, hosts)) return reject('BAD_USER_INPUT', vmwareMessages.poolScope(pool.name, cluster.id), field);
    if (pool.scope === 'CLUSTER' && pool.clusterId !== convertHost.clusterId) return reject('BAD_USER_INPUT', vmwareMessages.poolOtherCluster(pool.name, convertHost.name), field);
    if (pool.scope === 'HOST') {
      if (pool.hostId !== convertHost.id || importHost.id !== convertHost.id) return reject('BAD_USER_INPUT', vmwareMessages.localPoolHosts, field);
      return pool;
    }
    if (pool.type !== 'NFS' && pool.type !== 'SharedMountPoint') return reject('BAD_USER_INPUT', vmwareMessages.poolType(pool.name), field);
    return pool;
  }
  const reachesBoth = (pool: ConversionPoolFacts) => pool.scope === 'ZONE' || (pool.scope === 'CLUSTER' && pool.clusterId === convertHost.clusterId && pool.clusterId === importHost.clusterId);
  const pool = pools.find((candidate) => candidate.type === 'NFS' && inScope(candidate, cluster, hosts) && reachesBoth(candidate));
  return pool ?? reject('INVALID_STATE', vmwareMessages.noTemporaryPool(cluster.id), field);
}

/** The guest as the VMware host describes it: what the offering must cover. */
export interface SourceCompute {
  readonly cpuNumber: number;
  /** MHz; 0 when the host does not say. */
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
}

/**
 * `validateRequestedResourceAtLeastSource`: the instance's CPU number, CPU speed and memory must be
 * at least the source's (a value either side does not know is not compared).
 */
export function checkCoversSource(requested: SourceCompute, source: SourceCompute): Rejection | null {
  const rows: Array<[string, number, number]> = [
    ['CPU number', requested.cpuNumber, source.cpuNumber],
    ['CPU speed', requested.cpuSpeed, source.cpuSpeed],
    ['Memory', requested.memory, source.memory],
  ];
  for (const [resource, asked, had] of rows) {
    if (asked > 0 && had > 0 && asked < had) return reject('BAD_USER_INPUT', vmwareMessages.requestedLess(resource, asked, had), 'serviceOfferingId');
  }
  return null;
}

/** A running guest is refused: CloudStack clones it through vCenter first, and there is no vCenter here. */
export function checkSourceStopped(vm: { readonly name: string; readonly powerState: 'PowerOn' | 'PowerOff' }, host: string): Rejection | null {
  return vm.powerState === 'PowerOn' ? reject('INVALID_STATE', vmwareMessages.sourceRunning(vm.name, host), 'name') : null;
}

/**
 * `checkNetworkingBeforeConvertingVmwareInstance`: one network per source NIC, and no source MAC
 * already on the network it goes to unless `forced` (which gives that NIC a new MAC).
 */
export function checkVmwareNics(
  vmName: string,
  nics: ReadonlyArray<{ readonly nicId: string; readonly macAddress: string }>,
  nicNetworkList: ReadonlyArray<{ readonly nic: string; readonly network: string }>,
  forced: boolean,
  macHeld: (networkId: string, mac: string) => boolean,
): Rejection | null {
  if (nics.length !== nicNetworkList.length) return reject('BAD_USER_INPUT', vmwareMessages.nicCount(vmName, nics.length, nicNetworkList.length), 'nicNetworkList');
  if (forced) return null;
  for (const nic of nics) {
    const network = nicNetworkList.find((entry) => entry.nic === nic.nicId)?.network;
    if (network !== undefined && macHeld(network, nic.macAddress)) return reject('CONFLICT', vmwareMessages.macConflict(nic.nicId, nic.macAddress, network), 'forced');
  }
  return null;
}
