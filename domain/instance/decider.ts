// The instance aggregate: one stream per instance, deciding every command against the §1.3 machine.
import { reject, type Decider, type Decision } from '../shared/decider.js';
import type { InstanceCommand } from './commands.js';
import { decideAgentReport } from './decide-agent-report.js';
import { decideAbandonDeployment, decideDeploy } from './decide-deploy.js';
import { decideImport, decideImported, decideImportFailed, decideUnmanaged, decideUnmanageFailed } from './decide-import.js';
import { decideMigrate, decideMigrationFailed, decideMigrationSucceeded } from './decide-migrate.js';
import {
  decideChangeServiceOffering,
  decideScale,
  decideScaleFailed,
  decideScaleSucceeded,
} from './decide-offering.js';
import { decideReboot, decideRebootFailed, decideRebootSucceeded } from './decide-reboot.js';
import {
  decideExpunge,
  decideRecordExpunged,
  decideRecordExpungeFailed,
  decideRecover,
} from './decide-removal.js';
import { decideRestore } from './decide-restore.js';
import {
  decideDestroyWithSnapshots,
  decideRequestVMSnapshot,
  decideRequestVMSnapshotDelete,
  decideRequestVMSnapshotRevert,
  decideUnmanageWithSnapshots,
  decideVMSnapshotTaskFailed,
  decideVMSnapshotTaskSucceeded,
} from './decide-snapshot.js';
import { vmSnapshotMessages } from '../vmsnapshot/messages.js';
import { decideStart, decideStartFailed, decideStartRetried, decideStartSucceeded } from './decide-start.js';
import { decideStop, decideStopFailed, decideStopSucceeded } from './decide-stop.js';
import { decideUpdate, decideUpdateVolume } from './decide-update.js';
import { decideLeaveAffinityGroup, decideUpdateAffinityGroups } from './decide-affinity.js';
import { decideVolumesPlaced } from './decide-volumes.js';
import { decideMigrateVolumes, decideVolumeMigrationFailed, decideVolumesMigrated } from './decide-volume-migration.js';
import { decideScheduledAction } from './decide-schedule.js';
import { decideActOnLease, decideAnnounceLeaseExpiry, decideCancelLease } from './decide-lease.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import { evolveInstance, initialInstanceState, type Instance, type InstanceState } from './state.js';

/**
 * What a VM snapshot task keeps off the instance while it runs (behaviour §5.1): the task works on
 * the domain and its disks as they are, and its job settles the instance.
 */
const HELD_BY_SNAPSHOT_TASK = new Set<InstanceCommand['type']>([
  'StartInstance',
  'StopInstance',
  'RebootInstance',
  'MigrateInstance',
  'ScaleInstance',
  'ChangeServiceOffering',
  'RestoreInstance',
  'RunScheduledAction',
]);

/** Commands that still mean something once the instance is expunged: repeating the expunge. */
const AFTER_EXPUNGE = new Set<InstanceCommand['type']>(['ExpungeInstance', 'RecordExpunged']);

export function decideInstance(command: InstanceCommand, state: InstanceState): Decision<InstanceEvent> {
  if (command.type === 'DeployInstance') return decideDeploy(command, state);
  if (command.type === 'ImportInstance') return decideImport(command, state);
  if (command.type === 'AbandonDeployment') return decideAbandonDeployment(command, state);
  if (!state.exists || state.id !== command.instanceId) return reject('NOT_FOUND', messages.notFound(command.instanceId));
  // A user sees only its own account's instances; anything else does not exist for it.
  if ('caller' in command && command.caller.role === 'USER' && command.caller.accountId !== state.accountId) {
    return reject('NOT_FOUND', messages.notFound(command.instanceId));
  }
  if (state.expunged && !AFTER_EXPUNGE.has(command.type)) return reject('NOT_FOUND', messages.notFound(command.instanceId));
  return decideExisting(command, state);
}

