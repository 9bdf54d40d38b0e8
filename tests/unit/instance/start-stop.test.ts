import { describe, expect, it } from 'vitest';
import { instanceDecider } from '../../../domain/instance/index.js';
import {
  AT,
  ID,
  cmd,
  deploy,
  domainAdmin,
  eventsOf,
  history,
  instanceOf,
  nic1,
  nic2,
  nicAssigned,
  nicRemoved,
  owner,
  rootAdmin,
  rootCreated,
  usage,
  vmUsage,
  volumeDeleted,
  LATER,
} from './fixtures.js';
import { given } from '../../support/given.js';

const startRequested = (jobId = 'job-start', requestedHostId: string | null = null, lastHostId: string | null = null, considerLastHost = true) => ({
  type: 'InstanceStartRequested' as const,
  data: { instanceId: ID.vm, jobId, requestedHostId, considerLastHost, lastHostId, state: 'Starting' as const },
});

describe('StartInstance', () => {
  it('Stopped --StartRequested--> Starting', () => {
    given(instanceDecider, history.stopped()).when(cmd.start()).then([startRequested()]);
  });

  it('passes considerLastHost and the last host on to the planner', () => {
    const ranOnce = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk());
    given(instanceDecider, ranOnce)
      .when(cmd.start('job-2', { considerLastHost: false }))
      .then([startRequested('job-2', null, ID.host1, false)]);
  });

  it('lets a root admin name the host', () => {
    const state = given(instanceDecider, history.stopped())
      .when(cmd.start('job-start', { hostId: ID.host2, caller: rootAdmin }))
      .then([startRequested('job-start', ID.host2)]);
    expect(state).toMatchObject({ state: 'Starting', hostId: ID.host2 });
  });

  it('refuses a host chosen by anyone but a root admin', () => {
    const message = 'Parameter hostid can only be specified by a Root Admin, permission denied';
    given(instanceDecider, history.stopped()).when(cmd.start('j', { hostId: ID.host2, caller: owner })).then('FORBIDDEN', { message, field: 'hostId' });
    given(instanceDecider, history.stopped()).when(cmd.start('j', { hostId: ID.host2, caller: domainAdmin })).then('FORBIDDEN', { message, field: 'hostId' });
  });

  it('refuses a running instance with CloudStack message', () => {
    given(instanceDecider, history.running())
      .when(cmd.start('job-2'))
      .then('INVALID_STATE', { message: `The virtual machine ${ID.vm} (Web server) is already running` });
  });

  it.each([
    ['starting', history.starting],
    ['stopping', history.stopping],
    ['migrating', history.migrating],
    ['destroyed', history.destroyed],
    ['expunging', history.expunging],
    ['error', history.error],
  ])('refuses to start a %s instance', (_name, make) => {
    given(instanceDecider, make()).when(cmd.start('job-2')).then('INVALID_STATE', { message: /^Unable to start the virtual machine/ });
  });
});

