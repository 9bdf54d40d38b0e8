// Affinity groups (API.md "Placement: affinity groups", behaviour §6.3): created in an account (the
// caller's, or one an admin names with account/domainId as a deploy does), deleted by id or name,
// listed, and set on a stopped instance. The group's name is claimed on the account's stream first, so
// two concurrent creations of one name let only one through.
import { accountDecider, accountStream } from '../../domain/account/index.js';
import {
  AFFINITY_GROUP_TYPES,
  affinityGroupDecider,
  affinityGroupStream,
  affinityMessages,
  isAffinityGroupType,
  type AffinityGroupType,
} from '../../domain/affinity/index.js';
import { instanceDecider, instanceStream } from '../../domain/instance/index.js';
import { findAffinityGroupByName, getAffinityGroup, listAffinityGroups, type AffinityGroupListing } from '../../projections/affinity/index.js';
import { getInstance } from '../../projections/instances/queries.js';
import type { VirtualMachineView } from '../../projections/instances/view.js';
import type { Connection, PageRequest } from '../../projections/pagination.js';
import { createClaimed } from './claims.js';
import { db, envelopeOf, execute, guarded, now, settled, visibilityOf, type ControlPlaneContext } from './context.js';
import { deployOwner } from './instances/deploy.js';
import { instanceCaller, mayUse, requireInstance } from './instances/resolve.js';
import { ApiError, type Caller } from './port.js';

export interface CreateAffinityGroupArgs {
  readonly name: string;
  readonly type: string;
  readonly description?: string | null;
  readonly account?: string | null;
  readonly domainId?: string | null;
}

export interface DeleteAffinityGroupArgs {
  readonly id?: string | null;
  readonly name?: string | null;
  readonly account?: string | null;
  readonly domainId?: string | null;
}

export interface AffinityGroupListArgs extends PageRequest {
  readonly id?: string | null;
  readonly name?: string | null;
  readonly type?: string | null;
  readonly virtualMachineId?: string | null;
  readonly accountId?: string | null;
  readonly domainId?: string | null;
}

function readBack(context: ControlPlaneContext, id: string): AffinityGroupListing {
  const group = getAffinityGroup(db(context), id);
  if (!group) throw new ApiError('INTERNAL_ERROR', `affinity group ${id} cannot be read back`);
  return group;
}

export async function createAffinityGroup(context: ControlPlaneContext, caller: Caller, args: CreateAffinityGroupArgs): Promise<AffinityGroupListing> {
  const owner = deployOwner(context, caller, args, 'create an affinity group');
  const groupId = context.newId();
  const envelope = envelopeOf(context, caller, groupId);
  const { positions } = await createClaimed(
    context,
    envelope,
    {
      stream: accountStream(owner.accountId),
      decider: accountDecider,
      claim: { type: 'ReserveAffinityGroupName', groupId, name: args.name },
      release: { type: 'ReleaseAffinityGroupName', groupId },
    },
    {
      stream: affinityGroupStream(groupId),
      decider: affinityGroupDecider,
      command: {
        type: 'CreateAffinityGroup',
        groupId,
        name: args.name,
        groupType: args.type,
        description: args.description ?? null,
        accountId: owner.accountId,
        domainId: owner.domainId,
        at: now(context),
      },
    },
  );
  await settled(context, positions);
  return readBack(context, groupId);
}

/**
 * Deletes a group by id, or by name in the caller's account (or the one named): its members leave it,
 * running ones stay where they are. The name is given back last, once nothing refers to the group.
 */
export async function deleteAffinityGroup(context: ControlPlaneContext, caller: Caller, args: DeleteAffinityGroupArgs): Promise<boolean> {
  if (!args.id && !args.name) throw new ApiError('BAD_USER_INPUT', affinityMessages.deleteNeitherIdNorName, 'id');
  if (args.id && args.name) throw new ApiError('BAD_USER_INPUT', affinityMessages.deleteBothIdAndName, 'name');
  const group = args.id ? visibleGroup(context, caller, args.id) : findAffinityGroupByName(db(context), deployOwner(context, caller, args, 'delete an affinity group').accountId, args.name!);
  const field = args.id ? 'id' : 'name';
  if (!group || !mayUse(context, caller, group.accountId)) throw new ApiError('NOT_FOUND', affinityMessages.notFound(JSON.stringify(args.id ?? args.name)), field);
  const envelope = envelopeOf(context, caller, group.id);
  const deleted = await execute(context, affinityGroupStream(group.id), affinityGroupDecider, { type: 'DeleteAffinityGroup', groupId: group.id, at: now(context) }, envelope);
  const positions = [...deleted.positions];
  for (const instanceId of group.virtualMachineIds) {
    const left = await execute(context, instanceStream(instanceId), instanceDecider, { type: 'LeaveAffinityGroup', instanceId, affinityGroupId: group.id, at: now(context) }, envelope);
    positions.push(...left.positions);
  }
  const released = await execute(context, accountStream(group.accountId), accountDecider, { type: 'ReleaseAffinityGroupName', groupId: group.id }, envelope);
  await settled(context, [...positions, ...released.positions]);
  return true;
}

