// The instances list.
import { listInstances } from '../../../projections/instances/queries.js';
import type { VirtualMachineView } from '../../../projections/instances/view.js';
import type { Connection } from '../../../projections/pagination.js';
import { db, guarded, setting, visibilityOf, type ControlPlaneContext } from '../context.js';
import { refusePlacementFilter } from '../placement.js';
import { ApiError, type Caller, type InstanceListArgs } from '../port.js';

/** The instances list; `leased` asks about a feature that must be on (behaviour §3.6). */
export function virtualMachines(context: ControlPlaneContext, caller: Caller, args: InstanceListArgs): Connection<VirtualMachineView> {
  refusePlacementFilter(caller, args.hostId);
  if (args.leased === true && !setting(context, 'instance.lease.enabled')) {
    throw new ApiError('BAD_USER_INPUT', 'Cannot list leased instances because the Instance Lease feature is disabled, please enable it to list leased instances', 'leased');
  }
  return guarded(() => listInstances(db(context), visibilityOf(context, caller), args, args));
}
