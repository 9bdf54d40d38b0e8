// startVirtualMachine: plan a host, reserve its capacity, have its agent start the domain, record
// the outcome (a refused reservation moves on to another host).
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import { settle } from './agent-outcome.js';
import { domainSpec, resourcesOf } from './domain-spec.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

export const startPhase: Phase<'start'> = ({ job, instance, now, timeouts }) => {
  const hostId = job.chosenHosts.start;
  const jobId = job.jobId;
  const fail = (reason: string): InstanceCommand => ({ type: 'RecordStartFailed', instanceId: instance.id, jobId, at: now, reason });
  if (!hostId) return { kind: 'choose-host', phase: 'start', onNone: fail, step: 'PLANNING' };
  const last = lastCommandOf(job, 'start');
  if (!last || last.command.hostId !== hostId) {
    return {
      kind: 'issue',
      phase: 'start',
      command: { type: 'StartDomain', hostId, domain: domainSpec(instance) },
      timeoutMs: timeouts.agentMs,
      reserve: { hostId, ...resourcesOf(instance) },
      placeVolumes: true,
      onRefused: { rejectHost: hostId },
      step: 'STARTING',
    };
  }
  return settle(last, {
    ok: { type: 'RecordStartSucceeded', instanceId: instance.id, jobId, at: now, hostId },
    failed: fail,
    host: hostId,
    timeoutMs: timeouts.agentMs,
  });
};

export const startWorkflow: Workflow = {
  cmd: 'startVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [
    { step: 'PLANNING', progress: 10 },
    { step: 'STARTING', progress: 40 },
  ],
  compensation: ['give-back-capacity'],
  decide: phased({ start: startPhase }),
};
