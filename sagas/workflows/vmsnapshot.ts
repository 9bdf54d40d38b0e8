// createVMSnapshot, revertToVMSnapshot and deleteVMSnapshot (behaviour §5.1), and the phase a destroy
// or an unmanage takes first to delete an instance's snapshots. A task goes: the snapshot's stream starts it (a new
// snapshot is allocated first), the instance's host carries it out, the snapshot's stream records how
// it went, and then the instance does (chain, current flag, usage, a reverted offering). Every step
// is read back from the streams before it is taken, so a workflow run again after a crash takes none
// twice, and the usage of a snapshot is written once.
import { lastCommandOf } from '../../domain/job/index.js';
import type { InstanceCommand, InstanceEvent } from '../../domain/instance/index.js';
import type { VMSnapshot, VMSnapshotDefinition, VMSnapshotTask } from '../../domain/vmsnapshot/index.js';
import { failureReason } from './agent-outcome.js';
import { phased } from './phased.js';
import type { Phase, Step, StepName, Workflow, WorkflowInput } from './workflow.js';

/** A snapshot's commands in a job are one phase each: a destroy's or an unmanage's job deletes several. */
const phaseOf = (vmSnapshotId: string) => `vmsnapshot:${vmSnapshotId}`;

const STEP_OF: Record<VMSnapshotTask, StepName> = { create: 'SNAPSHOTTING', revert: 'REVERTING', delete: 'DELETING_SNAPSHOTS' };

/** What the instance's request recorded of a new snapshot: the definition its stream is allocated with. */
function definitionOf(input: WorkflowInput, vmSnapshotId: string): VMSnapshotDefinition | undefined {
  const { instance, history } = input;
  const asked = history.find(
    (e): e is Extract<InstanceEvent, { type: 'InstanceVMSnapshotRequested' }> => e.type === 'InstanceVMSnapshotRequested' && e.data.vmSnapshotId === vmSnapshotId,
  );
  if (!asked) return undefined;
  const d = asked.data;
  return {
    vmSnapshotId,
    name: d.name,
    displayName: d.displayName,
    description: d.description,
    instanceId: instance.id,
    accountId: instance.accountId,
    domainId: instance.domainId,
    zoneId: instance.zoneId,
    type: d.snapshotType,
    quiesce: d.quiesce,
    parentId: d.parentId,
    serviceOffering: instance.serviceOffering,
    compute: { cpuNumber: instance.cpuNumber, cpuSpeed: instance.cpuSpeed, memory: instance.memory },
  };
}

/** One task on one snapshot, from its start on the snapshot's stream to its outcome on the instance. */
function taskStep(input: WorkflowInput, task: VMSnapshotTask, vmSnapshotId: string): Step {
  const { job, instance, snapshots, now, timeouts } = input;
  const jobId = job.jobId;
  const about = { instanceId: instance.id, jobId, vmSnapshotId, at: now };
  const failed = (reason: string): Step => ({ kind: 'record', command: { type: 'RecordVMSnapshotTaskFailed', ...about, reason } });
  const snapshot = snapshots.get(vmSnapshotId) ?? { exists: false as const };
  if (!snapshot.exists) {
    const definition = task === 'create' ? definitionOf(input, vmSnapshotId) : undefined;
    if (definition) return { kind: 'snapshot', command: { type: 'AllocateVMSnapshot', vmSnapshotId, jobId, at: now, definition } };
    // A snapshot the instance lists but that was never allocated (its creation died first): nothing on any host.
    if (task === 'delete') return { kind: 'record', command: succeeded(about, { name: vmSnapshotId, sizeBytes: 0 }, instance) };
    return failed(`VM snapshot ${vmSnapshotId} has no record`);
  }
  if (snapshot.settled?.jobId === jobId) {
    return snapshot.settled.succeeded
      ? { kind: 'record', command: succeeded(about, { name: snapshot.name, sizeBytes: snapshot.sizeBytes ?? 0 }, instance, snapshot) }
      : failed(snapshot.settled.reason ?? `VM snapshot ${task} failed`);
  }
  if (snapshot.task?.jobId !== jobId) return { kind: 'snapshot', command: { type: 'StartVMSnapshotTask', ...about, task } };
  const hostId = instance.hostId ?? instance.lastHostId;
  const record = (ok: boolean, detail: { sizeBytes?: number; reason?: string }): Step => ({
    kind: 'snapshot',
    command: ok
      ? { type: 'RecordVMSnapshotTaskSucceeded', vmSnapshotId, jobId, at: now, ...(detail.sizeBytes === undefined ? {} : { sizeBytes: detail.sizeBytes }) }
      : { type: 'RecordVMSnapshotTaskFailed', vmSnapshotId, jobId, at: now, reason: detail.reason ?? 'failed' },
  });
  // A domain that never ran on a host holds no snapshot: deleting one there is done.
  if (!hostId) return task === 'delete' ? record(true, {}) : record(false, { reason: 'the instance is on no host' });
  const last = lastCommandOf(job, phaseOf(vmSnapshotId));
  if (!last) return { kind: 'issue', phase: phaseOf(vmSnapshotId), command: agentCommand(task, snapshot, hostId, instance.id, instance.instanceName), timeoutMs: timeouts.agentMs, step: STEP_OF[task] };
  if (last.reply?.outcome === 'succeeded') return record(true, last.reply.snapshot ? { sizeBytes: last.reply.snapshot.sizeBytes } : {});
  if (last.reply?.outcome === 'failed' || last.timedOut) return record(false, { reason: failureReason(last, hostId, timeouts.agentMs) });
  return { kind: 'wait', until: last.timeoutAt };
}