describe('start outcomes', () => {
  it('Starting --OperationSucceeded--> Running with NETWORK.OFFERING.ASSIGN per NIC, then VM.START', () => {
    const twoNics = eventsOf(deploy({ nics: [nic1, nic2] }), cmd.start());
    const state = given(instanceDecider, twoNics)
      .when(cmd.startOk('job-start', ID.host1, LATER))
      .then([
        { type: 'InstanceStarted', data: { instanceId: ID.vm, jobId: 'job-start', hostId: ID.host1, state: 'Running', settledAt: LATER } },
        nicAssigned(nic1, 1, { occurredAt: LATER }),
        nicAssigned(nic2, 0, { occurredAt: LATER }),
        vmUsage('VM.START', { occurredAt: LATER }),
      ]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host1, lastHostId: ID.host1, everStarted: true, pending: null });
    expect(state.exists && state.volumes.map((v) => v.state)).toEqual(['Ready']);
  });

  it('Starting --OperationRetry--> Starting on another host', () => {
    const state = given(instanceDecider, history.starting())
      .when(cmd.startRetry('job-start', ID.host2))
      .then([
        {
          type: 'InstanceStartRetried',
          data: { instanceId: ID.vm, jobId: 'job-start', hostId: ID.host2, reason: 'host-1 lacks capacity', state: 'Starting' },
        },
      ]);
    expect(state).toMatchObject({ state: 'Starting', hostId: ID.host2 });
  });

  it('Starting --OperationFailed--> Stopped when the instance was deployed without startVm', () => {
    const state = given(instanceDecider, history.starting())
      .when(cmd.startFail())
      .then([{ type: 'InstanceStartFailed', data: { instanceId: ID.vm, jobId: 'job-start', reason: 'domain failed to boot', state: 'Stopped', settledAt: AT } }]);
    expect(state).toMatchObject({ state: 'Stopped', hostId: null, pending: null });
  });

  it('a failed later start of a startVm deployment goes back to Stopped', () => {
    const ranBefore = eventsOf(deploy({ startVm: true }), cmd.startOk(ID.deployJob), cmd.stop(), cmd.stopOk(), cmd.start('job-2'));
    given(instanceDecider, ranBefore)
      .when(cmd.startFail('job-2'))
      .then([{ type: 'InstanceStartFailed', data: { instanceId: ID.vm, jobId: 'job-2', reason: 'domain failed to boot', state: 'Stopped', settledAt: AT } }]);
  });

  it('a failed first start of a startVm deployment ends in Error via OperationFailedToError with VM.DESTROY and VOLUME.DELETE', () => {
    const data = { id: ID.data, name: 'DATA-web-1', size: 1024, storagePoolId: null, diskOfferingId: ID.diskOffering };
    const deploying = eventsOf(deploy({ startVm: true, dataVolumes: [data] }));
    const state = given(instanceDecider, deploying)
      .when(cmd.startFail(ID.deployJob, LATER))
      .then([
        { type: 'InstanceStartFailed', data: { instanceId: ID.vm, jobId: ID.deployJob, reason: 'domain failed to boot', state: 'Stopped', settledAt: LATER } },
        {
          type: 'InstanceErrored',
          data: { instanceId: ID.vm, jobId: ID.deployJob, reason: 'domain failed to boot', deletedVolumeIds: [ID.root, ID.data], state: 'Error' },
        },
        vmUsage('VM.DESTROY', { occurredAt: LATER }),
        volumeDeleted(ID.root, 'ROOT-web-1', { occurredAt: LATER }),
        volumeDeleted(ID.data, 'DATA-web-1', { occurredAt: LATER }),
      ]);
    expect(state.exists && state.volumes.map((v) => v.state)).toEqual(['Destroy', 'Destroy']);
  });

  it('refuses an outcome for a job that is not the one in flight', () => {
    given(instanceDecider, history.starting())
      .when(cmd.startOk('job-old'))
      .then('INVALID_STATE', { message: `Job job-old is not the operation in progress on virtual machine ${ID.vm} (in progress: job-start)` });
    given(instanceDecider, history.starting()).when(cmd.startFail('job-old')).then('INVALID_STATE');
    given(instanceDecider, history.starting()).when(cmd.startRetry('job-old')).then('INVALID_STATE');
  });

  it('refuses start outcomes outside Starting', () => {
    // Running --OperationSucceeded--> Running is an edge, so it is the job that is refused there.
    given(instanceDecider, history.running()).when(cmd.startOk()).then('INVALID_STATE', { message: /^Job job-start is not the operation in progress/ });
    given(instanceDecider, history.stopped()).when(cmd.startOk()).then('INVALID_STATE', { message: /from Stopped via OperationSucceeded$/ });
    given(instanceDecider, history.stopped()).when(cmd.startFail()).then('INVALID_STATE');
    given(instanceDecider, history.stopped()).when(cmd.startRetry()).then('INVALID_STATE', { message: /from Stopped via OperationRetry$/ });
  });
});

describe('StopInstance', () => {
  it('Running --StopRequested--> Stopping', () => {
    given(instanceDecider, history.running())
      .when(cmd.stop('job-stop', true))
      .then([{ type: 'InstanceStopRequested', data: { instanceId: ID.vm, jobId: 'job-stop', forced: true, afterStop: null, state: 'Stopping' } }]);
  });

  it.each([
    ['stopped', history.stopped],
    ['destroyed', history.destroyed],
    ['expunging', history.expunging],
    ['error', history.error],
  ])('is a no-op on a %s instance', (_name, make) => {
    given(instanceDecider, make()).when(cmd.stop('job-2')).then([]);
    given(instanceDecider, make()).when(cmd.stop('job-2', true)).then([]);
  });

  it('Stopping --StopRequested--> Stopping only for a forced stop, which takes over the job', () => {
    given(instanceDecider, history.stopping()).when(cmd.stop('job-2')).then([]);
    const state = given(instanceDecider, history.stopping())
      .when(cmd.stop('job-force', true))
      .then([{ type: 'InstanceStopRequested', data: { instanceId: ID.vm, jobId: 'job-force', forced: true, afterStop: null, state: 'Stopping' } }]);
    expect(state).toMatchObject({ pending: { kind: 'stop', jobId: 'job-force', forced: true } });
  });

  it.each([
    ['starting', history.starting],
    ['migrating', history.migrating],
  ])('refuses to stop a %s instance', (_name, make) => {
    given(instanceDecider, make()).when(cmd.stop('job-2')).then('INVALID_STATE', { message: /^Unable to stop the virtual machine/ });
  });
});

