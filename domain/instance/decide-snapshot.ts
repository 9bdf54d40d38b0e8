// The instance's VM snapshots (behaviour §5.1): the rules that span an instance's snapshots are
// decided here, on the instance's one stream, so two conflicting requests cannot both pass under
// optimistic concurrency: how many it may have (`vmsnapshot.max`, every snapshot not removed), one
// snapshot task at a time, display names unique per instance, the chain and its `current` flag
// (../vmsnapshot/chain.ts), and the usage a snapshot's creation and deletion write. Each snapshot's own
// lifecycle is in its stream (../vmsnapshot/vmsnapshot.ts); the workflows move both.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import { vmSnapshotName } from '../shared/instance-name.js';
import { firstFailure, optionalText, requireName } from '../config/validation.js';
import { linkOf, type VMSnapshotLink } from '../vmsnapshot/chain.js';
import { vmSnapshotMessages as snapshotMessages } from '../vmsnapshot/messages.js';
import type {
  DestroyInstance,
  RecordVMSnapshotTaskFailed,
  RecordVMSnapshotTaskSucceeded,
  RequestVMSnapshot,
  RequestVMSnapshotDelete,
  RequestVMSnapshotRevert,
  UnmanageInstance,
} from './commands.js';
import { decideUnmanage } from './decide-import.js';
import { decideDestroy } from './decide-removal.js';
import type { AfterPurge, DestroyRequest, InstanceEvent, UnmanageRequest } from './events.js';
import { messages } from './messages.js';
import { Outcome } from './outcome.js';
import { rootVolumeOf, type Instance, type PendingOperation } from './state.js';
import { vmSnapshotUsage, vmUsage } from './usage.js';

/** CloudStack's limit on a snapshot's display name and description. */
export const VM_SNAPSHOT_TEXT_MAX = 255;

type SnapshotPending = Extract<PendingOperation, { kind: 'vmsnapshot' }>;

const snapshotTask = (instance: Instance): SnapshotPending | null => (instance.pending?.kind === 'vmsnapshot' ? instance.pending : null);

/** Another operation, or another snapshot task, holds the instance. */
function busy(instance: Instance): ReturnType<typeof reject> | null {
  if (snapshotTask(instance)) return reject('CONFLICT', snapshotMessages.activeTask);
  if (instance.pending !== null) return reject('INVALID_STATE', messages.busy(instance, instance.pending));
  return null;
}

/** The checks of `allocVMSnapshot`, in its order. */
export function decideRequestVMSnapshot(command: RequestVMSnapshot, instance: Instance): Decision<InstanceEvent> {
  const task = snapshotTask(instance);
  if (task?.jobId === command.jobId && task.vmSnapshotId === command.vmSnapshotId) return [];
  const name = freeName(instance, command.at);
  const displayName = command.displayName ?? name;
  if (displayName.length > VM_SNAPSHOT_TEXT_MAX) return reject('BAD_USER_INPUT', snapshotMessages.displayNameTooLong, 'name');
  if ((command.description ?? '').length > VM_SNAPSHOT_TEXT_MAX) return reject('BAD_USER_INPUT', snapshotMessages.descriptionTooLong, 'description');
  // The shared text rule: no control character, no blank or padded name (it becomes an event and a log line).
  const badText = firstFailure(requireName(displayName, 'name', 'VM snapshot name'), optionalText(command.description, 'description', 'VM snapshot description'));
  if (badText) return badText;
  if (instance.vmSnapshotChain.links.some((link) => link.displayName === displayName)) {
    return reject('CONFLICT', snapshotMessages.duplicateName(displayName), 'name');
  }
  if (instance.state !== 'Running' && instance.state !== 'Stopped') return reject('INVALID_STATE', snapshotMessages.instanceWrongState(instance.id));
  if (command.memory && instance.state !== 'Running') return reject('INVALID_STATE', snapshotMessages.memoryNotRunning, 'snapshotMemory');
  if (rootVolumeOf(instance)?.state !== 'Ready') return reject('INVALID_STATE', snapshotMessages.noRootVolume(instance.id));
  if (instance.vmSnapshotCount >= command.max) return reject('INVALID_STATE', snapshotMessages.overMaximum(command.max));
  const held = busy(instance);
  if (held) return held;
  return [
    {
      type: 'InstanceVMSnapshotRequested',
      data: {
        instanceId: instance.id,
        jobId: command.jobId,
        vmSnapshotId: command.vmSnapshotId,
        name,
        displayName,
        description: command.description,
        snapshotType: command.memory ? 'DiskAndMemory' : 'Disk',
        quiesce: command.quiesce,
        parentId: instance.vmSnapshotChain.currentId,
      },
    },
  ];
}

