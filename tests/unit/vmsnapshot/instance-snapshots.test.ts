// The rules that span an instance's VM snapshots (behaviour §5.1), decided on the instance's stream:
// every refusal with CloudStack's message, the chain and its current flag, the usage, and what the
// instance may not do while it has snapshots or a snapshot task.
import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceCommand, type InstanceEvent, type UsagePayload } from '../../../domain/instance/index.js';
import { given } from '../../support/given.js';
import { AT, GiB, ID, cmd, debian, deploy, eventsOf, history, medium, rootAdmin, small, stranger, usage, vmUsage } from '../instance/fixtures.js';

const stoppedAfterRun = () => eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk());
const snapName = (id: string) => `i-vm_VS_${id}`;

/** The usage a created (or deleted) snapshot of the default instance writes: its root volume, then ON/OFF_PRIMARY. */
function snapshotUsage(kind: 'created' | 'deleted', id: string, sizeBytes = 1000): InstanceEvent[] {
  const common: Partial<UsagePayload> = { resourceName: snapName(id), details: { vmSnapshotId: id } };
  return [
    usage(kind === 'created' ? 'VMSNAPSHOT.CREATE' : 'VMSNAPSHOT.DELETE', { ...common, templateId: ID.root, size: 2 * GiB }),
    usage(kind === 'created' ? 'VMSNAPSHOT.ON_PRIMARY' : 'VMSNAPSHOT.OFF_PRIMARY', { ...common, size: sizeBytes }),
  ];
}

/** The hypervisor's name of the n-th snapshot asked for at AT: a second later for each one the instance has. */
const hostName = (n: number) => `i-alice-web-1_VS_2025030110000${n}`;

const requested = (id: string, parentId: string | null, type: 'Disk' | 'DiskAndMemory' = 'Disk', nth = 0): InstanceEvent => ({
  type: 'InstanceVMSnapshotRequested',
  data: { instanceId: ID.vm, jobId: `job-snap-${id}`, vmSnapshotId: id, name: hostName(nth), displayName: `snap ${id}`, description: null, snapshotType: type, quiesce: false, parentId },
});

/** Running, with snapshots s1 ← s2 taken and created (s2 current). */
const twoSnapshots = (memory = true) =>
  eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { memory }), cmd.snapshotOk('s1'), cmd.snapshot('s2', { memory }), cmd.snapshotOk('s2'));

