// restoreVirtualMachine (reinstall): a new ROOT volume from the same or another template replaces the
// old one. A running instance is stopped first and started again once the disk is swapped.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { RestoreInstance } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import type { TemplateSnapshot, Volume } from './model.js';
import { Outcome, expectMove } from './outcome.js';
import { rootVolumeOf, type Instance } from './state.js';
import { volumeCreated, volumeDeleted } from './usage.js';

export interface RestorePlan {
  readonly jobId: string;
  readonly template: TemplateSnapshot;
  readonly rootVolume: Volume;
  readonly expungeOldRoot: boolean;
  readonly at: string;
}

/** Swaps the ROOT volume of a stopped instance; the caller has checked the old root may go. */
export function restoreStopped(outcome: Outcome, plan: RestorePlan): void {
  const before = outcome.state;
  const oldRoot = rootVolumeOf(before);
  if (!oldRoot) return;
  outcome.add({
    type: 'InstanceRestored',
    data: {
      instanceId: before.id,
      jobId: plan.jobId,
      template: plan.template,
      oldRootVolumeId: oldRoot.id,
      rootVolume: plan.rootVolume,
      expungeOldRoot: plan.expungeOldRoot,
      dynamicallyScalable: plan.template.dynamicallyScalable && before.serviceOffering.dynamicScalingEnabled,
    },
  });
  // CloudStack writes VOLUME.CREATE for the new root but never VOLUME.DELETE for the replaced one, so
  // its usage server bills the old root forever (behaviour §2.3). We close it.
  outcome.add(volumeCreated(outcome.state, plan.rootVolume, plan.at), volumeDeleted(before, oldRoot, plan.at));
}

export function decideRestore(command: RestoreInstance, instance: Instance): Decision<InstanceEvent> {
  if (instance.state !== 'Running' && instance.state !== 'Stopped') {
    return reject('INVALID_STATE', messages.restoreWrongState(instance));
  }
  if (instance.pending !== null) return reject('INVALID_STATE', messages.busy(instance, instance.pending));
  const oldRoot = rootVolumeOf(instance);
  if (!oldRoot) return reject('BAD_USER_INPUT', messages.restoreNoRoot(instance));
  if (instance.vmSnapshotCount > 0) return reject('INVALID_STATE', messages.restoreWithSnapshots);
  if (command.rootVolume.size < command.template.size) {
    return reject('BAD_USER_INPUT', messages.rootSmallerThanTemplate(command.rootVolume.size, command.template.size), 'rootDiskSize');
  }
  if (instance.volumes.some((v) => v.id === command.rootVolume.id)) {
    return reject('BAD_USER_INPUT', messages.duplicateId('Volume', command.rootVolume.id), 'rootVolume');
  }
  if (oldRoot.deleteProtection) return reject('BAD_USER_INPUT', messages.volumeProtected(oldRoot.id, oldRoot.name));

  const spec = command.rootVolume;
  const rootVolume: Volume = {
    id: spec.id,
    name: spec.name,
    size: spec.size,
    storagePoolId: spec.storagePoolId,
    diskOfferingId: spec.diskOfferingId,
    type: 'ROOT',
    templateId: command.template.id,
    // A root never written to (startVm=false, never started) is replaced by another unwritten one.
    state: oldRoot.state === 'Allocated' ? 'Allocated' : 'Ready',
    deleteProtection: false,
  };
  if (instance.state === 'Stopped') {
    const outcome = new Outcome(instance);
    restoreStopped(outcome, {
      jobId: command.jobId,
      template: command.template,
      rootVolume,
      expungeOldRoot: command.expunge,
      at: command.at,
    });
    return outcome.events;
  }
  const to = expectMove(instance, 'StopRequested', 'Stopping');
  if (isRejection(to)) return to;
  return [
    {
      type: 'InstanceStopRequested',
      data: {
        instanceId: instance.id,
        jobId: command.jobId,
        forced: false,
        afterStop: { action: 'restore', jobId: command.jobId, template: command.template, rootVolume, expungeOldRoot: command.expunge },
        state: to,
      },
    },
  ];
}
