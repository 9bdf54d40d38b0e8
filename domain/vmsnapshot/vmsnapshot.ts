// A VM snapshot (behaviour §5.1) in a stream of its own (`vmsnapshot-<id>`): what it is (name, type,
// the instance's service offering when it was taken, its size) and where it is in §5.1's state
// machine. Its tasks (create, revert, delete) run as jobs; each task starts, then succeeds or fails,
// and a repeat of any step for the same job changes nothing, so a workflow replayed after a crash
// never moves it twice. The rules that span an instance's snapshots (how many, one task at a time,
// names, the chain) are the instance's (./chain.ts).
import type { Compute, ServiceOfferingSnapshot } from '../instance/model.js';
import { reject, type Decider, type Decision, type DomainEvent } from '../shared/decider.js';
import { vmSnapshotMessages as messages } from './messages.js';
import { vmSnapshotTransition, type VMSnapshotMachineEvent, type VMSnapshotStatus, type VMSnapshotType } from './state-machine.js';

/** The stream's name: the one place it is spelled. */
export const VM_SNAPSHOT_STREAM_PREFIX = 'vmsnapshot-';

export function vmSnapshotStream(vmSnapshotId: string): string {
  return `${VM_SNAPSHOT_STREAM_PREFIX}${vmSnapshotId}`;
}

export type VMSnapshotTask = 'create' | 'revert' | 'delete';

/** What a snapshot is, fixed when it is allocated. */
export interface VMSnapshotDefinition {
  readonly vmSnapshotId: string;
  /** The hypervisor's name: `<instanceName>_VS_<yyyyMMddHHmmss>`. */
  readonly name: string;
  readonly displayName: string;
  readonly description: string | null;
  readonly instanceId: string;
  readonly accountId: string;
  readonly domainId: string;
  readonly zoneId: string;
  readonly type: VMSnapshotType;
  readonly quiesce: boolean;
  /** The snapshot that was current when it was taken. */
  readonly parentId: string | null;
  /** The instance's offering and size when it was taken: a revert restores them. */
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly compute: Compute;
}

export interface VMSnapshot extends Omit<VMSnapshotDefinition, 'vmSnapshotId'> {
  readonly exists: true;
  readonly id: string;
  readonly status: VMSnapshotStatus;
  readonly sizeBytes: number | null;
  readonly created: string;
  /** The task under way and its job, if any. */
  readonly task: { readonly kind: VMSnapshotTask; readonly jobId: string } | null;
  /** How the latest task ended: what its job carries to the instance. */
  readonly settled: { readonly kind: VMSnapshotTask; readonly jobId: string; readonly succeeded: boolean; readonly reason: string | null } | null;
}

export type VMSnapshotState = VMSnapshot | { readonly exists: false };

interface Base {
  readonly vmSnapshotId: string;
  readonly jobId: string;
  readonly at: string;
}

export type VMSnapshotCommand =
  | (Base & { readonly type: 'AllocateVMSnapshot'; readonly definition: VMSnapshotDefinition })
  | (Base & { readonly type: 'StartVMSnapshotTask'; readonly task: VMSnapshotTask })
  | (Base & { readonly type: 'RecordVMSnapshotTaskSucceeded'; readonly sizeBytes?: number })
  | (Base & { readonly type: 'RecordVMSnapshotTaskFailed'; readonly reason: string });

interface Moved {
  readonly vmSnapshotId: string;
  readonly jobId: string;
  readonly task: VMSnapshotTask;
  readonly from: VMSnapshotStatus;
  readonly status: VMSnapshotStatus;
}

export type VMSnapshotEvent =
  | DomainEvent<'VMSnapshotAllocated', VMSnapshotDefinition & { readonly jobId: string; readonly created: string; readonly status: 'Allocated' }>
  | DomainEvent<'VMSnapshotTaskStarted', Moved>
  | DomainEvent<'VMSnapshotTaskSucceeded', Moved & { readonly sizeBytes: number | null }>
  | DomainEvent<'VMSnapshotTaskFailed', Moved & { readonly reason: string }>;

