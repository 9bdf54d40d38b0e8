import { describe, expect, it } from 'vitest';
import { instanceDecider, type ServiceOfferingSnapshot } from '../../../domain/instance/index.js';
import { osTypeByDescription } from '../../../domain/os-type/index.js';
import {
  AT,
  ID,
  cmd,
  custom,
  deploy,
  domainAdmin,
  eventsOf,
  history,
  medium,
  owner,
  rootAdmin,
  small,
  vmUsage,
} from './fixtures.js';
import { given } from '../../support/given.js';

const ubuntu2404 = osTypeByDescription('Ubuntu 24.04 LTS')!.id;


describe('UpdateInstance', () => {
  it('records only what changed', () => {
    const state = given(instanceDecider, history.stopped())
      .when(cmd.update({ displayName: 'Front end', group: 'web', osTypeId: ubuntu2404, deleteProtection: true }))
      .then([
        {
          type: 'InstanceUpdated',
          data: { instanceId: ID.vm, changes: { displayName: 'Front end', group: 'web', osTypeId: ubuntu2404, deleteProtection: true } },
        },
      ]);
    expect(state).toMatchObject({ displayName: 'Front end', group: 'web', osTypeId: ubuntu2404, deleteProtection: true });
    given(instanceDecider, history.stopped()).when(cmd.update({ displayName: 'Web server', group: null, deleteProtection: false })).then([]);
  });

  it('takes only an OS type of the catalogue, and names osTypeId', () => {
    for (const osTypeId of ['bogus', '', 'Ubuntu 24.04 LTS']) {
      given(instanceDecider, history.stopped())
        .when(cmd.update({ displayName: 'renamed', osTypeId }))
        .then('BAD_USER_INPUT', { message: `Unable to find OS type ${JSON.stringify(osTypeId)}; osTypes lists the known ones`, field: 'osTypeId' });
    }
  });

  it('works on a running or destroyed instance', () => {
    given(instanceDecider, history.running())
      .when(cmd.update({ group: 'db' }))
      .then([{ type: 'InstanceUpdated', data: { instanceId: ID.vm, changes: { group: 'db' } } }]);
    given(instanceDecider, history.destroyed())
      .when(cmd.update({ deleteProtection: true }))
      .then([{ type: 'InstanceUpdated', data: { instanceId: ID.vm, changes: { deleteProtection: true } } }]);
  });

  it('is refused in Error and Expunging', () => {
    const message = `Vm with id ${ID.vm} is not in the right state`;
    given(instanceDecider, history.error()).when(cmd.update({ group: 'x' })).then('INVALID_STATE', { message });
    given(instanceDecider, history.expunging()).when(cmd.update({ group: 'x' })).then('INVALID_STATE', { message });
  });

  it('enables HA only when the offering offers it', () => {
    given(instanceDecider, history.stopped())
      .when(cmd.update({ haEnable: true }))
      .then('BAD_USER_INPUT', {
        message: "Can't enable ha for the vm as it's created from the Service offering having HA disabled",
        field: 'haEnable',
      });
    const haOffering = eventsOf(deploy({ serviceOffering: medium }));
    given(instanceDecider, haOffering).when(cmd.update({ haEnable: false })).then([{ type: 'InstanceUpdated', data: { instanceId: ID.vm, changes: { haEnabled: false } } }]);
    given(instanceDecider, history.stopped()).when(cmd.update({ haEnable: false })).then([]);
  });

  it('enables dynamic scaling only when template, offering and zone all allow it', () => {
    const optedOut = eventsOf(deploy({ dynamicScalingEnabled: false }));
    given(instanceDecider, optedOut)
      .when(cmd.update({ isDynamicallyScalable: true }))
      .then([{ type: 'InstanceUpdated', data: { instanceId: ID.vm, changes: { dynamicallyScalable: true } } }]);
    given(instanceDecider, optedOut)
      .when(cmd.update({ isDynamicallyScalable: true, enableDynamicScaleVm: false }))
      .then('BAD_USER_INPUT', {
        message: 'Dynamic Scaling cannot be enabled for the VM since corresponding global setting is set to false',
        field: 'isDynamicallyScalable',
      });
    given(instanceDecider, eventsOf(deploy({ template: { id: 't', size: 1, osTypeId: 'o', dynamicallyScalable: false } })))
      .when(cmd.update({ isDynamicallyScalable: true }))
      .then('BAD_USER_INPUT', {
        message: 'Dynamic Scaling cannot be enabled for the VM since its template does not have dynamic scaling enabled',
      });
    given(instanceDecider, eventsOf(deploy({ serviceOffering: { ...small, dynamicScalingEnabled: false } })))
      .when(cmd.update({ isDynamicallyScalable: true }))
      .then('BAD_USER_INPUT', {
        message: 'Dynamic Scaling cannot be enabled for the VM since its service offering does not have dynamic scaling enabled',
      });
  });

  it('replaces the details map', () => {
    const withDetails = eventsOf(deploy({ details: { a: '1', b: '2' } }));
    given(instanceDecider, withDetails)
      .when(cmd.update({ details: { b: '3', c: '4' } }))
      .then([{ type: 'InstanceUpdated', data: { instanceId: ID.vm, changes: { details: { b: '3', c: '4' } } } }]);
    given(instanceDecider, withDetails).when(cmd.update({ details: { b: '2', a: '1' } })).then([]);
  });

  it("does not let a non-root-admin write a denied or read-only setting, and keeps the ones it cannot see", () => {
    const guarded = eventsOf(deploy({ details: { rootdisksize: '20', rootDiskController: 'scsi', keyboard: 'us' } }));
    given(instanceDecider, guarded)
      .when(cmd.update({ details: { rootdisksize: '40' } }))
      .then('BAD_USER_INPUT', { message: "You're not allowed to add or edit the restricted setting: rootdisksize", field: 'details' });
    given(instanceDecider, guarded)
      .when(cmd.update({ details: { rootDiskController: 'virtio' }, caller: domainAdmin }))
      .then('BAD_USER_INPUT', { message: "You're not allowed to add or edit the read-only setting: rootDiskController", field: 'details' });
    given(instanceDecider, guarded)
      .when(cmd.update({ details: { keyboard: 'de' } }))
      .then([
        {
          type: 'InstanceUpdated',
          data: { instanceId: ID.vm, changes: { details: { keyboard: 'de', rootdisksize: '20', rootDiskController: 'scsi' } } },
        },
      ]);
    given(instanceDecider, guarded)
      .when(cmd.update({ details: { rootdisksize: '40' }, caller: rootAdmin }))
      .then([{ type: 'InstanceUpdated', data: { instanceId: ID.vm, changes: { details: { rootdisksize: '40' } } } }]);
  });

  it('refuses extraconfig and lease keys in details', () => {
    given(instanceDecider, history.stopped())
      .when(cmd.update({ details: { extraconfig: 'x' }, caller: rootAdmin }))
      .then('BAD_USER_INPUT', { message: "'extraconfig' should not be included in details as key", field: 'details' });
    given(instanceDecider, history.stopped())
      .when(cmd.update({ details: { leaseexpiryaction: 'STOP' } }))
      .then('BAD_USER_INPUT', { message: 'lease parameters should not be included in details as key' });
  });

  describe('lease arguments (behaviour §3.5)', () => {
    const invalidDuration = 'Invalid leaseduration: must be a natural number (>=1) or -1, max supported value is 36500';

    it('count for nothing while instance.lease.enabled is off, once their values are checked', () => {
      given(instanceDecider, history.stopped()).when(cmd.update({ leaseDuration: 10, leaseExpiryAction: 'STOP', leaseFeatureEnabled: false })).then([]);
      given(instanceDecider, history.stopped()).when(cmd.update({ leaseDuration: -1 })).then([]);
    });

    it.each([false, true])('refuse a duration out of range or an unknown action, on or off (%j)', (leaseFeatureEnabled) => {
      for (const leaseDuration of [-5, 0, 1.5, 36_501, 99_999]) {
        given(instanceDecider, history.stopped()).when(cmd.update({ leaseDuration, leaseFeatureEnabled })).then('BAD_USER_INPUT', { message: invalidDuration, field: 'leaseDuration' });
      }
      given(instanceDecider, history.stopped())
        .when(cmd.update({ leaseDuration: 10, leaseExpiryAction: 'LATER', leaseFeatureEnabled }))
        .then('BAD_USER_INPUT', { message: 'Invalid value configured for leaseexpiryaction, valid values are: STOP, DESTROY', field: 'leaseExpiryAction' });
    });

    it('while the feature is on, a lone action asks for no change (the rest: lease.test.ts)', () => {
      given(instanceDecider, history.stopped()).when(cmd.update({ leaseExpiryAction: 'STOP', leaseFeatureEnabled: true })).then([]);
    });
  });
});

