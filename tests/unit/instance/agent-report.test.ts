import { describe, expect, it } from 'vitest';
import { instanceDecider, reportConfirms, type InstanceEvent, type MachineEvent, type PowerState, type VmState } from '../../../domain/instance/index.js';
import { AT, ID, LATER, cmd, deploy, eventsOf, history, nic1, nicAssigned, nicRemoved, rootAdmin, vmUsage, volumeDeleted } from './fixtures.js';
import { given } from '../../support/given.js';
import { fold, isRejection } from '../../../domain/shared/decider.js';

const reported = (
  powerState: PowerState,
  machineEvent: MachineEvent,
  state: VmState,
  hostId: string = ID.host1,
  settledJobId: string | null = null,
  settledAt: string = AT,
): InstanceEvent => ({
  type: 'InstancePowerStateReported',
  data: { instanceId: ID.vm, hostId, powerState, machineEvent, settledJobId, state, settledAt },
});

describe('RecordAgentReport on stable states', () => {
  it('Stopped --FollowAgentPowerOnReport--> Running: the instance came up by itself, with start usage', () => {
    const state = given(instanceDecider, history.stopped())
      .when(cmd.report('running', ID.host2, LATER))
      .then([
        reported('running', 'FollowAgentPowerOnReport', 'Running', ID.host2, null, LATER),
        nicAssigned(nic1, 1, { occurredAt: LATER }),
        vmUsage('VM.START', { occurredAt: LATER }),
      ]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host2, lastHostId: ID.host2, everStarted: true });
  });

  it('Stopped --FollowAgentPowerOffReport/AgentReportShutdowned--> Stopped appends nothing', () => {
    given(instanceDecider, history.stopped()).when(cmd.report('stopped')).then([]);
    given(instanceDecider, history.stopped()).when(cmd.report('shutdown')).then([]);
  });

  it('Running --FollowAgentPowerOffReport--> Stopped with stop usage', () => {
    const state = given(instanceDecider, history.running())
      .when(cmd.report('stopped'))
      .then([reported('stopped', 'FollowAgentPowerOffReport', 'Stopped'), vmUsage('VM.STOP'), nicRemoved(nic1)]);
    expect(state).toMatchObject({ state: 'Stopped', hostId: null, lastHostId: ID.host1 });
  });

  it('Running --AgentReportShutdowned--> Stopped (shut down from inside) with stop usage', () => {
    given(instanceDecider, history.running())
      .when(cmd.report('shutdown'))
      .then([reported('shutdown', 'AgentReportShutdowned', 'Stopped'), vmUsage('VM.STOP'), nicRemoved(nic1)]);
  });

  it('Running --FollowAgentPowerOnReport--> Running from its own host appends nothing', () => {
    given(instanceDecider, history.running()).when(cmd.report('running')).then([]);
  });

  it('Running --AgentReportMigrated--> Running when another host runs it', () => {
    const state = given(instanceDecider, history.running()).when(cmd.report('running', ID.host2)).then([reported('running', 'AgentReportMigrated', 'Running', ID.host2)]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host2 });
  });

  it('ignores another host seeing the domain off', () => {
    given(instanceDecider, history.running()).when(cmd.report('stopped', ID.host2)).then([]);
    given(instanceDecider, history.running()).when(cmd.report('shutdown', ID.host2)).then([]);
  });

  it('ends a reboot in flight when the instance is found off', () => {
    const rebooting = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot());
    const state = given(instanceDecider, rebooting)
      .when(cmd.report('stopped'))
      .then([reported('stopped', 'FollowAgentPowerOffReport', 'Stopped', ID.host1, 'job-reboot'), vmUsage('VM.STOP'), nicRemoved(nic1)]);
    expect(state).toMatchObject({ pending: null });
  });
});

