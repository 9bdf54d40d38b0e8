// The root admin's infrastructure operations of API.md: zones, clusters, hosts, primary storage,
// guest networks, offerings, templates and configuration, and the lists of them. Arguments arrive as
// the GraphQL layer got them; each operation checks their types and the ids they reference against
// the read model, hands the owning aggregate one command (whose own validation has the last word),
// and returns the new node once the read model shows it.
import { v5 as uuidv5 } from 'uuid';
import { EVENT_ID_NAMESPACE, type CommandEnvelope } from '../../adapters/eventstore/command-handler.js';
import type { SecretStore } from '../../adapters/secrets/port.js';
import { configStream, configurationDecider } from '../../domain/config/index.js';
import type { Decider, DomainEvent } from '../../domain/shared/decider.js';
import { HOST_DRIVERS, SIMULATOR_OPERATIONS, hostDecider, hostStream, type SimulatorConfig } from '../../domain/host/index.js';
import { GUEST_NETWORK_TYPES, networkDecider, networkStream, type GuestNetworkType } from '../../domain/network/index.js';
import { LEASE_EXPIRY_ACTIONS, offeringDecider, offeringStream } from '../../domain/offering/index.js';
import { STORAGE_POOL_SCOPES, STORAGE_POOL_TYPES, storagePoolDecider, storagePoolStream, type StoragePoolScope } from '../../domain/storage/index.js';
import { TEMPLATE_FORMATS, templateDecider, templateStream } from '../../domain/template/index.js';
import { HYPERVISOR_TYPES, NETWORK_TYPES, REGION_STREAM, regionDecider, zoneDecider, zoneStream, type ZoneCommand, type ZoneEvent, type ZoneState } from '../../domain/zone/index.js';
import { getAccount } from '../../projections/accounts/index.js';
import { listConfigurations, type ConfigurationNode } from '../../projections/configuration/index.js';
import {
  getCluster,
  getDiskOffering,
  getHost,
  getNetwork,
  getServiceOffering,
  getStoragePool,
  getTemplate,
  getZone,
  listClusters,
  listDiskOfferings,
  listHosts,
  listNetworks,
  listReachableNetworks,
  listReachableTemplates,
  listServiceOfferings,
  listStoragePools,
  listTemplates,
  listZones,
  type ClusterNode,
  type DiskOfferingNode,
  type HostNode,
  type NetworkNode,
  type ServiceOfferingNode,
  type StoragePoolNode,
  type TemplateNode,
  type ZoneNode,
} from '../../projections/infrastructure/index.js';
import type { Connection, PageRequest } from '../../projections/pagination.js';
import type { Reach } from '../../projections/visibility.js';
import { oneOf, optionalBoolean, optionalEnum, optionalNumber, optionalString, optionalStringList, requiredEnum, requiredString } from './args.js';
import { createClaimed, type Claim, type Creation } from './claims.js';
import { db, envelopeOf, execute, guarded, now, requireRootAdmin, settled, setting, type ControlPlaneContext } from './context.js';
import { ApiError, type Caller, type InfrastructureArgs } from './port.js';

/** What addHost needs beyond the context: where passwords go, and who starts a simulated host's agent. */
export interface InfrastructureServices {
  readonly secrets: SecretStore;
  /** Called once a `simulator` host exists, so the composition root can start the host and its agent. */
  readonly onHostAdded?: (host: HostNode) => Promise<void>;
}

const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

/**
 * CloudStack reads a pool's capacity from the storage itself; vmledger does not mount it, so a pool
 * registered without `capacityBytes` is taken to hold this much.
 */
export const DEFAULT_POOL_CAPACITY_BYTES = TiB;

/** CloudStack's simulator hosts report a fixed size when none is configured; these are the demo zone's. */
export const DEFAULT_SIMULATOR_HOST = { cpuNumber: 16, cpuSpeed: 2000, memory: 65_536 } as const;

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

// ---------------------------------------------------------------------------------------------
// Argument checks (./args.ts reads each value's type), and the ids they reference.