/**
 * CloudStack's name for a snapshot taken at `at`, a second later while one of the instance's
 * snapshots has it: the host takes an existing name as the snapshot already taken.
 */
function freeName(instance: Instance, at: string): string {
  const taken = new Set(instance.vmSnapshotChain.links.map((link) => link.name));
  let time = Date.parse(at);
  let name = vmSnapshotName(instance.instanceName, new Date(time));
  while (taken.has(name)) {
    time += 1000;
    name = vmSnapshotName(instance.instanceName, new Date(time));
  }
  return name;
}

/** The checks of `revertToSnapshot`, in its order. */
export function decideRequestVMSnapshotRevert(command: RequestVMSnapshotRevert, instance: Instance): Decision<InstanceEvent> {
  const link = linkOf(instance.vmSnapshotChain, command.vmSnapshotId);
  if (!link) return reject('NOT_FOUND', snapshotMessages.notFound(command.vmSnapshotId), 'vmSnapshotId');
  const task = snapshotTask(instance);
  if (task?.jobId === command.jobId && task.vmSnapshotId === link.id) return [];
  if (task) return reject('CONFLICT', snapshotMessages.activeTask);
  if (instance.state !== 'Running' && instance.state !== 'Stopped') return reject('INVALID_STATE', snapshotMessages.revertInstanceWrongState);
  const running = instance.state === 'Running';
  if (running !== (link.type === 'DiskAndMemory')) return reject('INVALID_STATE', snapshotMessages.revertTypeMismatch);
  if (link.status !== 'Ready') return reject('INVALID_STATE', snapshotMessages.revertNotReady);
  const held = busy(instance);
  if (held) return held;
  return [{ type: 'InstanceVMSnapshotRevertRequested', data: { instanceId: instance.id, jobId: command.jobId, vmSnapshotId: link.id } }];
}

/** The checks of `deleteVMSnapshot`, in its order. */
export function decideRequestVMSnapshotDelete(command: RequestVMSnapshotDelete, instance: Instance): Decision<InstanceEvent> {
  const link = linkOf(instance.vmSnapshotChain, command.vmSnapshotId);
  if (!link) return reject('NOT_FOUND', snapshotMessages.notFound(command.vmSnapshotId), 'vmSnapshotId');
  const task = snapshotTask(instance);
  if (task?.jobId === command.jobId && task.vmSnapshotId === link.id) return [];
  if (link.status !== 'Ready' && link.status !== 'Error' && link.status !== 'Expunging') {
    return reject('INVALID_STATE', snapshotMessages.deleteWrongState(link.displayName));
  }
  const held = busy(instance);
  if (held) return held;
  return [{ type: 'InstanceVMSnapshotDeleteRequested', data: { instanceId: instance.id, jobId: command.jobId, vmSnapshotId: link.id } }];
}

/** The instance as it will be once its snapshots are gone: what the work a purge is for is checked against. */
const withoutSnapshots = (instance: Instance): Instance => ({ ...instance, vmSnapshotChain: { links: [], currentId: null }, vmSnapshotIds: [], vmSnapshotCount: 0 });

