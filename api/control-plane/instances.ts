// The instance operations of API.md. Each checks and resolves its arguments against the read model,
// hands the instance aggregate one command (whose refusal appends nothing), opens the job, starts its
// saga, and returns once the read model shows the effect.
import { v5 as uuidv5 } from 'uuid';
import { EVENT_ID_NAMESPACE } from '../../adapters/eventstore/command-handler.js';
import { accountDecider, accountStream, isInDomainSubtree, mayActFor } from '../../domain/account/index.js';
import { planHost, allocationSettings } from '../../domain/allocation/index.js';
import {
  instanceDecider,
  instanceStream,
  type InstanceCaller,
  type CustomCompute,
  type Instance,
  type InstanceCommand,
  type Nic,
  type ServiceOfferingSnapshot,
  type TemplateSnapshot,
} from '../../domain/instance/index.js';
import { jobDecider, jobStream, type JobCommand } from '../../domain/job/index.js';
import { networkDecider, networkStream, nicOf } from '../../domain/network/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { settingsSnapshot } from '../../projections/configuration/index.js';
import {
  getCluster,
  getHost,
  getNetwork,
  getServiceOffering,
  getTemplate,
  getZone,
  hostCapacitySnapshot,
  defaultNetworkFor,
  defaultStoragePoolFor,
  type ServiceOfferingNode,
  type TemplateNode,
} from '../../projections/infrastructure/index.js';
import { findAccountByName, getAccount, type AccountNode } from '../../projections/accounts/index.js';
import { accountInstancesPerHost, findInstance, listInstances } from '../../projections/instances/queries.js';
import { toVirtualMachineView, type VirtualMachineView } from '../../projections/instances/view.js';
import { db, envelopeOf, execute, guarded, now, settled, setting, toApiError, visibilityOf, type ControlPlaneContext } from './context.js';
import { findJob } from './jobs.js';
import { refusePlacementFilter } from './placement.js';
import { ApiError, type Caller, type DeployArgs, type InstanceListArgs, type JobView, type UpdateArgs } from './port.js';
import type { Connection } from '../../projections/pagination.js';
import { abandonDeployment } from '../../sagas/deploy-compensation.js';

const GiB = 1024 ** 3;

function instanceCaller(caller: Caller): InstanceCaller {
  return { role: caller.role, accountId: caller.accountId };
}

/**
 * The instance the caller acts on: NOT_FOUND if it may not see it (or it is expunged), as for one that
 * does not exist; FORBIDDEN if it sees it but may not act for its owner (a domain admin and the root
 * admin's instance).
 */
export function requireInstance(context: ControlPlaneContext, caller: Caller, id: string, field = 'id'): Instance {
  const instance = findInstance(db(context), visibilityOf(context, caller), id);
  if (!instance || instance.expunged) throw new ApiError('NOT_FOUND', `Unable to find a virtual machine with id ${JSON.stringify(id)}`, field);
  if (!mayActFor(caller, ownerOfInstance(context, instance))) {
    throw new ApiError('FORBIDDEN', `Virtual machine ${instance.id} belongs to a root admin; a ${caller.role} may not act on it`, field);
  }
  return instance;
}

export function offeringSnapshot(node: ServiceOfferingNode): ServiceOfferingSnapshot {
  return {
    id: node.id,
    name: node.name,
    cpuNumber: node.cpuNumber,
    cpuSpeed: node.cpuSpeed,
    memory: node.memory,
    customized: node.customized,
    minCpuNumber: node.minCpuNumber,
    maxCpuNumber: node.maxCpuNumber,
    minMemory: node.minMemory,
    maxMemory: node.maxMemory,
    dynamicScalingEnabled: node.dynamicScalingEnabled,
    hostTags: node.hostTags,
    offerHa: node.offerHa,
  };
}

function templateSnapshot(node: TemplateNode): TemplateSnapshot {
  // An instance carries its OS type by id; a template registered before the catalogue has only its name.
  return { id: node.id, size: node.size, osTypeId: node.osTypeId ?? node.osTypeName, dynamicallyScalable: node.isDynamicallyScalable };
}

