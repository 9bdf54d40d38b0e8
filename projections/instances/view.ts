// The instance as API.md's VirtualMachine shows it. One mapping, used by the read model, by
// virtualMachineAsOf and by job results, so every view of an instance agrees.
import type { Instance } from '../../domain/instance/index.js';
import { recordedOsType } from '../../domain/os-type/index.js';

export interface NicView {
  readonly id: string;
  readonly networkId: string;
  readonly macAddress: string;
  readonly ipAddress: string | null;
  readonly isDefault: boolean;
  readonly deviceId: number;
}

export interface VolumeView {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly size: number;
  readonly storagePoolId: string | null;
  readonly state: string;
}

export interface VirtualMachineView {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  /** Null where the caller may not see placement (api/control-plane/placement.ts). */
  readonly instanceName: string | null;
  readonly state: string;
  readonly zoneId: string;
  readonly hostId: string | null;
  readonly lastHostId: string | null;
  readonly serviceOfferingId: string;
  readonly templateId: string;
  /** The catalogue's OS type id; null for an OS type recorded before the catalogue that it does not know. */
  readonly osTypeId: string | null;
  readonly accountId: string;
  readonly domainId: string;
  readonly group: string | null;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  readonly deleteProtection: boolean;
  readonly haEnable: boolean;
  readonly leaseDuration: number | null;
  readonly leaseExpiryAction: string | null;
  readonly leaseExpiryDate: string | null;
  readonly details: Readonly<Record<string, string>>;
  readonly nics: readonly NicView[];
  readonly volumes: readonly VolumeView[];
  readonly affinityGroupIds: readonly string[];
  readonly created: string;
}

export function toVirtualMachineView(instance: Instance): VirtualMachineView {
  return {
    id: instance.id,
    name: instance.name,
    displayName: instance.displayName,
    instanceName: instance.instanceName,
    state: instance.state,
    zoneId: instance.zoneId,
    hostId: instance.hostId,
    lastHostId: instance.lastHostId,
    serviceOfferingId: instance.serviceOfferingId,
    templateId: instance.templateId,
    // Instances deployed before the catalogue recorded their template's OS description instead of an id.
    osTypeId: recordedOsType(instance.osTypeId)?.id ?? null,
    accountId: instance.accountId,
    domainId: instance.domainId,
    group: instance.group,
    cpuNumber: instance.cpuNumber,
    cpuSpeed: instance.cpuSpeed,
    memory: instance.memory,
    deleteProtection: instance.deleteProtection,
    haEnable: instance.haEnabled,
    // Behaviour §3.6: a lease is shown while it is PENDING only (the API also hides it while the feature is off).
    leaseDuration: instance.leaseExecution === 'PENDING' ? instance.leaseDuration : null,
    leaseExpiryAction: instance.leaseExecution === 'PENDING' ? instance.leaseExpiryAction : null,
    leaseExpiryDate: instance.leaseExecution === 'PENDING' ? instance.leaseExpiryDate : null,
    details: instance.details,
    nics: instance.nics.map((nic) => ({
      id: nic.id,
      networkId: nic.networkId,
      macAddress: nic.macAddress,
      ipAddress: nic.ipAddress,
      isDefault: nic.isDefault,
      deviceId: nic.deviceId,
    })),
    // Volumes that are gone for good are no longer the instance's.
    volumes: instance.volumes
      .filter((volume) => volume.state !== 'Expunged')
      .map((volume) => ({
        id: volume.id,
        name: volume.name,
        type: volume.type,
        size: volume.size,
        storagePoolId: volume.storagePoolId,
        state: volume.state,
      })),
    affinityGroupIds: instance.affinityGroupIds,
    created: instance.created,
  };
}
