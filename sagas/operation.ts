// What an operation's saga does next, as a pure function of the job (the saga's memory), the
// instance (which says what was asked and what has happened) and the time. Level-triggered: the
// runner asks again after every change and after a restart, and every step is idempotent, so a
// crash at any line only repeats a step that has no further effect.
import type { UnnumberedAgentCommand } from '../domain/agent-protocol/index.js';
import type { Job, JobError } from '../domain/job/index.js';
import { jobIdOfPending, lastCommandOf } from '../domain/job/index.js';
import type { Instance, InstanceCommand, InstanceEvent, PendingOperation } from '../domain/instance/index.js';

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

export type Step =
  /** Ask the planner for a host for this phase; with none, `onNone` records the failure. */
  | { readonly kind: 'choose-host'; readonly phase: 'start'; readonly onNone: (reason: string) => InstanceCommand }
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
      readonly onRefused?: { readonly rejectHost: string } | { readonly record: (reason: string) => InstanceCommand };
    }
  /** Write the operation's outcome to the instance. */
  | { readonly kind: 'record'; readonly command: InstanceCommand }
  /** Nothing to do until a reply or the timer at `until`. */
  | { readonly kind: 'wait'; readonly until: string }
  /** The instance is done with this job: put capacity right, free what an expunge leaves, close the job. */
  | { readonly kind: 'finish'; readonly release: readonly string[]; readonly keep: ({ readonly hostId: string } & Resources) | null; readonly freeAddresses: boolean; readonly error: JobError | null };

/** The job's own part of what the instance is busy with, if it is busy with this job. */
export function pendingFor(instance: Instance, jobId: string): PendingOperation | null {
  const pending = instance.pending;
  if (!pending) return null;
  return jobIdOfPending(pending, instance.id) === jobId ? pending : null;
}

/** A failure reason that begins with this prefix is reported as INSUFFICIENT_CAPACITY. */
export const CAPACITY_PREFIX = 'Insufficient capacity: ';

