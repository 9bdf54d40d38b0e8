// rebootVirtualMachine: the host reboots the domain in place; an instance with a volatile root is
// stopped, given a fresh root and started again instead (the instance decider turns the reboot into
// that restore), through the stop and start phases.
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import { settle } from './agent-outcome.js';
import { phased } from './phased.js';
import { startPhase } from './start.js';
import { stopPhase } from './stop.js';
import type { Phase, Workflow } from './workflow.js';

export const rebootPhase: Phase<'reboot'> = ({ job, instance, history, now, timeouts }) => {
  const hostId = instance.hostId;
  const jobId = job.jobId;
  const fail = (reason: string): InstanceCommand => ({ type: 'RecordRebootFailed', instanceId: instance.id, jobId, at: now, reason });
  if (!hostId) return { kind: 'record', command: fail('the instance is on no host') };
  const last = lastCommandOf(job, 'reboot');
  if (!last) {
    const forced = history.some((e) => e.type === 'InstanceRebootRequested' && e.data.jobId === jobId && e.data.forced);
    return { kind: 'issue', phase: 'reboot', command: { type: 'RebootDomain', hostId, instanceId: instance.id, instanceName: instance.instanceName, forced }, timeoutMs: timeouts.agentMs, step: 'REBOOTING' };
  }
  return settle(last, { ok: { type: 'RecordRebootSucceeded', instanceId: instance.id, jobId, at: now }, failed: fail, host: hostId, timeoutMs: timeouts.agentMs });
};

export const rebootWorkflow: Workflow = {
  cmd: 'rebootVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'STOPPING', progress: 20 },
    { step: 'REBOOTING', progress: 30 },
    { step: 'FORCING_STOP', progress: 35 },
    { step: 'PLANNING', progress: 50 },
    { step: 'STARTING', progress: 70 },
  ],
  compensation: ['give-back-capacity'],
  decide: phased({ reboot: rebootPhase, stop: stopPhase, start: startPhase }),
};
