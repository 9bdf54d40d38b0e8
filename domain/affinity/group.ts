// An affinity group (behaviour §6.3), stream `affinitygroup-<id>`: a named set of instances of one account
// whose hosts the planner keeps together (host affinity) or apart (host anti-affinity), strictly or by
// priority. Which instances belong to it is theirs to say (an instance keeps `affinityGroupIds`); what the
// group keeps is where its strict members are placed. The planner reads placements from the read model,
// which may be stale; the group's stream is where a placement is checked, appended at the revision it was
// decided on, so two concurrent starts of anti-affinity members can never both claim one host.
import { firstFailure, optionalText, requireId, requireName, requireTimestamp } from '../config/validation.js';
import { plainStateSnapshotting, reject, type Decider, type DomainEvent } from '../shared/decider.js';

export const AFFINITY_GROUP_STREAM_PREFIX = 'affinitygroup-';

export function affinityGroupStream(groupId: string): string {
  return `${AFFINITY_GROUP_STREAM_PREFIX}${groupId}`;
}

/** CloudStack's type names, verbatim (the processors' Spring XML). */
export const AFFINITY_GROUP_TYPES = ['host affinity', 'host anti-affinity', 'non-strict host affinity', 'non-strict host anti-affinity'] as const;
export type AffinityGroupType = (typeof AFFINITY_GROUP_TYPES)[number];

export function isAffinityGroupType(value: string): value is AffinityGroupType {
  return (AFFINITY_GROUP_TYPES as readonly string[]).includes(value);
}

/** Strict groups constrain placement; non-strict ones only reorder hosts. */
export function isStrict(type: AffinityGroupType): type is 'host affinity' | 'host anti-affinity' {
  return type === 'host affinity' || type === 'host anti-affinity';
}

/** CloudStack's messages (AffinityGroupServiceImpl, UserVmManagerImpl, DeployVMCmd). */
export const affinityMessages = {
  invalidType: (type: string) => `Unable to create affinity group, invalid affinity group type: ${type}. Valid values are ${AFFINITY_GROUP_TYPES.join(',')}`,
  duplicateName: (name: string) => `Unable to create affinity group, a group with name ${name} already exists.`,
  deleteNeitherIdNorName: 'Either the affinity group Id or group name must be specified to delete the group',
  deleteBothIdAndName: 'Specify either the affinity group Id or group name to delete the group, not both',
  notFound: (group: string) => `Unable to find affinity group ${group}`,
  notFoundById: (id: string) => `Unable to find affinity group by id ${id}`,
  notFoundByName: (name: string) => `Unable to find affinity group by name ${name}`,
  idsAndNames: 'affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter',
  notStopped: (instance: string, state: string) =>
    `Unable update affinity groups of the virtual machine ${instance} in state ${state}; make sure the virtual machine is stopped and not in an error state before updating.`,
  otherAccount: (group: string) => `Affinity Group ${group} does not belong to the VM's account`,
  conflict: (group: AffinityGroupRef, hostId: string, members: readonly string[]) =>
    group.type === 'host anti-affinity'
      ? `host ${hostId} breaks ${group.type} group ${group.name}: member(s) ${members.join(', ')} are placed there`
      : `host ${hostId} breaks ${group.type} group ${group.name}: its member(s) ${members.join(', ')} are placed elsewhere`,
};

export interface AffinityGroupRef {
  readonly name: string;
  readonly type: AffinityGroupType;
}

export interface AffinityGroup extends AffinityGroupRef {
  readonly exists: true;
  readonly groupId: string;
  readonly description: string | null;
  readonly accountId: string;
  readonly domainId: string;
  readonly created: string;
  readonly deleted: boolean;
  /** Instance id → the hosts it holds a placement on (two while it migrates). Strict groups only. */
  readonly placements: Readonly<Record<string, readonly string[]>>;
}

export type AffinityGroupState = AffinityGroup | { readonly exists: false };

interface Base {
  readonly groupId: string;
}

export type AffinityGroupCommand =
  | (Base & {
      readonly type: 'CreateAffinityGroup';
      readonly name: string;
      readonly groupType: string;
      readonly description: string | null;
      readonly accountId: string;
      readonly domainId: string;
      readonly at: string;
    })
  | (Base & { readonly type: 'DeleteAffinityGroup'; readonly at: string })
  /**
   * The instance is about to run on `hostId` (a start or the target of a migration). `enforce`: refuse a
   * host that breaks a strict group; false for an admin's explicit host, which bypasses groups (§6.3).
   */
  | (Base & { readonly type: 'PlaceMember'; readonly instanceId: string; readonly hostId: string; readonly enforce: boolean })
  /** A placement that did not happen after all (the host refused the reservation). */
  | (Base & { readonly type: 'UnplaceMember'; readonly instanceId: string; readonly hostId: string })
  /** The instance's operation ended: it runs on `hostId`, or on no host. */
  | (Base & { readonly type: 'SettleMember'; readonly instanceId: string; readonly hostId: string | null });

type Named = { readonly groupId: string; readonly name: string; readonly type: AffinityGroupType; readonly accountId: string; readonly domainId: string };