function requireOffering(context: ControlPlaneContext, id: string, field: string): ServiceOfferingNode {
  const node = getServiceOffering(db(context), id);
  if (!node) throw new ApiError('BAD_USER_INPUT', `Unable to find service offering ${JSON.stringify(id)}`, field);
  return node;
}

/**
 * The account an instance belongs to, with what it may use: the caller itself, or the account an
 * admin deploys for. Resources are checked against it as well as against the caller, as CloudStack
 * checks them against the VM's owner.
 */
type Owner = Pick<Caller, 'accountId' | 'role' | 'domainId' | 'domainPath'>;

function ownerOf(account: AccountNode): Owner {
  return { accountId: account.id, role: account.role, domainId: account.domainId, domainPath: account.domainPath };
}

function ownerOfInstance(context: ControlPlaneContext, instance: Instance): Owner {
  const account = getAccount(db(context), instance.accountId);
  // Every instance's account is in the read model; were it not, the owner may use only what is shared.
  return account ? ownerOf(account) : { accountId: instance.accountId, role: 'USER', domainId: instance.domainId, domainPath: '' };
}

/**
 * A template the caller and the instance's owner may both use in the zone: public or theirs,
 * registered there or for every zone.
 */
function requireTemplate(context: ControlPlaneContext, parties: readonly Owner[], id: string, field: string, zoneId: string): TemplateNode {
  const node = getTemplate(db(context), id);
  // A private template is its owner's (and the root admin's), as the templates list shows.
  const usableBy = (party: Owner) => node !== undefined && (node.isPublic || party.role === 'ROOT_ADMIN' || (node.accountId !== null && mayUse(context, party, node.accountId)));
  if (!node || !parties.every(usableBy)) {
    throw new ApiError('BAD_USER_INPUT', `Unable to find template ${JSON.stringify(id)}`, field);
  }
  if (node.zoneId !== null && node.zoneId !== zoneId) {
    throw new ApiError('BAD_USER_INPUT', `Template ${node.name} (${node.id}) is not available in zone ${zoneId}`, field);
  }
  return node;
}

/**
 * The root admin's placement of a start: a host of the zone, a cluster of the zone, and the host
 * within the cluster when both are named. Checked before anything is appended, so a wrong id is a
 * refused request rather than a job that fails. Only the root admin may place (the decider refuses
 * anyone else): only it learns whether a host or cluster exists.
 */
function checkPlacement(context: ControlPlaneContext, caller: Caller, zoneId: string, hostId: string | null, clusterId: string | null): void {
  if (caller.role !== 'ROOT_ADMIN') return;
  const host = hostId === null ? undefined : getHost(db(context), hostId);
  if (hostId !== null && (!host || host.zoneId !== zoneId)) throw new ApiError('BAD_USER_INPUT', `Unable to find host ${JSON.stringify(hostId)} in zone ${zoneId}`, 'hostId');
  if (clusterId === null) return;
  const cluster = getCluster(db(context), clusterId);
  if (!cluster || cluster.zoneId !== zoneId) throw new ApiError('BAD_USER_INPUT', `Unable to find cluster ${JSON.stringify(clusterId)} in zone ${zoneId}`, 'clusterId');
  if (host && host.clusterId !== cluster.id) throw new ApiError('BAD_USER_INPUT', `Host ${host.name} is not in cluster ${cluster.name}`, 'hostId');
}

/** A new offering's details carry only its custom compute values; another key would be dropped unseen. */
function checkScaleDetails(details: Readonly<Record<string, string>> | null | undefined): void {
  const other = Object.keys(details ?? {}).find((key) => !COMPUTE_DETAILS.has(key));
  if (other !== undefined) throw new ApiError('BAD_USER_INPUT', `details for a service offering change take cpuNumber, cpuSpeed and memory only, not ${JSON.stringify(other)}`, `details.${other}`);
}

/**
 * vmledger keeps no SSH key pairs and no affinity groups yet, so any one a deployment names is unknown:
 * refused, as CloudStack refuses an unknown one, rather than stored and silently meaning nothing.
 */
