// Unmanaged instances on managed hosts (behaviour §4.4, §4.5, §4.8): list the domains of a cluster's
// hosts that vmledger does not manage (asking each Up host's agent: the control plane never reaches a
// host itself), import one as an instance, and unmanage an instance back into such a domain.
//
// An import applies every rule to what the host's agent reported before anything is appended; then
// it claims the name, opens the job, allocates each NIC's address keeping the domain's MAC, and
// records the instance busy with its import. The job has the host's agent adopt the domain (writes
// vmledger's record into it); a failed step undoes what was claimed, as a failed deployment does.
import { isIP } from 'node:net';
import { v5 as uuidv5 } from 'uuid';
import { EVENT_ID_NAMESPACE } from '../../../adapters/eventstore/command-handler.js';
import { AgentQueryFailed, AgentQueryTimeout } from '../../../adapters/hypervisor/query-client.js';
import { isInDomainSubtree } from '../../../domain/account/index.js';
import type { UnmanagedDomain } from '../../../domain/agent-protocol/index.js';
import { IMPORT_HYPERVISORS } from '../../../domain/instance/decide-import.js';
import { checkAdapters, importCompute, planDisks, type DiskPlan } from '../../../domain/instance/import-rules.js';
import { instanceDecider, instanceStream, type InstanceCommand, type Nic } from '../../../domain/instance/index.js';
import { jobDecider, jobStream } from '../../../domain/job/index.js';
import { normalizeMac } from '../../../domain/network/addressing.js';
import { reaches } from '../../../domain/allocation/pool-choice.js';
import { isRejection, type Rejection } from '../../../domain/shared/decider.js';
import { ADOPTED_DOMAIN_NAME, HOSTNAME, INSTANCE_NAME } from '../../../domain/shared/instance-name.js';
import { findAccountByName, getAccount } from '../../../projections/accounts/index.js';
import {
  getCluster,
  getDiskOffering,
  getNetwork,
  getServiceOffering,
  getTemplate,
  listHosts,
  listNetworks,
  networkAddressHeld,
  storagePoolSnapshot,
  type HostNode,
  type NetworkNode,
  type ServiceOfferingNode,
  type TemplateNode,
} from '../../../projections/infrastructure/index.js';
import { findInstance, instanceIdByInstanceName, unmanagedInstanceNamed } from '../../../projections/instances/queries.js';
import type { Connection } from '../../../projections/pagination.js';
import { abandonDeployment } from '../../../sagas/deploy-compensation.js';
import { db, envelopeOf, execute, now, setting, settled, jobErrorOf, type ControlPlaneContext } from '../context.js';
import { findJob } from '../jobs.js';
import { claimNicAddress } from './addresses.js';
import { claimInstanceName } from './names.js';
import { ApiError, type Caller, type JobView } from '../port.js';
import { customCompute, instanceCaller, mayUse, offeringSnapshot, otherDetails, ownerOf, templateSnapshot, type Owner } from './resolve.js';
import { instanceJob } from './run.js';
import { ImportChecks } from './import-checks.js';
import { emptyDraft, nicViews, withVolumes, type ImportDraft, type ImportPlanDiskView, type PlanOutcome, type PlannedImport } from './import-plan.js';

export interface UnmanagedInstanceView {
  readonly name: string;
  readonly hostId: string;
  readonly clusterId: string;
  readonly powerState: 'PowerOn' | 'PowerOff';
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly cpuCoresPerSocket: number | null;
  readonly memory: number;
  readonly osDisplayName: string | null;
  readonly disks: ReadonlyArray<{ id: string; capacity: number | null; controller: string; controllerUnit: number | null; imagePath: string | null; position: number; datastoreName: string | null }>;
  readonly nics: ReadonlyArray<{ id: string; macAddress: string; networkName: string | null; vlanId: number | null; pciSlot: number | null; adapterType: string | null; ipAddress: string | null }>;
}

export interface UnmanagedInstancesArgs {
  readonly clusterId: string;
  readonly hostId?: string | null;
  readonly name?: string | null;
}

