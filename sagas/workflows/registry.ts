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
import type { AgentCommandType, ProgressStage } from '../../domain/agent-protocol/index.js';
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

/** The workflow step an agent's progress stage is (AgentProgress.stage). */
const STAGE_STEPS: Readonly<Record<ProgressStage, StepName>> = { export: 'EXPORTING', convert: 'CONVERTING', import: 'IMPORTING', copy: 'COPYING' };

/**
 * What an agent's progress on a long command makes of the whole job: the stage is the job's step,
 * and the command's 0–100 runs over the band of the job's 0–100 the workflow gives that command
 * (`agentProgress`), so the job moves forward within it only. Undefined for a command or a stage
 * the workflow has no band or step for: such a report is not the job's progress.
 */
export function progressWithin(workflow: Workflow, command: AgentCommandType, stage: ProgressStage, percent: number): Progress | undefined {
  const band = workflow.agentProgress?.[command];
  const step = STAGE_STEPS[stage];
  if (!band || !workflow.steps.some((s) => s.step === step)) return undefined;
  const share = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0)) / 100;
  return { step, progress: Math.floor(band.from + (band.to - band.from) * share) };
}

/** The step with the progress the workflow gives it. */
export function progressOf(workflow: Workflow, step: StepName): Progress {
  const entry = workflow.steps.find((s) => s.step === step);
  if (!entry) throw new Error(`workflow ${workflow.cmd} has no step ${step}`);
  return entry;
}
