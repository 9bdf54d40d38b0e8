// Volatile root disks: an `isVolatile` offering's instance gets a fresh root from its template on
// every start but the first and on every reboot (which becomes stop, new root, start), with
// VOLUME.DELETE and VOLUME.CREATE usage, as CloudStack's "Reset Instance to New Root Disk on Reboot".
import { describe, expect, it } from 'vitest';
import { instanceDecider, type InstanceEvent, type Volume } from '../../../domain/instance/index.js';
import { freshVolatileRoot } from '../../../domain/instance/volatile.js';
import { given } from '../../support/given.js';
import { GiB, ID, cmd, debian, deploy, eventsOf, instanceOf, rootCreated, small, volumeDeleted } from './fixtures.js';

const volatile = { ...small, isVolatile: true };
const ranOnce = () => eventsOf(deploy({ serviceOffering: volatile }), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk());
const running = () => eventsOf(deploy({ serviceOffering: volatile }), cmd.start(), cmd.startOk());

function freshRoot(jobId: string): Volume {
  const root = freshVolatileRoot(instanceOf(ranOnce()), jobId);
  if (!root) throw new Error('no fresh root');
  return root;
}

const restored = (jobId: string, rootVolume: Volume): InstanceEvent => ({
  type: 'InstanceRestored',
  data: { instanceId: ID.vm, jobId, template: debian, oldRootVolumeId: ID.root, rootVolume, expungeOldRoot: true, dynamicallyScalable: debian.dynamicallyScalable && small.dynamicScalingEnabled },
});
const newRootCreated = (root: Volume) => rootCreated({ resourceId: root.id, resourceName: root.name });
const oldRootDeleted = () => volumeDeleted(ID.root, 'ROOT-web-1');

describe('volatile root: on start', () => {
  it('given a volatile instance that ran before, when started, then its root is replaced by a fresh one from the template first', () => {
    const root = freshRoot('job-2');
    expect(root).toMatchObject({ type: 'ROOT', size: 2 * GiB, storagePoolId: ID.pool, templateId: debian.id, state: 'Allocated', deleteProtection: false });
    expect(root.id).not.toBe(ID.root);
    const state = given(instanceDecider, ranOnce())
      .when(cmd.start('job-2'))
      .then([
        restored('job-2', root),
        newRootCreated(root),
        oldRootDeleted(),
        { type: 'InstanceStartRequested', data: { instanceId: ID.vm, jobId: 'job-2', requestedHostId: null, considerLastHost: true, lastHostId: ID.host1, state: 'Starting' } },
      ]);
    expect(state.exists && state.volumes.map((v) => v.id)).toEqual([root.id]);
  });

  it('resets nothing on the first start, nor for an offering that is not volatile', () => {
    given(instanceDecider, eventsOf(deploy({ serviceOffering: volatile })))
      .when(cmd.start())
      .then([{ type: 'InstanceStartRequested', data: { instanceId: ID.vm, jobId: 'job-start', requestedHostId: null, considerLastHost: true, lastHostId: null, state: 'Starting' } }]);
    const plain = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk());
    expect(freshVolatileRoot(instanceOf(plain), 'job-2')).toBeUndefined();
  });

  it('names the fresh root by the job, so a repeated decision names the same volume and another job another', () => {
    expect(freshRoot('job-2').id).toBe(freshRoot('job-2').id);
    expect(freshRoot('job-3').id).not.toBe(freshRoot('job-2').id);
  });
});

describe('volatile root: on reboot', () => {
  it('given a running volatile instance, when rebooted, then it is stopped to be restored with a fresh root', () => {
    const root = freshVolatileRoot(instanceOf(running()), 'job-reboot')!;
    given(instanceDecider, running())
      .when(cmd.reboot())
      .then([
        {
          type: 'InstanceStopRequested',
          data: { instanceId: ID.vm, jobId: 'job-reboot', forced: false, afterStop: { action: 'restore', jobId: 'job-reboot', template: debian, rootVolume: root, expungeOldRoot: true }, state: 'Stopping' },
        },
      ]);
  });

  it('when the stop is recorded, then the root is replaced (VOLUME.DELETE, VOLUME.CREATE) and the instance starts again', () => {
    const stopping = eventsOf(deploy({ serviceOffering: volatile }), cmd.start(), cmd.startOk(), cmd.reboot());
    const events = instanceDecider.decide(cmd.stopOk('job-reboot'), instanceOf(stopping));
    expect(Array.isArray(events) && events.map((e) => e.type)).toEqual([
      'InstanceStopped',
      'usage.VM.STOP',
      'usage.NETWORK.OFFERING.REMOVE',
      'InstanceRestored',
      'usage.VOLUME.CREATE',
      'usage.VOLUME.DELETE',
      'InstanceStartRequested',
    ]);
    const after = instanceOf([...stopping, ...(events as InstanceEvent[])]);
    expect(after.state).toBe('Starting');
    expect(after.volumes.map((v) => v.id)).not.toContain(ID.root);
    expect(after.pending).toEqual({ kind: 'start', jobId: 'job-reboot' });
  });

  it('an instance whose offering is not volatile reboots in place', () => {
    const plain = eventsOf(deploy(), cmd.start(), cmd.startOk());
    given(instanceDecider, plain).when(cmd.reboot()).then([{ type: 'InstanceRebootRequested', data: { instanceId: ID.vm, jobId: 'job-reboot', forced: false, hostId: ID.host1 } }]);
  });
});
