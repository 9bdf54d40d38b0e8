// The usage records an instance's life produces: CloudStack's published language for billing
// (behaviour §2.2, §2.3). Consumers depend on this payload; it only ever grows compatibly.
import type { DomainEvent } from '../shared/decider.js';
import type { Nic, Volume } from './model.js';
import type { Instance } from './state.js';

export const USAGE_VERSION = 1;

/** Every usage event's type is this prefix and its usage type: `usage.VM.START`. */
export const USAGE_EVENT_PREFIX = 'usage.';

/** The usage types an instance's life emits. */
export const EMITTED_USAGE_TYPES = [
  'VM.CREATE',
  'VM.START',
  'VM.STOP',
  'VM.DESTROY',
  'VM.UPGRADE',
  'VM.DYNAMIC.SCALE',
  'VOLUME.CREATE',
  'VOLUME.DELETE',
  'NETWORK.OFFERING.ASSIGN',
  'NETWORK.OFFERING.REMOVE',
  'VMSNAPSHOT.CREATE',
  'VMSNAPSHOT.DELETE',
  'VMSNAPSHOT.ON_PRIMARY',
  'VMSNAPSHOT.OFF_PRIMARY',
] as const;
export type UsageType = (typeof EMITTED_USAGE_TYPES)[number];

/** Types in the contract (docs/usage-events.md) that nothing emits yet: none since VM snapshots are billed. */
export const RESERVED_USAGE_TYPES = [] as const;

/** The usage types the log may hold, without the prefix: what a consumer may ask for. */
export const USAGE_TYPES = [...EMITTED_USAGE_TYPES, ...RESERVED_USAGE_TYPES] as const;
export type KnownUsageType = (typeof USAGE_TYPES)[number];

export function isKnownUsageType(type: string): type is KnownUsageType {
  return (USAGE_TYPES as readonly string[]).includes(type);
}

/** The event type of a usage type: `VM.START` is logged as `usage.VM.START`. */
export function usageEventType<T extends KnownUsageType>(type: T): `${typeof USAGE_EVENT_PREFIX}${T}` {
  return `${USAGE_EVENT_PREFIX}${type}`;
}

export function isUsageEventType(eventType: string): boolean {
  return eventType.startsWith(USAGE_EVENT_PREFIX);
}

/** The usage type of a usage event's type (`usage.VM.START` → `VM.START`); any other text as it is. */
export function usageTypeOf(eventType: string): string {
  return isUsageEventType(eventType) ? eventType.slice(USAGE_EVENT_PREFIX.length) : eventType;
}