function refuseUnknownReferences(args: DeployArgs): void {
  const keyPair = args.keyPairs?.[0];
  if (keyPair !== undefined) throw new ApiError('BAD_USER_INPUT', `Unable to find SSH key pair ${JSON.stringify(keyPair)}`, 'keyPairs');
  const group = args.affinityGroupIds?.[0];
  if (group !== undefined) throw new ApiError('BAD_USER_INPUT', `Unable to find affinity group ${JSON.stringify(group)}`, 'affinityGroupIds');
}

/** Whether the caller (or an instance's owner) may use a resource owned by this account (null: shared by all). */
function mayUse(context: ControlPlaneContext, caller: Owner, ownerAccountId: string | null): boolean {
  if (ownerAccountId === null || caller.role === 'ROOT_ADMIN' || ownerAccountId === caller.accountId) return true;
  const owner = getAccount(db(context), ownerAccountId);
  return owner !== undefined && mayActFor(caller, ownerOf(owner));
}

/** CloudStack's `details` carry the custom compute values: cpuNumber, cpuSpeed, memory. */
function customCompute(details: Readonly<Record<string, string>> | null | undefined): CustomCompute | undefined {
  if (!details) return undefined;
  const read = (key: string): number | undefined => {
    const text = details[key];
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isInteger(value)) throw new ApiError('BAD_USER_INPUT', `details.${key} must be a whole number, got ${JSON.stringify(text)}`, `details.${key}`);
    return value;
  };
  const compute = { cpuNumber: read('cpuNumber'), cpuSpeed: read('cpuSpeed'), memory: read('memory') };
  const defined = Object.fromEntries(Object.entries(compute).filter(([, v]) => v !== undefined)) as CustomCompute;
  return Object.keys(defined).length === 0 ? undefined : defined;
}

const COMPUTE_DETAILS = new Set(['cpuNumber', 'cpuSpeed', 'memory']);
function otherDetails(details: Readonly<Record<string, string>> | null | undefined): Record<string, string> | undefined {
  if (!details) return undefined;
  return Object.fromEntries(Object.entries(details).filter(([key]) => !COMPUTE_DETAILS.has(key)));
}

/** Opens the job and starts its saga; returns the job as the read model then shows it. */
async function openJob(context: ControlPlaneContext, caller: Caller, jobId: string, instanceId: string, accountId: string, cmd: string, positions: readonly number[]): Promise<JobView> {
  const open: JobCommand = { type: 'OpenJob', jobId, cmd, instanceId, accountId, at: now(context) };
  const opened = await execute(context, jobStream(jobId), jobDecider, open, envelopeOf(context, caller, jobId));
  void context.runner.advance(jobId);
  await settled(context, [...positions, ...opened.positions]);
  const job = findJob(context, caller, jobId);
  if (!job) throw new ApiError('INTERNAL_ERROR', `job ${jobId} was opened but cannot be read back`);
  return job;
}

/** Runs one asynchronous instance operation: the command, then its job. */
async function instanceJob(context: ControlPlaneContext, caller: Caller, instance: Instance, cmd: string, build: (jobId: string, at: string) => InstanceCommand): Promise<JobView> {
  const jobId = context.newId();
  const result = await execute(context, instanceStream(instance.id), instanceDecider, build(jobId, now(context)), envelopeOf(context, caller, jobId));
  return openJob(context, caller, jobId, instance.id, instance.accountId, cmd, result.positions);
}

