import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceEvent } from '../../../domain/instance/index.js';
import {
  AT,
  GiB,
  ID,
  cmd,
  deploy,
  domainAdmin,
  eventsOf,
  history,
  nic1,
  nicRemoved,
  owner,
  rootAdmin,
  rootCreated,
  usage,
  vmUsage,
  volumeDeleted,
} from './fixtures.js';
import { given } from '../../support/given.js';

const data = { id: ID.data, name: 'DATA-1', size: 5 * GiB, storagePoolId: ID.pool, diskOfferingId: ID.diskOffering };
const data2 = { id: ID.data2, name: 'DATA-2', size: GiB, storagePoolId: ID.pool, diskOfferingId: ID.diskOffering };
const withDisks = () => eventsOf(deploy({ dataVolumes: [data, data2] }));

const destroyed = (fields: Record<string, unknown> = {}): InstanceEvent =>
  ({
    type: 'InstanceDestroyed',
    data: {
      instanceId: ID.vm,
      jobId: 'job-destroy',
      expunge: false,
      deletedVolumeIds: [ID.root],
      detachedVolumeIds: [],
      deletedVmSnapshotIds: [],
      state: 'Destroyed',
      ...fields,
    },
  }) as InstanceEvent;

const expungeRequested = (jobId: string | null = 'job-destroy'): InstanceEvent => ({
  type: 'InstanceExpungeRequested',
  data: { instanceId: ID.vm, jobId, state: 'Expunging' },
});

