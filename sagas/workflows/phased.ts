// A workflow's decide from its phases: the phase for the pending work the instance has for this job,
// or, once the instance no longer waits on the job, the finish.
import { jobIdOfPending } from '../../domain/job/index.js';
import type { Instance, PendingOperation } from '../../domain/instance/index.js';
import { finish } from './finish.js';
import type { Phase, Phases, Step, WorkflowInput } from './workflow.js';

/** The job's own part of what the instance is busy with, if it is busy with this job. */
export function pendingFor(instance: Instance, jobId: string): PendingOperation | null {
  const pending = instance.pending;
  if (!pending) return null;
  return jobIdOfPending(pending, instance.id) === jobId ? pending : null;
}

export function phased(phases: Phases): (input: WorkflowInput) => Step {
  return (input) => {
    const pending = pendingFor(input.instance, input.job.jobId);
    if (!pending) return finish(input);
    // The instance's pending work and the phase for it share their kind; TypeScript cannot pair them.
    const phase = phases[pending.kind] as Phase<typeof pending.kind> | undefined;
    if (!phase) throw new Error(`job ${input.job.jobId} (${input.job.cmd}) has no phase for the instance's pending ${pending.kind}`);
    return phase(input, pending as never);
  };
}
