// stopVirtualMachine: an ACPI shutdown, forced when the guest does not go down in time (or at once).
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import { failureReason } from './agent-outcome.js';
import { phased } from './phased.js';
import type { Phase, Step, Workflow } from './workflow.js';

export const stopPhase: Phase<'stop'> = ({ job, instance, now, timeouts }, pending) => {
  const hostId = instance.hostId;
  const jobId = job.jobId;
  const ok: InstanceCommand = { type: 'RecordStopSucceeded', instanceId: instance.id, jobId, at: now };
  if (!hostId) return { kind: 'record', command: ok };
  const last = lastCommandOf(job, 'stop');
  const stopCommand = (forced: boolean): Step => ({
    kind: 'issue',
    phase: 'stop',
    command: { type: 'StopDomain', hostId, instanceId: instance.id, instanceName: instance.instanceName, forced, timeoutMs: timeouts.gracefulStopMs },
    timeoutMs: forced ? timeouts.agentMs : timeouts.gracefulStopMs + timeouts.agentMs,
    step: forced ? 'FORCING_STOP' : 'STOPPING',
  });
  if (!last) return stopCommand(pending.forced);
  if (last.reply?.outcome === 'succeeded') return { kind: 'record', command: ok };
  const gaveUp = last.timedOut || last.reply?.outcome === 'failed';
  // Graceful first; a guest that does not shut down in time is then powered off.
  if (gaveUp && last.command.type === 'StopDomain' && last.command.forced === false) return stopCommand(true);
  if (gaveUp) return { kind: 'record', command: { type: 'RecordStopFailed', instanceId: instance.id, jobId, at: now, reason: failureReason(last, hostId, timeouts.agentMs) } };
  return { kind: 'wait', until: last.timeoutAt };
};

export const stopWorkflow: Workflow = {
  cmd: 'stopVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'STOPPING', progress: 20 },
    { step: 'FORCING_STOP', progress: 60 },
  ],
  compensation: ['give-back-capacity'],
  decide: phased({ stop: stopPhase }),
};