describe('UpdateVolume', () => {
  it('sets a volume’s delete protection', () => {
    const state = given(instanceDecider, history.stopped())
      .when(cmd.protectVolume(ID.root))
      .then([{ type: 'InstanceVolumeUpdated', data: { instanceId: ID.vm, volumeId: ID.root, deleteProtection: true } }]);
    expect(state.exists && state.volumes[0]?.deleteProtection).toBe(true);
    given(instanceDecider, history.stopped()).when(cmd.protectVolume(ID.root, false)).then([]);
    given(instanceDecider, history.stopped()).when(cmd.protectVolume('vol-x')).then('NOT_FOUND', { field: 'volumeId' });
  });
});

const change = (serviceOffering: ServiceOfferingSnapshot, customCompute?: { cpuNumber?: number; memory?: number }) => ({
  type: 'ChangeServiceOffering' as const,
  instanceId: ID.vm,
  at: AT,
  caller: owner,
  serviceOffering,
  ...(customCompute ? { customCompute } : {}),
});

describe('ChangeServiceOffering', () => {
  it('changes the offering of a stopped instance with VM.UPGRADE for the new one', () => {
    const state = given(instanceDecider, history.stopped())
      .when(change(medium))
      .then([
        {
          type: 'InstanceServiceOfferingChanged',
          data: { instanceId: ID.vm, serviceOffering: medium, cpuNumber: 2, cpuSpeed: 1000, memory: 1024, haEnabled: true, dynamicallyScalable: true },
        },
        vmUsage('VM.UPGRADE', { offeringId: medium.id }),
      ]);
    expect(state).toMatchObject({ serviceOfferingId: medium.id, cpuNumber: 2, memory: 1024, haEnabled: true });
  });

  it('to a customized offering carries the chosen compute in the usage details', () => {
    given(instanceDecider, history.stopped())
      .when(change(custom, { cpuNumber: 2, memory: 2048 }))
      .then([
        {
          type: 'InstanceServiceOfferingChanged',
          data: { instanceId: ID.vm, serviceOffering: custom, cpuNumber: 2, cpuSpeed: 1000, memory: 2048, haEnabled: false, dynamicallyScalable: true },
        },
        vmUsage('VM.UPGRADE', { offeringId: custom.id, details: { cpuNumber: 2, cpuSpeed: 1000, memory: 2048 } }),
      ]);
  });

  it('is allowed while VM snapshots exist', () => {
    const snapped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk(), cmd.snapshot(), cmd.snapshotOk());
    given(instanceDecider, snapped)
      .when(change(medium))
      .then([
        {
          type: 'InstanceServiceOfferingChanged',
          data: { instanceId: ID.vm, serviceOffering: medium, cpuNumber: 2, cpuSpeed: 1000, memory: 1024, haEnabled: true, dynamicallyScalable: true },
        },
        vmUsage('VM.UPGRADE', { offeringId: medium.id }),
      ]);
  });

  it.each([
    ['running', history.running, 'Running'],
    ['starting', history.starting, 'Starting'],
    ['destroyed', history.destroyed, 'Destroyed'],
  ])('is refused on a %s instance', (_name, make, state) => {
    given(instanceDecider, make())
      .when(change(medium))
      .then('INVALID_STATE', {
        message: `Unable to upgrade virtual machine ${ID.vm}  in state ${state}; make sure the virtual machine is stopped`,
      });
  });

  it('refuses the offering it already has, and invalid custom values', () => {
    given(instanceDecider, history.stopped())
      .when(change(small))
      .then('BAD_USER_INPUT', {
        message: `Not upgrading vm ${ID.vm} since it already has the requested service offering (Small Instance)`,
        field: 'serviceOfferingId',
      });
    given(instanceDecider, history.stopped()).when(change(custom, { cpuNumber: 20, memory: 1024 })).then('BAD_USER_INPUT', { field: 'details.cpuNumber' });
  });
});