export async function deployVirtualMachine(context: ControlPlaneContext, caller: Caller, args: DeployArgs): Promise<JobView> {
  const zone = getZone(db(context), args.zoneId);
  if (!zone) throw new ApiError('BAD_USER_INPUT', `Unable to find zone ${JSON.stringify(args.zoneId)}`, 'zoneId');
  const offering = requireOffering(context, args.serviceOfferingId, 'serviceOfferingId');
  const owner = deployOwner(context, caller, args);
  const template = requireTemplate(context, [caller, owner], args.templateId, 'templateId', zone.id);
  checkPlacement(context, caller, zone.id, args.hostId ?? null, args.clusterId ?? null);
  refuseUnknownReferences(args);

  // A client token names the deployment: a retry with the same token finds the first job.
  const tokenKey = args.clientToken ? `${owner.accountId}|${args.clientToken}` : undefined;
  const instanceId = tokenKey ? uuidv5(`instance|${tokenKey}`, EVENT_ID_NAMESPACE) : context.newId();
  const jobId = tokenKey ? uuidv5(`deploy-job|${tokenKey}`, EVENT_ID_NAMESPACE) : context.newId();
  if (tokenKey) {
    const existing = findJob(context, caller, jobId);
    if (existing) return existing;
  }

  const networks = deployNetworks(context, caller, owner.accountId, args, zone.id);
  const pool = defaultStoragePoolFor(db(context), zone.id);
  const at = now(context);
  const nics: Nic[] = networks.map((network, deviceId) => ({
    id: uuidv5(`nic|${instanceId}|${deviceId}`, EVENT_ID_NAMESPACE),
    networkId: network.id,
    networkOfferingId: network.networkOfferingId,
    macAddress: '',
    ipAddress: null,
    isDefault: deviceId === 0,
    deviceId,
    vlan: network.vlan,
  }));
  const command: InstanceCommand = {
    type: 'DeployInstance',
    instanceId,
    at,
    caller: instanceCaller(caller),
    jobId,
    name: args.name ?? null,
    displayName: args.displayName ?? null,
    instanceName: internalName(context, owner.accountId, instanceId, args.name ?? null),
    group: args.group ?? null,
    accountId: owner.accountId,
    domainId: owner.domainId,
    zoneId: zone.id,
    hypervisorType: template.hypervisor,
    serviceOffering: offeringSnapshot(offering),
    ...(customCompute(args.details) ? { customCompute: customCompute(args.details)! } : {}),
    template: templateSnapshot(template),
    rootVolume: {
      id: uuidv5(`volume|${instanceId}|root`, EVENT_ID_NAMESPACE),
      name: `ROOT-${instanceId.slice(0, 8)}`,
      // A root disk smaller than the template is the decider's to refuse, not to round up silently.
      size: rootDiskSize(args.details, setting(context, 'storage.max.volume.size')) ?? template.size,
      storagePoolId: pool?.id ?? null,
      diskOfferingId: null,
    },
    dataVolumes: [],
    nics,
    startVm: args.startVm ?? true,
    hostId: args.hostId ?? null,
    clusterId: args.clusterId ?? null,
    affinityGroupIds: [],
    userData: args.userData ?? null,
    ...(otherDetails(args.details) ? { details: otherDetails(args.details)! } : {}),
    leaseDuration: args.leaseDuration ?? null,
    leaseExpiryAction: args.leaseExpiryAction ?? null,
    offeringLease: { duration: offering.leaseDuration, expiryAction: offering.leaseExpiryAction },
    leaseFeatureEnabled: setting(context, 'instance.lease.enabled'),
  };
  // Every rule of the aggregate is checked before anything is appended.
  const dryRun = instanceDecider.decide(command, instanceDecider.initialState);
  if (isRejection(dryRun)) throw new ApiError(dryRun.code, dryRun.message, dryRun.field);
  const deployed = dryRun.find((e) => e.type === 'InstanceDeployed');
  const name = deployed?.type === 'InstanceDeployed' ? deployed.data.name : instanceId;

  const envelope = envelopeOf(context, caller, jobId);
  await execute(context, accountStream(owner.accountId), accountDecider, { type: 'ReserveInstanceName', instanceId, name }, envelope);
  // The job names the addresses before they are claimed: whatever happens next, the deployment's
  // compensation knows what to give back. The job and the addresses live in different streams: one
  // group commit can take them all.
  const claims = nics.map((nic) => ({ networkId: nic.networkId, nicId: nic.id }));
  const opening = execute(context, jobStream(jobId), jobDecider, { type: 'OpenJob', jobId, cmd: 'deployVirtualMachine', instanceId, accountId: owner.accountId, at, claims }, envelope);
  const allocations = nics.map(async (nic): Promise<Nic> => {
    const result = await execute(context, networkStream(nic.networkId), networkDecider, { type: 'AllocateNic', nicId: nic.id, instanceId, macSeed: Math.floor(context.random() * 2 ** 32) }, envelope);
    const address = result.state.kind === 'network' ? nicOf(result.state, nic.id) : undefined;
    if (!address) throw new ApiError('INTERNAL_ERROR', `network ${nic.networkId} allocated no address for NIC ${nic.id}`);
    return { ...nic, macAddress: address.mac, ipAddress: address.ip };
  });
  const [[openedOutcome], outcomes] = await Promise.all([Promise.allSettled([opening]), Promise.allSettled(allocations)]);
  const allocated = outcomes.filter((o): o is PromiseFulfilledResult<Nic> => o.status === 'fulfilled').map((o) => o.value);
  try {
    if (openedOutcome!.status === 'rejected') throw openedOutcome!.reason;
    const opened = openedOutcome!.value;
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (refused) throw refused.reason;
    // With a client token, identical deployments racing each other record one instance: the key
    // makes the loser find the winner's events instead of being refused as a second instance.
    const recordEnvelope = tokenKey ? envelopeOf(context, caller, jobId, `deploy|${tokenKey}`) : envelope;
    const result = await execute(context, instanceStream(instanceId), instanceDecider, { ...command, nics: allocated }, recordEnvelope);
    void context.runner.advance(jobId);
    await settled(context, [...opened.positions, ...result.positions]);
  } catch (error) {
    // The deployment did not record its instance: its compensation gives back what it took and
    // closes its job, unless a racing twin (same client token) recorded the instance meanwhile.
    const failure = toApiError(error);
    const jobError = {
      code: failure instanceof ApiError ? failure.code : 'INTERNAL_ERROR',
      errorCode: failure instanceof ApiError ? failure.errorCode : 530,
      message: failure instanceof Error ? failure.message : String(failure),
    };
    const outcome = await abandonDeployment(context.commander, { instanceId, accountId: owner.accountId, jobId, nics: claims }, jobError, envelope);
    await settled(context, [await context.store.headPosition()]);
    if (outcome === 'recorded') void context.runner.advance(jobId);
  }
  const job = findJob(context, caller, jobId);
  if (!job) throw new ApiError('INTERNAL_ERROR', `job ${jobId} was opened but cannot be read back`);
  return job;
}

