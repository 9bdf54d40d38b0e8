// CloudStack's `VMSnapshot.State` machine (behaviour §5.1) as data: the one table both the snapshot's
// own stream and the instance's view of its snapshots move by.
export const VM_SNAPSHOT_STATES = ['Allocated', 'Creating', 'Ready', 'Reverting', 'Expunging', 'Error', 'Removed'] as const;
export type VMSnapshotStatus = (typeof VM_SNAPSHOT_STATES)[number];

export type VMSnapshotMachineEvent = 'CreateRequested' | 'OperationSucceeded' | 'OperationFailed' | 'RevertRequested' | 'ExpungeRequested';

const TABLE: Readonly<Record<VMSnapshotStatus, Partial<Record<VMSnapshotMachineEvent, VMSnapshotStatus>>>> = {
  // An Allocated snapshot never reached a host: deleting it just removes it.
  Allocated: { CreateRequested: 'Creating', ExpungeRequested: 'Removed' },
  Creating: { OperationSucceeded: 'Ready', OperationFailed: 'Error' },
  Ready: { RevertRequested: 'Reverting', ExpungeRequested: 'Expunging' },
  Reverting: { OperationSucceeded: 'Ready', OperationFailed: 'Ready' },
  Expunging: { ExpungeRequested: 'Expunging', OperationSucceeded: 'Removed', OperationFailed: 'Error' },
  Error: { ExpungeRequested: 'Expunging' },
  Removed: {},
};

/** Where `event` takes a snapshot in `from`, or null when the table has no such edge. */
export function vmSnapshotTransition(from: VMSnapshotStatus, event: VMSnapshotMachineEvent): VMSnapshotStatus | null {
  return TABLE[from][event] ?? null;
}

/** A snapshot in one of these has a task under way on its instance (CloudStack's "active vm snapshot tasks"). */
export const ACTIVE_VM_SNAPSHOT_STATES: readonly VMSnapshotStatus[] = ['Allocated', 'Creating', 'Reverting', 'Expunging'];

export const VM_SNAPSHOT_TYPES = ['Disk', 'DiskAndMemory'] as const;
export type VMSnapshotType = (typeof VM_SNAPSHOT_TYPES)[number];
