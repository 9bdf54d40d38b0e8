// Offline volume migration on the instance aggregate: Stopped --StorageMigrationRequested--> Migrating,
// then Stopped again whether the volumes moved or not, with CloudStack's refusals.
import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceCommand } from '../../../domain/instance/index.js';
import { given } from '../../support/given.js';
import { AT, ID, cmd, deploy, eventsOf, owner, rootAdmin } from './fixtures.js';

const ranOnce = () => eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk());
const migrate = (extra: Partial<Extract<InstanceCommand, { type: 'MigrateVolumes' }>> = {}): InstanceCommand => ({
  type: 'MigrateVolumes',
  instanceId: ID.vm,
  at: AT,
  caller: rootAdmin,
  jobId: 'job-mv',
  hostId: ID.host1,
  migrations: [{ volumeId: ID.root, storagePoolId: 'pool-2', fromPath: '/mnt/nfs', toPath: '/mnt/two' }],
  ...extra,
});
const requested = {
  type: 'InstanceVolumeMigrationRequested' as const,
  data: {
    instanceId: ID.vm,
    jobId: 'job-mv',
    hostId: ID.host1,
    migrations: [{ volumeId: ID.root, fromPoolId: ID.pool, toPoolId: 'pool-2', fromPath: '/mnt/nfs', toPath: '/mnt/two' }],
    state: 'Migrating' as const,
  },
};

describe('MigrateVolumes', () => {
  it('given a stopped instance, when the root admin moves its root, then it is Migrating with the copy pending', () => {
    const state = given(instanceDecider, ranOnce()).when(migrate()).then([requested]);
    expect(state).toMatchObject({ state: 'Migrating', pending: { kind: 'storageMigration', jobId: 'job-mv', hostId: ID.host1 } });
  });

  it('when the copy is recorded, then the volume is on the new pool and the instance Stopped', () => {
    const state = given(instanceDecider, [...ranOnce(), requested])
      .when({ type: 'RecordVolumesMigrated', instanceId: ID.vm, jobId: 'job-mv', at: AT })
      .then([{ type: 'InstanceVolumesMigrated', data: { instanceId: ID.vm, jobId: 'job-mv', migrations: [{ volumeId: ID.root, fromPoolId: ID.pool, toPoolId: 'pool-2' }], state: 'Stopped' } }]);
    expect(state.exists && [state.state, state.volumes[0]?.storagePoolId, state.pending]).toEqual(['Stopped', 'pool-2', null]);
  });

  it('when the copy failed, then the instance is Stopped with its volume where it was', () => {
    const state = given(instanceDecider, [...ranOnce(), requested])
      .when({ type: 'RecordVolumeMigrationFailed', instanceId: ID.vm, jobId: 'job-mv', at: AT, reason: 'qemu-img failed' })
      .then([{ type: 'InstanceVolumeMigrationFailed', data: { instanceId: ID.vm, jobId: 'job-mv', reason: 'qemu-img failed', state: 'Stopped' } }]);
    expect(state.exists && [state.state, state.volumes[0]?.storagePoolId]).toEqual(['Stopped', ID.pool]);
  });

  it('is for the root admin only', () => {
    given(instanceDecider, ranOnce()).when(migrate({ caller: owner })).then('FORBIDDEN');
  });

  it('is refused while the instance runs, is busy, or has VM snapshots', () => {
    given(instanceDecider, eventsOf(deploy(), cmd.start(), cmd.startOk())).when(migrate()).then('INVALID_STATE', { message: expect.stringContaining('only while it is Stopped') as unknown as string });
    given(instanceDecider, [...ranOnce(), requested]).when(migrate({ jobId: 'job-2' })).then('INVALID_STATE');
    given(instanceDecider, eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.snapshot('vmsnap-1', { memory: true }), cmd.snapshotOk(), cmd.stop(), cmd.stopOk()))
      .when(migrate())
      .then('INVALID_STATE', { message: "VM's disk cannot be migrated, please remove all the VM Snapshots for this VM" });
  });

  it('refuses a volume it lacks, one named twice, one already on that pool, and one never created', () => {
    const to = (volumeId: string, storagePoolId = 'pool-2') => ({ volumeId, storagePoolId, fromPath: '/a', toPath: '/b' });
    given(instanceDecider, ranOnce()).when(migrate({ migrations: [to('vol-nope')] })).then('BAD_USER_INPUT', { field: 'migrateTo[0].volume' });
    given(instanceDecider, ranOnce()).when(migrate({ migrations: [to(ID.root), to(ID.root, 'pool-3')] })).then('BAD_USER_INPUT', { field: 'migrateTo[1].volume' });
    given(instanceDecider, ranOnce()).when(migrate({ migrations: [to(ID.root, ID.pool)] })).then('BAD_USER_INPUT', { field: 'migrateTo[0].pool' });
    given(instanceDecider, ranOnce()).when(migrate({ migrations: [] })).then('BAD_USER_INPUT', { field: 'migrateTo' });
    given(instanceDecider, eventsOf(deploy())).when(migrate()).then('INVALID_STATE', { field: 'migrateTo[0].volume' });
  });
});
