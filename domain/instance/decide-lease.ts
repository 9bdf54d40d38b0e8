// The lease of an instance after its deployment (behaviour §3.5, §3.7): redefined or disabled by an
// update, announced as expiring, acted on once at expiry (a STOP or DESTROY job, never an expunge),
// cancelled when the feature is turned off. DISABLED, DONE and CANCELLED are final.
import { isRejection, reject, type Decision, type Rejection } from '../shared/decider.js';
import type { ActOnLease, AnnounceLeaseExpiry, CancelLease, UpdateInstance } from './commands.js';
import { decideDestroyWithSnapshots } from './decide-snapshot.js';
import { decideStop } from './decide-stop.js';
import type { InstanceEvent, LeaseExpired } from './events.js';
import { messages } from './messages.js';
import type { LeaseExpiryAction } from './model.js';
import type { Instance } from './state.js';
import type { VmState } from './state-machine.js';
import { addDays } from './validation.js';

const DAY_MS = 86_400_000;

/** States CloudStack's expiry task passes over (listEligibleInstancesWithExpiredLease); the lease stays PENDING. */
const NOT_ACTED_ON: ReadonlySet<VmState> = new Set<VmState>(['Destroyed', 'Expunging', 'Error', 'Unknown', 'Migrating']);

/**
 * What an update does to the lease (§3.5), once the arguments' values are known to be sound: nothing
 * without a duration or while the feature is off; else the lease is redefined from `at`, or disabled by -1.
 */
export function decideLeaseUpdate(command: UpdateInstance, instance: Instance, action: LeaseExpiryAction | null): readonly InstanceEvent[] | Rejection {
  const duration = command.leaseDuration;
  if (command.leaseFeatureEnabled !== true || duration === undefined || duration === null) return [];
  if (duration !== -1 && action === null) return reject('BAD_USER_INPUT', messages.leaseNeedsBoth, 'leaseExpiryAction');
  if (instance.leaseExpiryDate === null) return reject('INVALID_STATE', messages.leaseNotAtDeploy(instance.id), 'leaseDuration');
  if (instance.leaseExecution !== 'PENDING') return reject('INVALID_STATE', messages.leaseNotActive(instance.id), 'leaseDuration');
  if (Date.parse(instance.leaseExpiryDate) <= Date.parse(command.at)) return reject('INVALID_STATE', messages.leaseExpired, 'leaseDuration');
  if (duration === -1) return [{ type: 'LeaseDisabled', data: { instanceId: instance.id } }];
  const expiryDate = addDays(command.at, duration);
  if (expiryDate === null || action === null) return reject('BAD_USER_INPUT', messages.invalidLeaseDuration, 'leaseDuration');
  return [{ type: 'LeaseUpdated', data: { instanceId: instance.id, duration, expiryAction: action, expiryDate } }];
}

/** PENDING and expired at `at`. */
function expired(instance: Instance, at: string): boolean {
  return instance.leaseExecution === 'PENDING' && instance.leaseExpiryDate !== null && Date.parse(at) >= Date.parse(instance.leaseExpiryDate);
}

/**
 * At or after expiry: VM.LEASE.EXPIRED and the action's request, in one append. Nothing while the
 * feature is off, before expiry, while its job runs, in a state the expiry task passes over, for a
 * DESTROY on a delete-protected instance, or while the instance is busy with another job: the lease
 * stays PENDING and is looked at again (a failed job likewise leaves it PENDING, to act again).
 */
export function decideActOnLease(command: ActOnLease, instance: Instance): Decision<InstanceEvent> {
  const action = instance.leaseExpiryAction;
  if (!command.leaseFeatureEnabled || action === null || !expired(instance, command.at)) return [];
  // Busy with a job (the lease's own among them, until its outcome is recorded): looked at again later.
  if (NOT_ACTED_ON.has(instance.state) || instance.pending !== null) return [];
  if (action === 'DESTROY' && instance.deleteProtection) return [];
  const leaseExpired = (done: boolean): LeaseExpired => ({
    type: 'LeaseExpired',
    data: { instanceId: instance.id, name: instance.name, expiryAction: action, jobId: command.jobId, done },
  });
  const base = { instanceId: instance.id, at: command.at, caller: command.caller, jobId: command.jobId } as const;
  if (action === 'STOP') {
    if (instance.state === 'Stopped') return [leaseExpired(true)];
    const stop = decideStop({ type: 'StopInstance', ...base, forced: false }, instance);
    return isRejection(stop) ? stop : [leaseExpired(false), ...stop];
  }
  // CloudStack's DestroyVMCmd with only the id: the instance is destroyed, not expunged.
  const destroy = decideDestroyWithSnapshots({ type: 'DestroyInstance', ...base, expunge: false, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: true }, instance);
  return isRejection(destroy) ? destroy : [leaseExpired(false), ...destroy];
}

/** VM.LEASE.EXPIRING when a PENDING lease ends at or after `at` and within `daysBefore` days of it. */
export function decideAnnounceLeaseExpiry(command: AnnounceLeaseExpiry, instance: Instance): Decision<InstanceEvent> {
  const expiry = instance.leaseExpiryDate;
  if (instance.leaseExecution !== 'PENDING' || expiry === null || instance.leaseExpiryAction === null) return [];
  const at = Date.parse(command.at);
  if (Date.parse(expiry) < at || Date.parse(expiry) >= at + command.daysBefore * DAY_MS) return [];
  return [{ type: 'LeaseExpiring', data: { instanceId: instance.id, name: instance.name, expiryAction: instance.leaseExpiryAction, expiryDate: expiry } }];
}

/** The feature turned off: a PENDING lease that has not expired by `at` is cancelled (an expired one is not). */
export function decideCancelLease(command: CancelLease, instance: Instance): Decision<InstanceEvent> {
  const expiry = instance.leaseExpiryDate;
  if (instance.leaseExecution !== 'PENDING' || expiry === null || Date.parse(expiry) < Date.parse(command.at)) return [];
  return [{ type: 'LeaseCancelled', data: { instanceId: instance.id, name: instance.name } }];
}
