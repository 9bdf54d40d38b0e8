// CloudStack's VirtualMachine.State / VirtualMachine.Event state machine (behaviour §1.3), as data.
// The table is the only authority on which lifecycle moves exist; deciders ask it, tests enumerate it.

export const VM_STATES = [
  'Starting',
  'Running',
  'Stopping',
  'Stopped',
  'Destroyed',
  'Expunging',
  'Migrating',
  'Error',
  'Unknown',
  'Shutdown',
] as const;
export type VmState = (typeof VM_STATES)[number];

/** States that only exist between a request and its outcome (CloudStack's `transitional` flag). */
export const TRANSITIONAL_STATES: ReadonlySet<VmState> = new Set<VmState>(['Starting', 'Stopping', 'Expunging', 'Migrating']);

// CreateRequested, RevertRequested and SnapshotRequested exist in CloudStack's enum but have no edge in
// the table, so they are left out: an event that can never move the machine is not worth naming.
export const MACHINE_EVENTS = [
  'StartRequested',
  'StopRequested',
  'DestroyRequested',
  'RecoveryRequested',
  'AgentReportStopped',
  'AgentReportRunning',
  'MigrationRequested',
  'StorageMigrationRequested',
  'ExpungeOperation',
  'OperationSucceeded',
  'OperationFailed',
  'OperationFailedToError',
  'OperationRetry',
  'AgentReportShutdowned',
  'AgentReportMigrated',
  'FollowAgentPowerOnReport',
  'FollowAgentPowerOffReport',
] as const;
export type MachineEvent = (typeof MACHINE_EVENTS)[number];

export interface Transition {
  readonly from: VmState;
  readonly event: MachineEvent;
  readonly to: VmState;
  /** CloudStack's `Impact.USAGE`: the move starts or ends something a usage record bills. */
  readonly usage: boolean;
}

const row = (from: VmState, event: MachineEvent, to: VmState, usage = false): Transition => ({ from, event, to, usage });

export const TRANSITIONS: readonly Transition[] = [
  row('Stopped', 'StartRequested', 'Starting'),
  row('Stopped', 'DestroyRequested', 'Destroyed', true),
  row('Stopped', 'StopRequested', 'Stopped'),
  row('Stopped', 'AgentReportStopped', 'Stopped'),
  row('Stopped', 'OperationFailedToError', 'Error', true),
  row('Stopped', 'OperationFailed', 'Stopped'),
  row('Stopped', 'ExpungeOperation', 'Expunging', true),
  row('Stopped', 'AgentReportShutdowned', 'Stopped'),
  row('Stopped', 'StorageMigrationRequested', 'Migrating'),
  row('Stopped', 'FollowAgentPowerOnReport', 'Running', true),
  row('Stopped', 'FollowAgentPowerOffReport', 'Stopped'),
  row('Starting', 'OperationRetry', 'Starting'),
  row('Starting', 'OperationSucceeded', 'Running', true),
  row('Starting', 'OperationFailed', 'Stopped'),
  row('Starting', 'AgentReportRunning', 'Running', true),
  row('Starting', 'AgentReportStopped', 'Stopped'),
  row('Starting', 'AgentReportShutdowned', 'Stopped'),
  row('Starting', 'FollowAgentPowerOnReport', 'Running', true),
  row('Starting', 'FollowAgentPowerOffReport', 'Stopped'),
  row('Destroyed', 'RecoveryRequested', 'Stopped', true),
  row('Destroyed', 'ExpungeOperation', 'Expunging'),
  row('Running', 'MigrationRequested', 'Migrating'),
  row('Running', 'AgentReportRunning', 'Running'),
  row('Running', 'AgentReportStopped', 'Stopped', true),
  row('Running', 'StopRequested', 'Stopping'),
  row('Running', 'AgentReportShutdowned', 'Stopped', true),
  row('Running', 'AgentReportMigrated', 'Running'),
  row('Running', 'OperationSucceeded', 'Running'),
  row('Running', 'FollowAgentPowerOnReport', 'Running'),
  row('Running', 'FollowAgentPowerOffReport', 'Stopped', true),
  row('Migrating', 'MigrationRequested', 'Migrating'),
  row('Migrating', 'OperationSucceeded', 'Running'),
  row('Migrating', 'OperationFailed', 'Running'),
  row('Migrating', 'AgentReportRunning', 'Running'),
  row('Migrating', 'AgentReportStopped', 'Stopped'),
  row('Migrating', 'AgentReportShutdowned', 'Stopped'),
  row('Migrating', 'FollowAgentPowerOnReport', 'Running'),
  row('Migrating', 'FollowAgentPowerOffReport', 'Stopped'),
  row('Stopping', 'OperationSucceeded', 'Stopped', true),
  row('Stopping', 'OperationFailed', 'Running'),
  row('Stopping', 'AgentReportRunning', 'Running'),
  row('Stopping', 'AgentReportStopped', 'Stopped', true),
  row('Stopping', 'StopRequested', 'Stopping'),
  row('Stopping', 'AgentReportShutdowned', 'Stopped', true),
  row('Stopping', 'FollowAgentPowerOnReport', 'Running'),
  row('Stopping', 'FollowAgentPowerOffReport', 'Stopped', true),
  row('Expunging', 'OperationFailed', 'Expunging'),
  row('Expunging', 'ExpungeOperation', 'Expunging'),
  row('Error', 'DestroyRequested', 'Expunging'),
  row('Error', 'ExpungeOperation', 'Expunging'),
];

const byKey = new Map<string, Transition>(TRANSITIONS.map((t) => [`${t.from}|${t.event}`, t]));

export function findTransition(from: VmState, event: MachineEvent): Transition | undefined {
  return byKey.get(`${from}|${event}`);
}

/** The state `event` leads to from `from`, or undefined when CloudStack has no such edge. */
export function transition(from: VmState, event: MachineEvent): VmState | undefined {
  return findTransition(from, event)?.to;
}

export function isTransitional(state: VmState): boolean {
  return TRANSITIONAL_STATES.has(state);
}