/**
 * The hypervisor's name for the instance: i-<account>-<instance>-<suffix>, the suffix being
 * `instance.name`, or the instance's own name when `vm.instancename.flag` asks for it.
 */
function internalName(context: ControlPlaneContext, accountId: string, instanceId: string, name: string | null): string {
  const suffix = setting(context, 'vm.instancename.flag') && name ? name : setting(context, 'instance.name');
  return `i-${accountId}-${instanceId}-${suffix}`;
}

/**
 * The `rootdisksize` detail in bytes. CloudStack bounds every volume by `storage.max.volume.size`
 * (VolumeApiService.validateVolumeSizeInBytes); without it a 10^17 GiB disk would be accepted here
 * and only fail on the host, after the job had waited for an agent that could not read the command.
 */
function rootDiskSize(details: Readonly<Record<string, string>> | null | undefined, maxGiB: number): number | undefined {
  const text = details?.rootdisksize;
  if (text === undefined) return undefined;
  const gib = Number(text);
  const field = 'details.rootdisksize';
  if (!Number.isInteger(gib) || gib <= 0) throw new ApiError('BAD_USER_INPUT', `details.rootdisksize must be a positive number of GiB, got ${JSON.stringify(text)}`, field);
  const bytes = gib * GiB;
  if (gib > maxGiB || !Number.isSafeInteger(bytes)) {
    throw new ApiError('BAD_USER_INPUT', `details.rootdisksize ${JSON.stringify(text)} GiB is larger than the maximum volume size, ${maxGiB} GiB (storage.max.volume.size)`, field);
  }
  return bytes;
}

/**
 * The account the instance will belong to: the caller's, or the one named by account/domainId, which
 * a user may name only when it is its own and an admin only when it may act for it.
 */