describe('DestroyInstance', () => {
  it('Stopped --DestroyRequested--> Destroyed with VM.DESTROY and VOLUME.DELETE for the root', () => {
    const state = given(instanceDecider, history.stopped())
      .when(cmd.destroy())
      .then([destroyed(), vmUsage('VM.DESTROY'), volumeDeleted(ID.root, 'ROOT-web-1')]);
    expect(state.exists && state.volumes).toMatchObject([{ id: ID.root, state: 'Destroy' }]);
  });

  it('deletes the listed data disks and detaches the others, as CloudStack does', () => {
    const state = given(instanceDecider, withDisks())
      .when(cmd.destroy({ volumeIds: [ID.data2] }))
      .then([
        destroyed({ deletedVolumeIds: [ID.root, ID.data2], detachedVolumeIds: [ID.data] }),
        vmUsage('VM.DESTROY'),
        volumeDeleted(ID.root, 'ROOT-web-1'),
        volumeDeleted(ID.data2, 'DATA-2'),
      ]);
    expect(state.exists && state.volumes.map((v) => v.id)).toEqual([ID.root]);
  });

  it('with expunge goes on Destroyed --ExpungeOperation--> Expunging in the same decision', () => {
    given(instanceDecider, history.stopped())
      .when(cmd.destroy({ expunge: true, caller: rootAdmin }))
      .then([destroyed({ expunge: true }), vmUsage('VM.DESTROY'), volumeDeleted(ID.root, 'ROOT-web-1'), expungeRequested()]);
  });

  it('of a running instance first stops it, promising the destroy', () => {
    given(instanceDecider, history.running())
      .when(cmd.destroy({ expunge: true, allow: true, forceStop: true, volumeIds: [] }))
      .then([
        {
          type: 'InstanceStopRequested',
          data: {
            instanceId: ID.vm,
            jobId: 'job-destroy',
            forced: true,
            afterStop: { action: 'destroy', jobId: 'job-destroy', expunge: true, volumeIds: [] },
            state: 'Stopping',
          },
        },
      ]);
  });

  it('of a running instance completes when the stop does: stop usage, then destroy usage, then expunge', () => {
    const stopping = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.destroy({ expunge: true, allow: true }));
    given(instanceDecider, stopping)
      .when(cmd.stopOk('job-destroy'))
      .then([
        { type: 'InstanceStopped', data: { instanceId: ID.vm, jobId: 'job-destroy', hostId: ID.host1, state: 'Stopped', settledAt: AT } },
        vmUsage('VM.STOP'),
        nicRemoved(nic1),
        destroyed({ expunge: true }),
        vmUsage('VM.DESTROY'),
        volumeDeleted(ID.root, 'ROOT-web-1'),
        expungeRequested(),
      ]);
  });

  it('of a running instance keeps its job when a forced stop takes the stop over', () => {
    const forced = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.destroy(), cmd.stop('job-force', true));
    given(instanceDecider, forced)
      .when(cmd.stopOk('job-force'))
      .then([
        { type: 'InstanceStopped', data: { instanceId: ID.vm, jobId: 'job-force', hostId: ID.host1, state: 'Stopped', settledAt: AT } },
        vmUsage('VM.STOP'),
        nicRemoved(nic1),
        destroyed(),
        vmUsage('VM.DESTROY'),
        volumeDeleted(ID.root, 'ROOT-web-1'),
      ]);
  });

  it('of a running instance is abandoned when the stop fails', () => {
    const stopping = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.destroy());
    const state = given(instanceDecider, stopping)
      .when(cmd.stopFail('job-destroy'))
      .then([{ type: 'InstanceStopFailed', data: { instanceId: ID.vm, jobId: 'job-destroy', reason: 'guest ignored ACPI', state: 'Running', settledAt: AT } }]);
    expect(state).toMatchObject({ state: 'Running', pending: null });
  });

  it('of an instance in Error: Error --DestroyRequested--> Expunging, no more usage', () => {
    const state = given(instanceDecider, history.error())
      .when(cmd.destroy({ jobId: 'job-x' }))
      .then([destroyed({ jobId: 'job-x', expunge: true, deletedVolumeIds: [], state: 'Expunging' })]);
    expect(state).toMatchObject({ state: 'Expunging', pending: { kind: 'expunge', jobId: 'job-x' } });
  });

  it('of an already Destroyed or Expunging instance without expunge changes nothing', () => {
    given(instanceDecider, history.destroyed()).when(cmd.destroy()).then([]);
    given(instanceDecider, history.expunging()).when(cmd.destroy()).then([]);
  });

  it('with expunge of a Destroyed instance expunges it, and repeats the expunge of an Expunging one', () => {
    given(instanceDecider, history.destroyed()).when(cmd.destroy({ expunge: true, caller: rootAdmin })).then([expungeRequested()]);
    given(instanceDecider, history.expunging()).when(cmd.destroy({ expunge: true, caller: domainAdmin })).then([expungeRequested()]);
  });

  it('is refused while the instance is delete-protected, with or without expunge', () => {
    const protectedVm = eventsOf(deploy(), cmd.update({ deleteProtection: true }));
    const message = `Instance [id = ${ID.vm}, name = web-1] has delete protection enabled and cannot be deleted.`;
    given(instanceDecider, protectedVm).when(cmd.destroy()).then('BAD_USER_INPUT', { message });
    given(instanceDecider, protectedVm).when(cmd.destroy({ expunge: true, caller: rootAdmin })).then('BAD_USER_INPUT', { message });
    const unprotected = eventsOf(deploy(), cmd.update({ deleteProtection: true }), cmd.update({ deleteProtection: false }));
    given(instanceDecider, unprotected).when(cmd.destroy()).then([destroyed(), vmUsage('VM.DESTROY'), volumeDeleted(ID.root, 'ROOT-web-1')]);
  });

  it('checks the expunge permission before anything else', () => {
    const protectedVm = eventsOf(deploy(), cmd.update({ deleteProtection: true }));
    given(instanceDecider, protectedVm)
      .when(cmd.destroy({ expunge: true, caller: owner }))
      .then('FORBIDDEN', { message: 'Account does not have permission for expunging.', field: 'expunge' });
    given(instanceDecider, history.stopped()).when(cmd.destroy({ expunge: true, caller: owner, allow: true })).then([
      destroyed({ expunge: true }),
      vmUsage('VM.DESTROY'),
      volumeDeleted(ID.root, 'ROOT-web-1'),
      expungeRequested(),
    ]);
  });

  it('refuses volumeIds that are not data disks of this instance', () => {
    given(instanceDecider, withDisks())
      .when(cmd.destroy({ volumeIds: [ID.root, 'vol-elsewhere'] }))
      .then('BAD_USER_INPUT', {
        message: 'The following supplied volumes are not DATADISK attached to the VM: vol-root, vol-elsewhere',
        field: 'volumeIds',
      });
  });

  it('refuses to delete a delete-protected data disk', () => {
    const guarded = eventsOf(deploy({ dataVolumes: [data] }), cmd.protectVolume(ID.data));
    given(instanceDecider, guarded)
      .when(cmd.destroy({ volumeIds: [ID.data] }))
      .then('BAD_USER_INPUT', {
        message: 'Volume [id = vol-data, name = DATA-1] has delete protection enabled and cannot be deleted',
        field: 'volumeIds',
      });
    // Detaching a protected disk is not deleting it.
    given(instanceDecider, guarded)
      .when(cmd.destroy())
      .then([destroyed({ detachedVolumeIds: [ID.data] }), vmUsage('VM.DESTROY'), volumeDeleted(ID.root, 'ROOT-web-1')]);
  });

  it.each([
    ['starting', history.starting],
    ['stopping', history.stopping],
    ['migrating', history.migrating],
  ])('refuses to destroy a %s instance', (_name, make) => {
    given(instanceDecider, make()).when(cmd.destroy()).then('INVALID_STATE', { message: /^Unable to destroy the virtual machine/ });
  });
});

