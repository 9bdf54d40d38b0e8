import { describe, expect, it } from 'vitest';
import {
  MACHINE_EVENTS,
  TRANSITIONS,
  VM_STATES,
  findTransition,
  instanceDecider,
  isTransitional,
  isUsageEvent,
  machineEventOf,
  transition,
  type InstanceCommand,
  type InstanceDomainEvent,
  type InstanceEvent,
  type Transition,
} from '../../../domain/instance/index.js';
import { given, givenState } from '../../support/given.js';
import { ID, cmd, deploy, eventsOf, history, stateOf } from './fixtures.js';

describe('the §1.3 transition table', () => {
  it('has CloudStack’s 50 edges, none repeated, none into or out of Unknown or Shutdown', () => {
    expect(TRANSITIONS).toHaveLength(50);
    expect(new Set(TRANSITIONS.map((t) => `${t.from}|${t.event}`)).size).toBe(50);
    expect(TRANSITIONS.filter((t) => ['Unknown', 'Shutdown'].includes(t.from) || ['Unknown', 'Shutdown'].includes(t.to))).toEqual([]);
  });

  it('flags exactly CloudStack’s usage-impact edges', () => {
    expect(TRANSITIONS.filter((t) => t.usage).map((t) => `${t.from}-${t.event}->${t.to}`)).toEqual([
      'Stopped-DestroyRequested->Destroyed',
      'Stopped-OperationFailedToError->Error',
      'Stopped-ExpungeOperation->Expunging',
      'Stopped-FollowAgentPowerOnReport->Running',
      'Starting-OperationSucceeded->Running',
      'Starting-AgentReportRunning->Running',
      'Starting-FollowAgentPowerOnReport->Running',
      'Destroyed-RecoveryRequested->Stopped',
      'Running-AgentReportStopped->Stopped',
      'Running-AgentReportShutdowned->Stopped',
      'Running-FollowAgentPowerOffReport->Stopped',
      'Stopping-OperationSucceeded->Stopped',
      'Stopping-AgentReportStopped->Stopped',
      'Stopping-AgentReportShutdowned->Stopped',
      'Stopping-FollowAgentPowerOffReport->Stopped',
    ]);
  });

  it('answers undefined for every pair it does not list', () => {
    let missing = 0;
    for (const from of VM_STATES) {
      for (const event of MACHINE_EVENTS) {
        const row = TRANSITIONS.find((t) => t.from === from && t.event === event);
        expect(transition(from, event)).toBe(row?.to);
        expect(findTransition(from, event)).toBe(row);
        if (!row) missing++;
      }
    }
    expect(missing).toBe(VM_STATES.length * MACHINE_EVENTS.length - 50);
  });

  it('knows the transitional states', () => {
    expect(VM_STATES.filter(isTransitional)).toEqual(['Starting', 'Stopping', 'Expunging', 'Migrating']);
  });
});

interface Scenario {
  readonly given: () => InstanceEvent[];
  readonly when: InstanceCommand;
}

const rebooting = () => eventsOf(deploy(), cmd.start(), cmd.startOk(), cmd.reboot());

/** A command that takes each edge from a history that reaches its source state. */
const TAKEN: Record<string, Scenario> = {
  'Stopped|StartRequested': { given: history.stopped, when: cmd.start() },
  'Stopped|DestroyRequested': { given: history.stopped, when: cmd.destroy() },
  'Stopped|OperationFailedToError': { given: () => eventsOf(deploy({ startVm: true })), when: cmd.startFail(ID.deployJob) },
  'Stopped|FollowAgentPowerOnReport': { given: history.stopped, when: cmd.report('running') },
  'Starting|OperationRetry': { given: history.starting, when: cmd.startRetry() },
  'Starting|OperationSucceeded': { given: history.starting, when: cmd.startOk() },
  'Starting|OperationFailed': { given: history.starting, when: cmd.startFail() },
  'Starting|AgentReportRunning': { given: history.starting, when: cmd.report('running') },
  'Destroyed|RecoveryRequested': { given: history.destroyed, when: cmd.recover() },
  'Destroyed|ExpungeOperation': { given: history.destroyed, when: cmd.expunge() },
  'Running|MigrationRequested': { given: history.running, when: cmd.migrate() },
  'Running|StopRequested': { given: history.running, when: cmd.stop() },
  'Running|AgentReportShutdowned': { given: history.running, when: cmd.report('shutdown') },
  'Running|AgentReportMigrated': { given: history.running, when: cmd.report('running', ID.host2) },
  'Running|OperationSucceeded': { given: rebooting, when: cmd.rebootOk() },
  'Running|FollowAgentPowerOffReport': { given: history.running, when: cmd.report('stopped') },
  'Migrating|OperationSucceeded': { given: history.migrating, when: cmd.migrateOk() },
  'Migrating|OperationFailed': { given: history.migrating, when: cmd.migrateFail() },
  'Migrating|AgentReportRunning': { given: history.migrating, when: cmd.report('running', ID.host2) },
  'Stopping|OperationSucceeded': { given: history.stopping, when: cmd.stopOk() },
  'Stopping|OperationFailed': { given: history.stopping, when: cmd.stopFail() },
  'Stopping|AgentReportStopped': { given: history.stopping, when: cmd.report('stopped') },
  'Stopping|StopRequested': { given: history.stopping, when: cmd.stop('job-force', true) },
  'Stopping|AgentReportShutdowned': { given: history.stopping, when: cmd.report('shutdown') },
  'Expunging|OperationFailed': { given: history.expunging, when: cmd.expungeFail() },
  'Expunging|ExpungeOperation': { given: history.expunging, when: cmd.expunge() },
  'Error|DestroyRequested': { given: history.error, when: cmd.destroy() },
  'Error|ExpungeOperation': { given: history.error, when: cmd.expunge() },
};

