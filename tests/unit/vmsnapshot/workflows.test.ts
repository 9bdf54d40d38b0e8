// The snapshot workflows, given/when/then: each step read back from the job, the instance and the
// snapshot's stream, so a step repeated after a crash is never taken twice; and the deletion of an
// instance's snapshots a destroy or an unmanage starts with.
import { describe, expect, it } from 'vitest';
import type { InstanceCommand, InstanceEvent } from '../../../domain/instance/index.js';
import type { JobEvent } from '../../../domain/job/index.js';
import { vmSnapshotDecider, type VMSnapshotCommand, type VMSnapshotEvent } from '../../../domain/vmsnapshot/index.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { destroyWorkflow } from '../../../sagas/workflows/destroy.js';
import { unmanageWorkflow } from '../../../sagas/workflows/unmanage.js';
import { createVMSnapshotWorkflow, deleteVMSnapshotWorkflow, revertToVMSnapshotWorkflow } from '../../../sagas/workflows/vmsnapshot.js';
import type { Step } from '../../../sagas/workflows/workflow.js';
import { given } from '../../support/given-workflow.js';
import { AT, ID, cmd, deploy, eventsOf, rootAdmin } from '../instance/fixtures.js';

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

describe('unmanageVirtualMachine workflow of an instance with snapshots', () => {
  const NAME2 = 'i-alice-web-1_VS_20250301100001';
  const JOB = 'job-unmanage';
  const job: JobEvent[] = [{ type: 'JobOpened', data: { jobId: JOB, cmd: 'unmanageVirtualMachine', instanceId: ID.vm, accountId: ID.account, createdAt: AT } }];
  const unmanage: InstanceCommand = { type: 'UnmanageInstance', instanceId: ID.vm, at: AT, caller: rootAdmin, jobId: JOB, preserveNics: false };
  const taken = [
    deploy(), cmd.start(), cmd.startOk(),
    cmd.snapshot('s1', { jobId: 'job-c', memory: true }), cmd.snapshotOk('s1', 'job-c'),
    cmd.snapshot('s2', { jobId: 'job-c2', memory: true }), cmd.snapshotOk('s2', 'job-c2'),
  ];
  const instance = eventsOf(...taken, unmanage);

  /** A snapshot's stream once its creation workflow ran to the end on the host. */
  function readyStream(id: string, jobId: string, creating: InstanceEvent[]): VMSnapshotEvent[] {
    const jobEvents = [opened(jobId, 'createVMSnapshot', id)];
    const step = (events: VMSnapshotEvent[], j = jobEvents) => given(createVMSnapshotWorkflow, { job: j, instance: creating, snapshots: { [id]: events } }).when(NOW).step;
    let events = apply([], step([]));
    events = apply(events, step(events));
    return apply(events, step(events, [...jobEvents, issued(jobId, 0, `vmsnapshot:${id}`, {}), replied(jobId, 0, 'succeeded', 10)]));
  }
  const s1 = readyStream('s1', 'job-c', eventsOf(...taken.slice(0, 4)));
  const s2 = readyStream('s2', 'job-c2', eventsOf(...taken.slice(0, 6)));
  const at = (snapshots: { s1: VMSnapshotEvent[]; s2: VMSnapshotEvent[] }, jobEvents = job, history = instance) => given(unmanageWorkflow, { job: jobEvents, instance: history, snapshots }).when(NOW);
  const deleting = () => apply(s2, at({ s1, s2 }).then({ kind: 'snapshot', command: { type: 'StartVMSnapshotTask', vmSnapshotId: 's2', jobId: JOB, task: 'delete' } }));

  it('deletes the newest snapshot first, on the instance\'s host', () => {
    at({ s1, s2: deleting() }).then({
      kind: 'issue',
      phase: 'vmsnapshot:s2',
      step: 'DELETING_SNAPSHOTS',
      command: { type: 'DeleteDomainSnapshot', hostId: ID.host1, instanceId: ID.vm, instanceName: 'i-alice-web-1', snapshotName: NAME2 },
    });
  });

  it('records the deletion on the snapshot, then on the instance; once none is left, the host gives the domain up', () => {
    const replyJob = [...job, issued(JOB, 0, 'vmsnapshot:s2', { type: 'DeleteDomainSnapshot' }), replied(JOB, 0, 'succeeded')];
    const removed = apply(deleting(), at({ s1, s2: deleting() }, replyJob).then({ kind: 'snapshot', command: { type: 'RecordVMSnapshotTaskSucceeded', vmSnapshotId: 's2' } }));
    at({ s1, s2: removed }, replyJob).then({ kind: 'record', command: { type: 'RecordVMSnapshotTaskSucceeded', vmSnapshotId: 's2', jobId: JOB } });
    const bothDeleted = eventsOf(...taken, unmanage, cmd.snapshotOk('s2', JOB), cmd.snapshotOk('s1', JOB));
    at({ s1, s2: removed }, replyJob, bothDeleted).then({ kind: 'issue', phase: 'unmanage', step: 'UNMANAGING', command: { type: 'UnmanageDomain', hostId: ID.host1, instanceName: 'i-alice-web-1' } });
  });

  it('a snapshot the host cannot delete fails the job with a message that says the instance stays managed', () => {
    const failedJob = [...job, issued(JOB, 0, 'vmsnapshot:s2', { type: 'DeleteDomainSnapshot' }), replied(JOB, 0, 'failed')];
    const failed = apply(deleting(), at({ s1, s2: deleting() }, failedJob).then({ kind: 'snapshot', command: { type: 'RecordVMSnapshotTaskFailed', vmSnapshotId: 's2', reason: 'virsh failed' } }));
    at({ s1, s2: failed }, failedJob).then({ kind: 'record', command: { type: 'RecordVMSnapshotTaskFailed', vmSnapshotId: 's2', jobId: JOB, reason: 'virsh failed' } });
    const settled = eventsOf(...taken, unmanage, cmd.snapshotFail('s2', JOB, 'virsh failed'));
    at({ s1, s2: failed }, failedJob, settled).then({
      kind: 'finish',
      error: { code: 'INTERNAL_ERROR', message: 'Unable to delete vm snapshots for web-1, so it was not unmanaged and stays managed: virsh failed' },
    });
  });
});
