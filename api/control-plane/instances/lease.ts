// How an instance's lease is shown (behaviour §3.6): only while the feature is on and the lease is
// PENDING (the view already hides any other), and `leaseDuration` as the whole days left, counted
// between calendar dates (UTC) as CloudStack's ChronoUnit.DAYS between LocalDates: right after a
// deployment it is the duration asked for, and it counts down day by day.
import type { VirtualMachineView } from '../../../projections/instances/view.js';
import { setting, type ControlPlaneContext } from '../context.js';

export type ShownLease = Pick<VirtualMachineView, 'leaseDuration' | 'leaseExpiryAction' | 'leaseExpiryDate'>;

const NO_LEASE: ShownLease = { leaseDuration: null, leaseExpiryAction: null, leaseExpiryDate: null };
const DAY_MS = 86_400_000;

const utcDay = (ms: number) => Math.floor(ms / DAY_MS);

export function shownLease(context: ControlPlaneContext, view: Pick<VirtualMachineView, keyof ShownLease>): ShownLease {
  if (view.leaseExpiryDate === null || !setting(context, 'instance.lease.enabled')) return NO_LEASE;
  const remaining = utcDay(Date.parse(view.leaseExpiryDate)) - utcDay(context.clock.now().getTime());
  return { leaseDuration: remaining, leaseExpiryAction: view.leaseExpiryAction, leaseExpiryDate: view.leaseExpiryDate };
}
