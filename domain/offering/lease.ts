// The values a lease may take (behaviour §3.3), for a deployment, an update and an offering alike.
// They are checked whether or not `instance.lease.enabled` is on: while it is off a lease is not
// applied, but a nonsense value (-5 days, 99,999 days, an unknown action) is still refused rather than
// accepted without a word. Whether a lease is then applied is each command's own rule.
import { reject, type Rejection } from '../shared/decider.js';

export const LEASE_EXPIRY_ACTIONS = ['STOP', 'DESTROY'] as const;
export type LeaseExpiryAction = (typeof LEASE_EXPIRY_ACTIONS)[number];
/** CloudStack's VMLeaseManager.MAX_LEASE_DURATION_DAYS ("100 years"). */
export const MAX_LEASE_DURATION_DAYS = 36_500;

/** CloudStack's texts, word for word (VMLeaseManagerImpl, ConfigurationManagerImpl). */
export const leaseMessages = {
  /** An instance's lease may be -1 (none, or cancel); an offering's may not. */
  invalidDuration: (cancellable: boolean) =>
    cancellable
      ? `Invalid leaseduration: must be a natural number (>=1) or -1, max supported value is ${MAX_LEASE_DURATION_DAYS}`
      : `Invalid leaseduration: must be a natural number (>=1), max supported value is ${MAX_LEASE_DURATION_DAYS}`,
  invalidAction: `Invalid value configured for leaseexpiryaction, valid values are: ${LEASE_EXPIRY_ACTIONS.join(', ')}`,
  needsBoth: 'Provide values for both: leaseduration and leaseexpiryaction',
} as const;

/** A duration in whole days, 1 to MAX_LEASE_DURATION_DAYS, or -1 where `cancellable`; absent is fine. */
export function checkLeaseDuration(duration: unknown, cancellable: boolean): Rejection | undefined {
  if (duration === undefined || duration === null) return undefined;
  const valid =
    typeof duration === 'number' &&
    Number.isInteger(duration) &&
    ((duration >= 1 && duration <= MAX_LEASE_DURATION_DAYS) || (cancellable && duration === -1));
  return valid ? undefined : reject('BAD_USER_INPUT', leaseMessages.invalidDuration(cancellable), 'leaseDuration');
}

/** STOP or DESTROY, in any case; absent or blank is no action. */
export function parseLeaseExpiryAction(action: unknown): LeaseExpiryAction | null | Rejection {
  if (action === undefined || action === null || (typeof action === 'string' && action.trim() === '')) return null;
  const parsed = typeof action === 'string' ? LEASE_EXPIRY_ACTIONS.find((known) => known === action.trim().toUpperCase()) : undefined;
  return parsed ?? reject('BAD_USER_INPUT', leaseMessages.invalidAction, 'leaseExpiryAction');
}