describe('createVMSnapshot on the instance', () => {
  it('takes a memory snapshot of a running instance on top of the current one', () => {
    const one = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { memory: true }), cmd.snapshotOk('s1'));
    const state = given(instanceDecider, one).when(cmd.snapshot('s2', { memory: true })).then([requested('s2', 's1', 'DiskAndMemory', 1)]);
    expect(state.exists && state.pending).toEqual({ kind: 'vmsnapshot', jobId: 'job-snap-s2', task: 'create', vmSnapshotId: 's2', then: null });
  });

  it('takes a disk snapshot of a stopped instance, and of a running one without snapshotMemory', () => {
    given(instanceDecider, stoppedAfterRun()).when(cmd.snapshot('s1')).then([requested('s1', null)]);
    given(instanceDecider, history.running()).when(cmd.snapshot('s1')).then([requested('s1', null)]);
  });

  it('records the creation: current moves to it, with VMSNAPSHOT.CREATE per volume and ON_PRIMARY', () => {
    const asked = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'));
    const state = given(instanceDecider, asked)
      .when(cmd.snapshotOk('s1'))
      .then([{ type: 'InstanceVMSnapshotCreated', data: { instanceId: ID.vm, jobId: 'job-snap-s1', vmSnapshotId: 's1', sizeBytes: 1000 } }, ...snapshotUsage('created', 's1')]);
    expect(state.exists && state.vmSnapshotChain).toEqual({
      links: [{ id: 's1', name: hostName(0), displayName: 'snap s1', type: 'Disk', parentId: null, status: 'Ready', billed: true, sizeBytes: 1000 }],
      currentId: 's1',
    });
    expect(state.exists && state.pending).toBeNull();
    // Repeated (the workflow's step run again after a crash): nothing more, so the usage is written once.
    given(instanceDecider, eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'), cmd.snapshotOk('s1'))).when(cmd.snapshotOk('s1')).then([]);
  });

  it('records a failed creation: the snapshot is in Error, not current, and nothing is billed', () => {
    const asked = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'));
    const state = given(instanceDecider, asked)
      .when(cmd.snapshotFail('s1'))
      .then([{ type: 'InstanceVMSnapshotTaskFailed', data: { instanceId: ID.vm, jobId: 'job-snap-s1', vmSnapshotId: 's1', task: 'create', reason: 'qemu-img failed', status: 'Error' } }]);
    expect(state.exists && state.vmSnapshotChain.currentId).toBeNull();
    expect(state.exists && state.vmSnapshotCount).toBe(1);
  });

  it('refuses a display name already used by one of the instance\'s snapshots (CloudStack\'s spacing)', () => {
    given(instanceDecider, twoSnapshots())
      .when(cmd.snapshot('s3', { displayName: 'snap s1' }))
      .then('CONFLICT', { message: 'Creating VM snapshot failed due to VM snapshot with namesnap s1  already exists', field: 'name' });
  });

  it('refuses a display name or description over 255 characters', () => {
    given(instanceDecider, history.running())
      .when(cmd.snapshot('s1', { displayName: 'x'.repeat(256) }))
      .then('BAD_USER_INPUT', { message: 'Creating VM snapshot failed due to length of VM snapshot vsDisplayName should not exceed 255', field: 'name' });
    given(instanceDecider, history.running())
      .when(cmd.snapshot('s1', { description: 'x'.repeat(256) }))
      .then('BAD_USER_INPUT', { message: 'Creating VM snapshot failed due to length of VM snapshot vsDescription should not exceed 255', field: 'description' });
  });

  it('refuses control characters, and a blank or padded name, naming the field', () => {
    given(instanceDecider, history.running()).when(cmd.snapshot('s1', { displayName: 'a\u001b[2Jb' })).then('BAD_USER_INPUT', { message: /control characters \(found U\+001B/, field: 'name' });
    given(instanceDecider, history.running()).when(cmd.snapshot('s1', { displayName: '  ' })).then('BAD_USER_INPUT', { field: 'name' });
    given(instanceDecider, history.running()).when(cmd.snapshot('s1', { description: 'x\u0085' })).then('BAD_USER_INPUT', { field: 'description' });
  });

  it('refuses an instance neither running nor stopped', () => {
    for (const h of [history.starting(), history.stopping(), history.destroyed(), history.error(), history.migrating()]) {
      given(instanceDecider, h)
        .when(cmd.snapshot('s1'))
        .then('INVALID_STATE', { message: `Creating vm snapshot failed due to VM:${ID.vm} is not in the running or Stopped state` });
    }
  });

  it('refuses memory on a stopped instance', () => {
    given(instanceDecider, stoppedAfterRun())
      .when(cmd.snapshot('s1', { memory: true }))
      .then('INVALID_STATE', { message: 'Can not snapshot memory when VM is not in Running state', field: 'snapshotMemory' });
  });

  it('refuses an instance whose root volume was never made Ready (never started)', () => {
    given(instanceDecider, history.stopped()).when(cmd.snapshot('s1')).then('INVALID_STATE', { message: `Unable to find root volume for the user vm:${ID.vm}` });
  });

  it('counts every snapshot not removed against vmsnapshot.max, Error ones included', () => {
    const failed = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'), cmd.snapshotFail('s1'), cmd.snapshot('s2'), cmd.snapshotOk('s2'));
    given(instanceDecider, failed)
      .when(cmd.snapshot('s3', { max: 2 }))
      .then('INVALID_STATE', { message: 'Creating vm snapshot failed due to a VM can just have : 2 VM snapshots. Please delete old ones' });
    given(instanceDecider, failed).when(cmd.snapshot('s3', { max: 3 })).then([requested('s3', 's2', 'Disk', 2)]);
  });

  it('refuses a second snapshot task while one is under way, and a repeat of the same request is nothing', () => {
    const creating = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'));
    given(instanceDecider, creating).when(cmd.snapshot('s2')).then('CONFLICT', { message: 'There is other active vm snapshot tasks on the instance, please try again later' });
    given(instanceDecider, creating).when(cmd.snapshot('s1')).then([]);
  });

  it('is invisible to another account', () => {
    given(instanceDecider, history.running()).when(cmd.snapshot('s1', { caller: stranger })).then('NOT_FOUND');
  });
});

