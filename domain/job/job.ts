// An async job (CloudStack's async job model) and the working memory of the saga that runs it,
// in stream `job-<jobId>`. The instance's own events say what was asked and how it ended; this
// stream records what the orchestrator did in between: hosts chosen, agent commands sent (the log is
// the outbox), replies received, timers set and fired, and the job's end.
import type { AgentCommand, AgentReply } from '../agent-protocol/index.js';
import { reject, type Decider, type DomainEvent } from '../shared/decider.js';

export const JOB_STREAM_PREFIX = 'job-';

export function jobStream(jobId: string): string {
  return `${JOB_STREAM_PREFIX}${jobId}`;
}

/** The job a stream belongs to; undefined for any other stream. */
export function jobIdOfStream(stream: string): string | undefined {
  return stream.startsWith(JOB_STREAM_PREFIX) ? stream.slice(JOB_STREAM_PREFIX.length) : undefined;
}

/** What the job keeps of an agent's reply to one of its commands. */
export type AgentReplyRecord = Pick<AgentReply, 'commandId' | 'outcome' | 'powerState' | 'error' | 'snapshot' | 'converted' | 'volumes'>;

export interface JobError {
  readonly code: string;
  readonly errorCode: number;
  readonly message: string;
}

/** A NIC address a deployment claims before it records its instance: what its compensation gives back. */
export interface NicClaim {
  readonly networkId: string;
  readonly nicId: string;
}

/** What a job acts on (API.md's `AsyncJob.resourceType` and `resourceId`). */
export interface JobResource {
  readonly type: 'VirtualMachine' | 'VMSnapshot';
  readonly id: string;
}

/** The step of its workflow a job is at, and how far that is (0–100). */
export interface JobProgress {
  readonly step: string;
  readonly progress: number;
}

export type JobCommand =
  | {
      readonly type: 'OpenJob';
      readonly jobId: string;
      readonly cmd: string;
      readonly instanceId: string;
      readonly accountId: string;
      readonly at: string;
      /** What the job acts on; an instance (`instanceId`) unless named otherwise. It need not exist yet. */
      readonly resource?: JobResource;
      /** A deployment's claims, named before they are made, so a deployment that dies half-way can be undone. */
      readonly claims?: readonly NicClaim[];
    }
  /** The planner's choice for a phase of the job (start, migrate), recorded so a replay never re-rolls it. */
  | { readonly type: 'ChooseHost'; readonly phase: string; readonly hostId: string; readonly at: string; readonly progress?: JobProgress }
  | { readonly type: 'RejectHost'; readonly phase: string; readonly hostId: string; readonly reason: string; readonly at: string }
  | { readonly type: 'IssueAgentCommand'; readonly phase: string; readonly command: AgentCommand; readonly timeoutAt: string; readonly at: string; readonly progress?: JobProgress }
  /**
   * A process that did not issue the command sends it again (after a restart): it gets a deadline
   * of its own, or the time the control plane was down would count against the host.
   */
  | { readonly type: 'ResendAgentCommand'; readonly commandId: string; readonly timeoutAt: string; readonly at: string }
  | { readonly type: 'RecordAgentReply'; readonly reply: AgentReplyRecord; readonly at: string }
  | { readonly type: 'FireTimer'; readonly commandId: string; readonly at: string }
  /**
   * An agent's progress on a long command (AgentProgress): `percent` of the command's own `step`, and
   * what that makes of the whole job (`progress`, the workflow's band for the step). Kept only when
   * it says something new (see `decide`), so a chatty agent cannot fill the log.
   */
  | { readonly type: 'RecordAgentProgress'; readonly commandId: string; readonly percent: number; readonly progress: JobProgress; readonly at: string }
  | { readonly type: 'CompleteJob'; readonly error: JobError | null; readonly at: string };

export type JobEvent =
  | DomainEvent<
      'JobOpened',
      {
        readonly jobId: string;
        readonly cmd: string;
        readonly instanceId: string;
        readonly accountId: string;
        readonly createdAt: string;
        /** Absent on jobs opened before jobs named their resource: those act on their instance. */
        readonly resource?: JobResource;
        readonly claims?: readonly NicClaim[];
      }
    >
  | DomainEvent<'JobHostChosen', { readonly phase: string; readonly hostId: string; readonly progress?: JobProgress }>
  | DomainEvent<'JobHostRejected', { readonly phase: string; readonly hostId: string; readonly reason: string }>
  | DomainEvent<'JobAgentCommandIssued', { readonly phase: string; readonly command: AgentCommand; readonly timeoutAt: string; readonly issuedAt: string; readonly progress?: JobProgress }>
  | DomainEvent<'JobAgentCommandResent', { readonly commandId: string; readonly timeoutAt: string; readonly resentAt: string }>
  | DomainEvent<'JobAgentReplied', { readonly reply: AgentReplyRecord; readonly receivedAt: string }>
  | DomainEvent<'JobTimerFired', { readonly commandId: string; readonly firedAt: string }>
  | DomainEvent<'JobAgentProgressed', { readonly commandId: string; readonly percent: number; readonly progress: JobProgress; readonly reportedAt: string }>
  | DomainEvent<'JobSucceeded', { readonly completedAt: string }>
  | DomainEvent<'JobFailed', { readonly completedAt: string; readonly error: JobError }>;

