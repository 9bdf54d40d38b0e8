// VMware → KVM (behaviour §4.7, issue 17): the guests of a VMware host vmledger does not manage
// (an ESXi-style host reached over SSH: there is no vCenter here), listed by the agent of a host of
// the zone, and their conversion into Stopped KVM instances. Every rule of §4.7 (and the import rules
// of §4.4/§4.5 it shares) is applied to the read model and to the guest as the agent lists it before
// anything is appended; the choices (conversion host, import host, temporary pool, destination pool)
// are recorded with the import, so the workflow (sagas/workflows/import-vmware.ts) never chooses
// again. The password goes to the secrets port at once and travels by reference, as for EXTERNAL.
import { AgentQueryFailed, AgentQueryTimeout } from '../../../adapters/hypervisor/query-client.js';
import type { SecretStore } from '../../../adapters/secrets/port.js';
import type { UnmanagedDomain, VmwareHostRef } from '../../../domain/agent-protocol/index.js';
import { reaches } from '../../../domain/allocation/pool-choice.js';
import { importCompute, planDisks } from '../../../domain/instance/import-rules.js';
import type { InstanceCommand } from '../../../domain/instance/index.js';
import {
  checkCoversSource,
  checkExtraParams,
  checkSourceStopped,
  checkVmwareNics,
  selectConversionHost,
  selectImportHost,
  selectTemporaryPool,
  type ConversionHostFacts,
  type ConversionPoolFacts,
} from '../../../domain/instance/vmware-conversion.js';
import { normalizeMac } from '../../../domain/network/addressing.js';
import { isRejection, type Rejection } from '../../../domain/shared/decider.js';
import { ADOPTED_DOMAIN_NAME, HOSTNAME } from '../../../domain/shared/instance-name.js';
import { getDiskOffering, getServiceOffering, getTemplate, listHosts, listStoragePools, networkAddressHeld, storagePoolSnapshot, type HostNode } from '../../../projections/infrastructure/index.js';
import { instanceIdByInstanceName } from '../../../projections/instances/queries.js';
import type { Connection } from '../../../projections/pagination.js';
import { db, now, setting, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller, type JobView } from '../port.js';
import { importHostname, importOwner, importedVolumes, planNics, recordImport, requireCluster } from './import.js';
import { parseExternalHost, scrubbed, withSecret, type ExternalInstanceView, type ImportVmArgs } from './import-external.js';
import { customCompute, instanceCaller, offeringSnapshot, otherDetails, templateSnapshot } from './resolve.js';

const bad = (message: string, field: string): ApiError => new ApiError('BAD_USER_INPUT', message, field);
const refused = (rejection: Rejection): ApiError => new ApiError(rejection.code, rejection.message, rejection.field);

/** Asks the agent of `via` for the guests of the VMware host. */
async function vmwareGuests(context: ControlPlaneContext, via: { id: string }, source: VmwareHostRef, passwordRef: string | null, password: string | null): Promise<UnmanagedDomain[]> {
  const queries = context.agentQueries;
  if (!queries) throw new ApiError('INTERNAL_ERROR', "this control plane cannot reach hosts' agents");
  try {
    return await queries.listVmwareGuests(via.id, source, passwordRef);
  } catch (error) {
    const message = error instanceof AgentQueryTimeout || error instanceof AgentQueryFailed || error instanceof Error ? error.message : String(error);
    throw new ApiError('INTERNAL_ERROR', `Failed to list VMs, due to: ${scrubbed(message, password)}`);
  }
}

const hostFacts = (host: HostNode): ConversionHostFacts => ({
  id: host.id,
  name: host.name,
  zoneId: host.zoneId,
  clusterId: host.clusterId,
  status: host.status,
  resourceState: host.resourceState,
  capabilities: host.capabilities,
});

/** The zone's hosts as the host rules read them. */
function zoneHosts(context: ControlPlaneContext, zoneId: string): ConversionHostFacts[] {
  return listHosts(db(context), { zoneId, first: 500 }).nodes.filter((host) => !host.removed).map(hostFacts);
}

/** The listing agent: an Up, Enabled host of the zone that can convert (it reaches the VMware host as a conversion would). */
function listingHost(context: ControlPlaneContext, zoneId: string, remote: string): ConversionHostFacts {
  const hosts = zoneHosts(context, zoneId).filter((host) => host.status === 'Up' && host.resourceState === 'Enabled');
  const host = hosts.find((candidate) => candidate.capabilities.includes('instance.conversion')) ?? hosts[0];
  if (!host) throw new ApiError('INVALID_STATE', `No hosts available to list VMs on remote host ${remote}`, 'zoneId');
  return host;
}