const START_EVENT: Record<VMSnapshotTask, VMSnapshotMachineEvent> = {
  create: 'CreateRequested',
  revert: 'RevertRequested',
  delete: 'ExpungeRequested',
};

function move(snapshot: VMSnapshot, event: VMSnapshotMachineEvent): VMSnapshotStatus | ReturnType<typeof reject> {
  const to = vmSnapshotTransition(snapshot.status, event);
  return to ?? reject('INVALID_STATE', messages.noTransition(snapshot.id, snapshot.status, event));
}

function decide(command: VMSnapshotCommand, state: VMSnapshotState): Decision<VMSnapshotEvent> {
  if (command.type === 'AllocateVMSnapshot') {
    if (state.exists) return [];
    return [{ type: 'VMSnapshotAllocated', data: { ...command.definition, jobId: command.jobId, created: command.at, status: 'Allocated' } }];
  }
  if (!state.exists) return reject('NOT_FOUND', messages.notFound(command.vmSnapshotId));
  const { vmSnapshotId, jobId } = command;
  switch (command.type) {
    case 'StartVMSnapshotTask': {
      if (state.task?.jobId === jobId && state.task.kind === command.task) return [];
      if (state.task !== null) return reject('CONFLICT', messages.activeTask);
      const to = move(state, START_EVENT[command.task]);
      if (typeof to !== 'string') return to;
      const moved = { vmSnapshotId, jobId, task: command.task, from: state.status, status: to };
      // An Allocated snapshot never reached a host: its delete is done as soon as it is asked for.
      if (to === 'Removed') return [{ type: 'VMSnapshotTaskSucceeded', data: { ...moved, sizeBytes: null } }];
      return [{ type: 'VMSnapshotTaskStarted', data: moved }];
    }
    case 'RecordVMSnapshotTaskSucceeded':
    case 'RecordVMSnapshotTaskFailed': {
      // A repeat, or the answer to a task that is no longer the one under way: nothing to record.
      if (state.task?.jobId !== jobId) return [];
      const to = move(state, command.type === 'RecordVMSnapshotTaskSucceeded' ? 'OperationSucceeded' : 'OperationFailed');
      if (typeof to !== 'string') return to;
      const moved = { vmSnapshotId, jobId, task: state.task.kind, from: state.status, status: to };
      return command.type === 'RecordVMSnapshotTaskSucceeded'
        ? [{ type: 'VMSnapshotTaskSucceeded', data: { ...moved, sizeBytes: command.sizeBytes ?? null } }]
        : [{ type: 'VMSnapshotTaskFailed', data: { ...moved, reason: command.reason } }];
    }
  }
}

function evolve(state: VMSnapshotState, event: VMSnapshotEvent): VMSnapshotState {
  if (event.type === 'VMSnapshotAllocated') {
    const { vmSnapshotId, jobId: _jobId, ...rest } = event.data;
    return { exists: true, id: vmSnapshotId, ...rest, sizeBytes: null, task: null, settled: null };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'VMSnapshotTaskStarted':
      return { ...state, status: event.data.status, task: { kind: event.data.task, jobId: event.data.jobId } };
    case 'VMSnapshotTaskSucceeded': {
      const settled = { kind: event.data.task, jobId: event.data.jobId, succeeded: true, reason: null };
      return { ...state, status: event.data.status, task: null, settled, sizeBytes: event.data.sizeBytes ?? state.sizeBytes };
    }
    case 'VMSnapshotTaskFailed':
      return { ...state, status: event.data.status, task: null, settled: { kind: event.data.task, jobId: event.data.jobId, succeeded: false, reason: event.data.reason } };
  }
}

export const vmSnapshotDecider: Decider<VMSnapshotCommand, VMSnapshotState, VMSnapshotEvent> = {
  initialState: { exists: false },
  decide,
  evolve,
};