describe('RecordAgentReport on transitional states', () => {
  it('Starting --AgentReportRunning--> Running settles the start, with start usage', () => {
    given(instanceDecider, history.starting())
      .when(cmd.report('running', ID.host2))
      .then([reported('running', 'AgentReportRunning', 'Running', ID.host2, 'job-start'), nicAssigned(nic1, 1), vmUsage('VM.START')]);
  });

  it('Starting on a known host only listens to that host', () => {
    const placed = eventsOf(deploy(), cmd.start('job-start', { hostId: ID.host1, caller: rootAdmin }));
    given(instanceDecider, placed).when(cmd.report('running', ID.host2)).then([]);
    given(instanceDecider, placed)
      .when(cmd.report('running', ID.host1))
      .then([reported('running', 'AgentReportRunning', 'Running', ID.host1, 'job-start'), nicAssigned(nic1, 1), vmUsage('VM.START')]);
  });

  it('Starting: the domain being off is what a start begins from, not news', () => {
    given(instanceDecider, history.starting()).when(cmd.report('stopped')).then([]);
    given(instanceDecider, history.starting()).when(cmd.report('shutdown')).then([]);
  });

  it('Stopping --AgentReportStopped--> Stopped settles the stop, with stop usage', () => {
    given(instanceDecider, history.stopping())
      .when(cmd.report('stopped'))
      .then([reported('stopped', 'AgentReportStopped', 'Stopped', ID.host1, 'job-stop'), vmUsage('VM.STOP'), nicRemoved(nic1)]);
  });

  it('Stopping --AgentReportShutdowned--> Stopped also completes a promised destroy', () => {
    const destroying = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.destroy());
    given(instanceDecider, destroying)
      .when(cmd.report('shutdown'))
      .then([
        reported('shutdown', 'AgentReportShutdowned', 'Stopped', ID.host1, 'job-destroy'),
        vmUsage('VM.STOP'),
        nicRemoved(nic1),
        {
          type: 'InstanceDestroyed',
          data: {
            instanceId: ID.vm,
            jobId: 'job-destroy',
            expunge: false,
            deletedVolumeIds: [ID.root],
            detachedVolumeIds: [],
            deletedVmSnapshotIds: [],
            state: 'Destroyed',
          },
        },
        vmUsage('VM.DESTROY'),
        volumeDeleted(ID.root, 'ROOT-web-1'),
      ]);
  });

  it('Stopping: the domain still running, or another host, is not news', () => {
    given(instanceDecider, history.stopping()).when(cmd.report('running')).then([]);
    given(instanceDecider, history.stopping()).when(cmd.report('stopped', ID.host2)).then([]);
  });

  it('Migrating --AgentReportRunning--> Running when the target runs it', () => {
    const state = given(instanceDecider, history.migrating())
      .when(cmd.report('running', ID.host2))
      .then([reported('running', 'AgentReportRunning', 'Running', ID.host2, 'job-migrate')]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host2, pending: null });
  });

  it('Migrating: the source still running it, or either host seeing it off, is not news', () => {
    given(instanceDecider, history.migrating()).when(cmd.report('running', ID.host1)).then([]);
    given(instanceDecider, history.migrating()).when(cmd.report('stopped', ID.host1)).then([]);
    given(instanceDecider, history.migrating()).when(cmd.report('shutdown', ID.host2)).then([]);
  });
});

describe('RecordAgentReport where the machine has no edge', () => {
  it.each([
    ['destroyed', history.destroyed, 'Destroyed'],
    ['expunging', history.expunging, 'Expunging'],
    ['error', history.error, 'Error'],
  ])('is refused on a %s instance', (_name, make, state) => {
    given(instanceDecider, make())
      .when(cmd.report('running'))
      .then('INVALID_STATE', { message: `Unable to transition virtual machine ${ID.vm} to a new state from ${state} via FollowAgentPowerOnReport` });
    given(instanceDecider, make()).when(cmd.report('stopped')).then('INVALID_STATE', { message: /via FollowAgentPowerOffReport$/ });
    given(instanceDecider, make()).when(cmd.report('shutdown')).then('INVALID_STATE', { message: /via AgentReportShutdowned$/ });
  });
});