/** The destroy or unmanage a purge is for, decided as its own command would be. */
function decideAfterPurge(then: AfterPurge, instance: Instance, jobId: string, at: string): Decision<InstanceEvent> {
  const about = { instanceId: instance.id, jobId, at, caller: then.caller };
  if (then.action === 'unmanage') return decideUnmanage({ type: 'UnmanageInstance', ...about, preserveNics: then.preserveNics }, instance);
  const { expunge, volumeIds, forceStop, allowUserExpungeRecoverVm } = then;
  return decideDestroy({ type: 'DestroyInstance', ...about, expunge, volumeIds, forceStop, allowUserExpungeRecoverVm }, instance);
}

/**
 * A destroy or an unmanage of an instance with snapshots: every check of it happens now, then the
 * snapshots are deleted (with their usage) before it goes on, as CloudStack does: bug #3212 was a
 * destroyed instance whose snapshots went on being billed, and an unmanaged instance's go with it
 * (§4.8). Null when the instance has none: the command is decided as it is.
 */
function decidePurgeBefore(then: AfterPurge, command: { readonly jobId: string; readonly at: string }, instance: Instance): Decision<InstanceEvent> | null {
  if (instance.vmSnapshotCount === 0 || !['Running', 'Stopped', 'Error'].includes(instance.state)) return null;
  const task = snapshotTask(instance);
  if (task?.task === 'purge' && task.jobId === command.jobId) return [];
  const checked = decideAfterPurge(then, withoutSnapshots(instance), command.jobId, command.at);
  if (isRejection(checked)) return checked;
  const held = busy(instance);
  if (held) return held;
  return [{ type: 'InstanceVMSnapshotsPurgeRequested', data: { instanceId: instance.id, jobId: command.jobId, vmSnapshotIds: instance.vmSnapshotIds, then } }];
}

/** Every destroy, the API's and an expired lease's: the snapshots first, when the instance has any. */
export function decideDestroyWithSnapshots(command: DestroyInstance, instance: Instance): Decision<InstanceEvent> {
  const { caller, expunge, volumeIds, forceStop, allowUserExpungeRecoverVm } = command;
  const then: DestroyRequest = { action: 'destroy', caller, expunge, volumeIds, forceStop, allowUserExpungeRecoverVm };
  return decidePurgeBefore(then, command, instance) ?? decideDestroy(command, instance);
}

/**
 * unmanageVirtualMachine: the snapshots first, when the instance has any. CloudStack only drops them
 * from its database; here they are deleted on the host too, since the domain stays there and its
 * snapshot metadata must not name snapshots whose usage vmledger closed.
 */
export function decideUnmanageWithSnapshots(command: UnmanageInstance, instance: Instance): Decision<InstanceEvent> {
  const then: UnmanageRequest = { action: 'unmanage', caller: command.caller, preserveNics: command.preserveNics };
  return decidePurgeBefore(then, command, instance) ?? decideUnmanage(command, instance);
}

function expectTask(instance: Instance, jobId: string, vmSnapshotId: string): { task: SnapshotPending; link: VMSnapshotLink } | null {
  const task = snapshotTask(instance);
  const link = linkOf(instance.vmSnapshotChain, vmSnapshotId);
  if (!task || task.jobId !== jobId || !link) return null;
  if (task.task !== 'purge' && task.vmSnapshotId !== vmSnapshotId) return null;
  return { task, link };
}