type Args = InfrastructureArgs;

function badInput(field: string, message: string): never {
  throw new ApiError('BAD_USER_INPUT', message, field);
}

function requireZone(context: ControlPlaneContext, id: string, field = 'zoneId'): ZoneNode {
  const zone = getZone(db(context), id);
  if (!zone) badInput(field, `Unable to find zone ${JSON.stringify(id)}`);
  return zone;
}

function requireCluster(context: ControlPlaneContext, id: string, field = 'clusterId'): ClusterNode {
  const cluster = getCluster(db(context), id);
  if (!cluster) badInput(field, `Unable to find cluster ${JSON.stringify(id)}`);
  return cluster;
}

/** A node the command just created; its absence after `settled` means the read model is broken. */
function readBack<T>(node: T | undefined, what: string, id: string): T {
  if (node === undefined) throw new ApiError('INTERNAL_ERROR', `${what} ${id} was created but cannot be read back`);
  return node;
}

/** Runs the command that creates a thing, waits for the read model to show it, and returns it as shown. */
async function created<Command, State, Event extends DomainEvent, Node>(
  context: ControlPlaneContext,
  stream: string,
  decider: Decider<Command, State, Event>,
  command: Command,
  envelope: CommandEnvelope,
  read: () => Node | undefined,
  what: string,
  id: string,
): Promise<Node> {
  const result = await execute(context, stream, decider, command, envelope);
  await settled(context, result.positions);
  return readBack(read(), what, id);
}

/** `created` for a thing whose name or addressing another aggregate keeps unique (see createClaimed). */
async function createdClaimed<OC, OS, OE extends DomainEvent, Command, State, Event extends DomainEvent, Node>(
  context: ControlPlaneContext,
  owner: Claim<OC, OS, OE>,
  creation: Creation<Command, State, Event>,
  envelope: CommandEnvelope,
  read: () => Node | undefined,
  what: string,
  id: string,
): Promise<Node> {
  const { positions } = await createClaimed(context, envelope, owner, creation);
  await settled(context, positions);
  return readBack(read(), what, id);
}

/** The claim of a host's or storage pool's name in its zone. */
function zoneNameClaim(zoneId: string, kind: 'host' | 'storagePool', id: string, name: string): Claim<ZoneCommand, ZoneState, ZoneEvent> {
  return { stream: zoneStream(zoneId), decider: zoneDecider, claim: { type: 'ClaimName', kind, id, name }, release: { type: 'ReleaseName', kind, id } };
}

// ---------------------------------------------------------------------------------------------
// Mutations.

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

function simulatorArgs(args: Args): Partial<SimulatorConfig> | null {
  const value: unknown = args.simulator;
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) badInput('simulator', 'simulator must be an object { startDelayMs, stopDelayMs, failOn }');
  const settings = value as Readonly<Record<string, unknown>>;
  const unknownKey = Object.keys(settings).find((key) => !['startDelayMs', 'stopDelayMs', 'failOn'].includes(key));
  if (unknownKey !== undefined) badInput(`simulator.${unknownKey}`, `simulator has no setting ${unknownKey}; use startDelayMs, stopDelayMs, failOn`);
  const startDelayMs = optionalNumber(settings, 'startDelayMs');
  const stopDelayMs = optionalNumber(settings, 'stopDelayMs');
  const failOn = optionalStringList(settings, 'failOn')?.map((op) => oneOf(op, SIMULATOR_OPERATIONS, 'simulator.failOn'));
  return {
    ...(startDelayMs != null ? { startDelayMs } : {}),
    ...(stopDelayMs != null ? { stopDelayMs } : {}),
    ...(failOn != null ? { failOn } : {}),
  };
}

/**
 * Adds a host to a cluster. The password goes to the secrets port and only its reference into the
 * log; if the host is refused, the secret is deleted again. A simulator host is then handed to
 * `onHostAdded` so that something actually answers its agent queue.
 */