function decideExisting(command: Exclude<InstanceCommand, { type: 'DeployInstance' | 'AbandonDeployment' | 'ImportInstance' }>, instance: Instance): Decision<InstanceEvent> {
  if (instance.pending?.kind === 'vmsnapshot' && HELD_BY_SNAPSHOT_TASK.has(command.type)) {
    const refusal = command.type === 'RebootInstance' ? vmSnapshotMessages.rebootWithActiveTask(instance.name) : vmSnapshotMessages.activeTask;
    return reject('INVALID_STATE', refusal);
  }
  switch (command.type) {
    case 'RecordImported':
      return decideImported(command, instance);
    case 'RecordImportFailed':
      return decideImportFailed(command, instance);
    case 'UnmanageInstance':
      return decideUnmanageWithSnapshots(command, instance);
    case 'RecordUnmanaged':
      return decideUnmanaged(command, instance);
    case 'RecordUnmanageFailed':
      return decideUnmanageFailed(command, instance);
    case 'StartInstance':
      return decideStart(command, instance);
    case 'StopInstance':
      return decideStop(command, instance);
    case 'RebootInstance':
      return decideReboot(command, instance);
    case 'DestroyInstance':
      return decideDestroyWithSnapshots(command, instance);
    case 'RecoverInstance':
      return decideRecover(command, instance);
    case 'ExpungeInstance':
      return decideExpunge(command, instance);
    case 'MigrateInstance':
      return decideMigrate(command, instance);
    case 'UpdateInstance':
      return decideUpdate(command, instance);
    case 'UpdateAffinityGroups':
      return decideUpdateAffinityGroups(command, instance);
    case 'LeaveAffinityGroup':
      return decideLeaveAffinityGroup(command, instance);
    case 'ActOnLease':
      return decideActOnLease(command, instance);
    case 'AnnounceLeaseExpiry':
      return decideAnnounceLeaseExpiry(command, instance);
    case 'CancelLease':
      return decideCancelLease(command, instance);
    case 'RunScheduledAction':
      return decideScheduledAction(command, instance);
    case 'UpdateVolume':
      return decideUpdateVolume(command, instance);
    case 'ChangeServiceOffering':
      return decideChangeServiceOffering(command, instance);
    case 'ScaleInstance':
      return decideScale(command, instance);
    case 'RestoreInstance':
      return decideRestore(command, instance);
    case 'RecordStartSucceeded':
      return decideStartSucceeded(command, instance);
    case 'RecordStartRetried':
      return decideStartRetried(command, instance);
    case 'RecordStartFailed':
      return decideStartFailed(command, instance);
    case 'RecordVolumesPlaced':
      return decideVolumesPlaced(command, instance);
    case 'MigrateVolumes':
      return decideMigrateVolumes(command, instance);
    case 'RecordVolumesMigrated':
      return decideVolumesMigrated(command, instance);
    case 'RecordVolumeMigrationFailed':
      return decideVolumeMigrationFailed(command, instance);
    case 'RecordStopSucceeded':
      return decideStopSucceeded(command, instance);
    case 'RecordStopFailed':
      return decideStopFailed(command, instance);
    case 'RecordRebootSucceeded':
      return decideRebootSucceeded(command, instance);
    case 'RecordRebootFailed':
      return decideRebootFailed(command, instance);
    case 'RecordMigrationSucceeded':
      return decideMigrationSucceeded(command, instance);
    case 'RecordMigrationFailed':
      return decideMigrationFailed(command, instance);
    case 'RecordScaleSucceeded':
      return decideScaleSucceeded(command, instance);
    case 'RecordScaleFailed':
      return decideScaleFailed(command, instance);
    case 'RecordExpunged':
      return decideRecordExpunged(command, instance);
    case 'RecordExpungeFailed':
      return decideRecordExpungeFailed(command, instance);
    case 'RecordAgentReport':
      return decideAgentReport(command, instance);
    case 'RequestVMSnapshot':
      return decideRequestVMSnapshot(command, instance);
    case 'RequestVMSnapshotRevert':
      return decideRequestVMSnapshotRevert(command, instance);
    case 'RequestVMSnapshotDelete':
      return decideRequestVMSnapshotDelete(command, instance);
    case 'RecordVMSnapshotTaskSucceeded':
      return decideVMSnapshotTaskSucceeded(command, instance);
    case 'RecordVMSnapshotTaskFailed':
      return decideVMSnapshotTaskFailed(command, instance);
  }
}

export const instanceDecider: Decider<InstanceCommand, InstanceState, InstanceEvent> = {
  initialState: initialInstanceState,
  decide: decideInstance,
  evolve: evolveInstance,
};
