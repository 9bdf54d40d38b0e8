// The snapshot workflows, given/when/then: each step read back from the job, the instance and the
// snapshot's stream, so a step repeated after a crash is never taken twice.
import { describe, expect, it } from 'vitest';
import type { InstanceEvent } from '../../../domain/instance/index.js';
import type { JobEvent } from '../../../domain/job/index.js';
import { vmSnapshotDecider, type VMSnapshotCommand, type VMSnapshotEvent } from '../../../domain/vmsnapshot/index.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { destroyWorkflow } from '../../../sagas/workflows/destroy.js';
import { createVMSnapshotWorkflow, deleteVMSnapshotWorkflow, revertToVMSnapshotWorkflow } from '../../../sagas/workflows/vmsnapshot.js';
import type { Step } from '../../../sagas/workflows/workflow.js';
import { given } from '../../support/given-workflow.js';
import { AT, ID, cmd, deploy, eventsOf } from '../instance/fixtures.js';

const NOW = '2025-03-01T10:00:05.000Z';
const NAME = 'i-alice-web-1_VS_20250301100000';

const opened = (jobId: string, cmdName: string, resourceId = 's1'): JobEvent => ({
  type: 'JobOpened',
  data: { jobId, cmd: cmdName, instanceId: ID.vm, accountId: ID.account, createdAt: AT, resource: { type: 'VMSnapshot', id: resourceId } },
});
const issued = (jobId: string, n: number, phase: string, command: object): JobEvent =>
  ({ type: 'JobAgentCommandIssued', data: { phase, command: { ...command, commandId: `${jobId}.${n}` }, timeoutAt: '2025-03-01T10:00:35.000Z', issuedAt: AT } }) as JobEvent;
const replied = (jobId: string, n: number, outcome: 'succeeded' | 'failed', sizeBytes?: number): JobEvent => ({
  type: 'JobAgentReplied',
  data: {
    reply: { commandId: `${jobId}.${n}`, outcome, powerState: 'running', ...(outcome === 'failed' ? { error: { message: 'virsh failed' } } : {}), ...(sizeBytes ? { snapshot: { name: NAME, sizeBytes } } : {}) },
    receivedAt: NOW,
  },
});

/** Applies the snapshot steps a workflow takes to the snapshot's events, as the runner does. */
function apply(events: VMSnapshotEvent[], step: Step): VMSnapshotEvent[] {
  if (step.kind !== 'snapshot') throw new Error(`expected a snapshot step, got ${step.kind}`);
  const state = events.reduce(vmSnapshotDecider.evolve, vmSnapshotDecider.initialState);
  const decided = vmSnapshotDecider.decide(step.command as VMSnapshotCommand, state);
  if (isRejection(decided)) throw new Error(decided.message);
  return [...events, ...decided];
}

describe('createVMSnapshot workflow', () => {
  const running = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { jobId: 'job-c', memory: true }));
  const job = [opened('job-c', 'createVMSnapshot')];
  const at = (snapshots: VMSnapshotEvent[], jobEvents = job, instance: InstanceEvent[] = running) =>
    given(createVMSnapshotWorkflow, { job: jobEvents, instance, snapshots: { s1: snapshots } }).when(NOW);

  it('allocates the snapshot from what the instance recorded, starts it, then asks the host', () => {
    const allocate = at([]).then({ kind: 'snapshot', command: { type: 'AllocateVMSnapshot', vmSnapshotId: 's1', jobId: 'job-c' } });
    const allocated = apply([], allocate);
    expect(allocated[0]!.data).toMatchObject({ name: NAME, type: 'DiskAndMemory', parentId: null, serviceOffering: { id: 'so-small' }, compute: { cpuNumber: 1, cpuSpeed: 500, memory: 512 } });
    const creating = apply(allocated, at(allocated).then({ kind: 'snapshot', command: { type: 'StartVMSnapshotTask', task: 'create' } }));
    at(creating).then({
      kind: 'issue',
      phase: 'vmsnapshot:s1',
      step: 'SNAPSHOTTING',
      command: { type: 'CreateDomainSnapshot', hostId: ID.host1, instanceId: ID.vm, instanceName: 'i-alice-web-1', snapshotName: NAME, kind: 'DiskAndMemory', quiesce: false, description: null },
    });
  });

  it('records the size the host reported on the snapshot, then the outcome on the instance', () => {
    let events = apply([], at([]).step);
    events = apply(events, at(events).step);
    const replyJob = [...job, issued('job-c', 0, 'vmsnapshot:s1', { type: 'CreateDomainSnapshot' }), replied('job-c', 0, 'succeeded', 4096)];
    const ready = apply(events, at(events, replyJob).then({ kind: 'snapshot', command: { type: 'RecordVMSnapshotTaskSucceeded', sizeBytes: 4096 } }));
    at(ready, replyJob).then({
      kind: 'record',
      command: { type: 'RecordVMSnapshotTaskSucceeded', jobId: 'job-c', vmSnapshotId: 's1', snapshot: { name: NAME, sizeBytes: 4096, serviceOffering: { id: 'so-small' } } },
    });
  });

  it('carries a host failure to the snapshot (Error) and then to the instance', () => {
    let events = apply([], at([]).step);
    events = apply(events, at(events).step);
    const failedJob = [...job, issued('job-c', 0, 'vmsnapshot:s1', { type: 'CreateDomainSnapshot' }), replied('job-c', 0, 'failed')];
    const failed = apply(events, at(events, failedJob).then({ kind: 'snapshot', command: { type: 'RecordVMSnapshotTaskFailed', reason: 'virsh failed' } }));
    at(failed, failedJob).then({ kind: 'record', command: { type: 'RecordVMSnapshotTaskFailed', jobId: 'job-c', vmSnapshotId: 's1', reason: 'virsh failed' } });
  });

  it('finishes once the instance recorded the outcome', () => {
    const done = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { jobId: 'job-c' }), cmd.snapshotOk('s1', 'job-c'));
    at([], job, done).then({ kind: 'finish', error: null });
  });
});