function agentCommand(task: VMSnapshotTask, snapshot: VMSnapshot, hostId: string, instanceId: string, instanceName: string) {
  const domain = { hostId, instanceId, instanceName, snapshotName: snapshot.name };
  switch (task) {
    case 'create':
      return { type: 'CreateDomainSnapshot' as const, ...domain, kind: snapshot.type, quiesce: snapshot.quiesce, description: snapshot.description };
    case 'revert':
      return { type: 'RevertDomainSnapshot' as const, ...domain, kind: snapshot.type };
    case 'delete':
      return { type: 'DeleteDomainSnapshot' as const, ...domain };
  }
}

function succeeded(
  about: { instanceId: string; jobId: string; vmSnapshotId: string; at: string },
  billed: { name: string; sizeBytes: number },
  instance: WorkflowInput['instance'],
  snapshot?: VMSnapshot,
): InstanceCommand {
  return {
    type: 'RecordVMSnapshotTaskSucceeded',
    ...about,
    snapshot: {
      ...billed,
      // A revert restores these; for the other tasks they are only carried along.
      serviceOffering: snapshot?.serviceOffering ?? instance.serviceOffering,
      compute: snapshot?.compute ?? { cpuNumber: instance.cpuNumber, cpuSpeed: instance.cpuSpeed, memory: instance.memory },
    },
  };
}

export const vmSnapshotPhase: Phase<'vmsnapshot'> = (input, pending) => {
  if (pending.task !== 'purge' && pending.vmSnapshotId !== null) return taskStep(input, pending.task, pending.vmSnapshotId);
  // A destroy's or an unmanage's purge: the newest snapshot first, one at a time, until the chain is empty.
  const links = input.instance.vmSnapshotChain.links;
  const next = links[links.length - 1];
  if (!next) return { kind: 'record', command: { type: 'RecordVMSnapshotTaskFailed', instanceId: input.instance.id, jobId: input.job.jobId, vmSnapshotId: 'none', at: input.now, reason: 'no snapshot left to delete' } };
  return taskStep(input, 'delete', next.id);
};

const snapshotWorkflow = (cmd: string, task: VMSnapshotTask, progress: number): Workflow => ({
  cmd,
  resourceType: 'VMSnapshot',
  steps: [{ step: STEP_OF[task], progress }],
  compensation: ['give-back-capacity'],
  decide: phased({ vmsnapshot: vmSnapshotPhase }),
});

export const createVMSnapshotWorkflow = snapshotWorkflow('createVMSnapshot', 'create', 30);
export const revertToVMSnapshotWorkflow = snapshotWorkflow('revertToVMSnapshot', 'revert', 30);
export const deleteVMSnapshotWorkflow = snapshotWorkflow('deleteVMSnapshot', 'delete', 30);