function deployOwner(context: ControlPlaneContext, caller: Caller, args: DeployArgs): Owner {
  // domainId only says where to find the account named in account: alone it would be ignored.
  if (!args.account && args.domainId != null) throw new ApiError('BAD_USER_INPUT', 'domainId names the domain of the account given in account; give account too', 'domainId');
  if (!args.account) return caller;
  const domainId = args.domainId ?? caller.domainId;
  const found = findAccountByName(db(context), args.account, domainId) ?? getAccount(db(context), args.account);
  const account = found !== undefined && (args.domainId == null || found.domainId === args.domainId) ? found : undefined;
  // Naming oneself is no privilege (CloudStack resolves a caller's own account for any role).
  if (account?.id === caller.accountId) return caller;
  // A user hears the same whether the account exists or not.
  if (caller.role === 'USER') throw new ApiError('FORBIDDEN', 'Only admins may deploy for another account', 'account');
  // An account outside the caller's reach is as unknown to it as one that does not exist: telling
  // them apart would let a domain admin probe other domains' account names and ids.
  if (!account || (caller.role !== 'ROOT_ADMIN' && !isInDomainSubtree(caller.domainPath, account.domainPath))) {
    throw new ApiError('BAD_USER_INPUT', `Unable to find account ${JSON.stringify(args.account)} in domain ${domainId}`, 'account');
  }
  // One it can see but may not act for: a root admin's, to a domain admin.
  if (!mayActFor(caller, ownerOf(account))) throw new ApiError('FORBIDDEN', `A ${caller.role} may not deploy for the root admin account ${account.name}`, 'account');
  return ownerOf(account);
}

/** The networks of a deployment for `ownerAccountId`: those named, or the zone's default for the owner. */
function deployNetworks(context: ControlPlaneContext, caller: Caller, ownerAccountId: string, args: DeployArgs, zoneId: string) {
  if (args.networkIds && args.networkIds.length > 0) {
    return args.networkIds.map((id, i) => {
      const network = getNetwork(db(context), id);
      // Another account's network is as unknown to the caller as one that does not exist; and, as
      // CloudStack's network permission check, the instance's owner must be able to use it too.
      const usable = network && network.zoneId === zoneId && mayUse(context, caller, network.accountId) && (network.accountId === null || network.accountId === ownerAccountId);
      if (!usable) throw new ApiError('BAD_USER_INPUT', `Unable to find network ${JSON.stringify(id)} in zone ${zoneId}`, `networkIds[${i}]`);
      return network;
    });
  }
  // CloudStack picks the zone's default network when none is named; here: the oldest the owner may use.
  const network = defaultNetworkFor(db(context), zoneId, ownerAccountId);
  if (!network) throw new ApiError('BAD_USER_INPUT', `Zone ${zoneId} has no network this account may use; name one in networkIds`, 'networkIds');
  return [network];
}

export async function startVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; hostId?: string | null; considerLastHost?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  checkPlacement(context, caller, instance.zoneId, args.hostId ?? null, null);
  return instanceJob(context, caller, instance, 'startVirtualMachine', (jobId, at) => ({
    type: 'StartInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    hostId: args.hostId ?? null,
    considerLastHost: args.considerLastHost ?? true,
  }));
}

export async function stopVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; forced?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceJob(context, caller, instance, 'stopVirtualMachine', (jobId, at) => ({
    type: 'StopInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    forced: args.forced ?? false,
  }));
}

export async function rebootVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; forced?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceJob(context, caller, instance, 'rebootVirtualMachine', (jobId, at) => ({
    type: 'RebootInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    forced: args.forced ?? false,
  }));
}

export async function destroyVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; expunge?: boolean | null; volumeIds?: readonly string[] | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceJob(context, caller, instance, 'destroyVirtualMachine', (jobId, at) => ({
    type: 'DestroyInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    expunge: args.expunge ?? false,
    volumeIds: args.volumeIds ?? [],
    forceStop: setting(context, 'vm.destroy.forcestop', instance.zoneId),
    allowUserExpungeRecoverVm: setting(context, 'allow.user.expunge.recover.vm', instance.zoneId),
  }));
}

export async function migrateVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { virtualMachineId: string; hostId?: string | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  if (args.hostId && caller.role === 'ROOT_ADMIN') sameCluster(context, instance, args.hostId);
  const targetHostId = args.hostId ?? (caller.role === 'ROOT_ADMIN' ? migrationTarget(context, instance) : '');
  return instanceJob(context, caller, instance, 'migrateVirtualMachine', (jobId, at) => ({
    type: 'MigrateInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    targetHostId,
  }));
}

