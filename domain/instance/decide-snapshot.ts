// The instance keeps count of its VM snapshots, reported by the snapshot workflow, because restore
// (and volume changes) are refused while any exist (behaviour §5.1).
import { reject, type Decision } from '../shared/decider.js';
import type { RecordSnapshotCreated, RecordSnapshotDeleted } from './commands.js';
import type { InstanceEvent } from './events.js';
import { messages } from './messages.js';
import type { Instance } from './state.js';

export function decideSnapshotCreated(command: RecordSnapshotCreated, instance: Instance): Decision<InstanceEvent> {
  if (instance.state !== 'Running' && instance.state !== 'Stopped') {
    return reject('INVALID_STATE', messages.snapshotWrongState(instance));
  }
  if (instance.vmSnapshotIds.includes(command.vmSnapshotId)) return [];
  return [{ type: 'InstanceSnapshotCreated', data: { instanceId: instance.id, vmSnapshotId: command.vmSnapshotId } }];
}

export function decideSnapshotDeleted(command: RecordSnapshotDeleted, instance: Instance): Decision<InstanceEvent> {
  if (!instance.vmSnapshotIds.includes(command.vmSnapshotId)) return [];
  return [{ type: 'InstanceSnapshotDeleted', data: { instanceId: instance.id, vmSnapshotId: command.vmSnapshotId } }];
}
