// expungeVirtualMachine (and the expunge sweeper's jobs): the last host destroys the domain and its disks.
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand } from '../../domain/instance/index.js';
import { settle } from './agent-outcome.js';
import { volumeSpecs } from './domain-spec.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

export const expungePhase: Phase<'expunge'> = ({ job, instance, now, timeouts }) => {
  const hostId = instance.lastHostId ?? instance.hostId;
  const ok: InstanceCommand = { type: 'RecordExpunged', instanceId: instance.id, at: now };
  // An instance that never ran has nothing on any hypervisor.
  if (!hostId) return { kind: 'record', command: ok };
  const last = lastCommandOf(job, 'expunge');
  if (!last) {
    return {
      kind: 'issue',
      phase: 'expunge',
      command: { type: 'DestroyDomain', hostId, instanceId: instance.id, instanceName: instance.instanceName, volumes: volumeSpecs(instance) },
      timeoutMs: timeouts.agentMs,
      step: 'EXPUNGING',
    };
  }
  return settle(last, {
    ok,
    failed: (reason) => ({ type: 'RecordExpungeFailed', instanceId: instance.id, at: now, reason }),
    host: hostId,
    timeoutMs: timeouts.agentMs,
  });
};

export const expungeWorkflow: Workflow = {
  cmd: 'expungeVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [{ step: 'EXPUNGING', progress: 30 }],
  compensation: ['give-back-capacity'],
  decide: phased({ expunge: expungePhase }),
};