describe('RecoverInstance', () => {
  it('Destroyed --RecoveryRequested--> Stopped with VM.CREATE and the root VOLUME.CREATE', () => {
    const state = given(instanceDecider, history.destroyed())
      .when(cmd.recover())
      .then([
        { type: 'InstanceRecovered', data: { instanceId: ID.vm, rootVolumeId: ID.root, state: 'Stopped' } },
        vmUsage('VM.CREATE'),
        rootCreated(),
      ]);
    expect(state.exists && state.volumes).toMatchObject([{ id: ID.root, state: 'Allocated' }]);
  });

  it('brings a root that had been written back as Ready', () => {
    const ranThenDestroyed = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(), cmd.destroy());
    const state = given(instanceDecider, ranThenDestroyed).when(cmd.recover(owner, true)).then([
      { type: 'InstanceRecovered', data: { instanceId: ID.vm, rootVolumeId: ID.root, state: 'Stopped' } },
      vmUsage('VM.CREATE'),
      rootCreated(),
    ]);
    expect(state.exists && state.volumes.map((v) => v.state)).toEqual(['Ready']);
  });

  it('is for admins, or users when allow.user.expunge.recover.vm is set', () => {
    given(instanceDecider, history.destroyed())
      .when(cmd.recover(owner, false))
      .then('FORBIDDEN', { message: 'Recovering a vm can only be done by an Admin. Or when the allow.user.expunge.recover.vm key is set.' });
    given(instanceDecider, history.destroyed()).when(cmd.recover(domainAdmin, false)).then([
      { type: 'InstanceRecovered', data: { instanceId: ID.vm, rootVolumeId: ID.root, state: 'Stopped' } },
      vmUsage('VM.CREATE'),
      rootCreated(),
    ]);
  });

  it.each([
    ['stopped', history.stopped],
    ['running', history.running],
    ['expunging', history.expunging],
    ['error', history.error],
  ])('refuses a %s instance', (_name, make) => {
    given(instanceDecider, make()).when(cmd.recover()).then('INVALID_STATE', { message: `Vm with id ${ID.vm} is not in the right state` });
  });

  it('cannot bring back an expunged instance', () => {
    given(instanceDecider, history.expunged()).when(cmd.recover()).then('NOT_FOUND', { message: `Unable to find virtual machine with id ${ID.vm}` });
  });
});

