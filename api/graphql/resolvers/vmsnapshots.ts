// Instance snapshots: argument translation only; every decision is the control plane's.
import { optionalBoolean, optionalString, pageArgs, requiredString } from '../../control-plane/args.js';
import type { Resolver } from '../context.js';

export const vmSnapshotQueries: Readonly<Record<string, Resolver>> = {
  vmSnapshots: (_source, args, { controlPlane, caller }) =>
    controlPlane.vmSnapshots(caller, {
      virtualMachineId: optionalString(args, 'virtualMachineId'),
      id: optionalString(args, 'id'),
      name: optionalString(args, 'name'),
      state: optionalString(args, 'state'),
      ...pageArgs(args),
    }),
};

export const vmSnapshotMutations: Readonly<Record<string, Resolver>> = {
  createVMSnapshot: (_source, args, { controlPlane, caller }) =>
    controlPlane.createVMSnapshot(caller, {
      virtualMachineId: requiredString(args, 'virtualMachineId'),
      name: optionalString(args, 'name'),
      description: optionalString(args, 'description'),
      snapshotMemory: optionalBoolean(args, 'snapshotMemory'),
      quiesceVm: optionalBoolean(args, 'quiesceVm'),
    }),
  revertToVMSnapshot: (_source, args, { controlPlane, caller }) => controlPlane.revertToVMSnapshot(caller, { vmSnapshotId: requiredString(args, 'vmSnapshotId') }),
  deleteVMSnapshot: (_source, args, { controlPlane, caller }) => controlPlane.deleteVMSnapshot(caller, { vmSnapshotId: requiredString(args, 'vmSnapshotId') }),
};
