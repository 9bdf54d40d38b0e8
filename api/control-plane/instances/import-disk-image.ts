// importVm from local or shared storage (behaviour §4.6 `local`/`shared`; issue 16 item 4): an
// existing qcow2 file on a host-local pool (LOCAL, with the host) or on a cluster's or zone's pool
// (SHARED) becomes the root volume of a new Stopped instance where it is: no byte is copied. The
// host's agent looks at the file (InspectDiskImage: there, qcow2, no backing file, not locked or
// encrypted, attached by none of the host's domains) before anything is appended; the pool, the
// network and the offering's storage tags are checked against the read model. The instance then
// starts on a host that reaches the pool, its domain defined on the image, and its expunge deletes
// the image as it deletes any volume.
import { posix } from 'node:path';
import { v5 as uuidv5 } from 'uuid';
import { EVENT_ID_NAMESPACE } from '../../../adapters/eventstore/command-handler.js';
import { AgentQueryFailed, AgentQueryTimeout } from '../../../adapters/hypervisor/query-client.js';
import type { DiskImageReport } from '../../../domain/agent-protocol/index.js';
import { checkDiskImage, diskImageMessages, isDiskPath } from '../../../domain/instance/import-rules.js';
import { resolveCompute } from '../../../domain/instance/validation.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { poolHasTags } from '../../../domain/storage/pool.js';
import { getCluster, getHost, getNetwork, getStoragePool, listHosts, type HostNode, type StoragePoolNode } from '../../../projections/infrastructure/index.js';
import { instanceUsingDiskImage } from '../../../projections/instances/queries.js';
import { db, now, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';
import { internalName } from './deploy.js';
import type { ImportChecks } from './import-checks.js';
import type { ImportVmArgs } from './import-external.js';
import { nicViews, type PlanOutcome } from './import-plan.js';
import { finishPlan, type PlannedNic } from './import.js';
import type { KvmImportBase } from './import-vm.js';
import { customCompute, instanceCaller, mayUse, offeringSnapshot, otherDetails, templateSnapshot } from './resolve.js';

const bad = (message: string, field: string): ApiError => new ApiError('BAD_USER_INPUT', message, field);

const usable = (host: HostNode): boolean => host.status === 'Up' && host.resourceState === 'Enabled';

/** Only KVM hosts take a qcow2 image in place (behaviour §4.6: importVm's hypervisor is KVM). */
const onKvm = (context: ControlPlaneContext, host: HostNode): boolean => getCluster(db(context), host.clusterId)?.hypervisor === 'KVM';

/**
 * The host whose agent looks at the image and where the instance is first placed: LOCAL, the host
 * named (whose pool it must be); SHARED, the first Up and Enabled host the pool reaches.
 */
function imageHost(context: ControlPlaneContext, args: ImportVmArgs, pool: StoragePoolNode, checks: ImportChecks): HostNode | undefined {
  const noDestination = () => checks.fail(new ApiError('INSUFFICIENT_CAPACITY', `Import failed for Vm: ${args.name}. Suitable deployment destination not found (no Up, Enabled host reaches storage pool ${pool.name})`, 'storageId'));
  if (args.importSource === 'LOCAL') {
    if (!args.hostId) return checks.fail(bad(diskImageMessages.hostRequired, 'hostId'));
    const host = getHost(db(context), args.hostId);
    if (!host || host.zoneId !== args.zoneId) return checks.fail(bad(diskImageMessages.hostNotFound, 'hostId'));
    if (pool.scope !== 'HOST' || pool.hostId !== host.id) return checks.fail(bad(diskImageMessages.localPoolNotOnHost, 'storageId'));
    if (!onKvm(context, host)) return checks.fail(bad(`VM import is currently not supported for hypervisor: ${getCluster(db(context), host.clusterId)?.hypervisor ?? 'unknown'}`, 'hostId'));
    return usable(host) ? host : noDestination();
  }
  if (pool.scope === 'HOST') return checks.fail(bad(diskImageMessages.sharedPoolIsLocal(pool.name), 'storageId'));
  const hosts = listHosts(db(context), pool.scope === 'CLUSTER' ? { clusterId: pool.clusterId!, first: 500 } : { zoneId: pool.zoneId, first: 500 }).nodes;
  return hosts.find((host) => usable(host) && onKvm(context, host)) ?? noDestination();
}

async function inspect(context: ControlPlaneContext, host: HostNode, pool: StoragePoolNode, diskPath: string): Promise<DiskImageReport> {
  const queries = context.agentQueries;
  if (!queries) throw new ApiError('INTERNAL_ERROR', "this control plane cannot reach hosts' agents");
  try {
    return await queries.inspectDiskImage(host.id, pool.path, diskPath);
  } catch (error) {
    if (error instanceof AgentQueryTimeout || error instanceof AgentQueryFailed) throw new ApiError('INTERNAL_ERROR', `${diskImageMessages.notFound}: host ${host.name} could not check it: ${error.message}`, 'diskPath');
    throw error;
  }
}

export async function planDiskImageImport(context: ControlPlaneContext, caller: Caller, args: ImportVmArgs, checks: ImportChecks, base: KvmImportBase): Promise<PlanOutcome> {
  const { draft, owner, template, offering, hostname } = base;
  const outcome = (): PlanOutcome => ({ planned: undefined, draft });
  // importKvmVirtualMachineFromDisk, in CloudStack's order.
  const diskPath = args.diskPath ?? '';
  if (diskPath === '') checks.fail(bad(diskImageMessages.diskPathRequired, 'diskPath'));
  else if (!isDiskPath(diskPath)) checks.fail(bad(diskImageMessages.invalidDiskPath(diskPath), 'diskPath'));
  if (!args.networkId) checks.fail(bad(diskImageMessages.networkRequired, 'networkId'));
  let pool: StoragePoolNode | undefined;
  if (!args.storageId) checks.fail(bad(diskImageMessages.storageRequired, 'storageId'));
  else {
    pool = getStoragePool(db(context), args.storageId);
    if (!pool || pool.zoneId !== args.zoneId) pool = checks.fail(bad(diskImageMessages.storageNotFound, 'storageId'));
  }
  const host = pool ? imageHost(context, args, pool, checks) : undefined;
  const path = pool && isDiskPath(diskPath) ? posix.join(pool.path, diskPath) : undefined;
  if (pool && path && instanceUsingDiskImage(db(context), pool.id, path) !== undefined) checks.fail(bad(diskImageMessages.imageInUse, 'diskPath'));
  const snapshot = offering ? offeringSnapshot(offering) : undefined;
  if (pool && snapshot && !poolHasTags(pool, snapshot.storageTags ?? [])) checks.fail(bad(diskImageMessages.storageTags(snapshot.id, pool.id), 'storageId'));
  // The one NIC, on the network named: a free MAC and (but on L2) the next free address.
  let network = args.networkId ? getNetwork(db(context), args.networkId) : undefined;
  if (args.networkId && (!network || network.removed || (owner && !mayUse(context, owner, network.accountId)))) network = checks.fail(bad(diskImageMessages.networkNotFound(args.networkId), 'networkId'));
  else if (network && network.zoneId !== args.zoneId) network = checks.fail(bad(diskImageMessages.networkZone(network.id, args.zoneId), 'networkId'));
  // The instance's size is the offering's (a custom one's from details): the image tells none.
  let compute: ReturnType<typeof resolveCompute> | undefined;
  if (snapshot) {
    const custom = checks.attempt(() => customCompute(args.details));
    const resolved = resolveCompute(snapshot, custom);
    compute = isRejection(resolved) ? checks.reject(resolved) : resolved;
  }
  if (draft.instance) {
    draft.instance = {
      ...draft.instance,
      cpuNumber: compute && !isRejection(compute) ? compute.cpuNumber : null,
      cpuSpeed: compute && !isRejection(compute) ? compute.cpuSpeed : null,
      memory: compute && !isRejection(compute) ? compute.memory : null,
      clusterId: host?.clusterId ?? null,
      hostId: host?.id ?? null,
    };
  }
  draft.disks = [
    {
      id: '0',
      type: 'ROOT',
      sourcePath: path ?? null,
      sourceFormat: null,
      size: null,
      controller: null,
      storagePoolId: pool?.id ?? null,
      diskOfferingId: null,
      copied: false,
    },
  ];
  if (network) draft.nics = [{ id: '0', networkId: network.id, macAddress: null, ipAddress: null, isDefault: true }];

  // The image, as the host's agent sees it (CheckVolumeCommand, checkVolume).
  if (!pool || !host || !path) return outcome();
  const image = await checks.attemptAsync(() => inspect(context, host, pool, diskPath));
  if (!image) return outcome();
  draft.disks = [{ ...draft.disks[0]!, sourcePath: image.path, sourceFormat: image.format, size: image.virtualSize }];
  for (const rejection of checkDiskImage(image, pool.name, host.name)) checks.reject(rejection);
  if (checks.failed || !owner || !template || !snapshot || !compute || isRejection(compute) || !network || !hostname || image.virtualSize === null) return outcome();

  const instanceId = context.newId();
  const jobId = context.newId();
  const nics: PlannedNic[] = [
    {
      nic: {
        id: uuidv5(`nic|${instanceId}|0`, EVENT_ID_NAMESPACE),
        networkId: network.id,
        networkOfferingId: network.networkOfferingId,
        macAddress: '',
        ipAddress: null,
        isDefault: true,
        deviceId: 0,
        vlan: network.vlan,
      },
      requestedMac: null,
      requestedIp: null,
    },
  ];
  draft.nics = nicViews(nics);
  const details = otherDetails(args.details);
  const custom = customCompute(args.details);
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
      instanceName: internalName(context, owner.accountId, instanceId, hostname),
      accountId: owner.accountId,
      domainId: owner.domainId,
      zoneId: args.zoneId,
      hypervisorType: 'KVM',
      serviceOffering: snapshot,
      ...(snapshot.customized && custom ? { customCompute: custom } : {}),
      template: templateSnapshot(template),
      rootVolume: { id: uuidv5(`volume|${instanceId}|root`, EVENT_ID_NAMESPACE), name: `ROOT-${instanceId.slice(0, 8)}`, size: image.virtualSize, storagePoolId: pool.id, diskOfferingId: null },
      dataVolumes: [],
      diskPositions: [0],
      nics: nics.map((planned) => planned.nic),
      hostId: host.id,
      powerState: 'stopped',
      ...(details ? { details } : {}),
      importedFrom: null,
      diskImage: { source: args.importSource === 'LOCAL' ? 'LOCAL' : 'SHARED', path },
    },
  });
}