describe('revertToVMSnapshot on the instance', () => {
  it('reverts a running instance to a memory snapshot: current moves there, later ones become its children', () => {
    const asked = given(instanceDecider, twoSnapshots())
      .when(cmd.revertSnapshot('s1'))
      .then([{ type: 'InstanceVMSnapshotRevertRequested', data: { instanceId: ID.vm, jobId: 'job-revert-s1', vmSnapshotId: 's1' } }]);
    expect(asked.exists && asked.vmSnapshotChain.links[0]!.status).toBe('Reverting');
    const reverted: InstanceEvent[] = [...twoSnapshots(), { type: 'InstanceVMSnapshotRevertRequested', data: { instanceId: ID.vm, jobId: 'job-revert-s1', vmSnapshotId: 's1' } }];
    const state = given(instanceDecider, reverted)
      .when(cmd.snapshotOk('s1', 'job-revert-s1'))
      .then([{ type: 'InstanceVMSnapshotReverted', data: { instanceId: ID.vm, jobId: 'job-revert-s1', vmSnapshotId: 's1' } }]);
    expect(state.exists && state.vmSnapshotChain.currentId).toBe('s1');
    expect(state.exists && state.state).toBe('Running');
    given(instanceDecider, [...reverted, { type: 'InstanceVMSnapshotReverted', data: { instanceId: ID.vm, jobId: 'job-revert-s1', vmSnapshotId: 's1' } }])
      .when(cmd.snapshot('s3', { memory: true }))
      .then([requested('s3', 's1', 'DiskAndMemory', 2)]);
  });

  it('restores the offering the instance had when the snapshot was taken', () => {
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(), cmd.snapshot('s1'), cmd.snapshotOk('s1'),
      { type: 'ChangeServiceOffering', instanceId: ID.vm, at: AT, caller: rootAdmin, serviceOffering: medium }, cmd.revertSnapshot('s1'));
    given(instanceDecider, stopped)
      .when(cmd.snapshotOk('s1', 'job-revert-s1'))
      .then([
        { type: 'InstanceVMSnapshotReverted', data: { instanceId: ID.vm, jobId: 'job-revert-s1', vmSnapshotId: 's1' } },
        {
          type: 'InstanceServiceOfferingChanged',
          data: { instanceId: ID.vm, serviceOffering: small, cpuNumber: 1, cpuSpeed: 500, memory: 512, haEnabled: false, dynamicallyScalable: debian.dynamicallyScalable && small.dynamicScalingEnabled },
        },
        vmUsage('VM.UPGRADE'),
      ]);
  });

  it('refuses a revert that would change the power state, either way', () => {
    const message = 'VM Snapshot revert not allowed. This will result in VM state change. You can revert running VM to disk and memory type snapshot and stopped VM to disk type snapshot';
    given(instanceDecider, twoSnapshots(false)).when(cmd.revertSnapshot('s1')).then('INVALID_STATE', { message });
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1', { memory: true }), cmd.snapshotOk('s1'), cmd.stop(), cmd.stopOk());
    given(instanceDecider, stopped).when(cmd.revertSnapshot('s1')).then('INVALID_STATE', { message });
  });

  it('refuses a snapshot that is not Ready, an unknown one, another task, and an instance in another state', () => {
    const failed = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'), cmd.snapshotFail('s1'), cmd.stop(), cmd.stopOk());
    given(instanceDecider, failed).when(cmd.revertSnapshot('s1')).then('INVALID_STATE', { message: 'VM Snapshot reverting failed due to vm snapshot is not in the state of Created.' });
    given(instanceDecider, twoSnapshots()).when(cmd.revertSnapshot('nope')).then('NOT_FOUND', { message: 'unable to find the vm snapshot with id nope', field: 'vmSnapshotId' });
    const creating = [...twoSnapshots(), requested('s3', 's2', 'DiskAndMemory', 2)];
    given(instanceDecider, creating).when(cmd.revertSnapshot('s1')).then('CONFLICT', { message: 'There is other active vm snapshot tasks on the instance, please try again later' });
    const stopping = [...twoSnapshots(), { type: 'InstanceStopRequested', data: { instanceId: ID.vm, jobId: 'job-stop', forced: false, afterStop: null, state: 'Stopping' } } as InstanceEvent];
    given(instanceDecider, stopping).when(cmd.revertSnapshot('s1')).then('INVALID_STATE', { message: 'VM Snapshot reverting failed due to vm is not in the state of Running or Stopped.' });
  });

  it('records a failed revert: the snapshot is Ready again and current does not move', () => {
    const reverting = [...twoSnapshots(), { type: 'InstanceVMSnapshotRevertRequested', data: { instanceId: ID.vm, jobId: 'job-revert-s1', vmSnapshotId: 's1' } } as InstanceEvent];
    const state = given(instanceDecider, reverting)
      .when(cmd.snapshotFail('s1', 'job-revert-s1', 'domain gone'))
      .then([{ type: 'InstanceVMSnapshotTaskFailed', data: { instanceId: ID.vm, jobId: 'job-revert-s1', vmSnapshotId: 's1', task: 'revert', reason: 'domain gone', status: 'Ready' } }]);
    expect(state.exists && state.vmSnapshotChain.currentId).toBe('s2');
  });
});