export function nextStep(job: Job, instance: Instance, history: readonly InstanceEvent[], now: string, timeouts: OperationTimeouts): Step {
  const pending = pendingFor(instance, job.jobId);
  if (!pending) return finish(job, instance, history);
  const at = now;
  const jobId = job.jobId;
  switch (pending.kind) {
    case 'start': {
      const hostId = job.chosenHosts.start;
      const fail = (reason: string): InstanceCommand => ({ type: 'RecordStartFailed', instanceId: instance.id, jobId, at, reason });
      if (!hostId) return { kind: 'choose-host', phase: 'start', onNone: fail };
      const last = lastCommandOf(job, 'start');
      if (!last || last.command.hostId !== hostId) {
        return {
          kind: 'issue',
          phase: 'start',
          command: { type: 'StartDomain', hostId, domain: domainSpec(instance) },
          timeoutMs: timeouts.agentMs,
          reserve: { hostId, ...resourcesOf(instance) },
          onRefused: { rejectHost: hostId },
        };
      }
      return settle(last, {
        ok: { type: 'RecordStartSucceeded', instanceId: instance.id, jobId, at, hostId },
        failed: fail,
        host: hostId,
        timeoutMs: timeouts.agentMs,
      });
    }
    case 'stop': {
      const hostId = instance.hostId;
      const ok: InstanceCommand = { type: 'RecordStopSucceeded', instanceId: instance.id, jobId, at };
      if (!hostId) return { kind: 'record', command: ok };
      const last = lastCommandOf(job, 'stop');
      const stopCommand = (forced: boolean): Step => ({
        kind: 'issue' as const,
        phase: 'stop',
        command: { type: 'StopDomain', hostId, instanceName: instance.instanceName, forced, timeoutMs: timeouts.gracefulStopMs },
        timeoutMs: forced ? timeouts.agentMs : timeouts.gracefulStopMs + timeouts.agentMs,
      });
      if (!last) return stopCommand(pending.forced);
      if (last.reply?.outcome === 'succeeded') return { kind: 'record', command: ok };
      const gaveUp = last.timedOut || last.reply?.outcome === 'failed';
      // Graceful first; a guest that does not shut down in time is then powered off.
      if (gaveUp && last.command.type === 'StopDomain' && last.command.forced === false) return stopCommand(true);
      if (gaveUp) return { kind: 'record', command: { type: 'RecordStopFailed', instanceId: instance.id, jobId, at, reason: failureReason(last, hostId, timeouts.agentMs) } };
      return { kind: 'wait', until: last.timeoutAt };
    }
    case 'reboot': {
      const hostId = instance.hostId;
      const fail = (reason: string): InstanceCommand => ({ type: 'RecordRebootFailed', instanceId: instance.id, jobId, at, reason });
      if (!hostId) return { kind: 'record', command: fail('the instance is on no host') };
      const last = lastCommandOf(job, 'reboot');
      if (!last) {
        const forced = history.some((e) => e.type === 'InstanceRebootRequested' && e.data.jobId === jobId && e.data.forced);
        return { kind: 'issue', phase: 'reboot', command: { type: 'RebootDomain', hostId, instanceName: instance.instanceName, forced }, timeoutMs: timeouts.agentMs };
      }
      return settle(last, { ok: { type: 'RecordRebootSucceeded', instanceId: instance.id, jobId, at }, failed: fail, host: hostId, timeoutMs: timeouts.agentMs });
    }
    case 'migrate': {
      const source = instance.hostId ?? pending.sourceHostId;
      const target = pending.targetHostId;
      const fail = (reason: string): InstanceCommand => ({ type: 'RecordMigrationFailed', instanceId: instance.id, jobId, at, reason });
      if (!source) return { kind: 'record', command: fail('the instance is on no host') };
      const last = lastCommandOf(job, 'migrate');
      if (!last) {
        return {
          kind: 'issue',
          phase: 'migrate',
          command: { type: 'MigrateDomain', hostId: source, instanceName: instance.instanceName, targetHostId: target },
          timeoutMs: timeouts.agentMs,
          reserve: { hostId: target, ...resourcesOf(instance) },
          onRefused: { record: (reason) => fail(`${CAPACITY_PREFIX}${reason}`) },
        };
      }
      return settle(last, {
        ok: { type: 'RecordMigrationSucceeded', instanceId: instance.id, jobId, at, hostId: target },
        failed: fail,
        host: source,
        timeoutMs: timeouts.agentMs,
      });
    }
    case 'scale': {
      const hostId = instance.hostId;
      const fail = (reason: string): InstanceCommand => ({ type: 'RecordScaleFailed', instanceId: instance.id, jobId, at, reason });
      if (!hostId) return { kind: 'record', command: fail('the instance is on no host') };
      const last = lastCommandOf(job, 'scale');
      const size = { cpuNumber: pending.cpuNumber, cpuSpeed: pending.cpuSpeed, memory: pending.memory };
      if (!last) {
        return {
          kind: 'issue',
          phase: 'scale',
          command: { type: 'ScaleDomain', hostId, instanceName: instance.instanceName, ...size },
          timeoutMs: timeouts.agentMs,
          reserve: { hostId, ...size },
          onRefused: { record: (reason) => fail(`${CAPACITY_PREFIX}${reason}`) },
        };
      }
      return settle(last, { ok: { type: 'RecordScaleSucceeded', instanceId: instance.id, jobId, at }, failed: fail, host: hostId, timeoutMs: timeouts.agentMs });
    }
    case 'expunge': {
      const hostId = instance.lastHostId ?? instance.hostId;
      const ok: InstanceCommand = { type: 'RecordExpunged', instanceId: instance.id, at };
      // An instance that never ran has nothing on any hypervisor.
      if (!hostId) return { kind: 'record', command: ok };
      const last = lastCommandOf(job, 'expunge');
      if (!last) {
        return {
          kind: 'issue',
          phase: 'expunge',
          command: { type: 'DestroyDomain', hostId, instanceName: instance.instanceName, volumes: volumeSpecs(instance) },
          timeoutMs: timeouts.agentMs,
        };
      }
      return settle(last, {
        ok,
        failed: (reason) => ({ type: 'RecordExpungeFailed', instanceId: instance.id, at, reason }),
        host: hostId,
        timeoutMs: timeouts.agentMs,
      });
    }
  }
}

function settle(
  last: Job['commands'][number],
  outcome: { ok: InstanceCommand; failed: (reason: string) => InstanceCommand; host: string; timeoutMs: number },
): Step {
  if (last.reply?.outcome === 'succeeded') return { kind: 'record', command: outcome.ok };
  if (last.reply?.outcome === 'failed' || last.timedOut) {
    return { kind: 'record', command: outcome.failed(failureReason(last, outcome.host, outcome.timeoutMs)) };
  }
  return { kind: 'wait', until: last.timeoutAt };
}