export interface ImportUnmanagedInstanceArgs {
  readonly clusterId: string;
  readonly name: string;
  readonly serviceOfferingId: string;
  readonly displayName?: string | null;
  readonly hostName?: string | null;
  readonly account?: string | null;
  readonly domainId?: string | null;
  readonly templateId?: string | null;
  readonly nicNetworkList?: ReadonlyArray<{ readonly nic: string; readonly network: string }> | null;
  readonly nicIpAddressList?: ReadonlyArray<{ readonly nic: string; readonly ip4Address: string }> | null;
  readonly dataDiskOfferingList?: ReadonlyArray<{ readonly disk: string; readonly diskOffering: string }> | null;
  readonly details?: Readonly<Record<string, string>> | null;
  readonly migrateAllowed?: boolean | null;
  readonly forced?: boolean | null;
}

const bad = (message: string, field: string): ApiError => new ApiError('BAD_USER_INPUT', message, field);

function requireRoot(caller: Caller): void {
  if (caller.role !== 'ROOT_ADMIN') throw new ApiError('FORBIDDEN', `Cannot perform this operation, caller account [${caller.accountId}] is not ROOT Admin.`);
}

/** `basicAccessChecks`: a known cluster of a hypervisor vmledger imports from. */
export function requireCluster(context: ControlPlaneContext, clusterId: string) {
  const cluster = getCluster(db(context), clusterId);
  if (!cluster) throw bad(`Cluster with ID [${clusterId}] cannot be found.`, 'clusterId');
  if (!IMPORT_HYPERVISORS.includes(cluster.hypervisor)) throw bad(`VM import is currently not supported for hypervisor [${cluster.hypervisor}].`, 'clusterId');
  return cluster;
}

/** The cluster's hosts an agent is asked about: Up, and not in (or entering) maintenance. */
function askableHosts(context: ControlPlaneContext, clusterId: string, hostId: string | null): HostNode[] {
  const hosts = listHosts(db(context), { clusterId, first: 500 }).nodes;
  if (hostId !== null && !hosts.some((host) => host.id === hostId)) throw bad(`Unable to find host ${JSON.stringify(hostId)} in cluster ${clusterId}`, 'hostId');
  return hosts.filter((host) => (hostId === null || host.id === hostId) && host.status === 'Up' && host.resourceState !== 'Maintenance' && host.resourceState !== 'PrepareForMaintenance');
}

async function askHost(context: ControlPlaneContext, host: HostNode): Promise<UnmanagedDomain[]> {
  const queries = context.agentQueries;
  if (!queries) throw new ApiError('INTERNAL_ERROR', 'this control plane cannot reach hosts\' agents');
  try {
    const domains = await queries.listUnmanagedDomains(host.id, null);
    // The agent goes by vmledger's record in each domain; a name vmledger manages is never offered either.
    return domains.filter((domain) => instanceIdByInstanceName(db(context), domain.name) === undefined);
  } catch (error) {
    if (error instanceof AgentQueryTimeout) throw new ApiError('INTERNAL_ERROR', `Unable to list the unmanaged instances of host ${host.name}: ${error.message}`);
    if (error instanceof AgentQueryFailed) throw new ApiError('INTERNAL_ERROR', `Host ${host.name} could not list its unmanaged instances: ${error.message}`);
    throw error;
  }
}

export function unmanagedInstanceView(domain: UnmanagedDomain, host: HostNode): UnmanagedInstanceView {
  return {
    name: domain.name,
    hostId: host.id,
    clusterId: host.clusterId,
    powerState: domain.powerState,
    cpuNumber: domain.cpuNumber,
    cpuSpeed: domain.cpuSpeed,
    cpuCoresPerSocket: domain.cpuCoresPerSocket,
    memory: domain.memory,
    osDisplayName: domain.osDisplayName,
    disks: domain.disks.map((d) => ({ id: d.diskId, capacity: d.capacity, controller: d.controller, controllerUnit: d.controllerUnit, imagePath: d.imagePath, position: d.position, datastoreName: d.datastoreName })),
    nics: domain.nics.map((n) => ({ id: n.nicId, macAddress: n.macAddress, networkName: n.networkName, vlanId: n.vlanId, pciSlot: n.pciSlot, adapterType: n.adapterType, ipAddress: n.ipAddress })),
  };
}

/**
 * `listUnmanagedInstances`: every Up host of the cluster (or the one named) is asked; `name` filters
 * exactly. One page: what the hosts answered now, not a list that could be paged through later.
 */