describe('deleteVMSnapshot on the instance', () => {
  const deleting = (id: string, base = twoSnapshots()) => [...base, { type: 'InstanceVMSnapshotDeleteRequested', data: { instanceId: ID.vm, jobId: `job-delete-${id}`, vmSnapshotId: id } } as InstanceEvent];

  it('deletes the current snapshot: its parent becomes current, with VMSNAPSHOT.DELETE and OFF_PRIMARY', () => {
    given(instanceDecider, twoSnapshots())
      .when(cmd.deleteSnapshot('s2'))
      .then([{ type: 'InstanceVMSnapshotDeleteRequested', data: { instanceId: ID.vm, jobId: 'job-delete-s2', vmSnapshotId: 's2' } }]);
    const state = given(instanceDecider, deleting('s2'))
      .when(cmd.snapshotOk('s2', 'job-delete-s2'))
      .then([{ type: 'InstanceVMSnapshotDeleted', data: { instanceId: ID.vm, jobId: 'job-delete-s2', vmSnapshotId: 's2' } }, ...snapshotUsage('deleted', 's2')]);
    expect(state.exists && state.vmSnapshotChain).toMatchObject({ currentId: 's1', links: [{ id: 's1' }] });
  });

  it('deletes a parent: its children move up to its parent', () => {
    const state = given(instanceDecider, deleting('s1')).when(cmd.snapshotOk('s1', 'job-delete-s1')).accepted();
    const after = state.reduce((s, e) => instanceDecider.evolve(s, e), given(instanceDecider, deleting('s1')).state);
    expect(after.exists && after.vmSnapshotChain).toMatchObject({ currentId: 's2', links: [{ id: 's2', parentId: null }] });
  });

  it('deletes a snapshot in Error without billing it (it was never billed)', () => {
    const failed = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'), cmd.snapshotFail('s1'), cmd.deleteSnapshot('s1'));
    given(instanceDecider, failed)
      .when(cmd.snapshotOk('s1', 'job-delete-s1'))
      .then([{ type: 'InstanceVMSnapshotDeleted', data: { instanceId: ID.vm, jobId: 'job-delete-s1', vmSnapshotId: 's1' } }]);
  });

  it('refuses a snapshot in a wrong state (sic), an unknown one, and another task', () => {
    const creating = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'));
    given(instanceDecider, creating).when(cmd.deleteSnapshot('s1', 'job-x')).then('INVALID_STATE', { message: "Can't delete the vm snapshotshot snap s1 due to it is not in Created or Error, or Expunging State" });
    given(instanceDecider, twoSnapshots()).when(cmd.deleteSnapshot('nope')).then('NOT_FOUND', { message: 'unable to find the vm snapshot with id nope' });
    given(instanceDecider, deleting('s2')).when(cmd.deleteSnapshot('s1')).then('CONFLICT', { message: 'There is other active vm snapshot tasks on the instance, please try again later' });
  });

  it('records a failed delete: the snapshot is in Error, still counted and still billed', () => {
    const state = given(instanceDecider, deleting('s2'))
      .when(cmd.snapshotFail('s2', 'job-delete-s2', 'no such snapshot'))
      .then([{ type: 'InstanceVMSnapshotTaskFailed', data: { instanceId: ID.vm, jobId: 'job-delete-s2', vmSnapshotId: 's2', task: 'delete', reason: 'no such snapshot', status: 'Error' } }]);
    expect(state.exists && state.vmSnapshotCount).toBe(2);
  });
});

