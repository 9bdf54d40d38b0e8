// CloudStack's action-event types (its EventTypes) that vmledger's audit trail holds: the one place
// they are declared. The events projection may only map a domain event to one of these, and the
// `events` query refuses a `type` that is not one, so a type added here is at once recorded and
// queryable, and a misspelt filter is an error rather than an empty answer.
export const ACTION_EVENT_TYPES = [
  'VM.CREATE',
  'VM.START',
  'VM.STOP',
  'VM.REBOOT',
  'VM.DESTROY',
  'VM.RECOVER',
  'VM.EXPUNGE',
  'VM.MIGRATE',
  'VM.UPDATE',
  'VM.UPGRADE',
  'VM.RESTORE',
  'VOLUME.UPDATE',
  'VMSNAPSHOT.CREATE',
  'VMSNAPSHOT.DELETE',
  // API.md promises the lease events in `events`; nothing records them until the lease schedulers
  // exist (README, Leases), so asking for them is answered, with nothing, rather than refused.
  'VM.LEASE.EXPIRING',
  'VM.LEASE.EXPIRED',
  'VM.LEASE.DISABLED',
  'VM.LEASE.CANCELLED',
] as const;

export type ActionEventType = (typeof ACTION_EVENT_TYPES)[number];

export function isActionEventType(value: string): value is ActionEventType {
  return (ACTION_EVENT_TYPES as readonly string[]).includes(value);
}