export async function unmanagedInstances(context: ControlPlaneContext, caller: Caller, args: UnmanagedInstancesArgs): Promise<Connection<UnmanagedInstanceView>> {
  requireRoot(caller);
  requireCluster(context, args.clusterId);
  const hosts = askableHosts(context, args.clusterId, args.hostId ?? null);
  const perHost = await Promise.all(hosts.map(async (host) => (await askHost(context, host)).map((domain) => unmanagedInstanceView(domain, host))));
  const nodes = perHost.flat().filter((vm) => args.name == null || vm.name === args.name);
  return { nodes, pageInfo: { hasNextPage: false, endCursor: null }, totalCount: nodes.length };
}

/** The account the imported instance belongs to (`account` with `domainId`), else the caller's. */
export function importOwner(context: ControlPlaneContext, caller: Caller, args: ImportUnmanagedInstanceArgs): Owner {
  if (!args.account) return caller;
  const domainId = args.domainId ?? caller.domainId;
  const account = findAccountByName(db(context), args.account, domainId) ?? getAccount(db(context), args.account);
  if (!account || (args.domainId != null && account.domainId !== args.domainId) || !isInDomainSubtree(caller.domainPath, account.domainPath)) {
    throw bad(`Unable to find account ${JSON.stringify(args.account)} in domain ${domainId}`, 'account');
  }
  return ownerOf(account);
}

/** `getHostNameForImportInstance`: the hostname given, else the display name, each a valid label. */
export function importHostname(args: ImportUnmanagedInstanceArgs, displayName: string): string {
  const given = args.hostName ?? '';
  if (given === '' && !HOSTNAME.test(displayName)) {
    throw bad('Please provide a valid hostname for the VM. VM name contains unsupported characters that cannot be used as hostname.', 'hostName');
  }
  const hostname = given === '' ? displayName : given;
  if (!HOSTNAME.test(hostname)) {
    throw bad(
      "Invalid VM hostname. VM hostname can contain ASCII letters 'a' through 'z', the digits '0' through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start with digit",
      'hostName',
    );
  }
  return hostname;
}

export interface PlannedNic {
  readonly nic: Nic;
  /** The domain's MAC, kept unless `forced` had to give up a MAC taken on the network. */
  readonly requestedMac: string | null;
  readonly requestedIp: string | null;
}

/**
 * `getUnmanagedNicNetworkMap` and `importNic`'s checks, against the read model before anything is
 * appended: each list entry and each NIC is checked on its own, so a preview reports every one that
 * fails. Undefined when one did.
 */