describe('an instance with VM snapshots', () => {
  it('is destroyed only after its snapshots are deleted, each with its usage, then the destroy goes on', () => {
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(), cmd.snapshot('s1'), cmd.snapshotOk('s1'), cmd.snapshot('s2'), cmd.snapshotOk('s2'));
    const purge: InstanceEvent = {
      type: 'InstanceVMSnapshotsPurgeRequested',
      data: { instanceId: ID.vm, jobId: 'job-destroy', vmSnapshotIds: ['s1', 's2'], then: { action: 'destroy', caller: { role: 'USER', accountId: ID.account }, expunge: false, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: false } },
    };
    given(instanceDecider, stopped).when(cmd.destroy()).then([purge]);
    given(instanceDecider, [...stopped, purge])
      .when(cmd.snapshotOk('s2', 'job-destroy'))
      .then([{ type: 'InstanceVMSnapshotDeleted', data: { instanceId: ID.vm, jobId: 'job-destroy', vmSnapshotId: 's2' } }, ...snapshotUsage('deleted', 's2')]);
    const lastOne = [...stopped, purge, { type: 'InstanceVMSnapshotDeleted', data: { instanceId: ID.vm, jobId: 'job-destroy', vmSnapshotId: 's2' } } as InstanceEvent];
    const events = given(instanceDecider, lastOne).when(cmd.snapshotOk('s1', 'job-destroy')).accepted();
    expect(events.map((e) => e.type)).toEqual([
      'InstanceVMSnapshotDeleted', 'usage.VMSNAPSHOT.DELETE', 'usage.VMSNAPSHOT.OFF_PRIMARY', 'InstanceDestroyed', 'usage.VM.DESTROY', 'usage.VOLUME.DELETE',
    ]);
  });

  it('goes on with the destroy a purge recorded before unmanages could purge was for (its `then` names no action)', () => {
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(), cmd.snapshot('s1'), cmd.snapshotOk('s1'));
    const older: InstanceEvent = {
      type: 'InstanceVMSnapshotsPurgeRequested',
      data: { instanceId: ID.vm, jobId: 'job-destroy', vmSnapshotIds: ['s1'], then: { caller: { role: 'USER', accountId: ID.account }, expunge: false, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: false } },
    };
    const events = given(instanceDecider, [...stopped, older]).when(cmd.snapshotOk('s1', 'job-destroy')).accepted();
    expect(events.map((e) => e.type)).toEqual(['InstanceVMSnapshotDeleted', 'usage.VMSNAPSHOT.DELETE', 'usage.VMSNAPSHOT.OFF_PRIMARY', 'InstanceDestroyed', 'usage.VM.DESTROY', 'usage.VOLUME.DELETE']);
  });

  it('is destroyed by its expired lease the same way: its snapshots are deleted first', () => {
    const leased = eventsOf(
      deploy({ leaseDuration: 1, leaseExpiryAction: 'DESTROY', leaseFeatureEnabled: true }), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(),
      cmd.snapshot('s1'), cmd.snapshotOk('s1'),
    );
    const act: InstanceCommand = { type: 'ActOnLease', instanceId: ID.vm, at: '2025-03-02T10:00:01.000Z', caller: rootAdmin, jobId: 'job-lease', leaseFeatureEnabled: true };
    expect(given(instanceDecider, leased).when(act).accepted().map((e) => e.type)).toEqual(['LeaseExpired', 'InstanceVMSnapshotsPurgeRequested']);
  });

  it('is not destroyed when a snapshot cannot be deleted', () => {
    const running = twoSnapshots();
    const purge = given(instanceDecider, running).when(cmd.destroy()).accepted();
    const state = given(instanceDecider, [...running, ...purge]).when(cmd.snapshotFail('s2', 'job-destroy', 'host down')).accepted();
    expect(state).toEqual([
      { type: 'InstanceVMSnapshotTaskFailed', data: { instanceId: ID.vm, jobId: 'job-destroy', vmSnapshotId: 's2', task: 'purge', reason: 'Unable to delete vm snapshots for web-1: host down', status: 'Error' } },
    ]);
  });

  it('checks a destroy before deleting any snapshot', () => {
    const protectedVm: InstanceEvent[] = [...twoSnapshots(), { type: 'InstanceUpdated', data: { instanceId: ID.vm, changes: { deleteProtection: true } } }];
    given(instanceDecider, protectedVm).when(cmd.destroy()).then('BAD_USER_INPUT', { message: /delete protection/ });
  });

  it('cannot be migrated, restored or rebooted during a snapshot task; may still change offering when stopped', () => {
    given(instanceDecider, twoSnapshots()).when(cmd.migrate()).then('INVALID_STATE', { message: /VM with VM Snapshots cannot be migrated/ });
    const creating = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('s1'));
    given(instanceDecider, creating).when(cmd.reboot()).then('INVALID_STATE', { message: 'Unable to reboot VM web-1 due to: web-1 has active VM snapshots tasks' });
    given(instanceDecider, creating).when(cmd.stop()).then('INVALID_STATE', { message: 'There is other active vm snapshot tasks on the instance, please try again later' });
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(), cmd.snapshot('s1'), cmd.snapshotOk('s1'));
    const change: InstanceCommand = { type: 'ChangeServiceOffering', instanceId: ID.vm, at: AT, caller: rootAdmin, serviceOffering: medium };
    expect(given(instanceDecider, stopped).when(change).accepted().map((e) => e.type)).toEqual(['InstanceServiceOfferingChanged', 'usage.VM.UPGRADE']);
  });
});