export type AffinityGroupEvent =
  | DomainEvent<'AffinityGroupCreated', Named & { readonly description: string | null; readonly created: string }>
  | DomainEvent<'AffinityGroupDeleted', Named>
  | DomainEvent<'AffinityMemberPlaced', Named & { readonly instanceId: string; readonly hostId: string; readonly enforced: boolean }>
  | DomainEvent<'AffinityMemberUnplaced', Named & { readonly instanceId: string; readonly hostId: string }>
  | DomainEvent<'AffinityMemberSettled', Named & { readonly instanceId: string; readonly hostId: string | null }>;

/** Other members' hosts that `hostId` conflicts with, or none. */
export function placementConflicts(group: AffinityGroup, instanceId: string, hostId: string): readonly string[] {
  const others = Object.entries(group.placements).filter(([id, hosts]) => id !== instanceId && hosts.length > 0);
  if (group.type === 'host anti-affinity') return others.filter(([, hosts]) => hosts.includes(hostId)).map(([id]) => id);
  if (group.type === 'host affinity') return others.filter(([, hosts]) => !hosts.includes(hostId)).map(([id]) => id);
  return [];
}

function named(group: AffinityGroup): Named {
  return { groupId: group.groupId, name: group.name, type: group.type, accountId: group.accountId, domainId: group.domainId };
}

export const affinityGroupDecider: Decider<AffinityGroupCommand, AffinityGroupState, AffinityGroupEvent> = {
  initialState: { exists: false },
  // Every start and stop of a member of a strict group is an event here, for as long as the group lives.
  snapshot: plainStateSnapshotting<AffinityGroupState>('affinitygroup', 1),

  decide(command, state) {
    if (command.type === 'CreateAffinityGroup') {
      const invalid = firstFailure(
        requireId(command.groupId, 'groupId'),
        requireName(command.name, 'name', 'Affinity group name'),
        optionalText(command.description, 'description', 'Description'),
        requireId(command.accountId, 'accountId'),
        requireId(command.domainId, 'domainId'),
        requireTimestamp(command.at),
      );
      if (invalid) return invalid;
      if (!isAffinityGroupType(command.groupType)) return reject('BAD_USER_INPUT', affinityMessages.invalidType(command.groupType), 'type');
      if (state.exists) return state.name === command.name && state.type === command.groupType ? [] : reject('CONFLICT', `affinity group ${command.groupId} exists`, 'id');
      const { groupId, name, groupType: type, description, accountId, domainId, at } = command;
      return [{ type: 'AffinityGroupCreated', data: { groupId, name, type, description, accountId, domainId, created: at } }];
    }
    // Placements of a group that is gone (or never was) constrain nothing: an instance may outlive its group.
    if (!state.exists || state.deleted) {
      return command.type === 'DeleteAffinityGroup' ? reject('NOT_FOUND', affinityMessages.notFound(command.groupId), 'id') : [];
    }
    switch (command.type) {
      case 'DeleteAffinityGroup':
        return [{ type: 'AffinityGroupDeleted', data: named(state) }];
      case 'PlaceMember': {
        if (!isStrict(state.type)) return [];
        if (state.placements[command.instanceId]?.includes(command.hostId)) return [];
        const conflicts = command.enforce ? placementConflicts(state, command.instanceId, command.hostId) : [];
        if (conflicts.length > 0) return reject('INSUFFICIENT_CAPACITY', affinityMessages.conflict(state, command.hostId, conflicts), 'hostId');
        return [{ type: 'AffinityMemberPlaced', data: { ...named(state), instanceId: command.instanceId, hostId: command.hostId, enforced: command.enforce } }];
      }
      case 'UnplaceMember':
        return state.placements[command.instanceId]?.includes(command.hostId)
          ? [{ type: 'AffinityMemberUnplaced', data: { ...named(state), instanceId: command.instanceId, hostId: command.hostId } }]
          : [];
      case 'SettleMember': {
        if (!isStrict(state.type)) return [];
        const held = state.placements[command.instanceId] ?? [];
        const wanted = command.hostId === null ? [] : [command.hostId];
        if (held.length === wanted.length && held.every((h) => wanted.includes(h))) return [];
        return [{ type: 'AffinityMemberSettled', data: { ...named(state), instanceId: command.instanceId, hostId: command.hostId } }];
      }
    }
  },

  evolve(state, event) {
    if (event.type === 'AffinityGroupCreated') {
      const { created, description, ...rest } = event.data;
      return { exists: true, ...rest, description, created, deleted: false, placements: {} };
    }
    if (!state.exists) return state;
    const withPlacement = (instanceId: string, hosts: readonly string[]): AffinityGroup => {
      const { [instanceId]: _previous, ...others } = state.placements;
      return { ...state, placements: hosts.length > 0 ? { ...others, [instanceId]: hosts } : others };
    };
    switch (event.type) {
      case 'AffinityGroupDeleted':
        return { ...state, deleted: true, placements: {} };
      case 'AffinityMemberPlaced':
        return withPlacement(event.data.instanceId, [...(state.placements[event.data.instanceId] ?? []), event.data.hostId]);
      case 'AffinityMemberUnplaced':
        return withPlacement(event.data.instanceId, (state.placements[event.data.instanceId] ?? []).filter((h) => h !== event.data.hostId));
      case 'AffinityMemberSettled':
        return withPlacement(event.data.instanceId, event.data.hostId === null ? [] : [event.data.hostId]);
    }
  },
};
