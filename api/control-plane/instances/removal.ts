// The end of an instance's life: destroy (a job; expunged at once or after expunge.delay), recover
// a destroyed instance, and expunge one now.
import { instanceDecider, instanceStream } from '../../../domain/instance/index.js';
import type { VirtualMachineView } from '../../../projections/instances/view.js';
import { envelopeOf, execute, now, setting, settled, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller, type JobView } from '../port.js';
import { instanceCaller, requireInstance } from './resolve.js';
import { instanceChange, instanceJob } from './run.js';

export async function destroyVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string; expunge?: boolean | null; volumeIds?: readonly string[] | null }): Promise<JobView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceJob(context, caller, instance, 'destroyVirtualMachine', (jobId, at) => ({
    type: 'DestroyInstance',
    instanceId: instance.id,
    at,
    caller: instanceCaller(caller),
    jobId,
    expunge: args.expunge ?? false,
    volumeIds: args.volumeIds ?? [],
    forceStop: setting(context, 'vm.destroy.forcestop', instance.zoneId),
    allowUserExpungeRecoverVm: setting(context, 'allow.user.expunge.recover.vm', instance.zoneId),
  }));
}

export async function recoverVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string }): Promise<VirtualMachineView> {
  const instance = requireInstance(context, caller, args.id);
  return instanceChange(context, caller, instance, {
    type: 'RecoverInstance',
    instanceId: instance.id,
    at: now(context),
    caller: instanceCaller(caller),
    allowUserExpungeRecoverVm: setting(context, 'allow.user.expunge.recover.vm', instance.zoneId),
  });
}

/** Synchronous as in CloudStack: returns once the hypervisor and storage are clean, within a bound. */
export async function expungeVirtualMachine(context: ControlPlaneContext, caller: Caller, args: { id: string }): Promise<boolean> {
  const instance = requireInstance(context, caller, args.id);
  const result = await execute(
    context,
    instanceStream(instance.id),
    instanceDecider,
    { type: 'ExpungeInstance', instanceId: instance.id, at: now(context), caller: instanceCaller(caller), allowUserExpungeRecoverVm: setting(context, 'allow.user.expunge.recover.vm', instance.zoneId) },
    envelopeOf(context, caller, context.newId()),
  );
  const pending = result.state.exists ? result.state.pending : null;
  if (pending?.kind === 'expunge') {
    const jobId = pending.jobId ?? `expunge-${instance.id}`;
    const job = await context.runner.advance(jobId, { instanceId: instance.id, accountId: instance.accountId, cmd: 'expungeVirtualMachine' });
    if (job.exists && job.status === 'FAILED') throw new ApiError('INTERNAL_ERROR', job.error?.message ?? 'the expunge failed');
  }
  await settled(context, result.positions);
  return true;
}
