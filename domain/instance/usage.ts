// The usage records an instance's life produces: CloudStack's published language for billing
// (behaviour §2.2, §2.3). Consumers depend on this payload; it only ever grows compatibly.
import type { DomainEvent } from '../shared/decider.js';
import type { Nic, Volume } from './model.js';
import type { Instance } from './state.js';

export const USAGE_VERSION = 1;

export type UsageType =
  | 'VM.CREATE'
  | 'VM.START'
  | 'VM.STOP'
  | 'VM.DESTROY'
  | 'VM.UPGRADE'
  | 'VM.DYNAMIC.SCALE'
  | 'VOLUME.CREATE'
  | 'VOLUME.DELETE'
  | 'NETWORK.OFFERING.ASSIGN'
  | 'NETWORK.OFFERING.REMOVE';

/** CloudStack's `UsageEventVO.DynamicParameters`, present when the offering leaves compute open. */
export interface UsageDetails {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

export interface UsagePayload {
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
  readonly details: UsageDetails | null;
  readonly occurredAt: string;
}

export type UsageEvent = DomainEvent<`usage.${UsageType}`, UsagePayload>;

type VmUsageType = 'VM.CREATE' | 'VM.START' | 'VM.STOP' | 'VM.DESTROY' | 'VM.UPGRADE' | 'VM.DYNAMIC.SCALE';

function owner(instance: Instance): Pick<UsagePayload, 'usageVersion' | 'accountId' | 'domainId' | 'zoneId'> {
  return { usageVersion: USAGE_VERSION, accountId: instance.accountId, domainId: instance.domainId, zoneId: instance.zoneId };
}

/** `UserVmManagerImpl.generateUsageEvent`: named by hostname, typed by hypervisor. Pass the state after the change. */
export function vmUsage(type: VmUsageType, instance: Instance, at: string): UsageEvent {
  const offering = instance.serviceOffering;
  return {
    type: `usage.${type}`,
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
    type: 'usage.VOLUME.CREATE',
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
    type: 'usage.VOLUME.DELETE',
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
    type: `usage.${type}`,
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
