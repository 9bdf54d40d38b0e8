// Guests of an external KVM host (behaviour §4.6 `external`): a libvirt host vmledger does not
// manage, named by address with an operator's login. The control plane never connects to it: the
// agent of an Up host of the zone logs in over SSH and lists the stopped domains there.
//
// The password (issue 16 item 5) is put in the secrets port at once and travels by reference: the
// query client reads it back only to seal it into the one query that needs it, and it is deleted
// when the request ends, whatever the outcome. No message here ever quotes it.
import { AgentQueryFailed, AgentQueryTimeout } from '../../../adapters/hypervisor/query-client.js';
import { reaches } from '../../../domain/allocation/pool-choice.js';
import { importCompute, planDisks, type DiskPlan } from '../../../domain/instance/import-rules.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { ADOPTED_DOMAIN_NAME } from '../../../domain/shared/instance-name.js';
import { instanceIdByInstanceName } from '../../../projections/instances/queries.js';
import type { SecretStore } from '../../../adapters/secrets/port.js';
import type { RemoteHostLogin, UnmanagedDomain } from '../../../domain/agent-protocol/index.js';
import { getCluster, getZone, listClusters, listHosts, storagePoolSnapshot, type HostNode } from '../../../projections/infrastructure/index.js';
import type { Connection } from '../../../projections/pagination.js';
import { db, now, setting, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';
import type { ImportChecks } from './import-checks.js';
import type { KvmImportBase } from './import-vm.js';
import { nicViews, withVolumes, type PlanOutcome } from './import-plan.js';
import {
  dataDiskMappings,
  finishPlan,
  importedVolumes,
  planNics,
  requireCluster,
  sourceDisks,
  unmanagedInstanceView,
  type ImportedCompute,
  type ImportUnmanagedInstanceArgs,
  type UnmanagedInstanceView,
} from './import.js';
import { vmwareVmsForImport } from './import-vmware.js';
import { customCompute, instanceCaller, offeringSnapshot, otherDetails, templateSnapshot } from './resolve.js';

/** `VmImportService.ImportSource` (behaviour §4.2). */
export const IMPORT_SOURCES = ['UNMANAGED', 'EXTERNAL', 'LOCAL', 'SHARED', 'VMWARE'] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

/** A stopped guest of an external host: an unmanaged instance's shape, with the host as the operator named it. */
export type ExternalInstanceView = Omit<UnmanagedInstanceView, 'hostId' | 'clusterId'> & { readonly host: string };

export interface VmsForImportArgs {
  readonly zoneId: string;
  readonly host: string;
  readonly username: string;
  readonly password?: string | null;
  readonly importSource?: ImportSource | null;
}

export const SSH_PORT = 22;
const HOST = /^(?<name>[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?)(?::(?<port>\d{1,5}))?$/;

const bad = (message: string, field: string): ApiError => new ApiError('BAD_USER_INPUT', message, field);

/** `host`, or `host:port` for an sshd that does not listen on 22. */
export function parseExternalHost(text: string): { host: string; port: number } {
  // A host written as user:password@host would put the password into the error that quotes it.
  if (text.includes('@')) throw bad('Invalid host: give a host name or IPv4 address, optionally with :port, and the login in username and password', 'host');
  const match = HOST.exec(text.trim());
  const port = match?.groups?.['port'] === undefined ? SSH_PORT : Number(match.groups['port']);
  if (!match?.groups?.['name'] || port < 1 || port > 65_535) throw bad(`Invalid host ${JSON.stringify(text.slice(0, 260))}: give a host name or IPv4 address, optionally with :port`, 'host');
  return { host: match.groups['name'], port };
}

/** The first Up and Enabled host of a KVM cluster in the zone: its agent does the listing (`getRemoteVmsOnKVMHost`). */
function listingHost(context: ControlPlaneContext, zoneId: string, remote: string): HostNode {
  const host = listHosts(db(context), { zoneId, first: 500 }).nodes.find(
    (candidate) => candidate.status === 'Up' && candidate.resourceState === 'Enabled' && getCluster(db(context), candidate.clusterId)?.hypervisor === 'KVM',
  );
  if (!host) throw new ApiError('INVALID_STATE', `No hosts available to list VMs on remote host ${remote}`, 'zoneId');
  return host;
}

/** Whatever reaches the caller is cut of the password, should a host's message ever echo it. */
export function scrubbed(message: string, password: string | null): string {
  return password === null || password === '' ? message : message.split(password).join('***');
}

/**
 * Puts the password (if any) in the secrets port for the length of `use`, and deletes it after,
 * however `use` ends, unless `use` handed it on (`keep`: a job holds it now and deletes it itself).
 */
export async function withSecret<T>(secrets: SecretStore, password: string | null, use: (ref: string | null, keep: () => void) => Promise<T>): Promise<T> {
  const ref = password === null || password === '' ? null : await secrets.put(password);
  let kept = false;
  try {
    return await use(ref, () => {
      kept = true;
    });
  } finally {
    if (ref !== null && !kept) await secrets.delete(ref);
  }
}

/** Asks the agent of `via` for the stopped domains of `remote`. */
export async function remoteDomains(context: ControlPlaneContext, via: HostNode, remote: RemoteHostLogin, passwordRef: string | null, password: string | null): Promise<UnmanagedDomain[]> {
  const queries = context.agentQueries;
  if (!queries) throw new ApiError('INTERNAL_ERROR', "this control plane cannot reach hosts' agents");
  try {
    return await queries.listRemoteDomains(via.id, remote, passwordRef);
  } catch (error) {
    if (error instanceof AgentQueryTimeout) throw new ApiError('INTERNAL_ERROR', `Failed to list VMs, due to: ${error.message}`);
    if (error instanceof AgentQueryFailed) throw new ApiError('INTERNAL_ERROR', `Failed to list VMs, due to: ${scrubbed(error.message, password)}`);
    throw new ApiError('INTERNAL_ERROR', `Failed to list VMs, due to: ${scrubbed(error instanceof Error ? error.message : String(error), password)}`);
  }
}

/** `listVmsForImport`: the stopped domains of an external KVM host, in one page. */
export async function vmsForImport(context: ControlPlaneContext, caller: Caller, args: VmsForImportArgs, secrets: SecretStore): Promise<Connection<ExternalInstanceView>> {
  if (caller.role !== 'ROOT_ADMIN') throw new ApiError('FORBIDDEN', `Cannot perform this operation, Calling account is not root admin: ${caller.accountId}`);
  if (!getZone(db(context), args.zoneId)) throw bad('Please specify a valid zone.', 'zoneId');
  const source = args.importSource ?? 'EXTERNAL';
  if (source !== 'EXTERNAL' && source !== 'VMWARE') {
    throw bad(`Listing the VMs of an import source ${source} is not supported: vmsForImport lists the stopped guests of an EXTERNAL KVM host or the guests of a VMWARE host`, 'importSource');
  }
  if (args.username.trim() === '') throw bad('Username need to be provided.', 'username');
  if (source === 'VMWARE') return vmwareVmsForImport(context, args, secrets);
  const { host, port } = parseExternalHost(args.host);
  const via = listingHost(context, args.zoneId, host);
  const password = args.password ?? null;
  const domains = await withSecret(secrets, password, (ref) => remoteDomains(context, via, { host, port, username: args.username }, ref, password));
  const nodes = domains.map((domain) => {
    const { hostId: _hostId, clusterId: _clusterId, ...shape } = unmanagedInstanceView(domain, via);
    return { ...shape, host };
  });
  return { nodes, pageInfo: { hasNextPage: false, endCursor: null }, totalCount: nodes.length };
}

export interface ImportVmArgs extends Omit<ImportUnmanagedInstanceArgs, 'clusterId' | 'migrateAllowed'> {
  readonly zoneId: string;
  readonly importSource: ImportSource;
  readonly clusterId?: string | null;
  readonly host?: string | null;
  readonly username?: string | null;
  readonly password?: string | null;
  readonly tmpPath?: string | null;
  // Arguments of the other sources (LOCAL, SHARED, VMWARE): not used by an EXTERNAL import.
  readonly hostId?: string | null;
  readonly diskPath?: string | null;
  readonly storageId?: string | null;
  /** LOCAL and SHARED: the network of the instance's one NIC (CloudStack's `networkid`). */
  readonly networkId?: string | null;
  readonly convertInstanceHostId?: string | null;
  readonly convertInstancePoolId?: string | null;
  /** VMWARE: the host that imports the converted disks (CloudStack's importinstancehostid). */
  readonly importInstanceHostId?: string | null;
  /** VMWARE: further virt-v2v parameters, when the administrator allows them (CloudStack's extraparams). */
  readonly extraParams?: string | null;
}

const TMP_PATH = /^\/[A-Za-z0-9._/-]{0,4094}$/;

/** The destination: the cluster named (else the zone's first KVM cluster with an Up host), its first Up, Enabled host. */
export function destination(context: ControlPlaneContext, zoneId: string, clusterId: string | null): HostNode {
  const clusters = clusterId !== null ? [requireCluster(context, clusterId)] : listClusters(db(context), { zoneId, first: 500 }).nodes.filter((cluster) => cluster.hypervisor === 'KVM');
  for (const cluster of clusters) {
    if (cluster.zoneId !== zoneId) throw bad(`Cluster ${cluster.id} is not in zone ${zoneId}`, 'clusterId');
    if (cluster.hypervisor !== 'KVM') throw bad(`VM import is currently not supported for hypervisor: ${cluster.hypervisor}`, 'clusterId');
    const host = listHosts(db(context), { clusterId: cluster.id, first: 500 }).nodes.find((candidate) => candidate.status === 'Up' && candidate.resourceState === 'Enabled');
    if (host) return host;
  }
  throw new ApiError('INSUFFICIENT_CAPACITY', 'Import failed: suitable deployment destination not found (no Up, Enabled KVM host)', clusterId === null ? 'zoneId' : 'clusterId');
}

/**
 * importVm (behaviour §4.6) from an EXTERNAL host: a stopped domain of a KVM host vmledger does not
 * manage becomes a Stopped instance whose disks are copied, as qcow2, into the storage of a host of
 * the destination cluster by that host's agent (job steps COPYING, then done). Every rule is applied
 * to what the agent lists before anything is appended. `passwordRef` is the password in the secrets
 * port, held by the caller (import-vm.ts) until the job ends or the request does.
 */
export async function planExternalImport(
  context: ControlPlaneContext,
  caller: Caller,
  args: ImportVmArgs,
  checks: ImportChecks,
  common: KvmImportBase,
  password: { readonly ref: string | null; readonly text: string | null },
): Promise<PlanOutcome> {
  const { draft, owner, template, offering, hostname } = common;
  const outcome = (): PlanOutcome => ({ planned: undefined, draft });
  if (!args.host) checks.fail(bad('host is required for an EXTERNAL import: the KVM host the VM is on', 'host'));
  if ((args.username ?? '').trim() === '') checks.fail(bad('Username need to be provided.', 'username'));
  // vmledger's rule: the agents log in to the external host with the operator's password only.
  if ((args.password ?? '') === '') checks.fail(bad('Password need to be provided.', 'password'));
  const tmpPath = args.tmpPath ?? '/tmp';
  if (!TMP_PATH.test(tmpPath) || tmpPath.split('/').includes('..')) checks.fail(bad(`Invalid tmpPath ${JSON.stringify(tmpPath.slice(0, 100))}: an absolute directory`, 'tmpPath'));
  const address = args.host ? checks.attempt(() => parseExternalHost(args.host!)) : undefined;
  const host = checks.attempt(() => destination(context, args.zoneId, args.clusterId ?? null));
  if (host && draft.instance) draft.instance = { ...draft.instance, clusterId: host.clusterId, hostId: host.id };
  if (!address || !host || (args.username ?? '').trim() === '' || password.text === null || password.text === '') return outcome();
  const remote = { ...address, username: args.username! };

  // §4.6: the VM as the destination host's agent sees it on the remote host (stopped ones only).
  const listed = await checks.attemptAsync(() => remoteDomains(context, host, remote, password.ref, password.text));
  if (!listed) return outcome();
  const vm = listed.find((domain) => domain.name === args.name);
  if (!vm) {
    checks.fail(bad(`VM with name: ${args.name} not found on remote host ${remote.host}`, 'name'));
    draft.instance = null;
    return outcome();
  }
  if (draft.instance) draft.instance = { ...draft.instance, instanceName: vm.name, cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory };
  draft.disks = sourceDisks(vm, true);
  if (!ADOPTED_DOMAIN_NAME.test(vm.name) || instanceIdByInstanceName(db(context), vm.name) !== undefined) {
    checks.fail(bad(`VM name ${JSON.stringify(vm.name)} cannot be imported: vmledger already has an instance of that name, or the name is not letters, digits, '.', '_', '+' and '-' (at most 100)`, 'name'));
  }
  const snapshot = offering ? offeringSnapshot(offering) : undefined;
  let compute: ImportedCompute | undefined;
  if (snapshot) {
    const detailsSpeed = checks.attempt(() => customCompute(args.details)?.cpuSpeed);
    const fitted = importCompute(snapshot, { name: vm.name, running: false, cpuNumber: vm.cpuNumber, cpuSpeed: vm.cpuSpeed, memory: vm.memory }, detailsSpeed);
    compute = isRejection(fitted) ? checks.reject(fitted) : fitted;
    if (compute && draft.instance) draft.instance = { ...draft.instance, cpuNumber: compute.compute.cpuNumber, cpuSpeed: compute.compute.cpuSpeed, memory: compute.compute.memory };
  }
  const mappings = dataDiskMappings(context, args, checks);
  let disks: DiskPlan | undefined;
  if (mappings) {
    const planned = planDisks(vm.name, vm.disks.map((d) => ({ diskId: d.diskId, capacity: d.capacity, controller: d.controller })), mappings, template?.size ?? 0);
    disks = isRejection(planned) ? checks.reject(planned) : planned;
  }
  const sources = disks
    ? [disks.root.position, ...disks.data.map((disk) => disk.position)].map((position) => {
        const disk = vm.disks[position]!;
        if (disk.imagePath === null || !disk.imagePath.startsWith('/')) return checks.fail(bad(`Disk ID: ${disk.diskId} of VM ${vm.name} is not a file and cannot be copied`, 'name'));
        if (!disk.format) return checks.fail(bad(`Disk ID: ${disk.diskId} of VM ${vm.name} has no format in its definition`, 'name'));
        return { path: disk.imagePath, format: disk.format };
      })
    : undefined;
  const pool = storagePoolSnapshot(db(context), args.zoneId).find((candidate) => reaches(candidate, { hostId: host.id, clusterId: host.clusterId }));
  if (!pool) checks.fail(new ApiError('INSUFFICIENT_CAPACITY', `Import failed for Vm: ${vm.name}. Suitable deployment destination not found (no storage pool for host ${host.name})`, 'clusterId'));

  const instanceId = context.newId();
  const jobId = context.newId();
  if (disks) draft.disks = withVolumes(draft.disks, importedVolumes(instanceId, disks, pool?.poolId ?? null));
  // §4.6: NICs are imported with forced=true always (a MAC taken on the network gets a new one).
  const nics = owner ? planNics(context, owner, args.zoneId, instanceId, vm, { ...args, clusterId: '', forced: true }, checks) : undefined;
  if (nics) draft.nics = nicViews(nics);
  if (checks.failed || !owner || !template || !snapshot || !compute || !disks || !sources || sources.some((source) => source === undefined) || !pool || !nics || !hostname) return outcome();
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
      ...importedVolumes(instanceId, disks, pool.poolId),
      nics: nics.map((planned) => planned.nic),
      hostId: host.id,
      powerState: 'stopped',
      ...(details ? { details } : {}),
      importedFrom: null,
      external: {
        remote,
        passwordRef: password.ref,
        tmpPath,
        disks: sources as Array<{ path: string; format: string }>,
        copyTimeoutMs: setting(context, 'remote.kvm.instance.disks.copy.timeout') * 60_000,
      },
    },
  });
}
