// migrateVirtualMachineWithVolume of a stopped instance: reserve the space on the destination pools,
// have the host the instance is defined on copy the volumes there (and remove the originals), record
// the outcome. `finish` then gives the source pools' space back (or, failed, the destination's).
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import { settle } from './agent-outcome.js';
import { CAPACITY_PREFIX } from './finish.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

export const storageMigrationPhase: Phase<'storageMigration'> = ({ job, instance, now, timeouts }, pending) => {
  const jobId = job.jobId;
  const fail = (reason: string): InstanceCommand => ({ type: 'RecordVolumeMigrationFailed', instanceId: instance.id, jobId, at: now, reason });
  const last = lastCommandOf(job, 'storageMigration');
  if (!last) {
    const moving = pending.migrations.map((m) => ({ migration: m, volume: instance.volumes.find((v) => v.id === m.volumeId) }));
    const gone = moving.find((m) => !m.volume);
    if (gone) return { kind: 'record', command: fail(`volume ${gone.migration.volumeId} is no longer the instance's`) };
    return {
      kind: 'issue',
      phase: 'storageMigration',
      command: {
        type: 'CopyVolumes',
        hostId: pending.hostId,
        instanceId: instance.id,
        instanceName: instance.instanceName,
        volumes: moving.map(({ migration, volume }) => ({
          volumeId: volume!.id,
          type: volume!.type,
          size: volume!.size,
          templateId: volume!.templateId,
          fromPath: migration.fromPath,
          toPath: migration.toPath,
        })),
      },
      timeoutMs: timeouts.agentMs,
      reserveStorage: moving.map(({ migration, volume }) => ({ poolId: migration.toPoolId, volumeId: volume!.id, bytes: volume!.size })),
      onRefused: { record: (reason) => fail(`${CAPACITY_PREFIX}${reason}`) },
      step: 'MIGRATING',
    };
  }
  return settle(last, { ok: { type: 'RecordVolumesMigrated', instanceId: instance.id, jobId, at: now }, failed: fail, host: pending.hostId, timeoutMs: timeouts.agentMs });
};

export const migrateVolumesWorkflow: Workflow = {
  cmd: 'migrateVirtualMachineWithVolume',
  resourceType: 'VirtualMachine',
  steps: [{ step: 'MIGRATING', progress: 30 }],
  compensation: ['give-back-capacity'],
  decide: phased({ storageMigration: storageMigrationPhase }),
};
