// destroyVirtualMachine, recoverVirtualMachine, expungeVirtualMachine and the expunge outcomes.
import { isRejection, reject, type Decision, type Rejection } from '../shared/decider.js';
import type { DestroyInstance, ExpungeInstance, RecordExpunged, RecordExpungeFailed, RecoverInstance } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import type { InstanceCaller } from './model.js';
import { Outcome, expectMove } from './outcome.js';
import { rootVolumeOf, type Instance } from './state.js';
import { vmUsage, volumeCreated, volumeDeleted } from './usage.js';

const mayExpungeOrRecover = (caller: InstanceCaller, allowed: boolean) => caller.role !== 'USER' || allowed;

export interface DestroyPlan {
  readonly jobId: string;
  readonly expunge: boolean;
  readonly volumeIds: readonly string[];
  readonly at: string;
}

/**
 * Stopped → Destroyed: ROOT and the listed data disks are deleted, the other data disks are detached
 * and kept, VM snapshots go with the instance (non-VMware CloudStack deletes them at destroy).
 */
export function destroyStopped(outcome: Outcome, plan: DestroyPlan): void {
  const before = outcome.state;
  const listed = new Set(plan.volumeIds);
  const deleted = before.volumes.filter((v) => v.state !== 'Destroy' && (v.type === 'ROOT' || listed.has(v.id)));
  const detached = before.volumes.filter((v) => v.type === 'DATADISK' && !listed.has(v.id));
  outcome.add({
    type: 'InstanceDestroyed',
    data: {
      instanceId: before.id,
      jobId: plan.jobId,
      expunge: plan.expunge,
      deletedVolumeIds: deleted.map((v) => v.id),
      detachedVolumeIds: detached.map((v) => v.id),
      deletedVmSnapshotIds: before.vmSnapshotIds,
      state: 'Destroyed',
    },
  });
  outcome.add(vmUsage('VM.DESTROY', outcome.state, plan.at), ...deleted.map((v) => volumeDeleted(before, v, plan.at)));
  if (plan.expunge) {
    outcome.add({ type: 'InstanceExpungeRequested', data: { instanceId: before.id, jobId: plan.jobId, state: 'Expunging' } });
  }
}

function checkVolumeIds(instance: Instance, volumeIds: readonly string[]): Rejection | null {
  const attached = new Map(instance.volumes.filter((v) => v.type === 'DATADISK').map((v) => [v.id, v]));
  const strangers = volumeIds.filter((id) => !attached.has(id));
  if (strangers.length > 0) return reject('BAD_USER_INPUT', messages.notDataDisks(strangers), 'volumeIds');
  const protectedVolume = volumeIds.map((id) => attached.get(id)).find((v) => v?.deleteProtection);
  if (protectedVolume) {
    return reject('BAD_USER_INPUT', messages.volumeProtectedOnDestroy(protectedVolume.id, protectedVolume.name), 'volumeIds');
  }
  return null;
}

/**
 * A running instance is destroyed by stopping it with the destroy as the stop's promised follow-up:
 * every check happens now, before anything is stopped, and the destroy lands in the same decision as
 * the stop's outcome. A stop that fails leaves the instance Running and the destroy job failed.
 */
