// scaleVirtualMachine: reserve the larger size on the instance's host, then its agent resizes the domain.
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import { settle } from './agent-outcome.js';
import { CAPACITY_PREFIX } from './finish.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

export const scalePhase: Phase<'scale'> = ({ job, instance, now, timeouts }, pending) => {
  const hostId = instance.hostId;
  const jobId = job.jobId;
  const fail = (reason: string): InstanceCommand => ({ type: 'RecordScaleFailed', instanceId: instance.id, jobId, at: now, reason });
  if (!hostId) return { kind: 'record', command: fail('the instance is on no host') };
  const last = lastCommandOf(job, 'scale');
  const size = { cpuNumber: pending.cpuNumber, cpuSpeed: pending.cpuSpeed, memory: pending.memory };
  if (!last) {
    return {
      kind: 'issue',
      phase: 'scale',
      command: { type: 'ScaleDomain', hostId, instanceId: instance.id, instanceName: instance.instanceName, ...size },
      timeoutMs: timeouts.agentMs,
      reserve: { hostId, ...size },
      onRefused: { record: (reason) => fail(`${CAPACITY_PREFIX}${reason}`) },
      step: 'SCALING',
    };
  }
  return settle(last, { ok: { type: 'RecordScaleSucceeded', instanceId: instance.id, jobId, at: now }, failed: fail, host: hostId, timeoutMs: timeouts.agentMs });
};

export const scaleWorkflow: Workflow = {
  cmd: 'scaleVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [{ step: 'SCALING', progress: 30 }],
  compensation: ['give-back-capacity'],
  decide: phased({ scale: scalePhase }),
};
