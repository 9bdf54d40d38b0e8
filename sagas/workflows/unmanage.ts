// unmanageVirtualMachine: the host's agent gives the domain up (it stays defined and persistent, a
// stopped instance's defined on its last host, without vmledger's record), then the instance leaves
// vmledger with its usage events, recorded once.
//
// VM snapshots: when vmledger can delete an instance's VM snapshots in a job, this phase deletes them
// first, as CloudStack's unmanage does; until then decideUnmanage refuses an instance that has any
// (domain/instance/decide-import.ts). That is the one place to change.
import { lastCommandOf } from '../../domain/job/index.js';
import { settle } from './agent-outcome.js';
import { domainSpec } from './domain-spec.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

export const unmanagePhase: Phase<'unmanage'> = ({ job, instance, now, timeouts }, pending) => {
  const jobId = job.jobId;
  const hostId = pending.hostId;
  if (hostId === null) return { kind: 'record', command: { type: 'RecordUnmanaged', instanceId: instance.id, jobId, at: now } };
  const last = lastCommandOf(job, 'unmanage');
  if (!last) {
    return {
      kind: 'issue',
      phase: 'unmanage',
      command: { type: 'UnmanageDomain', hostId, instanceId: instance.id, instanceName: instance.instanceName, domain: domainSpec(instance) },
      timeoutMs: timeouts.agentMs,
      step: 'UNMANAGING',
    };
  }
  return settle(last, {
    ok: { type: 'RecordUnmanaged', instanceId: instance.id, jobId, at: now },
    failed: (reason) => ({ type: 'RecordUnmanageFailed', instanceId: instance.id, jobId, at: now, reason }),
    host: hostId,
    timeoutMs: timeouts.agentMs,
  });
};

export const unmanageWorkflow: Workflow = {
  cmd: 'unmanageVirtualMachine',
  resourceType: 'VirtualMachine',
  steps: [{ step: 'UNMANAGING', progress: 50 }],
  compensation: ['give-back-capacity'],
  decide: phased({ unmanage: unmanagePhase }),
};
