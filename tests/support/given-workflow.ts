// given/when/then for workflows: given the job's events and the instance's history, when the workflow
// decides at a moment, then this is its next step.
import { expect } from 'vitest';
import { fold } from '../../domain/shared/decider.js';
import { instanceDecider, type InstanceEvent } from '../../domain/instance/index.js';
import { jobDecider, type JobEvent } from '../../domain/job/index.js';
import { vmSnapshotDecider, type VMSnapshotEvent, type VMSnapshotState } from '../../domain/vmsnapshot/index.js';
import type { OperationTimeouts, Step, Workflow } from '../../sagas/workflows/workflow.js';

export const TIMEOUTS: OperationTimeouts = { agentMs: 30_000, gracefulStopMs: 10_000 };

export function given(
  workflow: Workflow,
  history: { readonly job: readonly JobEvent[]; readonly instance: readonly InstanceEvent[]; readonly snapshots?: Readonly<Record<string, readonly VMSnapshotEvent[]>> },
) {
  const snapshots = new Map<string, VMSnapshotState>(Object.entries(history.snapshots ?? {}).map(([id, events]) => [id, fold(vmSnapshotDecider, events)]));
  const job = fold(jobDecider, history.job);
  const instance = fold(instanceDecider, history.instance);
  if (!job.exists) throw new Error('given: the job events do not open a job');
  if (!instance.exists) throw new Error('given: the instance history does not record an instance');
  if (job.cmd !== workflow.cmd) throw new Error(`given: a ${job.cmd} job is not run by the ${workflow.cmd} workflow`);
  return {
    when(now: string, timeouts: OperationTimeouts = TIMEOUTS) {
      const step = workflow.decide({ job, instance, history: history.instance, snapshots, now, timeouts });
      return {
        step,
        /** The step matches `expected` (a subset of its fields; functions are left out of the comparison). */
        then(expected: Partial<Record<keyof Step | string, unknown>>): Step {
          expect(step).toMatchObject(expected);
          return step;
        },
      };
    },
  };
}