export async function addHost(context: ControlPlaneContext, caller: Caller, args: Args, services: InfrastructureServices): Promise<HostNode> {
  requireRootAdmin(caller, 'addHost');
  const cluster = requireCluster(context, requiredString(args, 'clusterId'));
  const name = requiredString(args, 'name');
  const driver = requiredEnum(args, 'driver', HOST_DRIVERS);
  const hostTags = optionalStringList(args, 'hostTags');
  const url = optionalString(args, 'url') ?? null;
  const username = optionalString(args, 'username') ?? null;
  const password = optionalString(args, 'password') ?? null;
  const simulator = simulatorArgs(args);
  const compute = { cpuNumber: optionalNumber(args, 'cpuNumber') ?? null, cpuSpeed: optionalNumber(args, 'cpuSpeed') ?? null, memory: optionalNumber(args, 'memory') ?? null };
  const missing = (Object.keys(compute) as Array<keyof typeof compute>).find((key) => compute[key] === null);
  // A libvirt host's size would come from the host itself; vmledger asks for it rather than guess.
  if (driver === 'libvirt' && missing !== undefined) badInput(missing, `${missing} is required for a libvirt host`);

  const hostId = context.newId();
  const credentialRef = password === null ? null : await services.secrets.put(password);
  let positions: readonly number[];
  try {
    ({ positions } = await createClaimed(context, envelopeOf(context, caller, hostId), zoneNameClaim(cluster.zoneId, 'host', hostId, name), {
      stream: hostStream(hostId),
      decider: hostDecider,
      command: {
        type: 'AddHost',
        hostId,
        zoneId: cluster.zoneId,
        clusterId: cluster.id,
        hypervisor: cluster.hypervisor,
        name,
        driver,
        cpuNumber: compute.cpuNumber ?? DEFAULT_SIMULATOR_HOST.cpuNumber,
        cpuSpeed: compute.cpuSpeed ?? DEFAULT_SIMULATOR_HOST.cpuSpeed,
        memory: compute.memory ?? DEFAULT_SIMULATOR_HOST.memory,
        ...(hostTags ? { hostTags } : {}),
        url,
        username,
        credentialRef,
        simulator,
        at: now(context),
      },
    }));
  } catch (error) {
    if (credentialRef !== null) await services.secrets.delete(credentialRef);
    throw error;
  }
  await settled(context, positions);
  const host = readBack(getHost(db(context), hostId), 'host', hostId);
  if (host.driver === 'simulator' && services.onHostAdded) {
    try {
      await services.onHostAdded(host);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ApiError('INTERNAL_ERROR', `Host ${host.name} (${host.id}) was added, but its simulated hypervisor did not start: ${reason}`);
    }
  }
  return host;
}

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

export async function createServiceOffering(context: ControlPlaneContext, caller: Caller, args: Args): Promise<ServiceOfferingNode> {
  requireRootAdmin(caller, 'createServiceOffering');
  const name = requiredString(args, 'name');
  const hostTags = optionalStringList(args, 'hostTags');
  const leaseExpiryAction = optionalEnum(args, 'leaseExpiryAction', LEASE_EXPIRY_ACTIONS) ?? null;
  const offeringId = context.newId();
  return created(context, offeringStream(offeringId), offeringDecider, {
    type: 'CreateServiceOffering',
    offeringId,
    name,
    displayText: optionalString(args, 'displayText') ?? null,
    cpuNumber: optionalNumber(args, 'cpuNumber') ?? null,
    cpuSpeed: optionalNumber(args, 'cpuSpeed') ?? null,
    memory: optionalNumber(args, 'memory') ?? null,
    customized: optionalBoolean(args, 'customized') ?? null,
    minCpuNumber: optionalNumber(args, 'minCpuNumber') ?? null,
    maxCpuNumber: optionalNumber(args, 'maxCpuNumber') ?? null,
    minMemory: optionalNumber(args, 'minMemory') ?? null,
    maxMemory: optionalNumber(args, 'maxMemory') ?? null,
    ...(hostTags ? { hostTags } : {}),
    dynamicScalingEnabled: optionalBoolean(args, 'dynamicScalingEnabled') ?? null,
    offerHa: optionalBoolean(args, 'offerHa') ?? null,
    leaseDuration: optionalNumber(args, 'leaseDuration') ?? null,
    leaseExpiryAction,
    leaseFeatureEnabled: setting(context, 'instance.lease.enabled'),
    at: now(context),
  }, envelopeOf(context, caller, offeringId), () => getServiceOffering(db(context), offeringId), 'service offering', offeringId);
}