/** Live migration moves a domain between hosts of one cluster (they share its storage and networks). */
function sameCluster(context: ControlPlaneContext, instance: Instance, targetHostId: string): void {
  const target = getHost(db(context), targetHostId);
  if (!target) throw new ApiError('BAD_USER_INPUT', `Unable to find host ${JSON.stringify(targetHostId)}`, 'hostId');
  const source = instance.hostId ? getHost(db(context), instance.hostId) : undefined;
  if (source && source.clusterId !== target.clusterId) {
    throw new ApiError('BAD_USER_INPUT', `Host ${target.name} is in another cluster than host ${source.name}; live migration stays within a cluster`, 'hostId');
  }
}

/** Without a named host, the planner picks one in the instance's cluster other than its own. */
function migrationTarget(context: ControlPlaneContext, instance: Instance): string {
  const settings = settingsSnapshot(db(context), instance.zoneId);
  const snapshot = hostCapacitySnapshot(db(context), { zoneId: instance.zoneId, accountInstanceCounts: Object.fromEntries(accountInstancesPerHost(db(context), instance.accountId)) });
  const current = snapshot.hosts.find((h) => h.hostId === instance.hostId);
  const plan = planHost(
    {
      ...allocationSettings(settings.global, settings.zone),
      cpuNumber: instance.cpuNumber,
      cpuSpeed: instance.cpuSpeed,
      memory: instance.memory,
      hostTags: instance.serviceOffering.hostTags,
      considerLastHost: false,
      clusterId: current?.clusterId ?? null,
      avoidHostIds: instance.hostId ? [instance.hostId] : [],
    },
    snapshot,
    context.random,
  );
  if (isRejection(plan)) throw new ApiError('INSUFFICIENT_CAPACITY', `No host can take instance ${instance.name}: ${plan.message}`, 'hostId');
  return plan.hostId;
}

export async function restoreVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { virtualMachineId: string; templateId?: string | null; expunge?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  const template = args.templateId
    ? templateSnapshot(requireTemplate(context, [caller, ownerOfInstance(context, instance)], args.templateId, 'templateId', instance.zoneId))
    : instance.template;
  const oldRoot = instance.volumes.find((v) => v.type === 'ROOT');
  return instanceJob(context, caller, instance, 'restoreVirtualMachine', (jobId, at) => ({
    type: 'RestoreInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    template,
    rootVolume: {
      id: context.newId(),
      name: `ROOT-${instance.id.slice(0, 8)}`,
      size: Math.max(template.size, oldRoot && !args.templateId ? oldRoot.size : 0),
      storagePoolId: oldRoot?.storagePoolId ?? null,
      diskOfferingId: oldRoot?.diskOfferingId ?? null,
    },
    expunge: args.expunge ?? false,
  }));
}

export async function scaleVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; serviceOfferingId: string; details?: Readonly<Record<string, string>> | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  const offering = offeringSnapshot(requireOffering(context, args.serviceOfferingId, 'serviceOfferingId'));
  checkScaleDetails(args.details);
  const compute = customCompute(args.details);
  return instanceJob(context, caller, instance, 'scaleVirtualMachine', (jobId, at) => ({
    type: 'ScaleInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    serviceOffering: offering,
    ...(compute ? { customCompute: compute } : {}),
    enableDynamicScaleVm: setting(context, 'enable.dynamic.scale.vm', instance.zoneId),
  }));
}

/** A synchronous operation: the command, then the instance as the read model shows it. */
async function instanceChange(context: ControlPlaneContext, caller: Caller, instance: Instance, command: InstanceCommand): Promise<VirtualMachineView> {
  const result = await execute(context, instanceStream(instance.id), instanceDecider, command, envelopeOf(context, caller, context.newId()));
  await settled(context, result.positions);
  const after = findInstance(db(context), { kind: 'all' }, instance.id);
  if (!after) throw new ApiError('INTERNAL_ERROR', `instance ${instance.id} cannot be read back`);
  return toVirtualMachineView(after);
}