/** Self-loops the commands accept without appending anything: the instance is already where the edge leads. */
const SILENT: Record<string, Scenario> = {
  'Stopped|StopRequested': { given: history.stopped, when: cmd.stop() },
  'Stopped|AgentReportShutdowned': { given: history.stopped, when: cmd.report('shutdown') },
  'Stopped|FollowAgentPowerOffReport': { given: history.stopped, when: cmd.report('stopped') },
  'Running|FollowAgentPowerOnReport': { given: history.running, when: cmd.report('running') },
};

const STABLE_REPORTS = 'stable states follow power reports with FollowAgentPower*/AgentReportShutdowned';
const TRANSITIONAL_REPORTS = 'in a transitional state only AgentReport* reports of the awaited outcome are taken';
const EXPECTED_PICTURE = 'a report of the power state the operation starts from is expected, not news; the saga reports failure';

/** Edges no command takes, and why. */
const NOT_TAKEN: Record<string, string> = {
  'Stopped|AgentReportStopped': STABLE_REPORTS,
  'Stopped|OperationFailed': 'no operation runs on a Stopped instance that could fail in place',
  'Stopped|ExpungeOperation': 'expunge requires Destroyed, Expunging or Error (behaviour §1.4); destroy with expunge passes through Destroyed',
  'Stopped|StorageMigrationRequested': 'offline storage migration is not part of the API',
  'Starting|AgentReportStopped': EXPECTED_PICTURE,
  'Starting|AgentReportShutdowned': EXPECTED_PICTURE,
  'Starting|FollowAgentPowerOnReport': TRANSITIONAL_REPORTS,
  'Starting|FollowAgentPowerOffReport': TRANSITIONAL_REPORTS,
  'Running|AgentReportRunning': STABLE_REPORTS,
  'Running|AgentReportStopped': STABLE_REPORTS,
  'Migrating|MigrationRequested': 'a migration in flight is not requested again; MigrateInstance needs Running',
  'Migrating|AgentReportStopped': 'during a live migration both hosts see the domain off at some point',
  'Migrating|AgentReportShutdowned': 'during a live migration both hosts see the domain off at some point',
  'Migrating|FollowAgentPowerOnReport': TRANSITIONAL_REPORTS,
  'Migrating|FollowAgentPowerOffReport': TRANSITIONAL_REPORTS,
  'Stopping|AgentReportRunning': EXPECTED_PICTURE,
  'Stopping|FollowAgentPowerOnReport': TRANSITIONAL_REPORTS,
  'Stopping|FollowAgentPowerOffReport': TRANSITIONAL_REPORTS,
};

const key = (t: Transition) => `${t.from}|${t.event}`;

/** The VM usage record a usage-impact edge writes (behaviour §2.3). */
function vmUsageFor(t: Transition): string {
  if (t.to === 'Running') return 'usage.VM.START';
  if (t.to === 'Stopped') return t.from === 'Destroyed' ? 'usage.VM.CREATE' : 'usage.VM.STOP';
  return 'usage.VM.DESTROY';
}

describe('every edge of the table, through the commands', () => {
  it('is taken by a scenario, accepted silently, or listed as not taken with a reason', () => {
    const accounted = [...Object.keys(TAKEN), ...Object.keys(SILENT), ...Object.keys(NOT_TAKEN)].sort();
    expect(accounted).toEqual(TRANSITIONS.map(key).sort());
  });

  it.each(TRANSITIONS.filter((t) => key(t) in TAKEN).map((t) => [key(t), t] as const))('%s', (_key, row) => {
    const scenario = TAKEN[key(row)];
    if (!scenario) throw new Error('no scenario');
    const start = given(instanceDecider, scenario.given());
    let state = start.state;
    const decision = start.when(scenario.when).accepted();

    let found = false;
    decision.forEach((event, index) => {
      const before = state;
      state = instanceDecider.evolve(state, event);
      if (isUsageEvent(event) || machineEventOf(event as InstanceDomainEvent) !== row.event) return;
      if (!before.exists || before.state !== row.from) return;
      found = true;
      expect(state.exists && state.state).toBe(row.to);
      if ('state' in event.data) expect(event.data.state).toBe(row.to);
      const followingUsage: string[] = [];
      for (const next of decision.slice(index + 1)) {
        if (!isUsageEvent(next)) break;
        if (next.type.startsWith('usage.VM.')) followingUsage.push(next.type);
      }
      expect(followingUsage).toEqual(row.usage ? [vmUsageFor(row)] : []);
    });
    expect(found).toBe(true);
  });

  it.each(Object.entries(SILENT))('%s is accepted and appends nothing', (k, scenario) => {
    const [from, event] = k.split('|');
    const start = given(instanceDecider, scenario.given());
    expect(start.state.exists && start.state.state).toBe(from);
    expect(transition(from as 'Stopped', event as 'StopRequested')).toBe(from);
    start.when(scenario.when).then([]);
  });
});

describe('states without edges', () => {
  it.each(['Unknown', 'Shutdown'] as const)('an instance in %s refuses every lifecycle command', (vmState) => {
    const running = stateOf(history.running());
    if (!running.exists) throw new Error('setup');
    const stuck = { ...running, state: vmState, pending: null };
    for (const command of [cmd.start(), cmd.stop(), cmd.destroy(), cmd.report('running'), cmd.report('stopped'), cmd.migrate(), cmd.expunge()]) {
      givenState(instanceDecider, stuck).when(command).then('INVALID_STATE');
    }
  });
});
