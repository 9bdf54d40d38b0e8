// The workflow model. Each long-running operation (a job's `cmd`) is one workflow: a pure `decide`
// from what the job has done so far (its stream, folded by the job decider: domain/job) and what the
// instance says (what was asked, what happened) to the one next step, registered in one table
// (./registry.ts) and run by one generic runner (../runner.ts), which does the step and asks again.
// A step that moves the job on names the workflow step it enters (`step`); the workflow's table of
// steps gives its progress, the runner records both in the job, and the job shows them as `step` and
// `progress` on `asyncJob` and `asyncJobUpdated`.
//
// The shape is Emmett's workflows (decide(input, state) → outputs; evolve over the workflow's own
// stream), with the job stream as that stream: a workflow that needs to remember more than hosts,
// commands, replies and timers adds an event to the job, not a field in memory.
import type { AgentCommandType, UnnumberedAgentCommand } from '../../domain/agent-protocol/index.js';
import type { Job, JobError } from '../../domain/job/index.js';
import type { Instance, InstanceCommand, InstanceEvent, PendingOperation } from '../../domain/instance/index.js';
import type { VMSnapshotCommand, VMSnapshotState } from '../../domain/vmsnapshot/index.js';

export interface OperationTimeouts {
  /** How long a host may take to answer a start, reboot, migrate, scale or destroy. */
  readonly agentMs: number;
  /** How long a graceful (ACPI) stop may take before the stop is forced. */
  readonly gracefulStopMs: number;
}

export interface Resources {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

/** The steps the phases take; a workflow's table gives each the progress it means for its jobs. */
export type StepName =
  | 'PLANNING'
  | 'STARTING'
  | 'STOPPING'
  | 'FORCING_STOP'
  | 'REBOOTING'
  | 'MIGRATING'
  | 'SCALING'
  | 'EXPUNGING'
  | 'SNAPSHOTTING'
  | 'REVERTING'
  | 'DELETING_SNAPSHOTS'
  | 'IMPORTING'
  | 'COPYING'
  | 'PREPARING'
  | 'EXPORTING'
  | 'CONVERTING'
  | 'CLEANING_UP'
  | 'UNMANAGING';

/** A named step of a workflow and how far the job is when it enters it (0–100). */
export interface Progress {
  readonly step: StepName;
  readonly progress: number;
}

export type Step =
  /** Ask the planner for a host for this phase; with none, `onNone` records the failure. */
  | { readonly kind: 'choose-host'; readonly phase: 'start'; readonly onNone: (reason: string) => InstanceCommand; readonly step: StepName }
  /**
   * Reserve capacity (when `reserve` is set; idempotent per instance), then send the command to the
   * host's agent (appended to the job first: the log is the outbox). A refused reservation runs
   * `onRefused` instead of sending.
   */
  | {
      readonly kind: 'issue';
      readonly phase: string;
      readonly command: UnnumberedAgentCommand;
      readonly timeoutMs: number;
      readonly reserve?: { readonly hostId: string } & Resources;
      /**
       * First store the volumes that have no pool yet on pools the reserving host reaches (reserved
       * on the pools' streams); a placement refused runs `onRefused` as a refused reservation does.
       */
      readonly placeVolumes?: boolean;
      /** Space to reserve on storage pools first (idempotent per volume and pool); a refusal runs `onRefused`. */
      readonly reserveStorage?: readonly { readonly poolId: string; readonly volumeId: string; readonly bytes: number }[];
      readonly onRefused?: { readonly rejectHost: string } | { readonly record: (reason: string) => InstanceCommand };
      readonly step: StepName;
    }
  /** Write the operation's outcome to the instance. */
  | { readonly kind: 'record'; readonly command: InstanceCommand }
  /** Move a VM snapshot's own stream (a refusal means it moved already; the next step sees how). */
  | { readonly kind: 'snapshot'; readonly command: VMSnapshotCommand }
  /** Nothing to do until a reply or the timer at `until`. */
  | { readonly kind: 'wait'; readonly until: string }
  /** The instance is done with this job: put capacity right, free what an expunge leaves, close the job. */
  | {
      readonly kind: 'finish';
      readonly release: readonly string[];
      readonly keep: ({ readonly hostId: string } & Resources) | null;
      /** What the instance's volumes hold in storage pools from now on; any other reservation of `volumes.ids` is given back. */
      readonly volumes: VolumeHoldings;
      readonly freeAddresses: boolean;
      readonly error: JobError | null;
    };

/** The pool reservations an instance's volumes should have: `hold`, and nothing else for any of `ids`. */
export interface VolumeHoldings {
  /** Every volume the instance ever had. */
  readonly ids: readonly string[];
  readonly hold: readonly { readonly poolId: string; readonly volumeId: string; readonly bytes: number }[];
}

/** What a workflow decides from: its job, the instance it acts on, the instance's history, the time. */
export interface WorkflowInput {
  readonly job: Job;
  readonly instance: Instance;
  readonly history: readonly InstanceEvent[];
  /** The instance's VM snapshots as their own streams say, by id (those in its chain). */
  readonly snapshots: ReadonlyMap<string, VMSnapshotState>;
  readonly now: string;
  readonly timeouts: OperationTimeouts;
}

/**
 * How a job that cannot finish is undone. Every workflow gives back the capacity its commands
 * reserved when it finishes, however it ends (the `finish` step); a deployment also gives back its
 * name and addresses when its instance was never recorded (../deploy-compensation.ts).
 */
export type Compensation = 'give-back-capacity' | 'abandon-deployment';

/** The part of an operation that runs while the instance is busy with one kind of pending work. */
export type Phase<K extends PendingOperation['kind']> = (input: WorkflowInput, pending: Extract<PendingOperation, { kind: K }>) => Step;

/** The phases an operation goes through, by the kind of pending work the instance has for its job. */
export type Phases = { readonly [K in PendingOperation['kind']]?: Phase<K> };

export interface Workflow {
  /** The API operation whose jobs it runs (the job's `cmd`). */
  readonly cmd: string;
  /** What its jobs act on (`AsyncJob.resourceType`). */
  readonly resourceType: 'VirtualMachine' | 'VMSnapshot';
  /** Its named steps in order, with the progress a job has on entering each. */
  readonly steps: readonly Progress[];
  /**
   * For commands whose agent reports progress while it runs (AgentProgress): the part of the job's
   * 0–100 the command's own 0–100 runs over.
   */
  readonly agentProgress?: Partial<Readonly<Record<AgentCommandType, { readonly from: number; readonly to: number }>>>;
  readonly compensation: readonly Compensation[];
  decide(input: WorkflowInput): Step;
}