export interface IssuedCommand {
  readonly phase: string;
  readonly command: AgentCommand;
  /** When it was issued or, after a restart, sent again: its deadline counts from there. */
  readonly sentAt: string;
  readonly timeoutAt: string;
  readonly reply: AgentReplyRecord | null;
  readonly timedOut: boolean;
  /** The agent's last progress kept for it: its step and how far into that step (0–100). */
  readonly agentProgress?: { readonly step: string; readonly percent: number };
}

export interface Job {
  readonly exists: true;
  readonly jobId: string;
  readonly cmd: string;
  readonly instanceId: string;
  readonly accountId: string;
  readonly createdAt: string;
  readonly resource: JobResource;
  /** What a deployment claims before its instance exists (absent on every other job). */
  readonly claims?: readonly NicClaim[];
  readonly status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  /** The workflow step it entered last (null before its first). */
  readonly progress: JobProgress | null;
  readonly completedAt: string | null;
  readonly error: JobError | null;
  readonly chosenHosts: Readonly<Record<string, string>>;
  readonly rejectedHosts: readonly string[];
  /** In the order they were issued. */
  readonly commands: readonly IssuedCommand[];
}

export type JobState = { readonly exists: false } | Job;

/**
 * The job an instance's pending operation belongs to. An expunge asked for without a job (the
 * synchronous API, the expunge sweeper) still needs one to run; it is named after the instance.
 */
export function jobIdOfPending(pending: { readonly jobId: string | null }, instanceId: string): string {
  return pending.jobId ?? `expunge-${instanceId}`;
}

/** Agent commands are numbered within their job, so a command id says which job it belongs to. */
export function commandIdOf(jobId: string, sequence: number): string {
  return `${jobId}.${sequence}`;
}

export function jobIdOfCommand(commandId: string): string | undefined {
  const dot = commandId.lastIndexOf('.');
  return dot > 0 ? commandId.slice(0, dot) : undefined;
}

/** The latest command of a phase, if the job has issued one. */
export function lastCommandOf(job: Job, phase: string): IssuedCommand | undefined {
  for (let i = job.commands.length - 1; i >= 0; i--) if (job.commands[i]!.phase === phase) return job.commands[i];
  return undefined;
}

