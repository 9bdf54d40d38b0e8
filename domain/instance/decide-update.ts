// updateVirtualMachine and the volume delete-protection flag: edits that need no hypervisor.
import { findOsType, osTypeMessages } from '../os-type/index.js';
import { firstFailure, optionalName } from '../config/validation.js';
import { checkLeaseDuration, parseLeaseExpiryAction } from '../offering/index.js';
import { isRejection, reject, type Decision } from '../shared/decider.js';
import type { UpdateInstance, UpdateVolume } from './commands.js';
import { decideLeaseUpdate } from './decide-lease.js';
import type { InstanceChanges, InstanceEvent } from './events.js';
import { messages } from './messages.js';
import type { Instance } from './state.js';
import { nextDetails, sameDetails } from './validation.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function decideUpdate(command: UpdateInstance, instance: Instance): Decision<InstanceEvent> {
  if (instance.state === 'Error' || instance.state === 'Expunging') {
    return reject('INVALID_STATE', messages.notInRightState(instance));
  }
  // An empty display name would leave the instance shown as nothing; null (no change) is the way to keep it.
  const badText = firstFailure(optionalName(command.displayName, 'displayName', 'Display name'), optionalName(command.group, 'group', 'Group name'));
  if (badText) return badText;
  const badDuration = checkLeaseDuration(command.leaseDuration, true);
  if (badDuration) return badDuration;
  const leaseAction = parseLeaseExpiryAction(command.leaseExpiryAction);
  if (isRejection(leaseAction)) return leaseAction;
  // Behaviour §3.5: only a duration asks for a change (a lone action is ignored), only while the feature is on.
  const lease = decideLeaseUpdate(command, instance, leaseAction);
  if (isRejection(lease)) return lease;
  const changes: Mutable<InstanceChanges> = {};
  if (command.displayName !== undefined && command.displayName !== instance.displayName) changes.displayName = command.displayName;
  if (command.group !== undefined && command.group !== instance.group) changes.group = command.group;
  if (command.osTypeId !== undefined) {
    // An OS type outside the catalogue would be recorded to mean nothing; CloudStack refuses one it does not know too.
    if (!findOsType(command.osTypeId)) return reject('BAD_USER_INPUT', osTypeMessages.unknownId(command.osTypeId), 'osTypeId');
    if (command.osTypeId !== instance.osTypeId) changes.osTypeId = command.osTypeId;
  }
  if (command.deleteProtection !== undefined && command.deleteProtection !== instance.deleteProtection) {
    changes.deleteProtection = command.deleteProtection;
  }
  if (command.haEnable !== undefined) {
    if (command.haEnable && !instance.serviceOffering.offerHa) return reject('BAD_USER_INPUT', messages.haNotOffered, 'haEnable');
    if (command.haEnable !== instance.haEnabled) changes.haEnabled = command.haEnable;
  }
  if (command.isDynamicallyScalable !== undefined) {
    if (command.isDynamicallyScalable) {
      const field = 'isDynamicallyScalable';
      if (!instance.template.dynamicallyScalable) return reject('BAD_USER_INPUT', messages.dynamicScalingTemplate, field);
      if (!instance.serviceOffering.dynamicScalingEnabled) return reject('BAD_USER_INPUT', messages.dynamicScalingOffering, field);
      if (!command.enableDynamicScaleVm) return reject('BAD_USER_INPUT', messages.dynamicScalingZone, field);
    }
    if (command.isDynamicallyScalable !== instance.dynamicallyScalable) changes.dynamicallyScalable = command.isDynamicallyScalable;
  }
  if (command.details !== undefined) {
    const details = nextDetails(instance.details, command.details, {
      role: command.caller.role,
      denied: command.userDeniedDetails,
      readOnly: command.userReadOnlyDetails,
    });
    if (isRejection(details)) return details;
    if (!sameDetails(details, instance.details)) changes.details = details;
  }
  if (Object.keys(changes).length === 0) return lease;
  return [{ type: 'InstanceUpdated', data: { instanceId: instance.id, changes } }, ...lease];
}

/** Volumes carry their own delete protection (CloudStack's `updateVolume deleteprotection`). */
export function decideUpdateVolume(command: UpdateVolume, instance: Instance): Decision<InstanceEvent> {
  const volume = instance.volumes.find((v) => v.id === command.volumeId);
  if (!volume) return reject('NOT_FOUND', messages.volumeNotFound(command.volumeId), 'volumeId');
  if (volume.deleteProtection === command.deleteProtection) return [];
  return [
    {
      type: 'InstanceVolumeUpdated',
      data: { instanceId: instance.id, volumeId: volume.id, deleteProtection: command.deleteProtection },
    },
  ];
}