/** updateVMAffinityGroup: the stopped instance's groups become exactly those named (none clears them). */
export async function updateVMAffinityGroup(
  context: ControlPlaneContext,
  caller: Caller,
  args: { id: string; affinityGroupIds?: readonly string[] | null; affinityGroupNames?: readonly string[] | null },
): Promise<VirtualMachineView> {
  const instance = requireInstance(context, caller, args.id);
  const affinityGroupIds = resolveAffinityGroups(context, caller, instance.accountId, args.affinityGroupIds, args.affinityGroupNames);
  const result = await execute(
    context,
    instanceStream(instance.id),
    instanceDecider,
    { type: 'UpdateAffinityGroups', instanceId: instance.id, at: now(context), caller: instanceCaller(caller), affinityGroupIds },
    envelopeOf(context, caller, instance.id),
  );
  await settled(context, result.positions);
  const view = getInstance(db(context), visibilityOf(context, caller), instance.id);
  if (!view) throw new ApiError('INTERNAL_ERROR', `instance ${instance.id} cannot be read back`);
  return view;
}

export function affinityGroups(context: ControlPlaneContext, caller: Caller, args: AffinityGroupListArgs): Connection<AffinityGroupListing> {
  const type = args.type === undefined || args.type === null ? null : groupType(args.type, 'type');
  return guarded(() =>
    listAffinityGroups(
      db(context),
      visibilityOf(context, caller),
      { id: args.id, name: args.name, type, virtualMachineId: args.virtualMachineId, accountId: args.accountId, domainId: args.domainId },
      args,
    ),
  );
}

function groupType(value: string, field: string): AffinityGroupType {
  if (!isAffinityGroupType(value)) throw new ApiError('BAD_USER_INPUT', `Invalid affinity group type ${JSON.stringify(value)}; valid values are ${AFFINITY_GROUP_TYPES.join(', ')}`, field);
  return value;
}

/** A group the caller may see, or undefined: another account's group is as unknown as a missing one. */
function visibleGroup(context: ControlPlaneContext, caller: Caller, id: string): AffinityGroupListing | undefined {
  const group = getAffinityGroup(db(context), id);
  return group && mayUse(context, caller, group.accountId) ? group : undefined;
}

/**
 * The groups a deployment or an update names, by id or by name (not both, as CloudStack's DeployVMCmd
 * says), as ids. Each must be one the caller can see and belong to the instance's owner: a group the
 * caller cannot see is unknown to it; one of another account it can see is CloudStack's permission refusal.
 */
export function resolveAffinityGroups(
  context: ControlPlaneContext,
  caller: Caller,
  ownerAccountId: string,
  ids: readonly string[] | null | undefined,
  names: readonly string[] | null | undefined,
): string[] {
  if (ids && names) throw new ApiError('BAD_USER_INPUT', affinityMessages.idsAndNames, 'affinityGroupNames');
  const resolved: string[] = [];
  for (const [i, id] of (ids ?? []).entries()) {
    const group = visibleGroup(context, caller, id);
    if (!group) throw new ApiError('BAD_USER_INPUT', affinityMessages.notFoundById(JSON.stringify(id)), `affinityGroupIds[${i}]`);
    resolved.push(owned(group, ownerAccountId, `affinityGroupIds[${i}]`));
  }
  for (const [i, name] of (names ?? []).entries()) {
    const group = findAffinityGroupByName(db(context), ownerAccountId, name);
    if (!group || !mayUse(context, caller, group.accountId)) throw new ApiError('BAD_USER_INPUT', affinityMessages.notFoundByName(JSON.stringify(name)), `affinityGroupNames[${i}]`);
    resolved.push(group.id);
  }
  return [...new Set(resolved)];
}

function owned(group: AffinityGroupListing, ownerAccountId: string, field: string): string {
  if (group.accountId !== ownerAccountId) throw new ApiError('FORBIDDEN', affinityMessages.otherAccount(group.name), field);
  return group.id;
}
