// importUnmanagedInstance: the host's agent adopts the domain (writes vmledger's record into it); the
// instance is then Running if the domain runs there and Stopped otherwise, as the host answered.
import { lastCommandOf } from '../../domain/job/index.js';
import { failureReason } from './agent-outcome.js';
import { domainSpec } from './domain-spec.js';
import { phased } from './phased.js';
import type { Phase, Workflow } from './workflow.js';

export const importPhase: Phase<'import'> = ({ job, instance, now, timeouts }, pending) => {
  const jobId = job.jobId;
  const last = lastCommandOf(job, 'import');
  if (!last) {
    return {
      kind: 'issue',
      phase: 'import',
      command: { type: 'ManageDomain', hostId: pending.hostId, instanceId: instance.id, instanceName: instance.instanceName, domain: domainSpec(instance), diskPositions: pending.diskPositions },
      timeoutMs: timeouts.agentMs,
      step: 'IMPORTING',
    };
  }
  const reply = last.reply;
  if (reply?.outcome === 'succeeded') {
    return { kind: 'record', command: { type: 'RecordImported', instanceId: instance.id, jobId, at: now, powerState: reply.powerState === 'running' ? 'running' : 'stopped' } };
  }
  if (reply?.outcome === 'failed' || last.timedOut) {
    return { kind: 'record', command: { type: 'RecordImportFailed', instanceId: instance.id, jobId, at: now, reason: failureReason(last, pending.hostId, timeouts.agentMs) } };
  }
  return { kind: 'wait', until: last.timeoutAt };
};

export const importWorkflow: Workflow = {
  cmd: 'importUnmanagedInstance',
  resourceType: 'VirtualMachine',
  steps: [{ step: 'IMPORTING', progress: 50 }],
  // A failed import leaves no instance: finishing gives back its addresses and name (it is expunged);
  // one that died before recording its instance is undone as an interrupted deployment is.
  compensation: ['give-back-capacity', 'abandon-deployment'],
  decide: phased({ import: importPhase }),
};
