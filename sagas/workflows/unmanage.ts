// unmanageVirtualMachine: the instance's VM snapshots are deleted on its host first (as a destroy's
// are, newest first, each with its VMSNAPSHOT.DELETE usage: CloudStack's unmanage deletes them too,
// §4.8), then the host's agent gives the domain up (it stays defined and persistent, a stopped
// instance's defined on its last host, without vmledger's record), and the instance leaves vmledger
// with its usage events, recorded once. A snapshot the host cannot delete fails the job: the
// instance stays managed.
import { lastCommandOf } from '../../domain/job/index.js';
import { settle } from './agent-outcome.js';
import { domainSpec } from './domain-spec.js';
import { phased } from './phased.js';
import { vmSnapshotPhase } from './vmsnapshot.js';
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
  steps: [
    { step: 'DELETING_SNAPSHOTS', progress: 10 },
    { step: 'UNMANAGING', progress: 50 },
  ],
  compensation: ['give-back-capacity'],
  decide: phased({ vmsnapshot: vmSnapshotPhase, unmanage: unmanagePhase }),
};
