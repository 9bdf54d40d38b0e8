// migrateVirtualMachineWithVolume of a stopped instance (offline storage migration, root admin only):
// Stopped --StorageMigrationRequested--> Migrating while its host copies the volumes to the new pools,
// then always Migrating --AgentReportStopped--> Stopped, moved or not (CloudStack's
// orchestrateStorageMigration). Whether the pools reach the host and have the space is the
// application's to check against the pools; the pools' streams hold the reservations.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { MigrateVolumes, RecordVolumeMigrationFailed, RecordVolumesMigrated } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import { expectMove, expectPending } from './outcome.js';
import type { Instance } from './state.js';

export function decideMigrateVolumes(command: MigrateVolumes, instance: Instance): Decision<InstanceEvent> {
  if (command.caller.role !== 'ROOT_ADMIN') return reject('FORBIDDEN', messages.migrateForbidden);
  if (instance.pending !== null) return reject('INVALID_STATE', messages.busy(instance, instance.pending));
  if (instance.state !== 'Stopped') return reject('INVALID_STATE', messages.volumeMigrationNotStopped(instance));
  // CloudStack (VolumeApiServiceImpl.migrateVolume): a disk with VM snapshots is not moved.
  if (instance.vmSnapshotIds.length > 0) return reject('INVALID_STATE', messages.volumeMigrationWithSnapshots);
  if (command.migrations.length === 0) return reject('BAD_USER_INPUT', 'migrateTo must name at least one volume', 'migrateTo');
  const seen = new Set<string>();
  const migrations = [];
  for (const [i, migration] of command.migrations.entries()) {
    const field = `migrateTo[${i}].volume`;
    const volume = instance.volumes.find((v) => v.id === migration.volumeId);
    if (!volume || volume.state === 'Destroy' || volume.state === 'Expunged') {
      return reject('BAD_USER_INPUT', `Volume ${migration.volumeId} is not a volume of virtual machine ${instance.id}`, field);
    }
    if (seen.has(volume.id)) return reject('BAD_USER_INPUT', messages.duplicateId('Volume', volume.id), field);
    seen.add(volume.id);
    if (volume.state !== 'Ready' || volume.storagePoolId === null) {
      return reject('INVALID_STATE', `Volume ${volume.name} has not been created on a storage pool yet; start the instance first`, field);
    }
    if (volume.storagePoolId === migration.storagePoolId) {
      return reject('BAD_USER_INPUT', `Volume ${volume.name} is already on storage pool ${migration.storagePoolId}`, `migrateTo[${i}].pool`);
    }
    migrations.push({ volumeId: volume.id, fromPoolId: volume.storagePoolId, toPoolId: migration.storagePoolId, fromPath: migration.fromPath, toPath: migration.toPath });
  }
  const to = expectMove(instance, 'StorageMigrationRequested', 'Migrating');
  if (isRejection(to)) return to;
  return [{ type: 'InstanceVolumeMigrationRequested', data: { instanceId: instance.id, jobId: command.jobId, hostId: command.hostId, migrations, state: to } }];
}

export function decideVolumesMigrated(command: RecordVolumesMigrated, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'storageMigration', command.jobId);
  if (isRejection(pending)) return pending;
  const to = expectMove(instance, 'AgentReportStopped', 'Stopped');
  if (isRejection(to)) return to;
  const migrations = pending.migrations.map(({ volumeId, fromPoolId, toPoolId }) => ({ volumeId, fromPoolId, toPoolId }));
  return [{ type: 'InstanceVolumesMigrated', data: { instanceId: instance.id, jobId: command.jobId, migrations, state: to } }];
}

export function decideVolumeMigrationFailed(command: RecordVolumeMigrationFailed, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'storageMigration', command.jobId);
  if (isRejection(pending)) return pending;
  const to = expectMove(instance, 'AgentReportStopped', 'Stopped');
  if (isRejection(to)) return to;
  return [{ type: 'InstanceVolumeMigrationFailed', data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason, state: to } }];
}