export function planNics(
  context: ControlPlaneContext,
  owner: Owner,
  zoneId: string,
  instanceId: string,
  vm: UnmanagedDomain,
  args: ImportUnmanagedInstanceArgs,
  checks: ImportChecks = ImportChecks.firstError(),
): PlannedNic[] | undefined {
  const failuresBefore = checks.failures;
  const mixed = checkAdapters(vm.nics.map((nic) => nic.adapterType));
  if (mixed) checks.fail(bad(mixed.message, 'name'));
  const byNic = new Map((args.nicNetworkList ?? []).map((entry) => [entry.nic, entry.network]));
  const ips = new Map((args.nicIpAddressList ?? []).map((entry) => [entry.nic, entry.ip4Address]));
  for (const [i, entry] of (args.nicNetworkList ?? []).entries()) {
    if (!vm.nics.some((nic) => nic.nicId === entry.nic)) checks.fail(bad(`Network ID: ${entry.network} for NIC ID: ${entry.nic} is invalid`, `nicNetworkList[${i}].nic`));
  }
  for (const [i, entry] of (args.nicIpAddressList ?? []).entries()) {
    if (!vm.nics.some((nic) => nic.nicId === entry.nic)) checks.fail(bad(`NIC ID: '${entry.nic}' is invalid for IP address mapping`, `nicIpAddressList[${i}].nic`));
    else if (entry.ip4Address === '') checks.fail(bad(`Empty address for NIC ID: ${entry.nic} is invalid`, `nicIpAddressList[${i}].ip4Address`));
    else if (entry.ip4Address !== 'auto' && isIP(entry.ip4Address) !== 4) checks.fail(bad(`IP address '${entry.ip4Address}' for NIC ID: ${entry.nic} is invalid`, `nicIpAddressList[${i}].ip4Address`));
  }
  const usable = (network: NetworkNode | undefined): network is NetworkNode =>
    network !== undefined && !network.removed && mayUse(context, owner, network.accountId) && (network.accountId === null || network.accountId === owner.accountId);
  const planned = vm.nics.map((vmNic, deviceId) =>
    checks.attempt((): PlannedNic => {
      const mapped = byNic.get(vmNic.nicId);
      let network: NetworkNode | undefined;
      if (mapped !== undefined) {
        network = getNetwork(db(context), mapped);
        if (!usable(network)) throw bad(`Network ID: ${mapped} for NIC ID: ${vmNic.nicId} is invalid`, 'nicNetworkList');
        if (network.zoneId !== zoneId) throw bad(`Network(ID: ${mapped}) for nic(ID: ${vmNic.nicId}) belongs to a different zone than VM to be imported`, 'nicNetworkList');
      } else if (vmNic.vlanId !== null && vmNic.vlanId > 0) {
        // KVM: the zone's first network the owner may use whose VLAN is the NIC's.
        network = listNetworks(db(context), { zoneId, first: 500 }).nodes.find((candidate) => usable(candidate) && candidate.vlan === vmNic.vlanId);
      }
      if (!network) throw bad(`Suitable network for nic(ID: ${vmNic.nicId}) not found during VM import`, 'nicNetworkList');
      const mac = normalizeMac(vmNic.macAddress);
      if (mac === undefined) throw bad(vmNic.macAddress === '' ? 'Mac address not specified' : `Invalid mac address: ${vmNic.macAddress}`, 'name');
      const macTaken = networkAddressHeld(db(context), network.id, { mac });
      if (macTaken && !args.forced) throw new ApiError('CONFLICT', `NIC with MAC address ${mac} exists on network ${network.id} and forced flag is disabled`, 'forced');
      let requestedIp: string | null = null;
      if (network.type !== 'L2') {
        const asked = ips.get(vmNic.nicId);
        if (asked === undefined || asked === '') {
          throw bad(`NIC(ID: ${vmNic.nicId}) needs a valid IP address for it to be associated with network(ID: ${network.id}). nicipaddresslist parameter of API can be used for this`, 'nicIpAddressList');
        }
        // `auto`: the address the guest reports, else the network's next free one.
        requestedIp = asked === 'auto' ? vmNic.ipAddress : asked;
        if (requestedIp !== null && networkAddressHeld(db(context), network.id, { ip: requestedIp })) {
          throw bad(`IP address ${requestedIp} for NIC(ID: ${vmNic.nicId}) is not available in network(ID: ${network.id})`, 'nicIpAddressList');
        }
      }
      return {
        nic: {
          id: uuidv5(`nic|${instanceId}|${deviceId}`, EVENT_ID_NAMESPACE),
          networkId: network.id,
          networkOfferingId: network.networkOfferingId,
          macAddress: '',
          ipAddress: null,
          isDefault: deviceId === 0,
          deviceId,
          vlan: network.vlan,
        },
        // forced: a MAC taken on the network is replaced by a new one (`getNextAvailableMacAddressInNetwork`).
        requestedMac: macTaken ? null : mac,
        requestedIp,
      };
    }),
  );
  // Undefined when a rule of the NICs failed (not one of the import's other rules: the plan still shows the NICs then).
  if (checks.failures > failuresBefore || planned.some((nic) => nic === undefined)) return undefined;
  return planned as PlannedNic[];
}

export type ImportedCompute = Exclude<ReturnType<typeof importCompute>, Rejection>;

/** The template an import records: KVM has no dummy template, so one must be named (§4.4 step 5). */
export function importTemplate(context: ControlPlaneContext, templateId: string | null | undefined, hypervisor: string, zoneId: string | null): TemplateNode {
  if (!templateId) throw bad(`Template is needed and unable to use default template for hypervisor ${hypervisor}`, 'templateId');
  const template = getTemplate(db(context), templateId);
  if (!template || (zoneId !== null && template.zoneId !== null && template.zoneId !== zoneId)) throw bad(`Template ID: ${templateId} cannot be found`, 'templateId');
  return template;
}

export function importServiceOffering(context: ControlPlaneContext, id: string): ServiceOfferingNode {
  const offering = getServiceOffering(db(context), id);
  if (!offering) throw bad(`Service offering ID: ${id} cannot be found`, 'serviceOfferingId');
  return offering;
}

