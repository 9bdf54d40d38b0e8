import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceCommand, type InstanceEvent, type TemplateSnapshot } from '../../../domain/instance/index.js';
import { AT, GiB, ID, alpine, cmd, debian, deploy, eventsOf, history, nic1, nicRemoved, owner, stranger, usage, vmUsage, volumeDeleted } from './fixtures.js';
import { given } from '../../support/given.js';

const restore = (template: TemplateSnapshot = alpine, size = 3 * GiB, expunge = false): InstanceCommand => ({
  type: 'RestoreInstance',
  instanceId: ID.vm,
  at: AT,
  caller: owner,
  jobId: 'job-restore',
  template,
  rootVolume: { id: 'vol-root-2', name: 'ROOT-web-1-2', size, storagePoolId: ID.pool, diskOfferingId: null },
  expunge,
});

const newRoot = (state: 'Allocated' | 'Ready', template: TemplateSnapshot = alpine) => ({
  id: 'vol-root-2',
  name: 'ROOT-web-1-2',
  size: 3 * GiB,
  storagePoolId: ID.pool,
  diskOfferingId: null,
  type: 'ROOT' as const,
  templateId: template.id,
  state,
  deleteProtection: false,
});

const restored = (state: 'Allocated' | 'Ready', expunge = false): InstanceEvent => ({
  type: 'InstanceRestored',
  data: {
    instanceId: ID.vm,
    jobId: 'job-restore',
    template: alpine,
    oldRootVolumeId: ID.root,
    rootVolume: newRoot(state),
    expungeOldRoot: expunge,
    dynamicallyScalable: false,
  },
});

const newRootCreated = () =>
  usage('VOLUME.CREATE', { resourceId: 'vol-root-2', resourceName: 'ROOT-web-1-2', templateId: alpine.id, size: 3 * GiB });

describe('RestoreInstance', () => {
  it('swaps the root of a stopped instance: VOLUME.CREATE for the new root and VOLUME.DELETE for the old one', () => {
    const state = given(instanceDecider, history.stopped())
      .when(restore(alpine, 3 * GiB, true))
      .then([restored('Allocated', true), newRootCreated(), volumeDeleted(ID.root, 'ROOT-web-1')]);
    expect(state).toMatchObject({ state: 'Stopped', templateId: alpine.id, osTypeId: alpine.osTypeId, dynamicallyScalable: false });
    expect(state.exists && state.volumes.map((v) => v.id)).toEqual(['vol-root-2']);
  });

  it('keeps the template when restoring from the same one, and a written root comes back Ready', () => {
    const ranOnce = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk());
    const events = given(instanceDecider, ranOnce).when(restore(debian)).accepted();
    expect(events[0]).toStrictEqual({
      type: 'InstanceRestored',
      data: {
        instanceId: ID.vm,
        jobId: 'job-restore',
        template: debian,
        oldRootVolumeId: ID.root,
        rootVolume: newRoot('Ready', debian),
        expungeOldRoot: false,
        dynamicallyScalable: true,
      },
    });
  });

  it('stops a running instance first, then restores and starts it again when the stop is done', () => {
    given(instanceDecider, history.running())
      .when(restore())
      .then([
        {
          type: 'InstanceStopRequested',
          data: {
            instanceId: ID.vm,
            jobId: 'job-restore',
            forced: false,
            afterStop: { action: 'restore', jobId: 'job-restore', template: alpine, rootVolume: newRoot('Ready'), expungeOldRoot: false },
            state: 'Stopping',
          },
        },
      ]);
    const stopping = eventsOf(deploy(), cmd.start(), cmd.startOk(), restore());
    const state = given(instanceDecider, stopping)
      .when(cmd.stopOk('job-restore'))
      .then([
        { type: 'InstanceStopped', data: { instanceId: ID.vm, jobId: 'job-restore', hostId: ID.host1, state: 'Stopped', settledAt: AT } },
        vmUsage('VM.STOP'),
        nicRemoved(nic1),
        restored('Ready'),
        newRootCreated(),
        volumeDeleted(ID.root, 'ROOT-web-1'),
        {
          type: 'InstanceStartRequested',
          data: { instanceId: ID.vm, jobId: 'job-restore', requestedHostId: null, considerLastHost: true, lastHostId: ID.host1, state: 'Starting' },
        },
      ]);
    expect(state).toMatchObject({ state: 'Starting', templateId: alpine.id });
  });

  it.each([
    ['starting', history.starting, 'Starting'],
    ['stopping', history.stopping, 'Stopping'],
    ['destroyed', history.destroyed, 'Destroyed'],
    ['error', history.error, 'Error'],
  ])('is refused on a %s instance', (_name, make, state) => {
    given(instanceDecider, make())
      .when(restore())
      .then('INVALID_STATE', {
        message: `Vm ${ID.vm} currently in ${state} state, restore vm can only execute when VM in Running or Stopped`,
      });
  });

  it('is refused while VM snapshots exist, and allowed again once they are gone', () => {
    const ran = [deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk()];
    const snapped = eventsOf(...ran, cmd.snapshot('s1'), cmd.snapshotOk('s1'));
    given(instanceDecider, snapped)
      .when(restore())
      .then('INVALID_STATE', { message: 'Unable to restore VM, please remove VM snapshots before restoring VM' });
    const cleared = eventsOf(...ran, cmd.snapshot('s1'), cmd.snapshotOk('s1'), cmd.deleteSnapshot('s1'), cmd.snapshotOk('s1', 'job-delete-s1'));
    expect(given(instanceDecider, cleared).when(restore()).accepted().map((e) => e.type)).toEqual(given(instanceDecider, eventsOf(...ran)).when(restore()).accepted().map((e) => e.type));
  });

  it('is refused when the old root is delete-protected', () => {
    const guarded = eventsOf(deploy(), cmd.protectVolume(ID.root));
    given(instanceDecider, guarded)
      .when(restore())
      .then('BAD_USER_INPUT', { message: 'Volume [id = vol-root, name = ROOT-web-1] has delete protection enabled and cannot be deleted.' });
  });

  it('refuses a root smaller than the template, a reused volume id and a busy instance', () => {
    given(instanceDecider, history.stopped())
      .when(restore(debian, GiB))
      .then('BAD_USER_INPUT', { message: `Root disk size [${GiB}] is smaller than the template size [${2 * GiB}]`, field: 'rootDiskSize' });
    const reuse: InstanceCommand = { ...(restore() as Extract<InstanceCommand, { type: 'RestoreInstance' }>), rootVolume: { id: ID.root, name: 'x', size: 3 * GiB, storagePoolId: null, diskOfferingId: null } };
    given(instanceDecider, history.stopped()).when(reuse).then('BAD_USER_INPUT', { field: 'rootVolume' });
    const rebooting = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot());
    given(instanceDecider, rebooting).when(restore()).then('INVALID_STATE', { message: /busy with reboot job job-reboot$/ });
  });

  it('is invisible to other accounts', () => {
    given(instanceDecider, history.stopped()).when({ ...(restore() as Extract<InstanceCommand, { type: 'RestoreInstance' }>), caller: stranger }).then('NOT_FOUND');
  });
});
