// importUnmanagedInstance and unmanageVirtualMachine (behaviour §4.4, §4.5, §4.8). An import records
// the instance busy with adopting its domain; once the host's agent has written vmledger's record
// into the domain, the instance is Running if the domain runs and Stopped otherwise, with the usage
// of a deployment (and of a start, when it runs). An unmanage gives the domain up on its host and the
// instance leaves vmledger with VOLUME.DELETE, NETWORK.OFFERING.REMOVE and VM.STOP (when it was not
// stopped), then VM.DESTROY, each once: the outcome can be recorded only while the job is pending.
// An instance with VM snapshots has them deleted first, in the same job (decide-snapshot.ts's
// decideUnmanageWithSnapshots, with their VMSNAPSHOT.DELETE usage); decideUnmanage is what follows.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import { HOSTNAME } from '../shared/instance-name.js';
import type { ImportInstance, RecordImported, RecordImportFailed, RecordUnmanaged, RecordUnmanageFailed, UnmanageInstance } from './commands.js';
import type { InstanceEvent, InstanceImportRequested } from './events.js';
import type { Volume, VolumeSpec } from './model.js';
import { expectPending } from './outcome.js';
import { instanceFromImport, type Instance, type InstanceState } from './state.js';
import { startedUsage, stoppedUsage, usageEventType, vmUsage, volumeCreated, volumeDeleted } from './usage.js';
import { resolveCompute } from './validation.js';

export const importUnmanageMessages = {
  alreadyExists: (id: string) => `Virtual machine ${id} already exists`,
  rootAdminOnly: (accountId: string) => `Cannot perform this operation, caller account [${accountId}] is not ROOT Admin.`,
  invalidHostname:
    "Invalid VM hostname. VM hostname can contain ASCII letters 'a' through 'z', the digits '0' through '9', and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start with digit",
  diskPositions: (volumes: number, positions: number) => `An import names ${positions} disk positions for ${volumes} volumes`,
  notRunningOrStopped: (id: string) => `VM with id = ${id} must be running or stopped to be unmanaged`,
  hypervisor: (hypervisor: string) => `Unmanage VM is currently not allowed for hypervisor ${hypervisor}`,
  pendingJobs: (name: string) => `There are pending jobs or HA tasks working on the VM: ${name}, can't unmanage the VM.`,
  noHost: (name: string) => `No available host to persist domain XML for Instance: ${name}`,
  vmwareRunning: (name: string) => `VM ${name} on the VMware host is Running: without vCenter there is no clone to convert, so only a powered-off guest is imported`,
  twoSources: 'An import has one source: an external KVM host or a VMware host, not both',
  externalRunning: (name: string) => `VM ${name} on the remote host is not stopped: only stopped VMs are imported from an external host`,
} as const;

/** Hypervisors whose guests can be imported and unmanaged (`UnmanagedVMsManager.isSupported`). */
export const IMPORT_HYPERVISORS: readonly string[] = ['KVM', 'VMware'];

const volume = (spec: VolumeSpec, type: Volume['type'], templateId: string | null): Volume => ({
  id: spec.id,
  name: spec.name,
  type,
  size: spec.size,
  storagePoolId: spec.storagePoolId,
  diskOfferingId: spec.diskOfferingId,
  templateId,
  state: 'Allocated',
  deleteProtection: false,
});

export function decideImport(command: ImportInstance, state: InstanceState): Decision<InstanceEvent> {
  if (state.exists) return reject('CONFLICT', importUnmanageMessages.alreadyExists(command.instanceId));
  if (state.abandoned) return reject('CONFLICT', importUnmanageMessages.alreadyExists(command.instanceId));
  if (command.caller.role !== 'ROOT_ADMIN') return reject('FORBIDDEN', importUnmanageMessages.rootAdminOnly(command.caller.accountId));
  if (!HOSTNAME.test(command.name)) return reject('BAD_USER_INPUT', importUnmanageMessages.invalidHostname, 'hostName');
  const compute = resolveCompute(command.serviceOffering, command.customCompute);
  if (isRejection(compute)) return compute;
  const volumes = [volume(command.rootVolume, 'ROOT', command.template.id), ...command.dataVolumes.map((spec) => volume(spec, 'DATADISK', null))];
  if (command.diskPositions.length !== volumes.length) return reject('BAD_USER_INPUT', importUnmanageMessages.diskPositions(volumes.length, command.diskPositions.length), 'dataDiskOfferingList');
  if (command.external && command.external.disks.length !== volumes.length) return reject('BAD_USER_INPUT', importUnmanageMessages.diskPositions(volumes.length, command.external.disks.length), 'dataDiskOfferingList');
  // An external host's domain is never running (only stopped ones are offered) and is not adopted.
  if (command.external && command.powerState !== 'stopped') return reject('INVALID_STATE', importUnmanageMessages.externalRunning(command.instanceName), 'name');
  // A VMware guest is converted only while it is off: there is no vCenter to clone a running one (§4.7).
  if (command.vmware && command.powerState !== 'stopped') return reject('INVALID_STATE', importUnmanageMessages.vmwareRunning(command.vmware.vmName), 'name');
  if (command.vmware && command.external) return reject('BAD_USER_INPUT', importUnmanageMessages.twoSources, 'importSource');
  const requested: InstanceImportRequested = {
    type: 'InstanceImportRequested',
    data: {
      instanceId: command.instanceId,
      name: command.name,
      displayName: command.displayName || command.name,
      instanceName: command.instanceName,
      group: null,
      accountId: command.accountId,
      domainId: command.domainId,
      zoneId: command.zoneId,
      hypervisorType: command.hypervisorType,
      serviceOffering: command.serviceOffering,
      cpuNumber: compute.cpuNumber,
      cpuSpeed: compute.cpuSpeed,
      memory: compute.memory,
      template: command.template,
      nics: command.nics,
      volumes,
      affinityGroupIds: [],
      userData: null,
      details: command.details ?? {},
      haEnabled: command.serviceOffering.offerHa,
      dynamicallyScalable: command.template.dynamicallyScalable && command.serviceOffering.dynamicScalingEnabled,
      jobId: command.jobId,
      created: command.at,
      state: 'Stopped',
      hostId: command.hostId,
      diskPositions: command.diskPositions,
      importedFrom: command.importedFrom,
      ...(command.external ? { external: command.external } : {}),
      ...(command.vmware ? { vmware: command.vmware } : {}),
    },
  };
  return [requested];
}