export function decideVMSnapshotTaskSucceeded(command: RecordVMSnapshotTaskSucceeded, instance: Instance): Decision<InstanceEvent> {
  const held = expectTask(instance, command.jobId, command.vmSnapshotId);
  // Already recorded (a workflow step repeated after a crash), or a stale answer: nothing to add.
  if (!held) return [];
  const { task, link } = held;
  const about = { instanceId: instance.id, jobId: command.jobId, vmSnapshotId: link.id };
  const outcome = new Outcome(instance);
  const facts = command.snapshot;
  switch (task.task) {
    case 'create':
      outcome.add({ type: 'InstanceVMSnapshotCreated', data: { ...about, sizeBytes: facts.sizeBytes } });
      outcome.add(...vmSnapshotUsage('created', outcome.state, { id: link.id, name: facts.name, sizeBytes: facts.sizeBytes }, command.at));
      return outcome.events;
    case 'revert': {
      outcome.add({ type: 'InstanceVMSnapshotReverted', data: about });
      restoreOffering(outcome, command);
      return outcome.events;
    }
    case 'delete':
    case 'purge': {
      outcome.add({ type: 'InstanceVMSnapshotDeleted', data: about });
      if (link.billed) outcome.add(...vmSnapshotUsage('deleted', outcome.state, { id: link.id, name: facts.name, sizeBytes: link.sizeBytes }, command.at));
      if (task.task === 'purge' && outcome.state.vmSnapshotCount === 0 && task.then) continueAfterPurge(outcome, task.then, command);
      return outcome.events;
    }
  }
}

/** Reverted: the instance takes back the offering and size it had when the snapshot was taken. */
function restoreOffering(outcome: Outcome, command: RecordVMSnapshotTaskSucceeded): void {
  const { serviceOffering, compute } = command.snapshot;
  const now = outcome.state;
  const same =
    serviceOffering.id === now.serviceOfferingId && compute.cpuNumber === now.cpuNumber && compute.cpuSpeed === now.cpuSpeed && compute.memory === now.memory;
  if (same) return;
  outcome.add({
    type: 'InstanceServiceOfferingChanged',
    data: {
      instanceId: now.id,
      serviceOffering,
      ...compute,
      haEnabled: serviceOffering.offerHa,
      dynamicallyScalable: now.template.dynamicallyScalable && serviceOffering.dynamicScalingEnabled,
    },
  });
  outcome.add(vmUsage(now.state === 'Running' ? 'VM.DYNAMIC.SCALE' : 'VM.UPGRADE', outcome.state, command.at));
}

/** The last snapshot is gone: the destroy or unmanage the purge was for goes on, in the same decision. */
function continueAfterPurge(outcome: Outcome, then: AfterPurge, command: RecordVMSnapshotTaskSucceeded): void {
  const instance = { ...outcome.state, pending: null };
  const decided = decideAfterPurge(then, instance, command.jobId, command.at);
  if (isRejection(decided)) {
    outcome.add({ type: 'InstanceVMSnapshotTaskFailed', data: { instanceId: instance.id, jobId: command.jobId, vmSnapshotId: command.vmSnapshotId, task: 'purge', reason: decided.message, status: 'Error' } });
    return;
  }
  // Its stop request, its destroy or its unmanage request takes the place of the purge as the instance's pending work.
  outcome.add(...decided);
}

export function decideVMSnapshotTaskFailed(command: RecordVMSnapshotTaskFailed, instance: Instance): Decision<InstanceEvent> {
  const held = expectTask(instance, command.jobId, command.vmSnapshotId);
  if (!held) return [];
  const { task, link } = held;
  const reason = task.task === 'purge' ? `${purgeFailed(instance.name, task.then)}: ${command.reason}` : command.reason;
  return [
    {
      type: 'InstanceVMSnapshotTaskFailed',
      data: {
        instanceId: instance.id,
        jobId: command.jobId,
        vmSnapshotId: link.id,
        task: task.task,
        reason,
        status: task.task === 'revert' ? 'Ready' : 'Error',
      },
    },
  ];
}

/** CloudStack's words for a destroy's; an unmanage's says too that the instance stays managed. */
function purgeFailed(name: string, then: AfterPurge | null): string {
  return then?.action === 'unmanage' ? snapshotMessages.purgeBeforeUnmanageFailed(name) : snapshotMessages.purgeFailed(name);
}