/** `datadiskofferinglist`: each entry names a known disk offering; undefined when one does not. */
export function dataDiskMappings(context: ControlPlaneContext, args: Pick<ImportUnmanagedInstanceArgs, 'dataDiskOfferingList'>, checks: ImportChecks) {
  const mappings = (args.dataDiskOfferingList ?? []).map((entry, i) => {
    const diskOffering = getDiskOffering(db(context), entry.diskOffering);
    if (!diskOffering) return checks.fail(bad(`Disk offering ID: ${entry.diskOffering} for disk ID: ${entry.disk} is invalid`, `dataDiskOfferingList[${i}].diskOffering`));
    return { disk: entry.disk, offering: { id: diskOffering.id, diskSize: diskOffering.diskSize } };
  });
  return mappings.every((mapping) => mapping !== undefined) ? mappings : undefined;
}

/** The source's disks as the agent reported them, before the rules say which is which. */
export function sourceDisks(vm: UnmanagedDomain, copied: boolean): ImportPlanDiskView[] {
  return vm.disks.map((disk) => ({
    id: disk.diskId,
    type: null,
    sourcePath: disk.imagePath,
    sourceFormat: disk.format ?? null,
    size: disk.capacity,
    controller: disk.controller,
    storagePoolId: null,
    diskOfferingId: null,
    copied,
  }));
}

/**
 * §4.4 and §4.5 for importUnmanagedInstance (and importVm with importSource UNMANAGED): every rule
 * applied to what the host's agent reports, in CloudStack's order, through `checks` (the first
 * failure refuses an import; a preview collects them all).
 */