function failureReason(last: Job['commands'][number], hostId: string, timeoutMs: number): string {
  if (last.timedOut) return `host ${hostId} did not answer ${last.command.type} within ${Math.round(timeoutMs / 1000)} s`;
  const error = last.reply?.error;
  if (!error) return `host ${hostId} failed ${last.command.type}`;
  return error.detail ? `${error.message}: ${error.detail}` : error.message;
}

/** The instance no longer waits on this job: settle capacity and addresses, then close the job. */
function finish(job: Job, instance: Instance, history: readonly InstanceEvent[]): Step {
  const touched = new Set<string>([...Object.values(job.chosenHosts), ...job.rejectedHosts, ...job.commands.map((c) => c.command.hostId)]);
  for (const c of job.commands) if (c.command.type === 'MigrateDomain') touched.add(String(c.command.targetHostId));
  const onHost = instance.hostId !== null && ['Running', 'Starting', 'Stopping', 'Migrating'].includes(instance.state) ? instance.hostId : null;
  if (onHost) touched.delete(onHost);
  // The last host of a stopped, destroyed or expunged instance holds nothing for it any more.
  if (!onHost && instance.lastHostId) touched.add(instance.lastHostId);
  return {
    kind: 'finish',
    release: [...touched].sort(),
    keep: onHost ? { hostId: onHost, ...resourcesOf(instance) } : null,
    freeAddresses: instance.expunged,
    error: jobError(job.jobId, history),
  };
}

const FAILURES = new Set([
  'InstanceStartFailed',
  'InstanceErrored',
  'InstanceStopFailed',
  'InstanceRebootFailed',
  'InstanceMigrationFailed',
  'InstanceScaleFailed',
  'InstanceExpungeFailed',
]);

/** How the job ended, from the last instance event that settled it. */
export function jobError(jobId: string, history: readonly InstanceEvent[]): JobError | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const event = history[i]!;
    const data = event.data as { jobId?: unknown; settledJobId?: unknown; reason?: unknown };
    const expungeOfThisJob = jobId.startsWith('expunge-') && (event.type === 'InstanceExpunged' || event.type === 'InstanceExpungeFailed');
    if (data.jobId !== jobId && data.settledJobId !== jobId && !expungeOfThisJob) continue;
    if (event.type === 'InstancePowerStateReported') {
      // An agent report settled it: it went the way the operation wanted unless the instance stopped while starting.
      return (event.data.state === 'Stopped' && history.some((e) => e.type === 'InstanceStartRequested' && e.data.jobId === jobId))
        ? failure('INTERNAL_ERROR', `host ${event.data.hostId} reported the instance stopped while it was starting`)
        : null;
    }
    if (!FAILURES.has(event.type)) return null;
    const reason = typeof data.reason === 'string' ? data.reason : 'the operation failed';
    return reason.startsWith(CAPACITY_PREFIX) ? failure('INSUFFICIENT_CAPACITY', reason.slice(CAPACITY_PREFIX.length)) : failure('INTERNAL_ERROR', reason);
  }
  return null;
}

function failure(code: 'INSUFFICIENT_CAPACITY' | 'INTERNAL_ERROR', message: string): JobError {
  return { code, errorCode: code === 'INSUFFICIENT_CAPACITY' ? 533 : 530, message };
}

export function resourcesOf(instance: Instance): Resources {
  return { cpuNumber: instance.cpuNumber, cpuSpeed: instance.cpuSpeed, memory: instance.memory };
}

function volumeSpecs(instance: Instance) {
  return instance.volumes.map((v) => ({ volumeId: v.id, type: v.type, size: v.size, templateId: v.templateId }));
}

export function domainSpec(instance: Instance) {
  return {
    instanceId: instance.id,
    instanceName: instance.instanceName,
    ...resourcesOf(instance),
    nics: instance.nics.map((nic) => ({ nicId: nic.id, networkId: nic.networkId, mac: nic.macAddress, ip: nic.ipAddress, vlan: nic.vlan ?? null, deviceId: nic.deviceId })),
    volumes: volumeSpecs(instance).filter((v) => instance.volumes.find((x) => x.id === v.volumeId)?.state !== 'Destroy'),
  };
}