describe('revertToVMSnapshot and deleteVMSnapshot workflows', () => {
  const created = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { jobId: 'job-c', memory: true }), cmd.snapshotOk('s1', 'job-c'));
  let ready: VMSnapshotEvent[] = [];
  {
    const job = [opened('job-c', 'createVMSnapshot')];
    const instance = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { jobId: 'job-c', memory: true }));
    const step = (events: VMSnapshotEvent[], j = job) => given(createVMSnapshotWorkflow, { job: j, instance, snapshots: { s1: events } }).when(NOW).step;
    ready = apply([], step([]));
    ready = apply(ready, step(ready));
    ready = apply(ready, step(ready, [...job, issued('job-c', 0, 'vmsnapshot:s1', {}), replied('job-c', 0, 'succeeded', 10)]));
  }

  it('reverts: starts the revert on the snapshot, then asks the host with the snapshot\'s kind', () => {
    const instance = [...created, ...eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { jobId: 'job-c', memory: true }), cmd.snapshotOk('s1', 'job-c'), cmd.revertSnapshot('s1', 'job-r')).slice(created.length)];
    const job = [opened('job-r', 'revertToVMSnapshot')];
    const reverting = apply(ready, given(revertToVMSnapshotWorkflow, { job, instance, snapshots: { s1: ready } }).when(NOW).then({ kind: 'snapshot', command: { type: 'StartVMSnapshotTask', task: 'revert' } }));
    given(revertToVMSnapshotWorkflow, { job, instance, snapshots: { s1: reverting } }).when(NOW).then({
      kind: 'issue',
      step: 'REVERTING',
      command: { type: 'RevertDomainSnapshot', snapshotName: NAME, kind: 'DiskAndMemory' },
    });
  });

  it('deletes: asks the host to delete the snapshot by its name', () => {
    const instance = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { jobId: 'job-c', memory: true }), cmd.snapshotOk('s1', 'job-c'), cmd.deleteSnapshot('s1', 'job-d'));
    const job = [opened('job-d', 'deleteVMSnapshot')];
    const expunging = apply(ready, given(deleteVMSnapshotWorkflow, { job, instance, snapshots: { s1: ready } }).when(NOW).step);
    given(deleteVMSnapshotWorkflow, { job, instance, snapshots: { s1: expunging } }).when(NOW).then({
      kind: 'issue',
      step: 'DELETING_SNAPSHOTS',
      command: { type: 'DeleteDomainSnapshot', snapshotName: NAME },
    });
  });

  it('a destroy deletes the instance\'s snapshots first, the newest first', () => {
    const instance = eventsOf(
      deploy(), cmd.start(), cmd.startOk(),
      cmd.snapshot('s1', { jobId: 'job-c' }), cmd.snapshotOk('s1', 'job-c'),
      cmd.snapshot('s2', { jobId: 'job-c2' }), cmd.snapshotOk('s2', 'job-c2'),
      cmd.destroy(),
    );
    const job: JobEvent[] = [{ type: 'JobOpened', data: { jobId: 'job-destroy', cmd: 'destroyVirtualMachine', instanceId: ID.vm, accountId: ID.account, createdAt: AT } }];
    given(destroyWorkflow, { job, instance, snapshots: { s1: ready, s2: [] } }).when(NOW).then({ kind: 'record', command: { type: 'RecordVMSnapshotTaskSucceeded', vmSnapshotId: 's2', jobId: 'job-destroy' } });
  });
});