export function decideImported(command: RecordImported, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'import', command.jobId);
  if (isRejection(pending)) return pending;
  const running = command.powerState === 'running';
  const imported = { ...instance, state: running ? ('Running' as const) : ('Stopped' as const), hostId: running ? pending.hostId : null, pending: null };
  return [
    { type: 'InstanceImported', data: { instanceId: instance.id, jobId: command.jobId, hostId: pending.hostId, state: imported.state } },
    // As a deployment's, and a start's when the domain runs (behaviour §2.3).
    vmUsage('VM.CREATE', imported, command.at),
    ...imported.volumes.map((v) => volumeCreated(imported, v, command.at)),
    ...(running ? startedUsage(imported, command.at) : []),
  ];
}

export function decideImportFailed(command: RecordImportFailed, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'import', command.jobId);
  if (isRejection(pending)) return pending;
  return [{ type: 'InstanceImportFailed', data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason } }];
}

export function decideUnmanage(command: UnmanageInstance, instance: Instance): Decision<InstanceEvent> {
  if (command.caller.role !== 'ROOT_ADMIN') return reject('FORBIDDEN', importUnmanageMessages.rootAdminOnly(command.caller.accountId));
  if (instance.pending) return reject('INVALID_STATE', importUnmanageMessages.pendingJobs(instance.name));
  if (instance.state !== 'Running' && instance.state !== 'Stopped') return reject('INVALID_STATE', importUnmanageMessages.notRunningOrStopped(instance.id), 'id');
  if (!IMPORT_HYPERVISORS.includes(instance.hypervisorType)) return reject('BAD_USER_INPUT', importUnmanageMessages.hypervisor(instance.hypervisorType), 'id');
  const hostId = instance.state === 'Running' ? instance.hostId : instance.lastHostId;
  // A stopped instance that never ran has no domain anywhere and no last host to define it on.
  if (hostId === null) return reject('INVALID_STATE', importUnmanageMessages.noHost(instance.instanceName), 'id');
  return [{ type: 'InstanceUnmanageRequested', data: { instanceId: instance.id, jobId: command.jobId, hostId, preserveNics: command.preserveNics } }];
}

export function decideUnmanaged(command: RecordUnmanaged, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'unmanage', command.jobId);
  if (isRejection(pending)) return pending;
  const at = command.at;
  const stopping = instance.state === 'Stopped' ? [] : stoppedUsage(instance, at);
  const vmStop = usageEventType('VM.STOP');
  return [
    { type: 'InstanceUnmanaged', data: { instanceId: instance.id, jobId: command.jobId, hostId: pending.hostId, from: instance.state, preserveNics: pending.preserveNics, state: 'Expunging' } },
    ...instance.volumes.filter((v) => v.state !== 'Destroy' && v.state !== 'Expunged').map((v) => volumeDeleted(instance, v, at)),
    // CloudStack unmanages the NICs (NETWORK.OFFERING.REMOVE) before it publishes VM.STOP, then VM.DESTROY.
    ...stopping.filter((e) => e.type !== vmStop),
    ...stopping.filter((e) => e.type === vmStop),
    vmUsage('VM.DESTROY', instance, at),
  ];
}

export function decideUnmanageFailed(command: RecordUnmanageFailed, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'unmanage', command.jobId);
  if (isRejection(pending)) return pending;
  return [{ type: 'InstanceUnmanageFailed', data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason } }];
}

export { instanceFromImport };