/** CloudStack's `UsageEventVO.DynamicParameters`, present when the offering leaves compute open. */
export interface UsageDetails {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

/** `UsageEventVO.DynamicParameters.vmSnapshotId`: which VM snapshot a VMSNAPSHOT.* event bills. */
export interface VMSnapshotUsageDetails {
  readonly vmSnapshotId: string;
}

/**
 * What every usage event carries. `Details` is what the instance domain writes; a reader of the log
 * takes it as `unknown`.
 */
export interface UsagePayload<Details = UsageDetails | VMSnapshotUsageDetails | null> {
  readonly usageVersion: typeof USAGE_VERSION;
  readonly accountId: string;
  readonly domainId: string;
  readonly zoneId: string;
  readonly resourceId: string;
  readonly resourceName: string;
  readonly offeringId: string | null;
  readonly templateId: string | null;
  readonly size: number | null;
  readonly resourceType: string | null;
  readonly details: Details;
  readonly occurredAt: string;
}

/** What a usage event says of the resource it bills (the fields of CloudStack's usage_event row), as read from the log. */
export type UsageSubject = Omit<UsagePayload<unknown>, 'usageVersion' | 'occurredAt'>;

export type UsageEvent = DomainEvent<`${typeof USAGE_EVENT_PREFIX}${UsageType}`, UsagePayload>;

type VmUsageType = 'VM.CREATE' | 'VM.START' | 'VM.STOP' | 'VM.DESTROY' | 'VM.UPGRADE' | 'VM.DYNAMIC.SCALE';

function owner(instance: Instance): Pick<UsagePayload, 'usageVersion' | 'accountId' | 'domainId' | 'zoneId'> {
  return { usageVersion: USAGE_VERSION, accountId: instance.accountId, domainId: instance.domainId, zoneId: instance.zoneId };
}

/** `UserVmManagerImpl.generateUsageEvent`: named by hostname, typed by hypervisor. Pass the state after the change. */
export function vmUsage(type: VmUsageType, instance: Instance, at: string): UsageEvent {
  const offering = instance.serviceOffering;
  return {
    type: usageEventType(type),
    data: {
      ...owner(instance),
      resourceId: instance.id,
      resourceName: instance.name,
      offeringId: offering.id,
      templateId: instance.templateId,
      size: null,
      resourceType: instance.hypervisorType,
      details: offering.customized
        ? { cpuNumber: instance.cpuNumber, cpuSpeed: instance.cpuSpeed, memory: instance.memory }
        : null,
      occurredAt: at,
    },
  };
}

export function volumeCreated(instance: Instance, volume: Volume, at: string): UsageEvent {
  return {
    type: usageEventType('VOLUME.CREATE'),
    data: {
      ...owner(instance),
      resourceId: volume.id,
      resourceName: volume.name,
      offeringId: volume.diskOfferingId,
      templateId: volume.type === 'ROOT' ? volume.templateId : null,
      size: volume.size,
      resourceType: null,
      details: null,
      occurredAt: at,
    },
  };
}

export function volumeDeleted(instance: Instance, volume: Volume, at: string): UsageEvent {
  return {
    type: usageEventType('VOLUME.DELETE'),
    data: {
      ...owner(instance),
      resourceId: volume.id,
      resourceName: volume.name,
      offeringId: null,
      templateId: null,
      size: null,
      resourceType: null,
      details: null,
      occurredAt: at,
    },
  };
}

function nicUsage(type: 'NETWORK.OFFERING.ASSIGN' | 'NETWORK.OFFERING.REMOVE', instance: Instance, nic: Nic, size: number, at: string): UsageEvent {
  return {
    type: usageEventType(type),
    data: {
      ...owner(instance),
      resourceId: instance.id,
      resourceName: nic.id,
      offeringId: nic.networkOfferingId,
      templateId: null,
      size,
      resourceType: null,
      details: null,
      occurredAt: at,
    },
  };
}

/** `finalizeStart` assigns every NIC's network offering (size: 1 for the default NIC) before VM.START. */
export function startedUsage(instance: Instance, at: string): UsageEvent[] {
  return [
    ...instance.nics.map((nic) => nicUsage('NETWORK.OFFERING.ASSIGN', instance, nic, nic.isDefault ? 1 : 0, at)),
    vmUsage('VM.START', instance, at),
  ];
}

/** The state listener's VM.STOP, then one REMOVE per NIC, always with size 0 as CloudStack writes it. */
export function stoppedUsage(instance: Instance, at: string): UsageEvent[] {
  return [vmUsage('VM.STOP', instance, at), ...instance.nics.map((nic) => nicUsage('NETWORK.OFFERING.REMOVE', instance, nic, 0, at))];
}

/** What the VMSNAPSHOT.* usage of one snapshot needs to know of it. */
export interface BilledVMSnapshot {
  readonly id: string;
  /** Its name on the hypervisor: CloudStack's resource_name. */
  readonly name: string;
  readonly sizeBytes: number;
}

/**
 * createVMSnapshot's usage (behaviour §2.2): one VMSNAPSHOT.CREATE per volume (the volume's id in
 * templateId, as CloudStack saves it, its size), then one VMSNAPSHOT.ON_PRIMARY with what the
 * snapshot added on primary storage. Their delete writes the matching DELETE and OFF_PRIMARY.
 */
export function vmSnapshotUsage(kind: 'created' | 'deleted', instance: Instance, snapshot: BilledVMSnapshot, at: string): UsageEvent[] {
  const details = { vmSnapshotId: snapshot.id };
  const common = { ...owner(instance), resourceId: instance.id, resourceName: snapshot.name, resourceType: null, details, occurredAt: at };
  const perVolume = instance.volumes
    .filter((v) => v.state !== 'Destroy' && v.state !== 'Expunged')
    .map((v): UsageEvent => ({
      type: usageEventType(kind === 'created' ? 'VMSNAPSHOT.CREATE' : 'VMSNAPSHOT.DELETE'),
      data: { ...common, offeringId: v.diskOfferingId, templateId: v.id, size: v.size },
    }));
  const primary: UsageEvent = {
    type: usageEventType(kind === 'created' ? 'VMSNAPSHOT.ON_PRIMARY' : 'VMSNAPSHOT.OFF_PRIMARY'),
    data: { ...common, offeringId: null, templateId: null, size: snapshot.sizeBytes },
  };
  return [...perVolume, primary];
}