export async function planUnmanagedImport(context: ControlPlaneContext, caller: Caller, args: ImportUnmanagedInstanceArgs, checks: ImportChecks): Promise<PlanOutcome> {
  const draft = emptyDraft();
  const outcome = (planned?: PlannedImport): PlanOutcome => ({ planned, draft });
  // §4.4, in CloudStack's order.
  if (args.name.trim() === '') checks.fail(bad('Instance name cannot be empty', 'name'));
  if (!args.account && args.domainId != null) checks.fail(bad('domainid parameter must be specified with account parameter', 'domainId'));
  requireRoot(caller);
  const cluster = checks.attempt(() => requireCluster(context, args.clusterId));
  const owner = checks.attempt(() => importOwner(context, caller, args));
  const template = checks.attempt(() => importTemplate(context, args.templateId, cluster?.hypervisor ?? 'KVM', cluster?.zoneId ?? null));
  const offering = checks.attempt(() => importServiceOffering(context, args.serviceOfferingId));
  const displayName = args.displayName ?? args.name;
  const hostname = checks.attempt(() => importHostname(args, displayName));
  draft.instance = {
    name: args.name,
    instanceName: null,
    displayName,
    hostName: hostname ?? null,
    accountId: owner?.accountId ?? null,
    domainId: owner?.domainId ?? null,
    serviceOfferingId: args.serviceOfferingId,
    templateId: template?.id ?? null,
    cpuNumber: null,
    cpuSpeed: null,
    memory: null,
    state: null,
    zoneId: cluster?.zoneId ?? '',
    clusterId: cluster?.id ?? null,
    hostId: null,
  };
  if (!cluster) return outcome();

  // §4.5: the domain, as the host that has it reports it.
  const found = await checks.attemptAsync(async () => {
    for (const host of askableHosts(context, cluster.id, null)) {
      const vm = (await askHost(context, host)).find((domain) => domain.name === args.name);
      if (vm) return { vm, host };
    }
    throw bad(`Failed to find unmanaged vm with name: ${args.name} in cluster: ${cluster.id}`, 'name');
  });
  if (!found) {
    draft.instance = null;
    return outcome();
  }
  const { vm, host } = found;
  draft.instance = { ...draft.instance, instanceName: vm.name, state: vm.powerState === 'PowerOn' ? 'Running' : 'Stopped', hostId: host.id, cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory };
  draft.disks = sourceDisks(vm, false);
  if (INSTANCE_NAME.test(vm.name) ? false : !ADOPTED_DOMAIN_NAME.test(vm.name)) {
    checks.fail(bad(`Domain name ${JSON.stringify(vm.name)} cannot be imported: vmledger takes domain names of letters, digits, '.', '_', '+' and '-' (at most 100)`, 'name'));
  }
  const snapshot = offering ? offeringSnapshot(offering) : undefined;
  const detailsSpeed = checks.attempt(() => customCompute(args.details)?.cpuSpeed);
  let compute: ImportedCompute | undefined;
  if (snapshot) {
    const fitted = importCompute(snapshot, { name: vm.name, running: vm.powerState === 'PowerOn', cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory }, detailsSpeed);
    compute = isRejection(fitted) ? checks.reject(fitted) : fitted;
    if (compute) draft.instance = { ...draft.instance, cpuNumber: compute.compute.cpuNumber, cpuSpeed: compute.compute.cpuSpeed, memory: compute.compute.memory };
    const missingTag = snapshot.hostTags.find((tag) => !host.hostTags.includes(tag));
    if (missingTag !== undefined) {
      const why = args.migrateAllowed ? '; vmledger does not migrate an instance while importing it' : '';
      checks.fail(bad(`Service offering: ${snapshot.id} or template: ${template?.id ?? args.templateId ?? ''} is not compatible with host: ${host.id} of unmanaged VM: ${vm.name}${why}`, 'serviceOfferingId'));
    }
  }
  const mappings = dataDiskMappings(context, args, checks);
  let disks: DiskPlan | undefined;
  if (mappings) {
    const planned = planDisks(vm.name, vm.disks.map((d) => ({ diskId: d.diskId, capacity: d.capacity, controller: d.controller })), mappings, template?.size ?? 0);
    disks = isRejection(planned) ? checks.reject(planned) : planned;
  }
  // The disks stay where they are: on the oldest pool the domain's host reaches (its space is booked
  // when the import's job finishes, as for any volume).
  const pool = storagePoolSnapshot(db(context), cluster.zoneId).find((candidate) => reaches(candidate, { hostId: host.id, clusterId: cluster.id }));
  if (!pool) {
    const root = vm.disks[disks?.root.position ?? 0];
    checks.fail(bad(`Storage pool for disk ${root?.label ?? ''}(${root?.diskId ?? ''}) with datastore: ${root?.datastoreName ?? ''} not found in zone ID: ${cluster.zoneId}`, 'clusterId'));
  }

  const instanceId = context.newId();
  const jobId = context.newId();
  if (disks) draft.disks = withVolumes(draft.disks, importedVolumes(instanceId, disks, pool?.poolId ?? null));
  const nics = owner ? planNics(context, owner, cluster.zoneId, instanceId, vm, args, checks) : undefined;
  if (nics) draft.nics = nicViews(nics);
  if (checks.failed || !owner || !template || !snapshot || !compute || !disks || !pool || !nics || hostname === undefined) return outcome();
  const details = otherDetails(args.details);
  const command: PlannedImport['command'] = {
    type: 'ImportInstance',
    instanceId,
    at: now(context),
    caller: instanceCaller(caller),
    jobId,
    name: hostname,
    displayName,
    instanceName: vm.name,
    accountId: owner.accountId,
    domainId: owner.domainId,
    zoneId: cluster.zoneId,
    hypervisorType: cluster.hypervisor,
    serviceOffering: snapshot,
    ...(compute.custom ? { customCompute: compute.custom } : {}),
    template: templateSnapshot(template),
    ...importedVolumes(instanceId, disks, pool.poolId),
    nics: nics.map((planned) => planned.nic),
    hostId: host.id,
    powerState: vm.powerState === 'PowerOn' ? 'running' : 'stopped',
    ...(details ? { details } : {}),
    importedFrom: unmanagedInstanceNamed(db(context), vm.name) ?? null,
  };
  return finishPlan(draft, checks, { owner, command, nics });
}

/** The aggregate's own rules last (a dry run of its decision); the plan then shows the volumes it would record. */
export function finishPlan(draft: ImportDraft, checks: ImportChecks, planned: PlannedImport): PlanOutcome {
  const dryRun = instanceDecider.decide(planned.command, instanceDecider.initialState);
  if (isRejection(dryRun)) {
    checks.reject(dryRun);
    return { planned: undefined, draft };
  }
  draft.disks = withVolumes(draft.disks, planned.command);
  return { planned, draft };
}

/** What a planner that had every rule pass returns; for an import (first-error checks) it always has. */
export function plannedOrThrow(outcome: PlanOutcome): PlannedImport {
  if (!outcome.planned) throw new ApiError('INTERNAL_ERROR', 'the import was planned without a failure, yet no plan was made');
  return outcome.planned;
}