function decide(command: JobCommand, state: JobState): readonly JobEvent[] | ReturnType<typeof reject> {
  if (command.type === 'OpenJob') {
    if (state.exists) return [];
    const { jobId, cmd, instanceId, accountId, at, claims } = command;
    const resource = command.resource ?? { type: 'VirtualMachine', id: instanceId };
    return [{ type: 'JobOpened', data: { jobId, cmd, instanceId, accountId, createdAt: at, resource, ...(claims ? { claims } : {}) } }];
  }
  if (!state.exists) return reject('NOT_FOUND', 'the job does not exist');
  const done = state.status !== 'PENDING';
  switch (command.type) {
    case 'ChooseHost':
      if (done || state.chosenHosts[command.phase] === command.hostId) return [];
      return [{ type: 'JobHostChosen', data: { phase: command.phase, hostId: command.hostId, ...(command.progress ? { progress: command.progress } : {}) } }];
    case 'RejectHost':
      if (done || state.chosenHosts[command.phase] !== command.hostId) return [];
      return [{ type: 'JobHostRejected', data: { phase: command.phase, hostId: command.hostId, reason: command.reason } }];
    case 'IssueAgentCommand': {
      if (done) return [];
      if (state.commands.some((c) => c.command.commandId === command.command.commandId)) return [];
      if (command.command.commandId !== commandIdOf(state.jobId, state.commands.length)) {
        return reject('CONFLICT', `command ${command.command.commandId} is out of sequence for job ${state.jobId}`);
      }
      const { phase, timeoutAt, at, progress } = command;
      return [{ type: 'JobAgentCommandIssued', data: { phase, command: command.command, timeoutAt, issuedAt: at, ...(progress ? { progress } : {}) } }];
    }
    case 'RecordAgentReply': {
      const issued = state.commands.find((c) => c.command.commandId === command.reply.commandId);
      // A reply to a command never issued, or a second reply, or one after the timeout gave up: ignored.
      if (!issued || issued.reply || issued.timedOut) return [];
      return [{ type: 'JobAgentReplied', data: { reply: command.reply, receivedAt: command.at } }];
    }
    case 'ResendAgentCommand': {
      const issued = state.commands.find((c) => c.command.commandId === command.commandId);
      if (done || !issued || issued.reply || issued.timedOut) return [];
      return [{ type: 'JobAgentCommandResent', data: { commandId: command.commandId, timeoutAt: command.timeoutAt, resentAt: command.at } }];
    }
    case 'FireTimer': {
      const issued = state.commands.find((c) => c.command.commandId === command.commandId);
      if (!issued || issued.reply || issued.timedOut) return [];
      return [{ type: 'JobTimerFired', data: { commandId: command.commandId, firedAt: command.at } }];
    }
    case 'RecordAgentProgress': {
      const issued = state.commands.find((c) => c.command.commandId === command.commandId);
      if (done || !issued || issued.reply || issued.timedOut) return [];
      const { progress, percent } = command;
      const last = issued.agentProgress;
      // Throttled: a new step, or a move of at least one percent within the step.
      if (last && last.step === progress.step && Math.abs(percent - last.percent) < 1) return [];
      // Never backwards: a report overtaken by a later one (redelivered, reordered) is stale.
      if (state.progress && progress.progress < state.progress.progress) return [];
      if (last && last.step === progress.step && percent < last.percent) return [];
      return [{ type: 'JobAgentProgressed', data: { commandId: command.commandId, percent, progress, reportedAt: command.at } }];
    }
    case 'CompleteJob':
      if (done) return [];
      return command.error
        ? [{ type: 'JobFailed', data: { completedAt: command.at, error: command.error } }]
        : [{ type: 'JobSucceeded', data: { completedAt: command.at } }];
  }
}

function mapCommand(job: Job, commandId: string, change: (c: IssuedCommand) => IssuedCommand): Job {
  return { ...job, commands: job.commands.map((c) => (c.command.commandId === commandId ? change(c) : c)) };
}

function evolve(state: JobState, event: JobEvent): JobState {
  if (event.type === 'JobOpened') {
    return {
      exists: true,
      ...event.data,
      resource: event.data.resource ?? { type: 'VirtualMachine', id: event.data.instanceId },
      status: 'PENDING',
      progress: null,
      completedAt: null,
      error: null,
      chosenHosts: {},
      rejectedHosts: [],
      commands: [],
    };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'JobHostChosen':
      return { ...state, chosenHosts: { ...state.chosenHosts, [event.data.phase]: event.data.hostId }, progress: event.data.progress ?? state.progress };
    case 'JobHostRejected': {
      const { [event.data.phase]: _dropped, ...rest } = state.chosenHosts;
      return { ...state, chosenHosts: rest, rejectedHosts: [...state.rejectedHosts, event.data.hostId] };
    }
    case 'JobAgentCommandIssued':
      return {
        ...state,
        progress: event.data.progress ?? state.progress,
        commands: [
          ...state.commands,
          { phase: event.data.phase, command: event.data.command, sentAt: event.data.issuedAt, timeoutAt: event.data.timeoutAt, reply: null, timedOut: false },
        ],
      };
    case 'JobAgentCommandResent':
      return mapCommand(state, event.data.commandId, (c) => ({ ...c, sentAt: event.data.resentAt, timeoutAt: event.data.timeoutAt }));
    case 'JobAgentReplied':
      return mapCommand(state, event.data.reply.commandId, (c) => ({ ...c, reply: event.data.reply }));
    case 'JobTimerFired':
      return mapCommand(state, event.data.commandId, (c) => ({ ...c, timedOut: true }));
    case 'JobAgentProgressed':
      return {
        ...mapCommand(state, event.data.commandId, (c) => ({ ...c, agentProgress: { step: event.data.progress.step, percent: event.data.percent } })),
        progress: event.data.progress,
      };
    case 'JobSucceeded':
      return { ...state, status: 'SUCCEEDED', completedAt: event.data.completedAt };
    case 'JobFailed':
      return { ...state, status: 'FAILED', completedAt: event.data.completedAt, error: event.data.error };
  }
}

export const jobDecider: Decider<JobCommand, JobState, JobEvent> = {
  initialState: { exists: false },
  decide,
  evolve,
};
