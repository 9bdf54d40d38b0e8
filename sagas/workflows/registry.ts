// Every workflow, by the operation (the job's `cmd`) it runs: the one table the runner reads. A new
// long-running operation is one module in this folder, one line here, its decider's commands in
// domain/, its agent command in the protocol, and its GraphQL field.
import { deployWorkflow } from './deploy.js';
import { destroyWorkflow } from './destroy.js';
import { expungeWorkflow } from './expunge.js';
import { importVmWorkflow, importWorkflow } from './import.js';
import { unmanageWorkflow } from './unmanage.js';
import { migrateWorkflow } from './migrate.js';
import { migrateVolumesWorkflow } from './migrate-volumes.js';
import { rebootWorkflow } from './reboot.js';
import { restoreWorkflow } from './restore.js';
import { scaleWorkflow } from './scale.js';
import { startWorkflow } from './start.js';
import { stopWorkflow } from './stop.js';
import { createVMSnapshotWorkflow, deleteVMSnapshotWorkflow, revertToVMSnapshotWorkflow } from './vmsnapshot.js';
import type { Progress, StepName, Workflow } from './workflow.js';

export const WORKFLOWS: readonly Workflow[] = [
  deployWorkflow,
  startWorkflow,
  stopWorkflow,
  rebootWorkflow,
  migrateWorkflow,
  migrateVolumesWorkflow,
  scaleWorkflow,
  destroyWorkflow,
  restoreWorkflow,
  expungeWorkflow,
  createVMSnapshotWorkflow,
  revertToVMSnapshotWorkflow,
  deleteVMSnapshotWorkflow,
  importWorkflow,
  importVmWorkflow,
  unmanageWorkflow,
];

const BY_CMD = new Map(WORKFLOWS.map((workflow) => [workflow.cmd, workflow]));

export function workflowOf(cmd: string): Workflow {
  const workflow = BY_CMD.get(cmd);
  if (!workflow) throw new Error(`no workflow runs ${JSON.stringify(cmd)} jobs`);
  return workflow;
}

/**
 * What `percent` of a step makes of the whole job: the step's band runs from the progress the
 * workflow gives it to the next step's (100 after the last), so an agent's 0–100 for a step of a
 * long command moves the job forward within that band only.
 */
export function progressWithin(workflow: Workflow, step: StepName, percent: number): Progress {
  const index = workflow.steps.findIndex((s) => s.step === step);
  if (index < 0) throw new Error(`workflow ${workflow.cmd} has no step ${step}`);
  const from = workflow.steps[index]!.progress;
  const to = workflow.steps[index + 1]?.progress ?? 100;
  const share = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0)) / 100;
  return { step, progress: Math.floor(from + (to - from) * share) };
}

/** The step with the progress the workflow gives it. */
export function progressOf(workflow: Workflow, step: StepName): Progress {
  const entry = workflow.steps.find((s) => s.step === step);
  if (!entry) throw new Error(`workflow ${workflow.cmd} has no step ${step}`);
  return entry;
}