const bigger: ServiceOfferingSnapshot = { ...custom, id: 'so-custom-2', name: 'Custom Large' };
const scale = (serviceOffering: ServiceOfferingSnapshot, customCompute: { cpuNumber?: number; memory?: number } | undefined, enableDynamicScaleVm = true) => ({
  type: 'ScaleInstance' as const,
  instanceId: ID.vm,
  at: AT,
  caller: owner,
  jobId: 'job-scale',
  serviceOffering,
  enableDynamicScaleVm,
  ...(customCompute ? { customCompute } : {}),
});
const runningCustom = () =>
  eventsOf(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 2048 } }), cmd.start(), cmd.startOk());
const scalingCustom = () =>
  eventsOf(deploy({ serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 2048 } }), cmd.start(), cmd.startOk(), scale(bigger, { cpuNumber: 4, memory: 4096 }));
const customDetails = { cpuNumber: 4, cpuSpeed: 1000, memory: 4096 };

describe('ScaleInstance', () => {
  it('asks a running instance to scale; nothing changes until the agent confirms', () => {
    const state = given(instanceDecider, runningCustom())
      .when(scale(bigger, { cpuNumber: 4, memory: 4096 }))
      .then([
        {
          type: 'InstanceScaleRequested',
          data: { instanceId: ID.vm, jobId: 'job-scale', serviceOffering: bigger, cpuNumber: 4, cpuSpeed: 1000, memory: 4096 },
        },
      ]);
    expect(state).toMatchObject({ cpuNumber: 2, memory: 2048, serviceOfferingId: custom.id, pending: { kind: 'scale', jobId: 'job-scale' } });
  });

  it('a customized offering may be rescaled in place', () => {
    given(instanceDecider, runningCustom())
      .when(scale(custom, { cpuNumber: 2, memory: 4096 }))
      .then([
        {
          type: 'InstanceScaleRequested',
          data: { instanceId: ID.vm, jobId: 'job-scale', serviceOffering: custom, cpuNumber: 2, cpuSpeed: 1000, memory: 4096 },
        },
      ]);
  });

  it('RecordScaleSucceeded: Running --OperationSucceeded--> Running with VM.DYNAMIC.SCALE for the new size', () => {
    const scaling = scalingCustom();
    const state = given(instanceDecider, scaling)
      .when({ type: 'RecordScaleSucceeded', instanceId: ID.vm, at: AT, jobId: 'job-scale' })
      .then([
        {
          type: 'InstanceScaled',
          data: { instanceId: ID.vm, jobId: 'job-scale', serviceOffering: bigger, cpuNumber: 4, cpuSpeed: 1000, memory: 4096, state: 'Running' },
        },
        vmUsage('VM.DYNAMIC.SCALE', { offeringId: bigger.id, details: customDetails }),
      ]);
    expect(state).toMatchObject({ serviceOfferingId: bigger.id, cpuNumber: 4, memory: 4096, pending: null });
  });

  it('RecordScaleFailed keeps the old size', () => {
    const scaling = scalingCustom();
    const state = given(instanceDecider, scaling)
      .when({ type: 'RecordScaleFailed', instanceId: ID.vm, at: AT, jobId: 'job-scale', reason: 'no capacity' })
      .then([{ type: 'InstanceScaleFailed', data: { instanceId: ID.vm, jobId: 'job-scale', reason: 'no capacity' } }]);
    expect(state).toMatchObject({ cpuNumber: 2, memory: 2048, pending: null });
    given(instanceDecider, scaling).when({ type: 'RecordScaleSucceeded', instanceId: ID.vm, at: AT, jobId: 'job-other' }).then('INVALID_STATE');
  });

  it('is refused unless running', () => {
    given(instanceDecider, history.stopped())
      .when(scale(medium, undefined))
      .then('INVALID_STATE', { message: `Unable to scale virtual machine ${ID.vm} in state Stopped; make sure the virtual machine is running` });
  });

  it('is refused when the zone disables it (enable.dynamic.scale.vm)', () => {
    given(instanceDecider, runningCustom())
      .when(scale(bigger, { cpuNumber: 4, memory: 4096 }, false))
      .then('FORBIDDEN', { message: 'Dynamically scaling virtual machines is disabled for this zone, please contact your admin.' });
  });

  it('is refused when the instance is not dynamically scalable', () => {
    const optedOut = eventsOf(
      deploy({ serviceOffering: custom, customCompute: { cpuNumber: 2, memory: 2048 }, dynamicScalingEnabled: false }),
      cmd.start(),
      cmd.startOk(),
    );
    given(instanceDecider, optedOut)
      .when(scale(bigger, { cpuNumber: 4, memory: 4096 }))
      .then('INVALID_STATE', { message: `Unable to scale ${ID.vm} as it does not have tools to support dynamic scaling.` });
  });

  it('is refused when the offerings disagree on dynamic scaling', () => {
    given(instanceDecider, runningCustom())
      .when(scale({ ...bigger, dynamicScalingEnabled: false }, { cpuNumber: 4, memory: 4096 }))
      .then('BAD_USER_INPUT', {
        message: 'Unable to Scale VM: since dynamic scaling enabled flag is not same for new service offering and old service offering',
      });
  });

  it('only scales up', () => {
    given(instanceDecider, runningCustom())
      .when(scale(bigger, { cpuNumber: 1, memory: 8192 }))
      .then('BAD_USER_INPUT', {
        message:
          'While the VM is running, only scalling up it is supported. New service offering {"memory": 8192, "speed": 1000, "cpu": 1} should have at least one value (ram, speed or cpu) greater than the current values {"memory": 2048, "speed": 1000, "cpu": 2}.',
      });
    given(instanceDecider, runningCustom()).when(scale(bigger, { cpuNumber: 2, memory: 2048 })).then('BAD_USER_INPUT', { message: /only scalling up/ });
  });

  it('on KVM is refused from a fixed offering', () => {
    given(instanceDecider, history.running())
      .when(scale(medium, undefined))
      .then('BAD_USER_INPUT', { message: /^Unable to live scale VM on KVM when current service offering is a "Fixed Offering"/ });
    const onXen = eventsOf(deploy({ hypervisorType: 'XenServer' }), cmd.start(), cmd.startOk());
    given(instanceDecider, onXen)
      .when(scale(medium, undefined))
      .then([
        {
          type: 'InstanceScaleRequested',
          data: { instanceId: ID.vm, jobId: 'job-scale', serviceOffering: medium, cpuNumber: 2, cpuSpeed: 1000, memory: 1024 },
        },
      ]);
  });

  it('refuses the same fixed offering and a scale while another job runs', () => {
    const onXen = eventsOf(deploy({ hypervisorType: 'XenServer' }), cmd.start(), cmd.startOk());
    given(instanceDecider, onXen).when(scale(small, undefined)).then('BAD_USER_INPUT', { message: /already has the requested service offering \(Small Instance\)$/ });
    const rebooting = [...runningCustom(), ...eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot()).slice(-1)];
    given(instanceDecider, rebooting).when(scale(bigger, { cpuNumber: 4, memory: 4096 })).then('INVALID_STATE', { message: /is busy with reboot job/ });
  });
});
