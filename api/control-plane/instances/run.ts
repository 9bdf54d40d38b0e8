// How an instance operation runs once its arguments are resolved: an asynchronous one gives the
// instance one command, then opens its job and starts the job's saga; a synchronous one gives the
// command and returns the instance as the read model then shows it.
import { instanceDecider, instanceStream, type Instance, type InstanceCommand } from '../../../domain/instance/index.js';
import { jobDecider, jobStream, type JobCommand, type JobResource } from '../../../domain/job/index.js';
import { findInstance } from '../../../projections/instances/queries.js';
import { toVirtualMachineView, type VirtualMachineView } from '../../../projections/instances/view.js';
import { db, envelopeOf, execute, now, settled, type ControlPlaneContext } from '../context.js';
import { findJob } from '../jobs.js';
import { ApiError, type Caller, type JobView } from '../port.js';

/** Opens the job and starts its saga; returns the job as the read model then shows it. */
async function openJob(
  context: ControlPlaneContext,
  caller: Caller,
  jobId: string,
  instanceId: string,
  accountId: string,
  cmd: string,
  positions: readonly number[],
  resource?: JobResource,
): Promise<JobView> {
  const open: JobCommand = { type: 'OpenJob', jobId, cmd, instanceId, accountId, at: now(context), ...(resource ? { resource } : {}) };
  const opened = await execute(context, jobStream(jobId), jobDecider, open, envelopeOf(context, caller, jobId));
  void context.runner.advance(jobId);
  await settled(context, [...positions, ...opened.positions]);
  const job = findJob(context, caller, jobId);
  if (!job) throw new ApiError('INTERNAL_ERROR', `job ${jobId} was opened but cannot be read back`);
  return job;
}

/** Runs one asynchronous instance operation: the command, then its job. */
export async function instanceJob(
  context: ControlPlaneContext,
  caller: Caller,
  instance: Instance,
  cmd: string,
  build: (jobId: string, at: string) => InstanceCommand,
  resource?: JobResource,
): Promise<JobView> {
  const jobId = context.newId();
  const result = await execute(context, instanceStream(instance.id), instanceDecider, build(jobId, now(context)), envelopeOf(context, caller, jobId));
  return openJob(context, caller, jobId, instance.id, instance.accountId, cmd, result.positions, resource);
}

/** A synchronous operation: the command, then the instance as the read model shows it. */
export async function instanceChange(context: ControlPlaneContext, caller: Caller, instance: Instance, command: InstanceCommand): Promise<VirtualMachineView> {
  const result = await execute(context, instanceStream(instance.id), instanceDecider, command, envelopeOf(context, caller, context.newId()));
  await settled(context, result.positions);
  const after = findInstance(db(context), { kind: 'all' }, instance.id);
  if (!after) throw new ApiError('INTERNAL_ERROR', `instance ${instance.id} cannot be read back`);
  return toVirtualMachineView(after);
}
