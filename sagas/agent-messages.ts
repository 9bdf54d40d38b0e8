// What comes back from the agents: replies to commands (appended to their job, then acked, so a
// redelivered reply is recognised by its message id) and out-of-band power reports (CloudStack's
// power-state sync), which move instances that stopped or started by themselves, and heartbeats, which
// keep hosts alive and record what they can do.
import type { Database } from 'better-sqlite3';
import { v5 as uuidv5 } from 'uuid';
import type { Bus, Consumer, Delivery } from '../adapters/bus/port.js';
import type { Clock } from '../adapters/clock/port.js';
import { CommandRejectedError, EVENT_ID_NAMESPACE, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { parseAgentProgress, parseAgentReply, parseAgentReport } from '../adapters/hypervisor/parse-reports.js';
import { ORCHESTRATOR_REPLIES, ORCHESTRATOR_REPORTS } from '../adapters/hypervisor/protocol.js';
import { hostDecider, hostStream } from '../domain/host/index.js';
import { instanceDecider, instanceStream, reportConfirms, type InstanceEvent, type PowerState } from '../domain/instance/index.js';
import { jobDecider, jobIdOfCommand, jobStream } from '../domain/job/index.js';
import { getJobCmd as jobCmd } from '../projections/jobs/queries.js';
import { progressWithin, workflowOf } from './workflows/registry.js';
import { instanceByInstanceName } from '../projections/instances/queries.js';
import { recordHostCapabilities } from './host-capabilities.js';
import type { SagaRunner } from './runner.js';

export interface AgentMessageOptions {
  readonly bus: Bus;
  readonly commander: Commander;
  readonly runner: SagaRunner;
  readonly readModel: () => Database;
  /**
   * Whether the read model has every event the log holds (at start it has: the stack waits for it).
   * Then a power report that only confirms what the read model says is not decided; without it, or
   * while the read model lags, every report is (it can then only delay a change to the next sync).
   */
  readonly readModelCaughtUp?: () => Promise<boolean>;
  readonly clock: Clock;
  /** A host's agent is alive (its heartbeat). */
  readonly onHeartbeat: (hostId: string) => Promise<void>;
  readonly onError?: (error: unknown) => void;
}

const SYSTEM: CommandEnvelope['actor'] = { kind: 'system', component: 'power-state-sync' };

export async function consumeAgentMessages(options: AgentMessageOptions): Promise<Consumer[]> {
  const { bus } = options;
  await bus.declareQueue(ORCHESTRATOR_REPLIES);
  await bus.declareQueue(ORCHESTRATOR_REPORTS);
  const replies = await bus.consume(ORCHESTRATOR_REPLIES, (delivery) => onReply(options, delivery), { prefetch: 256 });
  const reports = await bus.consume(ORCHESTRATOR_REPORTS, (delivery) => onReport(options, delivery), { prefetch: 64 });
  return [replies, reports];
}

/** A message from an agent the orchestrator cannot use, dead-lettered; `reason` says what was wrong with it. */
export class UnusableAgentMessage extends Error {
  constructor(
    readonly queue: string,
    readonly messageId: string,
    readonly reason: string,
  ) {
    super(`dead-lettered message ${messageId} on ${queue}: ${reason}`);
    this.name = 'UnusableAgentMessage';
  }
}

/** It cannot get better by being delivered again: off to the queue's dead letters, with the reason told. */
async function deadLetter(options: AgentMessageOptions, delivery: Delivery, reason: string): Promise<void> {
  options.onError?.(new UnusableAgentMessage(delivery.queue, delivery.message.id, reason));
  await delivery.nack({ requeue: false });
}

async function onReply(options: AgentMessageOptions, delivery: Delivery): Promise<void> {
  if (delivery.message.type === 'AgentProgress') return onProgress(options, delivery);
  const parsed = parseAgentReply(delivery.message);
  if (!parsed.ok) return deadLetter(options, delivery, parsed.reason);
  const reply = parsed.value;
  const jobId = jobIdOfCommand(reply.commandId);
  if (!jobId) return deadLetter(options, delivery, `commandId ${reply.commandId} names no job`);
  const at = options.clock.now().toISOString();
  // The reply's message id becomes the idempotency key: a redelivered reply appends nothing.
  const envelope: CommandEnvelope = { actor: { kind: 'system', component: `agent:${reply.hostId}` }, correlationId: jobId, occurredAt: at, idempotencyKey: delivery.message.id };
  try {
    await options.commander.execute(
      jobStream(jobId),
      jobDecider,
      {
        type: 'RecordAgentReply',
        reply: {
          commandId: reply.commandId,
          outcome: reply.outcome,
          powerState: reply.powerState,
          ...(reply.error ? { error: reply.error } : {}),
          // A snapshot's size is what its usage bills: kept with the reply, so a replay bills the same.
          ...(reply.snapshot ? { snapshot: reply.snapshot } : {}),
          // What a conversion wrote and an import made: the next step of the workflow reads them.
          ...(reply.converted ? { converted: reply.converted } : {}),
          ...(reply.volumes ? { volumes: reply.volumes } : {}),
        },
        at,
      },
      envelope,
    );
  } catch (error) {
    // A reply for a job this log does not know is not ours to keep.
    if (error instanceof CommandRejectedError) return deadLetter(options, delivery, `job ${jobId}: ${error.message}`);
    throw error;
  }
  await delivery.ack();
  void options.runner.advance(jobId);
}

/**
 * An agent's progress on a long command: kept in its job as the job's step and progress (the job
 * decider drops what says nothing new), which pushes it to asyncJobUpdated's subscribers. Advisory:
 * a report for a job or command this log does not know, or one the workflow has no band for, is
 * acked and dropped rather than dead-lettered.
 */
async function onProgress(options: AgentMessageOptions, delivery: Delivery): Promise<void> {
  const parsed = parseAgentProgress(delivery.message);
  if (!parsed.ok) return deadLetter(options, delivery, parsed.reason);
  const report = parsed.value;
  const jobId = jobIdOfCommand(report.commandId);
  // The job's operation (its workflow gives the band), from the read model: the job was opened long before.
  const cmd = jobId === undefined ? undefined : jobCmd(options.readModel(), jobId);
  const progress = cmd === undefined ? undefined : progressWithin(workflowOf(cmd), report.command, report.stage, report.percent);
  if (jobId !== undefined && progress !== undefined) {
    const at = options.clock.now().toISOString();
    const envelope: CommandEnvelope = { actor: { kind: 'system', component: `agent:${report.hostId}` }, correlationId: jobId, occurredAt: at, idempotencyKey: delivery.message.id };
    await options.commander.execute(jobStream(jobId), jobDecider, { type: 'RecordAgentProgress', commandId: report.commandId, percent: report.percent, progress, at }, envelope);
  }
  await delivery.ack();
}

async function onReport(options: AgentMessageOptions, delivery: Delivery): Promise<void> {
  const parsed = parseAgentReport(delivery.message);
  if (!parsed.ok) return deadLetter(options, delivery, parsed.reason);
  const report = parsed.value;
  if (report.type === 'HostHeartbeat') {
    await recordHostCapabilities(options, report.hostId, report.capabilities);
    await options.onHeartbeat(report.hostId);
    await delivery.ack();
    return;
  }
  // A sync lists every domain of the host, a minute apart: most of it confirms what is known, and
  // deciding it would read every running instance's stream (all of them at once, after a start).
  const caughtUp = (await options.readModelCaughtUp?.()) ?? false;
  for (const domain of report.domains) {
    const instance = instanceByInstanceName(options.readModel(), domain.instanceName);
    if (!instance) continue;
    const powerState: PowerState = domain.powerState === 'running' ? 'running' : 'stopped';
    if (caughtUp && reportConfirms(instance, { hostId: report.hostId, powerState })) continue;
    await recordReport(options, instance.id, report.hostId, powerState, report.at);
  }
  await delivery.ack();
}

/**
 * `takenAt` is the report's own time (the agent's clock), not when it is processed: a report taken
 * before a stop but processed after the stop's reply (replies travel on another queue) is then known
 * for the history it is, instead of starting the stopped instance again.
 */
async function recordReport(options: AgentMessageOptions, instanceId: string, hostId: string, powerState: PowerState, takenAt: string): Promise<void> {
  const envelope: CommandEnvelope = { actor: SYSTEM, correlationId: `report-${hostId}`, occurredAt: options.clock.now().toISOString() };
  let events: readonly InstanceEvent[];
  try {
    const result = await options.commander.execute(instanceStream(instanceId), instanceDecider, { type: 'RecordAgentReport', instanceId, at: takenAt, hostId, powerState }, envelope);
    events = result.events;
  } catch (error) {
    if (error instanceof CommandRejectedError) return;
    throw error;
  }
  for (const event of events) {
    if (event.type !== 'InstancePowerStateReported') continue;
    if (event.data.settledJobId) {
      void options.runner.advance(event.data.settledJobId);
    } else if (event.data.state === 'Stopped') {
      // Stopped by itself: no job will give its capacity back, so this does.
      await options.commander.execute(hostStream(hostId), hostDecider, { type: 'ReleaseCapacity', instanceId }, envelope);
    }
  }
}


/** Message ids of commands are derived from the command id, so a re-published command is the same message. */
export function commandMessageId(commandId: string): string {
  return uuidv5(`agent-command|${commandId}`, EVENT_ID_NAMESPACE);
}
