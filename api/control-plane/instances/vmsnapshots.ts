// An instance's VM snapshots (behaviour §5.1): created, reverted to and deleted by whoever may act on
// the instance (another account's instance is unknown to the caller, and so are its snapshots). The
// rules are the instance's (domain/instance/decide-snapshot.ts); here the arguments are resolved, the
// host's abilities are checked up front, and the job is opened with the snapshot as its resource.
import { vmSnapshotMessages } from '../../../domain/vmsnapshot/index.js';
import { hostCapabilities } from '../../../projections/infrastructure/host/queries.js';
import type { Connection, PageRequest } from '../../../projections/pagination.js';
import { visibleTo } from '../../../projections/visibility.js';
import { getVMSnapshot, listVMSnapshots, type VMSnapshotView } from '../../../projections/vmsnapshots/index.js';
import { db, guarded, setting, visibilityOf, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller, type JobView } from '../port.js';
import { instanceCaller, requireInstance } from './resolve.js';
import { instanceJob } from './run.js';

export interface CreateVMSnapshotArgs {
  readonly virtualMachineId: string;
  readonly name?: string | null;
  readonly description?: string | null;
  readonly snapshotMemory?: boolean | null;
  readonly quiesceVm?: boolean | null;
}

export interface VMSnapshotListArgs extends PageRequest {
  readonly virtualMachineId?: string | null;
  readonly id?: string | null;
  readonly name?: string | null;
  readonly state?: string | null;
}

export const VM_SNAPSHOT_STATES_LISTED = ['Allocated', 'Creating', 'Ready', 'Reverting', 'Expunging', 'Error'] as const;

/** The snapshot, if the caller may act on its instance; otherwise it does not exist for the caller. */
function requireSnapshot(context: ControlPlaneContext, caller: Caller, id: string): VMSnapshotView {
  const notFound = () => new ApiError('NOT_FOUND', vmSnapshotMessages.notFound(JSON.stringify(id)), 'vmSnapshotId');
  const snapshot = getVMSnapshot(db(context), id);
  if (!snapshot) throw notFound();
  try {
    requireInstance(context, caller, snapshot.virtualMachineId);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'NOT_FOUND') throw notFound();
    throw error;
  }
  return snapshot;
}

export async function createVMSnapshot(context: ControlPlaneContext, caller: Caller, args: CreateVMSnapshotArgs): Promise<JobView> {
  const instance = requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  const memory = args.snapshotMemory ?? false;
  // A disk-only snapshot of a running domain would be an external one, which the host may not be able
  // to revert: refused before anything is recorded, rather than taken and never revertible.
  if (!memory && instance.state === 'Running' && instance.hostId && !hostCapabilities(db(context), instance.hostId).includes('snapshot.disk.running')) {
    throw new ApiError('INVALID_STATE', vmSnapshotMessages.diskOfRunningUnsupported, 'snapshotMemory');
  }
  const vmSnapshotId = context.newId();
  return instanceJob(
    context,
    caller,
    instance,
    'createVMSnapshot',
    (jobId, at) => ({
      type: 'RequestVMSnapshot',
      instanceId: instance.id,
      at,
      caller: instanceCaller(caller),
      jobId,
      vmSnapshotId,
      displayName: args.name ?? null,
      description: args.description ?? null,
      memory,
      quiesce: args.quiesceVm ?? false,
      max: setting(context, 'vmsnapshot.max'),
    }),
    { type: 'VMSnapshot', id: vmSnapshotId },
  );
}

export function revertToVMSnapshot(context: ControlPlaneContext, caller: Caller, args: { vmSnapshotId: string }): Promise<JobView> {
  return snapshotTask(context, caller, args.vmSnapshotId, 'revertToVMSnapshot', 'RequestVMSnapshotRevert');
}

export function deleteVMSnapshot(context: ControlPlaneContext, caller: Caller, args: { vmSnapshotId: string }): Promise<JobView> {
  return snapshotTask(context, caller, args.vmSnapshotId, 'deleteVMSnapshot', 'RequestVMSnapshotDelete');
}

/** A job on an existing snapshot, asked of its instance (which decides whether the task may run). */
async function snapshotTask(
  context: ControlPlaneContext,
  caller: Caller,
  vmSnapshotId: string,
  cmd: 'revertToVMSnapshot' | 'deleteVMSnapshot',
  type: 'RequestVMSnapshotRevert' | 'RequestVMSnapshotDelete',
): Promise<JobView> {
  const snapshot = requireSnapshot(context, caller, vmSnapshotId);
  const instance = requireInstance(context, caller, snapshot.virtualMachineId);
  return instanceJob(
    context,
    caller,
    instance,
    cmd,
    (jobId, at) => ({ type, instanceId: instance.id, at, caller: instanceCaller(caller), jobId, vmSnapshotId: snapshot.id }),
    { type: 'VMSnapshot', id: snapshot.id },
  );
}

export function vmSnapshots(context: ControlPlaneContext, caller: Caller, args: VMSnapshotListArgs): Connection<VMSnapshotView> {
  if (args.virtualMachineId) requireInstance(context, caller, args.virtualMachineId, 'virtualMachineId');
  if (args.state && !(VM_SNAPSHOT_STATES_LISTED as readonly string[]).includes(args.state)) {
    throw new ApiError('BAD_USER_INPUT', `Unknown VM snapshot state ${JSON.stringify(args.state)}; expected one of ${VM_SNAPSHOT_STATES_LISTED.join(', ')}`, 'state');
  }
  const visible = visibleTo(visibilityOf(context, caller));
  return guarded(() => listVMSnapshots(db(context), { visible, virtualMachineId: args.virtualMachineId ?? null, id: args.id, name: args.name, state: args.state }, args));
}
