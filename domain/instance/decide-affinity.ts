// An instance's affinity groups (behaviour §6.3). Which groups exist and whose they are is checked by
// the caller against the groups' read model; the instance decides when its set may change.
import { reject, type Decision } from '../shared/decider.js';
import { requireId } from '../config/validation.js';
import { affinityMessages } from '../affinity/group.js';
import type { LeaveAffinityGroup, UpdateAffinityGroups } from './commands.js';
import type { InstanceEvent } from './events.js';
import type { Instance } from './state.js';

export function decideUpdateAffinityGroups(command: UpdateAffinityGroups, instance: Instance): Decision<InstanceEvent> {
  // CloudStack: only a Stopped instance, so no running member ever breaks a strict group it joins.
  if (instance.state !== 'Stopped' || instance.pending !== null) {
    return reject('INVALID_STATE', affinityMessages.notStopped(instance.name, instance.state));
  }
  for (const [i, id] of command.affinityGroupIds.entries()) {
    const invalid = requireId(id, `affinityGroupIds[${i}]`);
    if (invalid) return invalid;
  }
  const next = [...new Set(command.affinityGroupIds)];
  const same = next.length === instance.affinityGroupIds.length && next.every((id) => instance.affinityGroupIds.includes(id));
  return same ? [] : [{ type: 'InstanceAffinityGroupsUpdated', data: { instanceId: instance.id, affinityGroupIds: next } }];
}

export function decideLeaveAffinityGroup(command: LeaveAffinityGroup, instance: Instance): Decision<InstanceEvent> {
  if (!instance.affinityGroupIds.includes(command.affinityGroupId)) return [];
  return [
    {
      type: 'InstanceAffinityGroupsUpdated',
      data: { instanceId: instance.id, affinityGroupIds: instance.affinityGroupIds.filter((id) => id !== command.affinityGroupId) },
    },
  ];
}
