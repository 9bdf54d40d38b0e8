// migrateVirtualMachine (live migration, root admin only) and its outcomes. Migration moves no usage:
// the instance runs throughout (behaviour §2.3).
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { MigrateInstance, RecordMigrationFailed, RecordMigrationSucceeded } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import { expectMove, expectPending } from './outcome.js';
import type { Instance } from './state.js';
import { vmSnapshotMessages } from '../vmsnapshot/messages.js';

export function decideMigrate(command: MigrateInstance, instance: Instance): Decision<InstanceEvent> {
  if (command.caller.role !== 'ROOT_ADMIN') return reject('FORBIDDEN', messages.migrateForbidden);
  if (instance.state !== 'Running') return reject('INVALID_STATE', messages.migrateNotRunning(instance));
  if (instance.pending !== null) return reject('INVALID_STATE', messages.busy(instance, instance.pending));
  // libvirt keeps internal snapshots' metadata on the source host: refused rather than lost (issue 14).
  if (instance.vmSnapshotCount > 0) return reject('INVALID_STATE', vmSnapshotMessages.migrateWithSnapshots);
  if (command.targetHostId === instance.hostId) return reject('BAD_USER_INPUT', messages.migrateSameHost, 'hostId');
  const to = expectMove(instance, 'MigrationRequested', 'Migrating');
  if (isRejection(to)) return to;
  return [
    {
      type: 'InstanceMigrationRequested',
      data: {
        instanceId: instance.id,
        jobId: command.jobId,
        sourceHostId: instance.hostId,
        targetHostId: command.targetHostId,
        state: to,
      },
    },
  ];
}

export function decideMigrationSucceeded(command: RecordMigrationSucceeded, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationSucceeded', 'Running');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'migrate', command.jobId);
  if (isRejection(pending)) return pending;
  return [
    {
      type: 'InstanceMigrated',
      data: { instanceId: instance.id, jobId: command.jobId, sourceHostId: pending.sourceHostId, hostId: command.hostId, state: to, settledAt: command.at },
    },
  ];
}

export function decideMigrationFailed(command: RecordMigrationFailed, instance: Instance): Decision<InstanceEvent> {
  const to = expectMove(instance, 'OperationFailed', 'Running');
  if (isRejection(to)) return to;
  const pending = expectPending(instance, 'migrate', command.jobId);
  if (isRejection(pending)) return pending;
  return [{ type: 'InstanceMigrationFailed', data: { instanceId: instance.id, jobId: command.jobId, reason: command.reason, state: to, settledAt: command.at } }];
}
