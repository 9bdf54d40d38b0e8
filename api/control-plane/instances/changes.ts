// Changes to an instance's definition: its fields and details (updateVirtualMachine), and its
// service offering, stopped (changeServiceForVirtualMachine) or running (scaleVirtualMachine, a job).
import type { VirtualMachineView } from '../../../projections/instances/view.js';
import { findInstance } from '../../../projections/instances/queries.js';
import { db, now, setting, type ControlPlaneContext } from '../context.js';
import type { Caller, JobView, UpdateArgs } from '../port.js';
import { checkScaleDetails, customCompute, instanceCaller, offeringSnapshot, requireInstance, requireOffering } from './resolve.js';
import { instanceChange, instanceJob } from './run.js';

export async function scaleVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; serviceOfferingId: string; details?: Readonly<Record<string, string>> | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  const offering = offeringSnapshot(requireOffering(context, args.serviceOfferingId, 'serviceOfferingId'));
  checkScaleDetails(args.details);
  const compute = customCompute(args.details);
  return instanceJob(context, caller, instance, 'scaleVirtualMachine', (jobId, at) => ({
    type: 'ScaleInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    serviceOffering: offering,
    ...(compute ? { customCompute: compute } : {}),
    enableDynamicScaleVm: setting(context, 'enable.dynamic.scale.vm', instance.zoneId),
  }));
}

export async function updateVirtualMachine(context: ControlPlaneContext, caller: Caller, args: UpdateArgs): Promise<VirtualMachineView> {
  const instance = requireInstance(context, caller, args.id);
  const list = (text: string) => text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const updated = await instanceChange(context, caller, instance, {
    type: 'UpdateInstance',
    instanceId: instance.id,
    at: now(context),
    caller: instanceCaller(caller),
    ...(args.displayName != null ? { displayName: args.displayName } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
    ...(args.osTypeId != null ? { osTypeId: args.osTypeId } : {}),
    ...(args.deleteProtection != null ? { deleteProtection: args.deleteProtection } : {}),
    ...(args.haEnable != null ? { haEnable: args.haEnable } : {}),
    ...(args.details != null ? { details: args.details } : {}),
    userDeniedDetails: list(String(setting(context, 'user.vm.denied.details', instance.zoneId))),
    userReadOnlyDetails: list(String(setting(context, 'user.vm.readonly.details', instance.zoneId))),
    enableDynamicScaleVm: setting(context, 'enable.dynamic.scale.vm', instance.zoneId),
    leaseDuration: args.leaseDuration ?? null,
    leaseExpiryAction: args.leaseExpiryAction ?? null,
    leaseFeatureEnabled: setting(context, 'instance.lease.enabled'),
  });
  // A redefined lease moves its timers (one disabled needs none: its timers find nothing to do).
  const after = args.leaseDuration != null ? findInstance(db(context), { kind: 'all' }, instance.id) : undefined;
  if (after) await context.leases.arm(after);
  return updated;
}

export async function changeServiceForVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; serviceOfferingId: string; details?: Readonly<Record<string, string>> | null }): Promise<VirtualMachineView> {
  const instance = requireInstance(context, caller, args.id);
  const offering = offeringSnapshot(requireOffering(context, args.serviceOfferingId, 'serviceOfferingId'));
  checkScaleDetails(args.details);
  const compute = customCompute(args.details);
  return instanceChange(context, caller, instance, {
    type: 'ChangeServiceOffering',
    instanceId: instance.id,
    at: now(context),
    caller: instanceCaller(caller),
    serviceOffering: offering,
    ...(compute ? { customCompute: compute } : {}),
  });
}