/** vmsForImport with importSource VMWARE: the guests on the VMware host's datastores, running and stopped. */
export async function vmwareVmsForImport(
  context: ControlPlaneContext,
  args: { zoneId: string; host: string; username: string; password?: string | null },
  secrets: SecretStore,
): Promise<Connection<ExternalInstanceView>> {
  const { host, port } = parseExternalHost(args.host);
  const via = listingHost(context, args.zoneId, host);
  const password = args.password ?? null;
  const source: VmwareHostRef = { kind: 'esxi-ssh', host, port, username: args.username };
  const guests = await withSecret(secrets, password, (ref) => vmwareGuests(context, via, source, ref, password));
  const nodes = guests.map((guest) => ({
    name: guest.name,
    host,
    powerState: guest.powerState,
    cpuNumber: guest.cpuNumber,
    cpuSpeed: guest.cpuSpeed,
    cpuCoresPerSocket: guest.cpuCoresPerSocket,
    memory: guest.memory,
    osDisplayName: guest.osDisplayName,
    disks: guest.disks.map((d) => ({ id: d.diskId, capacity: d.capacity, controller: d.controller, controllerUnit: d.controllerUnit, imagePath: d.imagePath, position: d.position, datastoreName: d.datastoreName })),
    nics: guest.nics.map((n) => ({ id: n.nicId, macAddress: n.macAddress, networkName: n.networkName, vlanId: n.vlanId, pciSlot: n.pciSlot, adapterType: n.adapterType, ipAddress: n.ipAddress })),
  }));
  return { nodes, pageInfo: { hasNextPage: false, endCursor: null }, totalCount: nodes.length };
}

/**
 * importVm with importSource VMWARE (§4.7's preconditions in CloudStack's order where it has one):
 * extra parameters, the §4.4 checks, the destination cluster, the conversion and import hosts, the
 * temporary pool, the guest (found, powered off), the offering against it, its disks, the networking
 * pre-check; then the instance is recorded busy with its conversion, and the job converts and imports.
 */