/** `diskSize` is in GiB, as CloudStack's `disksize`; the offering keeps and shows bytes. */
export async function createDiskOffering(context: ControlPlaneContext, caller: Caller, args: Args): Promise<DiskOfferingNode> {
  requireRootAdmin(caller, 'createDiskOffering');
  const name = requiredString(args, 'name');
  const diskSizeGiB = optionalNumber(args, 'diskSize') ?? null;
  if (diskSizeGiB !== null && (!Number.isInteger(diskSizeGiB) || diskSizeGiB <= 0)) {
    badInput('diskSize', `diskSize must be a positive whole number of GiB, got ${diskSizeGiB}`);
  }
  const storageTags = optionalStringList(args, 'storageTags');
  const offeringId = context.newId();
  return created(context, offeringStream(offeringId), offeringDecider, {
    type: 'CreateDiskOffering',
    offeringId,
    name,
    displayText: optionalString(args, 'displayText') ?? null,
    diskSize: diskSizeGiB === null ? null : diskSizeGiB * GiB,
    customized: optionalBoolean(args, 'customized') ?? null,
    ...(storageTags ? { storageTags } : {}),
    at: now(context),
  }, envelopeOf(context, caller, offeringId), () => getDiskOffering(db(context), offeringId), 'disk offering', offeringId);
}

/** `size` is the image's virtual size in bytes: vmledger does not download the image to measure it. */
export async function registerTemplate(context: ControlPlaneContext, caller: Caller, args: Args): Promise<TemplateNode> {
  requireRootAdmin(caller, 'registerTemplate');
  const zoneIdArg = optionalString(args, 'zoneId') ?? null;
  const zone = zoneIdArg === null ? null : requireZone(context, zoneIdArg);
  const name = requiredString(args, 'name');
  const osTypeName = requiredString(args, 'osType');
  const url = requiredString(args, 'url');
  const size = optionalNumber(args, 'size') ?? null;
  if (size === null) badInput('size', 'size (the virtual size in bytes) is required');
  // KVM is the hypervisor vmledger drives (libvirt, and the simulator's clusters in the demo zone).
  const hypervisor = optionalEnum(args, 'hypervisor', HYPERVISOR_TYPES) ?? 'KVM';
  const format = optionalEnum(args, 'format', TEMPLATE_FORMATS) ?? (hypervisor === 'KVM' ? 'QCOW2' : null);
  if (format === null) badInput('format', `format is required for hypervisor ${hypervisor}`);

  const templateId = context.newId();
  return created(context, templateStream(templateId), templateDecider, {
    type: 'RegisterTemplate',
    templateId,
    name,
    displayText: optionalString(args, 'displayText') ?? null,
    osTypeName,
    url,
    format,
    hypervisor,
    size,
    isDynamicallyScalable: optionalBoolean(args, 'isDynamicallyScalable') ?? null,
    zoneId: zone?.id ?? null,
    accountId: null,
    isPublic: optionalBoolean(args, 'isPublic') ?? null,
    at: now(context),
  }, envelopeOf(context, caller, templateId), () => getTemplate(db(context), templateId), 'template', templateId);
}