describe('RecordAgentReport taken before a job settled the power state', () => {
  // Reports and replies travel on different queues: a report the agent took before it carried out a
  // stop can be processed after the stop's reply. What it saw is history the job already overtook.
  const EARLIER = '2025-03-01T10:30:00.000Z';

  it('a stopped instance stays Stopped on a running report taken before its stop settled', () => {
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk('job-stop', LATER));
    const state = given(instanceDecider, stopped).when(cmd.report('running', ID.host1, EARLIER)).then([]);
    expect(state).toMatchObject({ state: 'Stopped', hostId: null });
  });

  it('a started instance stays Running on a stopped report taken before its start settled', () => {
    const running = eventsOf(deploy(), cmd.start(), cmd.startOk('job-start', ID.host1, LATER));
    given(instanceDecider, running).when(cmd.report('stopped', ID.host1, EARLIER)).then([]);
  });

  it('a migrated instance stays on its new host when the old host reports it from before the migration', () => {
    const migrated = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.migrate(), { ...cmd.migrateOk(), at: LATER });
    const state = given(instanceDecider, migrated).when(cmd.report('running', ID.host1, EARLIER)).then([]);
    expect(state).toMatchObject({ state: 'Running', hostId: ID.host2 });
  });

  it('a report older than the last report that moved the instance is history too', () => {
    const selfStopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.report('stopped', ID.host1, LATER));
    given(instanceDecider, selfStopped).when(cmd.report('running', ID.host1, EARLIER)).then([]);
  });

  it('a report taken when the job settled, or after, is followed', () => {
    const stopped = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk('job-stop', EARLIER));
    given(instanceDecider, stopped).when(cmd.report('running', ID.host1, EARLIER)).accepted();
    given(instanceDecider, stopped)
      .when(cmd.report('running', ID.host1, LATER))
      .then([
        reported('running', 'FollowAgentPowerOnReport', 'Running', ID.host1, null, LATER),
        nicAssigned(nic1, 1, { occurredAt: LATER }),
        vmUsage('VM.START', { occurredAt: LATER }),
      ]);
  });

  it('histories recorded before settlements were timed still follow every report', () => {
    const untimed = eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.stop(), cmd.stopOk('job-stop', LATER)).map(withoutSettledAt);
    expect(given(instanceDecider, untimed).when(cmd.report('running', ID.host1, EARLIER)).accepted()).toHaveLength(3);
  });
});

/** The event as recorded before settling events said when they settled. */
function withoutSettledAt(event: InstanceEvent): InstanceEvent {
  if (!('settledAt' in (event.data as object))) return event;
  const { settledAt: _dropped, ...data } = event.data as { settledAt?: string };
  return { ...event, data } as InstanceEvent;
}

describe('a report that confirms the instance', () => {
  // A caller that knows the instance's state and host skips deciding such a report: it must be one
  // the decider appends nothing for, from every history, and only those.
  const histories = { ...history, rebooting: () => eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot()) };
  const reports = (['running', 'stopped', 'shutdown'] as const).flatMap((power) => [ID.host1, ID.host2].map((hostId) => [power, hostId] as const));

  it.each(Object.entries(histories))('is never news to a %s instance', (_name, make) => {
    const instance = fold(instanceDecider, make());
    if (!instance.exists) throw new Error('an instance expected');
    for (const [powerState, hostId] of reports) {
      const decision = instanceDecider.decide(cmd.report(powerState, hostId, LATER), instance);
      if (reportConfirms(instance, { hostId, powerState })) expect(isRejection(decision) || decision.length === 0).toBe(true);
    }
  });

  it('is a stopped instance seen off, or a running one seen on by its own host', () => {
    expect(reportConfirms({ state: 'Stopped', hostId: null }, { hostId: ID.host1, powerState: 'shutdown' })).toBe(true);
    expect(reportConfirms({ state: 'Stopped', hostId: null }, { hostId: ID.host1, powerState: 'running' })).toBe(false);
    expect(reportConfirms({ state: 'Running', hostId: ID.host1 }, { hostId: ID.host1, powerState: 'running' })).toBe(true);
    expect(reportConfirms({ state: 'Running', hostId: ID.host1 }, { hostId: ID.host2, powerState: 'running' })).toBe(false);
    expect(reportConfirms({ state: 'Running', hostId: ID.host1 }, { hostId: ID.host1, powerState: 'stopped' })).toBe(false);
    expect(reportConfirms({ state: 'Starting', hostId: ID.host1 }, { hostId: ID.host1, powerState: 'running' })).toBe(false);
  });
});
