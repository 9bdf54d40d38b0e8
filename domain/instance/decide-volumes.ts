// Where an instance's volumes are stored: the start saga places volumes that have no pool yet on the
// pools it reserved for them, once it has chosen the host that must reach those pools.
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { RecordVolumesPlaced } from './commands.js';
import type { InstanceEvent } from './events.js';
import { expectPending } from './outcome.js';
import type { Instance } from './state.js';

export function decideVolumesPlaced(command: RecordVolumesPlaced, instance: Instance): Decision<InstanceEvent> {
  const pending = expectPending(instance, 'start', command.jobId);
  if (isRejection(pending)) return pending;
  const unplaced = [];
  for (const placement of command.placements) {
    const volume = instance.volumes.find((v) => v.id === placement.volumeId);
    if (!volume) return reject('BAD_USER_INPUT', `Virtual machine ${instance.id} has no volume ${placement.volumeId}`, 'placements');
    // A volume once stored stays where it is: only a migration moves it.
    if (volume.storagePoolId === placement.storagePoolId) continue;
    if (volume.storagePoolId !== null) return reject('INVALID_STATE', `Volume ${volume.name} is already on storage pool ${volume.storagePoolId}`, 'placements');
    unplaced.push(placement);
  }
  if (unplaced.length === 0) return [];
  return [{ type: 'InstanceVolumesPlaced', data: { instanceId: instance.id, jobId: command.jobId, placements: unplaced } }];
}