export async function updateConfiguration(
  context: ControlPlaneContext,
  caller: Caller,
  args: { readonly name: string; readonly value: string; readonly zoneId?: string | null },
): Promise<ConfigurationNode> {
  requireRootAdmin(caller, 'updateConfiguration');
  const name = requiredString(args, 'name');
  const value = requiredString(args, 'value');
  const zoneIdArg = optionalString(args, 'zoneId') ?? null;
  const zoneId = zoneIdArg === null ? null : requireZone(context, zoneIdArg).id;
  const result = await execute(
    context,
    configStream(zoneId),
    configurationDecider,
    { type: 'UpdateConfiguration', name, value, zoneId },
    envelopeOf(context, caller, context.newId()),
  );
  await settled(context, result.positions);
  const node = listConfigurations(db(context), { zoneId }).find((entry) => entry.name === name);
  return readBack(node, 'configuration', name);
}

// ---------------------------------------------------------------------------------------------
// Lists. CloudStack lets every caller list zones, offerings, the templates it may use and the
// networks it may attach to; the physical side (clusters, hosts, storage) and the settings are the
// root admin's.

type ZoneFilter = PageRequest & { readonly zoneId?: string | null };
const page = (args: PageRequest): PageRequest => ({ first: args.first ?? null, after: args.after ?? null });

export function zones(context: ControlPlaneContext, _caller: Caller, args: PageRequest): Connection<ZoneNode> {
  return guarded(() => listZones(db(context), page(args)));
}

export function clusters(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<ClusterNode> {
  requireRootAdmin(caller, 'clusters');
  return guarded(() => listClusters(db(context), { ...page(args), zoneId: args.zoneId ?? null }));
}

export function hosts(context: ControlPlaneContext, caller: Caller, args: ZoneFilter & { readonly clusterId?: string | null }): Connection<HostNode> {
  requireRootAdmin(caller, 'hosts');
  return guarded(() => listHosts(db(context), { ...page(args), zoneId: args.zoneId ?? null, clusterId: args.clusterId ?? null }));
}

export function storagePools(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<StoragePoolNode> {
  requireRootAdmin(caller, 'storagePools');
  return guarded(() => listStoragePools(db(context), { ...page(args), zoneId: args.zoneId ?? null }));
}

export function serviceOfferings(context: ControlPlaneContext, _caller: Caller, args: PageRequest): Connection<ServiceOfferingNode> {
  return guarded(() => listServiceOfferings(db(context), page(args)));
}

export function diskOfferings(context: ControlPlaneContext, _caller: Caller, args: PageRequest): Connection<DiskOfferingNode> {
  return guarded(() => listDiskOfferings(db(context), page(args)));
}

/** Whose own networks and templates the caller may use: its account's, or (an admin) its domain subtree's. */
function reachOf(caller: Caller): Reach {
  return caller.role === 'USER' ? { kind: 'account', accountId: caller.accountId } : { kind: 'subtree', domainPath: caller.domainPath };
}

/** Shared and L2 networks of the zone, and the isolated networks of the accounts the caller may see. */
export function networks(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<NetworkNode> {
  const filter = { ...page(args), zoneId: args.zoneId ?? null };
  if (caller.role === 'ROOT_ADMIN') return guarded(() => listNetworks(db(context), filter));
  return guarded(() => listReachableNetworks(db(context), reachOf(caller), filter));
}

/** Public templates, and the private ones of the accounts the caller may see. */
export function templates(context: ControlPlaneContext, caller: Caller, args: ZoneFilter): Connection<TemplateNode> {
  const filter = { ...page(args), zoneId: args.zoneId ?? null };
  if (caller.role === 'ROOT_ADMIN') return guarded(() => listTemplates(db(context), filter));
  return guarded(() => listReachableTemplates(db(context), reachOf(caller), filter));
}

export function configurations(context: ControlPlaneContext, caller: Caller, args: { readonly name?: string | null; readonly zoneId?: string | null }): ConfigurationNode[] {
  requireRootAdmin(caller, 'configurations');
  const zoneId = args.zoneId ?? null;
  if (zoneId !== null) requireZone(context, zoneId);
  return listConfigurations(db(context), { name: args.name ?? null, zoneId });
}
