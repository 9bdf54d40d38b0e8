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
import { importCompute, planDisks, type DiskPlan } from '../../../domain/instance/import-rules.js';
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
import { isRejection } from '../../../domain/shared/decider.js';
import { ADOPTED_DOMAIN_NAME } from '../../../domain/shared/instance-name.js';
import { listHosts, listStoragePools, networkAddressHeld, storagePoolSnapshot, type HostNode } from '../../../projections/infrastructure/index.js';
import { instanceIdByInstanceName } from '../../../projections/instances/queries.js';
import type { Connection } from '../../../projections/pagination.js';
import { db, now, setting, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';
import type { ImportChecks } from './import-checks.js';
import { parseExternalHost, scrubbed, withSecret, type ExternalInstanceView, type ImportVmArgs } from './import-external.js';
import { nicViews, withVolumes, type PlanOutcome } from './import-plan.js';
import type { KvmImportBase } from './import-vm.js';
import { dataDiskMappings, finishPlan, importedVolumes, planNics, requireCluster, sourceDisks, type ImportedCompute } from './import.js';
import { customCompute, instanceCaller, offeringSnapshot, otherDetails, templateSnapshot } from './resolve.js';

const bad = (message: string, field: string): ApiError => new ApiError('BAD_USER_INPUT', message, field);

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

/** The zone's storage pools as the temporary-location rules read them. */
function zonePools(context: ControlPlaneContext, zoneId: string): ConversionPoolFacts[] {
  return listStoragePools(db(context), { zoneId, first: 500 }).nodes.map((pool) => ({
    id: pool.id,
    name: pool.name,
    zoneId: pool.zoneId,
    scope: pool.scope,
    type: pool.type,
    clusterId: pool.clusterId,
    hostId: pool.hostId,
    path: pool.path,
  }));
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
 * importVm with importSource VMWARE (§4.7's preconditions in CloudStack's order where it has one),
 * after the checks every KVM source shares (`common`): extra parameters, the destination cluster, the
 * conversion and import hosts, the temporary pool, the destination pool, the guest as the conversion
 * host's agent lists it (found, powered off), the offering against it, its disks, the networking
 * pre-check and §4.5's NIC rules. Through `checks`: an import stops at the first failure, a preview
 * (importVmPreview) collects them all and shows the plan, the conversion's choices among it.
 */
export async function planVmwareImport(
  context: ControlPlaneContext,
  caller: Caller,
  args: ImportVmArgs,
  checks: ImportChecks,
  common: KvmImportBase,
  password: { readonly ref: string | null; readonly text: string | null },
): Promise<PlanOutcome> {
  const { draft, owner, template, offering, hostname } = common;
  const outcome = (): PlanOutcome => ({ planned: undefined, draft });
  const extra = checkExtraParams(args.extraParams, setting(context, 'convert.vmware.instance.to.kvm.extra.params.allowed'), setting(context, 'convert.vmware.instance.to.kvm.extra.params.allowed.list'));
  const extraParams = isRejection(extra) ? checks.reject(extra) : extra;

  let cluster: ReturnType<typeof requireCluster> | undefined;
  if (!args.clusterId) checks.fail(bad('Cluster ID cannot be null.', 'clusterId'));
  else cluster = checks.attempt(() => requireCluster(context, args.clusterId!));
  if (cluster && cluster.zoneId !== args.zoneId) cluster = checks.fail(bad(`Cluster ${cluster.id} is not in zone ${args.zoneId}`, 'clusterId'));
  if (cluster && cluster.hypervisor !== 'KVM') {
    cluster = checks.fail(bad(`VM import is currently not supported for hypervisor: ${cluster.hypervisor}: a VMware guest is converted into a KVM cluster`, 'clusterId'));
  }
  const loginGiven = !!args.host && (args.username ?? '').trim() !== '';
  if (!loginGiven) checks.fail(bad('Please set all the information for the VMware host: host and username (and password, unless the agents log in with their own key)', args.host ? 'username' : 'host'));
  const address = args.host ? checks.attempt(() => parseExternalHost(args.host!)) : undefined;

  // §4.7 steps 1, 2 and 4: who converts, who imports, where the files wait; step 5: where the volumes go.
  let convertHost: ConversionHostFacts | undefined;
  let importHost: ConversionHostFacts | undefined;
  let temporary: ConversionPoolFacts | undefined;
  let destination: { poolId: string; path: string } | undefined;
  if (cluster) {
    const hosts = zoneHosts(context, args.zoneId);
    const pick = (count: number) => Math.floor(context.random() * count);
    const converting = selectConversionHost(args.convertInstanceHostId, hosts, cluster, pick);
    convertHost = isRejection(converting) ? checks.reject(converting) : converting;
    if (convertHost) {
      const importing = selectImportHost(args.importInstanceHostId, hosts, cluster, convertHost, pick);
      importHost = isRejection(importing) ? checks.reject(importing) : importing;
    }
    if (convertHost && importHost) {
      const pools = zonePools(context, args.zoneId);
      const chosen = selectTemporaryPool(args.convertInstancePoolId, pools, hosts, cluster, convertHost, importHost);
      temporary = isRejection(chosen) ? checks.reject(chosen) : chosen;
      // CloudStack: NFS only; vmledger also takes a SharedMountPoint pool the import host reaches.
      const reached = storagePoolSnapshot(db(context), args.zoneId).find(
        (candidate) => (candidate.type === 'NFS' || candidate.type === 'SharedMountPoint') && reaches(candidate, { hostId: importHost!.id, clusterId: importHost!.clusterId }),
      );
      if (!reached) checks.fail(new ApiError('INSUFFICIENT_CAPACITY', `Cannot find suitable storage pools in the cluster ${cluster.id} for the conversion`, 'clusterId'));
      else destination = { poolId: reached.poolId, path: pools.find((pool) => pool.id === reached.poolId)!.path };
    }
  }
  if (draft.instance) draft.instance = { ...draft.instance, clusterId: cluster?.id ?? null, hostId: importHost?.id ?? null };
  draft.conversion = {
    sourceHost: address?.host ?? null,
    vmxPath: null,
    convertInstanceHostId: convertHost?.id ?? null,
    importInstanceHostId: importHost?.id ?? null,
    temporaryStoragePoolId: temporary?.id ?? null,
    temporaryPath: temporary?.path ?? null,
  };
  if (!convertHost || !address || !loginGiven) return outcome();

  // §4.7 step 7: the guest as the conversion host's agent sees it on the VMware host.
  const source: VmwareHostRef = { kind: 'esxi-ssh', host: address.host, port: address.port, username: args.username! };
  const listed = await checks.attemptAsync(() => vmwareGuests(context, convertHost, source, password.ref, password.text));
  if (!listed) return outcome();
  const vm = listed.find((guest) => guest.name === args.name);
  if (!vm) {
    checks.fail(bad(`Cannot find VM with name ${args.name} on VMware host ${address.host}`, 'name'));
    draft.instance = null;
    return outcome();
  }
  draft.conversion = { ...draft.conversion, vmxPath: vm.vmxPath ?? null };
  if (draft.instance) draft.instance = { ...draft.instance, instanceName: vm.name, cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory };
  // Converted, then moved into the destination pool: every byte is copied.
  draft.disks = sourceDisks(vm, true);
  if (!vm.vmxPath) checks.fail(new ApiError('INTERNAL_ERROR', `The VMware host ${address.host} listed VM ${vm.name} without its .vmx`, 'name'));
  const running = checkSourceStopped(vm, address.host);
  if (running) checks.reject(running);
  if (!ADOPTED_DOMAIN_NAME.test(vm.name) || instanceIdByInstanceName(db(context), vm.name) !== undefined) {
    checks.fail(bad(`VM name ${JSON.stringify(vm.name)} cannot be imported: vmledger already has an instance of that name, or the name is not letters, digits, '.', '_', '+' and '-' (at most 100)`, 'name'));
  }
  const snapshot = offering ? offeringSnapshot(offering) : undefined;
  let compute: ImportedCompute | undefined;
  if (snapshot) {
    const detailsSpeed = checks.attempt(() => customCompute(args.details)?.cpuSpeed);
    const fitted = importCompute(snapshot, { name: vm.name, running: false, cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory }, detailsSpeed);
    compute = isRejection(fitted) ? checks.reject(fitted) : fitted;
    const covers = compute ? checkCoversSource(compute.compute, vm) : null;
    if (covers) compute = checks.reject(covers);
    if (compute && draft.instance) draft.instance = { ...draft.instance, cpuNumber: compute.compute.cpuNumber, cpuSpeed: compute.compute.cpuSpeed, memory: compute.compute.memory };
  }
  const mappings = dataDiskMappings(context, args, checks);
  let disks: DiskPlan | undefined;
  if (mappings) {
    const planned = planDisks(vm.name, vm.disks.map((d) => ({ diskId: d.diskId, capacity: d.capacity, controller: d.controller })), mappings, template?.size ?? 0);
    disks = isRejection(planned) ? checks.reject(planned) : planned;
  }
  // §4.7 step 8: the networking pre-check, then §4.5's NIC rules (networks, IPs), keeping the source's MACs.
  const networking = checkVmwareNics(vm.name, vm.nics, args.nicNetworkList ?? [], args.forced ?? false, (networkId, mac) => {
    const normal = normalizeMac(mac);
    return normal !== undefined && networkAddressHeld(db(context), networkId, { mac: normal });
  });
  if (networking) checks.reject(networking);

  const instanceId = context.newId();
  const jobId = context.newId();
  if (disks) draft.disks = withVolumes(draft.disks, importedVolumes(instanceId, disks, destination?.poolId ?? null));
  const nics = owner && !networking && cluster ? planNics(context, owner, args.zoneId, instanceId, vm, { ...args, clusterId: cluster.id }, checks) : undefined;
  if (nics) draft.nics = nicViews(nics);
  if (
    checks.failed || !owner || !template || !snapshot || !compute || !disks || !nics || !hostname || !cluster || !importHost || !temporary || !destination || !extraParams || !vm.vmxPath
  ) {
    return outcome();
  }
  const details = otherDetails(args.details);
  return finishPlan(draft, checks, {
    owner,
    nics,
    command: {
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
        remote: { host: address.host, port: address.port, username: args.username! },
        passwordRef: password.ref,
        vmName: vm.name,
        vmxPath: vm.vmxPath,
        convertHostId: convertHost.id,
        temporary: { poolId: temporary.id, path: temporary.path },
        extraParams,
        convertTimeoutMs: setting(context, 'convert.vmware.instance.to.kvm.timeout') * 3_600_000,
        destinationPath: destination.path,
      },
    },
  });
}
