// The asynchronous lifecycle jobs of an existing instance: start, stop, reboot, live migration and
// restore (a new root volume from the template).
import { affinityConstraints, NO_AFFINITY, type AffinityConstraints } from '../../../domain/affinity/index.js';
import { affinityUnsuitability, allocationSettings, planHost } from '../../../domain/allocation/index.js';
import { groupMemberships } from '../../../projections/affinity/index.js';
import type { Instance } from '../../../domain/instance/index.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { settingsSnapshot } from '../../../projections/configuration/index.js';
import { getHost, hostCapacitySnapshot } from '../../../projections/infrastructure/index.js';
import { accountInstancesPerHost } from '../../../projections/instances/queries.js';
import { db, now, setting, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller, type JobView } from '../port.js';
import { checkPlacement, instanceCaller, ownerOfInstance, requireInstance, requireTemplate, templateSnapshot } from './resolve.js';
import { instanceJob } from './run.js';

export async function startVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; hostId?: string | null; considerLastHost?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  checkPlacement(context, caller, instance.zoneId, args.hostId ?? null, null);
  return instanceJob(context, caller, instance, 'startVirtualMachine', (jobId, at) => ({
    type: 'StartInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    hostId: args.hostId ?? null,
    considerLastHost: args.considerLastHost ?? true,
  }));
}

export async function stopVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; forced?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceJob(context, caller, instance, 'stopVirtualMachine', (jobId, at) => ({
    type: 'StopInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    forced: args.forced ?? false,
  }));
}

export async function rebootVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; forced?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceJob(context, caller, instance, 'rebootVirtualMachine', (jobId, at) => ({
    type: 'RebootInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    forced: args.forced ?? false,
  }));
}

export async function migrateVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { virtualMachineId: string; hostId?: string | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  if (args.hostId && caller.role === 'ROOT_ADMIN') {
    sameCluster(context, instance, args.hostId);
    // A target that breaks a strict group is refused at once; the group's stream refuses it again if
    // another member got there meanwhile.
    const why = affinityUnsuitability(args.hostId, affinityOf(context, instance));
    if (why !== undefined) throw new ApiError('BAD_USER_INPUT', `Cannot migrate instance ${instance.name} to host ${args.hostId}, which ${why}`, 'hostId');
  }
  const targetHostId = args.hostId ?? (caller.role === 'ROOT_ADMIN' ? migrationTarget(context, instance) : '');
  return instanceJob(context, caller, instance, 'migrateVirtualMachine', (jobId, at) => ({
    type: 'MigrateInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    targetHostId,
  }));
}

/** Live migration moves a domain between hosts of one cluster (they share its storage and networks). */
function sameCluster(context: ControlPlaneContext, instance: Instance, targetHostId: string): void {
  const target = getHost(db(context), targetHostId);
  if (!target) throw new ApiError('BAD_USER_INPUT', `Unable to find host ${JSON.stringify(targetHostId)}`, 'hostId');
  const source = instance.hostId ? getHost(db(context), instance.hostId) : undefined;
  if (source && source.clusterId !== target.clusterId) {
    throw new ApiError('BAD_USER_INPUT', `Host ${target.name} is in another cluster than host ${source.name}; live migration stays within a cluster`, 'hostId');
  }
}

/** What the instance's groups ask of a host it is to run on (§6.3), read from the groups' read model. */
function affinityOf(context: ControlPlaneContext, instance: Instance): AffinityConstraints {
  if (instance.affinityGroupIds.length === 0) return NO_AFFINITY;
  const skip = setting(context, 'capacity.skipcounting.hours', instance.zoneId);
  return affinityConstraints(instance.id, groupMemberships(db(context), instance.affinityGroupIds), now(context), skip);
}

/** Without a named host, the planner picks one in the instance's cluster other than its own, honouring its groups. */
function migrationTarget(context: ControlPlaneContext, instance: Instance): string {
  const settings = settingsSnapshot(db(context), instance.zoneId);
  const snapshot = hostCapacitySnapshot(db(context), { zoneId: instance.zoneId, accountInstanceCounts: Object.fromEntries(accountInstancesPerHost(db(context), instance.accountId)) });
  const current = snapshot.hosts.find((h) => h.hostId === instance.hostId);
  const affinity = affinityOf(context, instance);
  const plan = planHost(
    {
      ...allocationSettings(settings.global, settings.zone),
      cpuNumber: instance.cpuNumber,
      cpuSpeed: instance.cpuSpeed,
      memory: instance.memory,
      hostTags: instance.serviceOffering.hostTags,
      considerLastHost: false,
      clusterId: current?.clusterId ?? null,
      avoidHostIds: instance.hostId ? [instance.hostId] : [],
      affinity,
      hostPriorities: affinity.hostPriorities,
    },
    snapshot,
    context.random,
  );
  if (isRejection(plan)) throw new ApiError('INSUFFICIENT_CAPACITY', `No host can take instance ${instance.name}: ${plan.message}`, 'hostId');
  return plan.hostId;
}

export async function restoreVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { virtualMachineId: string; templateId?: string | null; expunge?: boolean | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  const template = args.templateId
    ? templateSnapshot(requireTemplate(context, [caller, ownerOfInstance(context, instance)], args.templateId, 'templateId', instance.zoneId))
    : instance.template;
  const oldRoot = instance.volumes.find((v) => v.type === 'ROOT');
  return instanceJob(context, caller, instance, 'restoreVirtualMachine', (jobId, at) => ({
    type: 'RestoreInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    template,
    rootVolume: {
      id: context.newId(),
      name: `ROOT-${instance.id.slice(0, 8)}`,
      size: Math.max(template.size, oldRoot && !args.templateId ? oldRoot.size : 0),
      storagePoolId: oldRoot?.storagePoolId ?? null,
      diskOfferingId: oldRoot?.diskOfferingId ?? null,
    },
    expunge: args.expunge ?? false,
  }));
}