export async function importVmware(context: ControlPlaneContext, caller: Caller, args: ImportVmArgs, secrets: SecretStore): Promise<JobView> {
  const extra = checkExtraParams(args.extraParams, setting(context, 'convert.vmware.instance.to.kvm.extra.params.allowed'), setting(context, 'convert.vmware.instance.to.kvm.extra.params.allowed.list'));
  if (isRejection(extra)) throw refused(extra);
  if (args.name.trim() === '') throw bad('Instance name cannot be empty', 'name');
  if (!args.account && args.domainId != null) throw bad('domainid parameter must be specified with account parameter', 'domainId');
  if (!args.clusterId) throw bad('Cluster ID cannot be null.', 'clusterId');
  const cluster = requireCluster(context, args.clusterId);
  if (cluster.zoneId !== args.zoneId) throw bad(`Cluster ${cluster.id} is not in zone ${args.zoneId}`, 'clusterId');
  if (cluster.hypervisor !== 'KVM') throw bad(`VM import is currently not supported for hypervisor: ${cluster.hypervisor}: a VMware guest is converted into a KVM cluster`, 'clusterId');
  const owner = importOwner(context, caller, { ...args, clusterId: cluster.id });
  if (!args.templateId) throw bad('Template is needed and unable to use default template for hypervisor KVM', 'templateId');
  const template = getTemplate(db(context), args.templateId);
  if (!template || (template.zoneId !== null && template.zoneId !== args.zoneId)) throw bad(`Template ID: ${args.templateId} cannot be found`, 'templateId');
  const offering = getServiceOffering(db(context), args.serviceOfferingId);
  if (!offering) throw bad(`Service offering ID: ${args.serviceOfferingId} cannot be found`, 'serviceOfferingId');
  // For VMware the hostname defaults to the instance's name (behaviour §4.4 step 9).
  const given = args.hostName ?? '';
  const hostname = importHostname({ ...args, clusterId: cluster.id, hostName: given === '' ? args.name : given }, args.name);
  if (!HOSTNAME.test(hostname)) throw bad('Please provide a valid hostname for the VM. VM name contains unsupported characters that cannot be used as hostname.', 'hostName');
  if (!args.host || (args.username ?? '').trim() === '') throw bad('Please set all the information for the VMware host: host and username (and password, unless the agents log in with their own key)', args.host ? 'username' : 'host');
  const { host: remoteHost, port } = parseExternalHost(args.host);

  // §4.7 steps 1, 2 and 4: who converts, who imports, where the files wait.
  const hosts = zoneHosts(context, args.zoneId);
  const pick = (count: number) => Math.floor(context.random() * count);
  const convertHost = selectConversionHost(args.convertInstanceHostId, hosts, cluster, pick);
  if (isRejection(convertHost)) throw refused(convertHost);
  const importHost = selectImportHost(args.importInstanceHostId, hosts, cluster, convertHost, pick);
  if (isRejection(importHost)) throw refused(importHost);
  const pools: ConversionPoolFacts[] = listStoragePools(db(context), { zoneId: args.zoneId, first: 500 }).nodes.map((pool) => ({
    id: pool.id,
    name: pool.name,
    zoneId: pool.zoneId,
    scope: pool.scope,
    type: pool.type,
    clusterId: pool.clusterId,
    hostId: pool.hostId,
    path: pool.path,
  }));
  const temporary = selectTemporaryPool(args.convertInstancePoolId, pools, hosts, cluster, convertHost, importHost);
  if (isRejection(temporary)) throw refused(temporary);
  // §4.7 step 5: the volumes go to a shared pool the import host reaches (CloudStack: NFS only).
  const destination = storagePoolSnapshot(db(context), args.zoneId).find(
    (candidate) => (candidate.type === 'NFS' || candidate.type === 'SharedMountPoint') && reaches(candidate, { hostId: importHost.id, clusterId: importHost.clusterId }),
  );
  if (!destination) throw new ApiError('INSUFFICIENT_CAPACITY', `Cannot find suitable storage pools in the cluster ${cluster.id} for the conversion`, 'clusterId');
  const destinationPath = pools.find((pool) => pool.id === destination.poolId)!.path;

  const password = args.password ?? null;
  return withSecret(secrets, password, async (passwordRef, keep) => {
    // §4.7 step 7: the guest as the conversion host's agent sees it on the VMware host.
    const source: VmwareHostRef = { kind: 'esxi-ssh', host: remoteHost, port, username: args.username! };
    const vm = (await vmwareGuests(context, convertHost, source, passwordRef, password)).find((guest) => guest.name === args.name);
    if (!vm) throw bad(`Cannot find VM with name ${args.name} on VMware host ${remoteHost}`, 'name');
    if (!vm.vmxPath) throw new ApiError('INTERNAL_ERROR', `The VMware host ${remoteHost} listed VM ${vm.name} without its .vmx`, 'name');
    const running = checkSourceStopped(vm, remoteHost);
    if (running) throw refused(running);
    if (!ADOPTED_DOMAIN_NAME.test(vm.name) || instanceIdByInstanceName(db(context), vm.name) !== undefined) {
      throw bad(`VM name ${JSON.stringify(vm.name)} cannot be imported: vmledger already has an instance of that name, or the name is not letters, digits, '.', '_', '+' and '-' (at most 100)`, 'name');
    }
    const snapshot = offeringSnapshot(offering);
    const compute = importCompute(snapshot, { name: vm.name, running: false, cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory }, customCompute(args.details)?.cpuSpeed);
    if (isRejection(compute)) throw refused(compute);
    const covers = checkCoversSource(compute.compute, vm);
    if (covers) throw refused(covers);
    const mappings = (args.dataDiskOfferingList ?? []).map((entry) => {
      const diskOffering = getDiskOffering(db(context), entry.diskOffering);
      if (!diskOffering) throw bad(`Disk offering ID: ${entry.diskOffering} for disk ID: ${entry.disk} is invalid`, 'dataDiskOfferingList');
      return { disk: entry.disk, offering: { id: diskOffering.id, diskSize: diskOffering.diskSize } };
    });
    const disks = planDisks(vm.name, vm.disks.map((d) => ({ diskId: d.diskId, capacity: d.capacity, controller: d.controller })), mappings, template.size);
    if (isRejection(disks)) throw refused(disks);
    // §4.7 step 8: the networking pre-check, then §4.5's NIC rules (networks, IPs), keeping the source's MACs.
    const networking = checkVmwareNics(vm.name, vm.nics, args.nicNetworkList ?? [], args.forced ?? false, (networkId, mac) => {
      const normal = normalizeMac(mac);
      return normal !== undefined && networkAddressHeld(db(context), networkId, { mac: normal });
    });
    if (networking) throw refused(networking);

    const instanceId = context.newId();
    const jobId = context.newId();
    // First-error mode: a NIC rule that fails has thrown, so every NIC is planned.
    const nics = planNics(context, owner, args.zoneId, instanceId, vm, { ...args, clusterId: cluster.id })!;
    const details = otherDetails(args.details);
    const command: InstanceCommand = {
      type: 'ImportInstance',
      instanceId,
      at: now(context),
      caller: instanceCaller(caller),
      jobId,
      name: hostname,
      displayName: args.displayName ?? args.name,
      instanceName: vm.name,
      accountId: owner.accountId,
      domainId: owner.domainId,
      zoneId: args.zoneId,
      hypervisorType: 'KVM',
      serviceOffering: snapshot,
      ...(compute.custom ? { customCompute: compute.custom } : {}),
      template: templateSnapshot(template),
      ...importedVolumes(instanceId, disks, destination.poolId),
      nics: nics.map((planned) => planned.nic),
      hostId: importHost.id,
      powerState: 'stopped',
      ...(details ? { details } : {}),
      importedFrom: null,
      vmware: {
        remote: { host: remoteHost, port, username: args.username! },
        passwordRef,
        vmName: vm.name,
        vmxPath: vm.vmxPath,
        convertHostId: convertHost.id,
        temporary: { poolId: temporary.id, path: temporary.path },
        extraParams: extra,
        convertTimeoutMs: setting(context, 'convert.vmware.instance.to.kvm.timeout') * 3_600_000,
        destinationPath,
      },
    };
    const job = await recordImport(context, caller, owner, command, nics, 'importVm');
    // Kept for the job, which deletes it when it ends; an import that never started must not keep it.
    if (job.status === 'PENDING') keep();
    return job;
  });
}
