// A VM snapshot's own stream: §5.1's state machine, each task started then settled once per job.
import { describe, expect, it } from 'vitest';
import { vmSnapshotDecider, vmSnapshotTransition, VM_SNAPSHOT_STATES, type VMSnapshotCommand, type VMSnapshotEvent } from '../../../domain/vmsnapshot/index.js';
import { given } from '../../support/given.js';
import { small } from '../instance/fixtures.js';

const AT = '2025-03-01T10:00:00.000Z';
const definition = {
  vmSnapshotId: 's1',
  name: 'i-2-7-VM_VS_20250301100000',
  displayName: 'before upgrade',
  description: null,
  instanceId: 'vm-1',
  accountId: 'acct-alice',
  domainId: 'dom-root',
  zoneId: 'zone-1',
  type: 'DiskAndMemory' as const,
  quiesce: false,
  parentId: null,
  serviceOffering: small,
  compute: { cpuNumber: 1, cpuSpeed: 500, memory: 512 },
};
const allocate: VMSnapshotCommand = { type: 'AllocateVMSnapshot', vmSnapshotId: 's1', jobId: 'job-1', at: AT, definition };
const start = (task: 'create' | 'revert' | 'delete', jobId = 'job-1'): VMSnapshotCommand => ({ type: 'StartVMSnapshotTask', vmSnapshotId: 's1', jobId, at: AT, task });
const ok = (jobId = 'job-1', sizeBytes?: number): VMSnapshotCommand => ({ type: 'RecordVMSnapshotTaskSucceeded', vmSnapshotId: 's1', jobId, at: AT, ...(sizeBytes === undefined ? {} : { sizeBytes }) });
const fail = (jobId = 'job-1'): VMSnapshotCommand => ({ type: 'RecordVMSnapshotTaskFailed', vmSnapshotId: 's1', jobId, at: AT, reason: 'boom' });

const allocated: VMSnapshotEvent = { type: 'VMSnapshotAllocated', data: { ...definition, jobId: 'job-1', created: AT, status: 'Allocated' } };
const moved = (task: 'create' | 'revert' | 'delete', from: string, status: string, jobId = 'job-1') => ({ vmSnapshotId: 's1', jobId, task, from, status }) as never;
const creating: VMSnapshotEvent = { type: 'VMSnapshotTaskStarted', data: moved('create', 'Allocated', 'Creating') };
const created: VMSnapshotEvent = { type: 'VMSnapshotTaskSucceeded', data: { ...(moved('create', 'Creating', 'Ready') as object), sizeBytes: 4096 } as never };
const ready = [allocated, creating, created];

describe('the VM snapshot aggregate', () => {
  it('is allocated once, then created: Allocated → Creating → Ready with its size', () => {
    given(vmSnapshotDecider).when(allocate).then([allocated]);
    given(vmSnapshotDecider, [allocated]).when(allocate).then([]);
    given(vmSnapshotDecider, [allocated]).when(start('create')).then([creating]);
    const state = given(vmSnapshotDecider, [allocated, creating]).when(ok('job-1', 4096)).then([created]);
    expect(state).toMatchObject({ status: 'Ready', sizeBytes: 4096, task: null, parentId: null, serviceOffering: { id: small.id } });
  });

  it('ends in Error when its creation fails', () => {
    given(vmSnapshotDecider, [allocated, creating]).when(fail()).then([{ type: 'VMSnapshotTaskFailed', data: { ...(moved('create', 'Creating', 'Error') as object), reason: 'boom' } as never }]);
  });

  it('reverts Ready → Reverting → Ready, whether the revert succeeds or fails', () => {
    const reverting: VMSnapshotEvent = { type: 'VMSnapshotTaskStarted', data: moved('revert', 'Ready', 'Reverting', 'job-2') };
    given(vmSnapshotDecider, ready).when(start('revert', 'job-2')).then([reverting]);
    expect(given(vmSnapshotDecider, [...ready, reverting]).when(ok('job-2')).accepted()[0]!.data).toMatchObject({ status: 'Ready' });
    expect(given(vmSnapshotDecider, [...ready, reverting]).when(fail('job-2')).accepted()[0]!.data).toMatchObject({ status: 'Ready' });
  });

  it('is deleted Ready → Expunging → Removed, or back to Error when the host fails', () => {
    const expunging: VMSnapshotEvent = { type: 'VMSnapshotTaskStarted', data: moved('delete', 'Ready', 'Expunging', 'job-3') };
    given(vmSnapshotDecider, ready).when(start('delete', 'job-3')).then([expunging]);
    expect(given(vmSnapshotDecider, [...ready, expunging]).when(ok('job-3')).accepted()[0]!.data).toMatchObject({ status: 'Removed' });
    expect(given(vmSnapshotDecider, [...ready, expunging]).when(fail('job-3')).accepted()[0]!.data).toMatchObject({ status: 'Error' });
  });

  it('removes an Allocated snapshot at once: it never reached a host', () => {
    given(vmSnapshotDecider, [allocated]).when(start('delete', 'job-3')).then([{ type: 'VMSnapshotTaskSucceeded', data: { ...(moved('delete', 'Allocated', 'Removed', 'job-3') as object), sizeBytes: null } as never }]);
  });

  it('repeats nothing for the same job, ignores a stale answer, and refuses edges the table lacks', () => {
    given(vmSnapshotDecider, [allocated, creating]).when(start('create')).then([]);
    given(vmSnapshotDecider, ready).when(ok('job-1')).then([]);
    given(vmSnapshotDecider, ready).when(fail('job-old')).then([]);
    given(vmSnapshotDecider, [allocated, creating]).when(start('delete', 'job-9')).then('CONFLICT', { message: 'There is other active vm snapshot tasks on the instance, please try again later' });
    given(vmSnapshotDecider, [allocated]).when(start('revert', 'job-9')).then('INVALID_STATE', { message: 'VM snapshot s1 cannot go from Allocated via RevertRequested' });
    given(vmSnapshotDecider).when(start('delete')).then('NOT_FOUND', { message: 'unable to find the vm snapshot with id s1' });
  });

  it('has §5.1\'s table: Removed is final, Error only leaves by a delete', () => {
    for (const event of ['CreateRequested', 'OperationSucceeded', 'OperationFailed', 'RevertRequested', 'ExpungeRequested'] as const) {
      expect(vmSnapshotTransition('Removed', event)).toBeNull();
    }
    expect(VM_SNAPSHOT_STATES.filter((s) => vmSnapshotTransition(s, 'ExpungeRequested') !== null)).toEqual(['Allocated', 'Ready', 'Expunging', 'Error']);
    expect(vmSnapshotTransition('Error', 'RevertRequested')).toBeNull();
  });
});