describe('stop outcomes', () => {
  it('Stopping --OperationSucceeded--> Stopped with VM.STOP then NETWORK.OFFERING.REMOVE (size 0) per NIC', () => {
    const stopping = eventsOf(deploy({ nics: [nic1, nic2] }), cmd.start(), cmd.startOk(), cmd.stop());
    const state = given(instanceDecider, stopping)
      .when(cmd.stopOk('job-stop', LATER))
      .then([
        { type: 'InstanceStopped', data: { instanceId: ID.vm, jobId: 'job-stop', hostId: ID.host1, state: 'Stopped', settledAt: LATER } },
        vmUsage('VM.STOP', { occurredAt: LATER }),
        nicRemoved(nic1, { occurredAt: LATER }),
        nicRemoved(nic2, { occurredAt: LATER }),
      ]);
    expect(state).toMatchObject({ state: 'Stopped', hostId: null, lastHostId: ID.host1, pending: null });
  });

  it('Stopping --OperationFailed--> Running', () => {
    const state = given(instanceDecider, history.stopping())
      .when(cmd.stopFail())
      .then([{ type: 'InstanceStopFailed', data: { instanceId: ID.vm, jobId: 'job-stop', reason: 'guest ignored ACPI', state: 'Running', settledAt: AT } }]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host1, pending: null });
  });

  it('refuses stop outcomes of another job or outside Stopping', () => {
    given(instanceDecider, history.stopping()).when(cmd.stopOk('job-old')).then('INVALID_STATE', { message: /^Job job-old is not the operation in progress/ });
    given(instanceDecider, history.stopping()).when(cmd.stopFail('job-old')).then('INVALID_STATE');
    given(instanceDecider, history.running()).when(cmd.stopOk()).then('INVALID_STATE');
    given(instanceDecider, history.stopped()).when(cmd.stopFail()).then('INVALID_STATE', { message: /from Stopped via OperationFailed$/ });
  });

  it('a superseded stop job can no longer settle the stop', () => {
    const forced = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stop('job-force', true));
    given(instanceDecider, forced).when(cmd.stopOk('job-stop')).then('INVALID_STATE');
    given(instanceDecider, forced).when(cmd.stopOk('job-force')).then([
      { type: 'InstanceStopped', data: { instanceId: ID.vm, jobId: 'job-force', hostId: ID.host1, state: 'Stopped', settledAt: AT } },
      vmUsage('VM.STOP'),
      nicRemoved(nic1),
    ]);
  });
});

describe('a full life (Appendix A)', () => {
  it('deploy → start → stop → destroy(expunge) writes exactly the CloudStack usage stream', () => {
    const events = eventsOf(
      deploy({ startVm: true }),
      cmd.startOk(ID.deployJob),
      cmd.stop(),
      cmd.stopOk(),
      cmd.destroy({ expunge: true, allow: true }),
      cmd.expunged(),
    );
    expect(events.filter((e) => e.type.startsWith('usage.'))).toStrictEqual([
      vmUsage('VM.CREATE'),
      rootCreated(),
      nicAssigned(nic1, 1),
      vmUsage('VM.START'),
      vmUsage('VM.STOP'),
      nicRemoved(nic1),
      vmUsage('VM.DESTROY'),
      volumeDeleted(ID.root, 'ROOT-web-1'),
    ]);
    expect(instanceOf(events)).toMatchObject({ state: 'Expunging', expunged: true });
  });

  it('a failed deployment leaves VM.CREATE, VOLUME.CREATE, VM.DESTROY, VOLUME.DELETE and an Error instance', () => {
    const events = history.error();
    expect(events.filter((e) => e.type.startsWith('usage.'))).toStrictEqual([
      vmUsage('VM.CREATE'),
      rootCreated(),
      vmUsage('VM.DESTROY'),
      volumeDeleted(ID.root, 'ROOT-web-1'),
    ]);
    expect(instanceOf(events).state).toBe('Error');
  });

  it('usage records are stamped with the time of the command that caused them', () => {
    const events = eventsOf(deploy(), cmd.start(), cmd.startOk('job-start', ID.host1, LATER));
    expect(events.filter((e) => e.type.startsWith('usage.')).map((e) => (e.data as { occurredAt: string }).occurredAt)).toEqual([
      AT,
      AT,
      LATER,
      LATER,
    ]);
    expect(usage('VM.START', {}).type).toBe('usage.VM.START');
  });
});