export function decideDestroy(command: DestroyInstance, instance: Instance): Decision<InstanceEvent> {
  if (command.expunge && !mayExpungeOrRecover(command.caller, command.allowUserExpungeRecoverVm)) {
    return reject('FORBIDDEN', messages.noExpungePermission, 'expunge');
  }
  const state = instance.state;
  if ((state === 'Destroyed' || state === 'Expunging') && !command.expunge) return [];
  if (instance.deleteProtection) return reject('BAD_USER_INPUT', messages.deleteProtected(instance));
  const badVolumes = checkVolumeIds(instance, command.volumeIds);
  if (badVolumes) return badVolumes;

  const outcome = new Outcome(instance);
  switch (state) {
    case 'Stopped': {
      const to = expectMove(instance, 'DestroyRequested', 'Destroyed');
      if (isRejection(to)) return to;
      destroyStopped(outcome, { jobId: command.jobId, expunge: command.expunge, volumeIds: command.volumeIds, at: command.at });
      return outcome.events;
    }
    case 'Running': {
      const to = expectMove(instance, 'StopRequested', 'Stopping');
      if (isRejection(to)) return to;
      return [
        {
          type: 'InstanceStopRequested',
          data: {
            instanceId: instance.id,
            jobId: command.jobId,
            forced: command.forceStop,
            afterStop: { action: 'destroy', jobId: command.jobId, expunge: command.expunge, volumeIds: command.volumeIds },
            state: to,
          },
        },
      ];
    }
    case 'Error': {
      // Its volumes and usage ended when it entered Error; destroying it only hands it to the expunger.
      const to = expectMove(instance, 'DestroyRequested', 'Expunging');
      if (isRejection(to)) return to;
      return [
        {
          type: 'InstanceDestroyed',
          data: {
            instanceId: instance.id,
            jobId: command.jobId,
            expunge: true,
            deletedVolumeIds: [],
            detachedVolumeIds: [],
            deletedVmSnapshotIds: instance.vmSnapshotIds,
            state: to,
          },
        },
      ];
    }
    case 'Destroyed':
    case 'Expunging': {
      const to = expectMove(instance, 'ExpungeOperation', 'Expunging');
      if (isRejection(to)) return to;
      return [{ type: 'InstanceExpungeRequested', data: { instanceId: instance.id, jobId: command.jobId, state: to } }];
    }
    default:
      return reject('INVALID_STATE', messages.cannot(instance, 'destroy'));
  }
}

export function decideRecover(command: RecoverInstance, instance: Instance): Decision<InstanceEvent> {
  if (!mayExpungeOrRecover(command.caller, command.allowUserExpungeRecoverVm)) {
    return reject('FORBIDDEN', messages.recoverForbidden);
  }
  const to = expectMove(instance, 'RecoveryRequested', 'Stopped', messages.notInRightState(instance));
  if (isRejection(to)) return to;
  const root = rootVolumeOf(instance);
  const outcome = new Outcome(instance).add({
    type: 'InstanceRecovered',
    data: { instanceId: instance.id, rootVolumeId: root?.id ?? null, state: to },
  });
  outcome.add(vmUsage('VM.CREATE', outcome.state, command.at));
  const recoveredRoot = rootVolumeOf(outcome.state);
  if (recoveredRoot) outcome.add(volumeCreated(outcome.state, recoveredRoot, command.at));
  return outcome.events;
}

export function decideExpunge(command: ExpungeInstance, instance: Instance): Decision<InstanceEvent> {
  if (!mayExpungeOrRecover(command.caller, command.allowUserExpungeRecoverVm)) {
    return reject('FORBIDDEN', messages.expungeForbidden);
  }
  if (instance.expunged) return [];
  const state = instance.state;
  if (state !== 'Destroyed' && state !== 'Expunging' && state !== 'Error') {
    return reject('INVALID_STATE', messages.destroyBeforeExpunge);
  }
  const to = expectMove(instance, 'ExpungeOperation', 'Expunging');
  if (isRejection(to)) return to;
  return [{ type: 'InstanceExpungeRequested', data: { instanceId: instance.id, jobId: null, state: to } }];
}

export function decideRecordExpunged(_command: RecordExpunged, instance: Instance): Decision<InstanceEvent> {
  if (instance.expunged) return [];
  if (instance.state !== 'Expunging') return reject('INVALID_STATE', messages.cannot(instance, 'record the expunge of'));
  return [{ type: 'InstanceExpunged', data: { instanceId: instance.id } }];
}

export function decideRecordExpungeFailed(command: RecordExpungeFailed, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationFailed', 'Expunging');
  if (isRejection(to)) return to;
  return [{ type: 'InstanceExpungeFailed', data: { instanceId: instance.id, reason: command.reason, state: to } }];
}
