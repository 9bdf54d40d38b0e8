// The CloudStack action-event types vmledger's audit trail shows: the one list of them. The events
// read model derives them from domain events (projections/events/); whatever needs to know which
// types exist (the `events(type:)` filter, documentation) reads this list rather than keeping its own.
//
// The strings are CloudStack's (api/.../com/cloud/event/EventTypes.java) wherever CloudStack has one.
// CloudStack records no action event for adding a cluster or a host or for creating a storage pool;
// vmledger does (an auditor should see who grew the cloud), with types in EventTypes' style: the API's
// verb for the first two as in `GUEST.OS.ADD` or `DNS.SERVER.ADD`, and for the pool the newer
// `<VERB>.STORAGE.POOL` form of `SYNC.STORAGE.POOL` and `CHANGE.STORAGE.POOL.SCOPE`.
//
// The events projection may only map a domain event to one of these, and the `events` query refuses
// a `type` that is not one, so a type added here is at once recorded and queryable, and a misspelt
// filter is an error rather than an empty answer.

export const ACTION_EVENT_TYPES = [
  // An instance's life.
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
  // Volumes created on a primary storage pool at their first start, and moved between pools.
  'VOLUME.CREATE',
  'VOLUME.MIGRATE',
  'VMSNAPSHOT.CREATE',
  'VMSNAPSHOT.DELETE',
  // Affinity groups (behaviour §6.3) and an instance's membership of them.
  'AG.CREATE',
  'AG.DELETE',
  'VM.AG.UPDATE',
  'VMSNAPSHOT.REVERTTO',
  // Import and unmanage (behaviour §4).
  'VM.IMPORT',
  'VM.UNMANAGE',
  // An instance's lease (behaviour §3.5, §3.7): the lease schedulers' events and the update's disabling.
  'VM.LEASE.EXPIRING',
  'VM.LEASE.EXPIRED',
  'VM.LEASE.DISABLED',
  'VM.LEASE.CANCELLED',
  // An instance's schedules (behaviour §5.2): their changes, and each fire by its action.
  'VM.SCHEDULE.CREATE',
  'VM.SCHEDULE.UPDATE',
  'VM.SCHEDULE.DELETE',
  'VM.SCHEDULE.START',
  'VM.SCHEDULE.STOP',
  'VM.SCHEDULE.REBOOT',
  'VM.SCHEDULE.FORCE.STOP',
  'VM.SCHEDULE.FORCE.REBOOT',
  // Administration of the cloud.
  'ACCOUNT.CREATE',
  'ZONE.CREATE',
  'CLUSTER.ADD',
  'HOST.ADD',
  'CREATE.STORAGE.POOL',
  'NETWORK.CREATE',
  'SERVICE.OFFERING.CREATE',
  'DISK.OFFERING.CREATE',
  'TEMPLATE.CREATE',
  'CONFIGURATION.VALUE.EDIT',
] as const;

export type ActionEventType = (typeof ACTION_EVENT_TYPES)[number];

export function isActionEventType(value: string): value is ActionEventType {
  return (ACTION_EVENT_TYPES as readonly string[]).includes(value);
}