export async function recoverVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string }): Promise<VirtualMachineView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceChange(context, caller, instance, {
    type: 'RecoverInstance',
    instanceId: instance.id,
    at: now(context),
    caller: instanceCaller(caller),
    allowUserExpungeRecoverVm: setting(context, 'allow.user.expunge.recover.vm', instance.zoneId),
  });
}

/** Synchronous as in CloudStack: returns once the hypervisor and storage are clean, within a bound. */
export async function expungeVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string }): Promise<boolean> {
  const instance = requireInstance(context, caller, args.id);
  const result = await execute(
    context,
    instanceStream(instance.id),
    instanceDecider,
    { type: 'ExpungeInstance', instanceId: instance.id, at: now(context), caller: instanceCaller(caller), allowUserExpungeRecoverVm: setting(context, 'allow.user.expunge.recover.vm', instance.zoneId) },
    envelopeOf(context, caller, context.newId()),
  );
  const pending = result.state.exists ? result.state.pending : null;
  if (pending?.kind === 'expunge') {
    const jobId = pending.jobId ?? `expunge-${instance.id}`;
    const job = await context.runner.advance(jobId, { instanceId: instance.id, accountId: instance.accountId, cmd: 'expungeVirtualMachine' });
    if (job.exists && job.status === 'FAILED') throw new ApiError('INTERNAL_ERROR', job.error?.message ?? 'the expunge failed');
  }
  await settled(context, result.positions);
  return true;
}

/** The instances list; `leased` asks about a feature that must be on (behaviour §3.6). */
export function virtualMachines(context: ControlPlaneContext, caller: Caller, args: InstanceListArgs): Connection<VirtualMachineView> {
  refusePlacementFilter(caller, args.hostId);
  if (args.leased === true && !setting(context, 'instance.lease.enabled')) {
    throw new ApiError('BAD_USER_INPUT', 'Cannot list leased instances because the Instance Lease feature is disabled, please enable it to list leased instances', 'leased');
  }
  return guarded(() => listInstances(db(context), visibilityOf(context, caller), args, args));
}

export async function updateVirtualMachine(context: ControlPlaneContext, caller: Caller, args: UpdateArgs): Promise<VirtualMachineView> {
  const instance = requireInstance(context, caller, args.id);
  const list = (text: string) => text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return instanceChange(context, caller, instance, {
    type: 'UpdateInstance',
    instanceId: instance.id,
    at: now(context),
    caller: instanceCaller(caller),
    ...(args.displayName != null ? { displayName: args.displayName } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
    ...(args.osTypeId != null ? { osTypeId: args.osTypeId } : {}),
    ...(args.deleteProtection != null ? { deleteProtection: args.deleteProtection } : {}),
    ...(args.haEnable != null ? { haEnable: args.haEnable } : {}),
    ...(args.details != null ? { details: args.details } : {}),
    userDeniedDetails: list(String(setting(context, 'user.vm.denied.details', instance.zoneId))),
    userReadOnlyDetails: list(String(setting(context, 'user.vm.readonly.details', instance.zoneId))),
    enableDynamicScaleVm: setting(context, 'enable.dynamic.scale.vm', instance.zoneId),
    leaseDuration: args.leaseDuration ?? null,
    leaseExpiryAction: args.leaseExpiryAction ?? null,
    leaseFeatureEnabled: setting(context, 'instance.lease.enabled'),
  });
}

export async function changeServiceForVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; serviceOfferingId: string; details?: Readonly<Record<string, string>> | null }): Promise<VirtualMachineView> {
  const instance = requireInstance(context, caller, args.id);
  const offering = offeringSnapshot(requireOffering(context, args.serviceOfferingId, 'serviceOfferingId'));
  checkScaleDetails(args.details);
  const compute = customCompute(args.details);
  return instanceChange(context, caller, instance, {
    type: 'ChangeServiceOffering',
    instanceId: instance.id,
    at: now(context),
    caller: instanceCaller(caller),
    serviceOffering: offering,
    ...(compute ? { customCompute: compute } : {}),
  });
}