export async function importUnmanagedInstance(context: ControlPlaneContext, caller: Caller, args: ImportUnmanagedInstanceArgs): Promise<JobView> {
  const { owner, command, nics } = plannedOrThrow(await planUnmanagedImport(context, caller, args, ImportChecks.firstError()));
  return recordImport(context, caller, owner, command, nics, 'importUnmanagedInstance');
}

/** The volumes an import records for the planned disks, all on one pool, with where each disk is among the domain's. */
export function importedVolumes<Pool extends string | null>(instanceId: string, disks: DiskPlan, poolId: Pool) {
  return {
    rootVolume: { id: uuidv5(`volume|${instanceId}|root`, EVENT_ID_NAMESPACE), name: `ROOT-${instanceId.slice(0, 8)}`, size: disks.root.size, storagePoolId: poolId, diskOfferingId: null },
    dataVolumes: disks.data.map((disk) => ({
      id: uuidv5(`volume|${instanceId}|data|${disk.diskId}`, EVENT_ID_NAMESPACE),
      name: `DATA-${instanceId.slice(0, 8)}-${disk.diskId}`,
      size: disk.size,
      storagePoolId: poolId,
      diskOfferingId: disk.offeringId,
    })),
    diskPositions: [disks.root.position, ...disks.data.map((disk) => disk.position)],
  };
}

/**
 * The import's appends, once every rule has passed (the aggregate's own among them: a refusal
 * appends nothing): the name, the job, each NIC's address (keeping the MAC asked for) and the
 * instance; a claim lost to a concurrent operation gives everything back. `cmd` names the job.
 */
export async function recordImport(
  context: ControlPlaneContext,
  caller: Caller,
  owner: Owner,
  command: Extract<InstanceCommand, { type: 'ImportInstance' }>,
  nics: readonly PlannedNic[],
  cmd: 'importUnmanagedInstance' | 'importVm',
): Promise<JobView> {
  const { instanceId, jobId, at, name: hostname } = command;
  // Every rule of the aggregate was checked when the import was planned (finishPlan).

  const envelope = envelopeOf(context, caller, jobId);
  await claimInstanceName(context, { accountId: owner.accountId, instanceId, name: hostname }, envelope);
  const claims = nics.map((planned) => ({ networkId: planned.nic.networkId, nicId: planned.nic.id }));
  try {
    const opened = await execute(context, jobStream(jobId), jobDecider, { type: 'OpenJob', jobId, cmd: cmd, instanceId, accountId: owner.accountId, at, claims }, envelope);
    const allocated: Nic[] = [];
    for (const planned of nics) {
      const address = await claimNicAddress(
        context,
        { networkId: planned.nic.networkId, nicId: planned.nic.id, instanceId, requestedMac: planned.requestedMac, requestedIp: planned.requestedIp, macSeed: Math.floor(context.random() * 2 ** 32) },
        envelope,
      );
      allocated.push({ ...planned.nic, macAddress: address.mac, ipAddress: address.ip });
    }
    const recorded = await execute(context, instanceStream(instanceId), instanceDecider, { ...command, nics: allocated }, envelope);
    void context.runner.advance(jobId);
    await settled(context, [...opened.positions, ...recorded.positions]);
  } catch (error) {
    // A claim lost to a concurrent import or deployment: everything this import took is given back.
    const jobError = jobErrorOf(error);
    await abandonDeployment(context.commander, { instanceId, accountId: owner.accountId, name: hostname, jobId, nics: claims }, jobError, envelope);
    await settled(context, [await context.store.headPosition()]);
  }
  const job = findJob(context, caller, jobId);
  if (!job) throw new ApiError('INTERNAL_ERROR', `job ${jobId} was opened but cannot be read back`);
  return job;
}

/** unmanageVirtualMachine (§4.8): the instance leaves vmledger; its domain stays on its host. */
export async function unmanageVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string }): Promise<JobView> {
  requireRoot(caller);
  const instance = findInstance(db(context), { kind: 'all' }, args.id);
  if (!instance || instance.expunged) throw bad('Could not find VM to unmanage, it is either removed or not existing VM', 'id');
  return instanceJob(context, caller, instance, 'unmanageVirtualMachine', (jobId, at) => ({
    type: 'UnmanageInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    preserveNics: setting(context, 'unmanage.vm.preserve.nics', instance.zoneId),
  }));
}