describe('ExpungeInstance', () => {
  it('Destroyed --ExpungeOperation--> Expunging, with no usage', () => {
    given(instanceDecider, history.destroyed()).when(cmd.expunge()).then([expungeRequested(null)]);
  });

  it('Error --ExpungeOperation--> Expunging', () => {
    given(instanceDecider, history.error()).when(cmd.expunge()).then([expungeRequested(null)]);
  });

  it('Expunging --ExpungeOperation--> Expunging retries', () => {
    given(instanceDecider, history.expunging()).when(cmd.expunge()).then([expungeRequested(null)]);
  });

  it.each([
    ['stopped', history.stopped],
    ['running', history.running],
    ['starting', history.starting],
  ])('refuses a %s instance', (_name, make) => {
    given(instanceDecider, make()).when(cmd.expunge()).then('INVALID_STATE', { message: 'Please destroy vm with specified vmId before expunge' });
  });

  it('is for admins, or users when allow.user.expunge.recover.vm is set', () => {
    given(instanceDecider, history.destroyed())
      .when(cmd.expunge(owner))
      .then('FORBIDDEN', { message: 'Expunging a vm can only be done by an Admin. Or when the allow.user.expunge.recover.vm key is set.' });
    given(instanceDecider, history.destroyed()).when(cmd.expunge(owner, true)).then([expungeRequested(null)]);
  });

  it('does not look at delete protection', () => {
    const protectedThenError = eventsOf(deploy({ startVm: true }), cmd.update({ deleteProtection: true }), cmd.startFail(ID.deployJob));
    given(instanceDecider, protectedThenError).when(cmd.expunge()).then([expungeRequested(null)]);
  });

  it('of an expunged instance is a no-op', () => {
    given(instanceDecider, history.expunged()).when(cmd.expunge()).then([]);
  });
});

describe('expunge outcomes', () => {
  it('RecordExpunged marks the instance gone; later commands cannot find it', () => {
    const state = given(instanceDecider, history.expunging()).when(cmd.expunged()).then([{ type: 'InstanceExpunged', data: { instanceId: ID.vm } }]);
    expect(state).toMatchObject({ expunged: true, state: 'Expunging' });
    given(instanceDecider, history.expunged()).when(cmd.expunged()).then([]);
    given(instanceDecider, history.expunged()).when(cmd.start()).then('NOT_FOUND');
    given(instanceDecider, history.expunged()).when(cmd.report('stopped')).then('NOT_FOUND');
  });

  it('RecordExpunged outside Expunging is refused', () => {
    given(instanceDecider, history.destroyed()).when(cmd.expunged()).then('INVALID_STATE');
  });

  it('Expunging --OperationFailed--> Expunging on a failed expunge', () => {
    const state = given(instanceDecider, history.expunging())
      .when(cmd.expungeFail())
      .then([{ type: 'InstanceExpungeFailed', data: { instanceId: ID.vm, reason: 'primary storage unreachable', state: 'Expunging' } }]);
    expect(state).toMatchObject({ state: 'Expunging', pending: null });
    given(instanceDecider, history.destroyed()).when(cmd.expungeFail()).then('INVALID_STATE', { message: /from Destroyed via OperationFailed$/ });
  });

  it('expunging after a destroy adds no VM usage', () => {
    const events = eventsOf(deploy(), cmd.destroy(), cmd.expunge(), cmd.expunged());
    expect(events.filter((e) => e.type.startsWith('usage.VM.')).map((e) => e.type)).toEqual(['usage.VM.CREATE', 'usage.VM.DESTROY']);
    expect(usage('VM.DESTROY', {}).type).toBe('usage.VM.DESTROY');
  });
});
