// Plain values the instance aggregate keeps and its commands carry. The application layer looks
// offerings, templates and config up and passes snapshots of them in, so decisions never read elsewhere.
import type { Caller } from '../account/index.js';
import type { LeaseExpiryAction } from '../offering/index.js';

export type { LeaseExpiryAction };

/** What an instance's decisions need of their caller: its role and its account. */
export type InstanceCaller = Pick<Caller, 'role' | 'accountId'>;

/** The compute offering as it was when the instance took it; a later edit of the offering does not reach here. */
export interface ServiceOfferingSnapshot {
  readonly id: string;
  readonly name: string;
  /** null: the caller chooses the value (CloudStack's customized offering leaves the column empty). */
  readonly cpuNumber: number | null;
  readonly cpuSpeed: number | null;
  readonly memory: number | null;
  readonly customized: boolean;
  readonly minCpuNumber: number | null;
  readonly maxCpuNumber: number | null;
  readonly minMemory: number | null;
  readonly maxMemory: number | null;
  readonly dynamicScalingEnabled: boolean;
  readonly hostTags: readonly string[];
  readonly offerHa: boolean;
  /** Storage tags the root volume's pool must carry; absent in events written before pools took part in placement. */
  readonly storageTags?: readonly string[];
  /** The root disk is reset to a fresh copy of the template on every reboot and start; absent in older events. */
  readonly isVolatile?: boolean;
}

export interface TemplateSnapshot {
  readonly id: string;
  /** Bytes. */
  readonly size: number;
  readonly osTypeId: string;
  readonly dynamicallyScalable: boolean;
}

/** Values the caller gave for the parts of a customized offering that are left open. */
export interface CustomCompute {
  readonly cpuNumber?: number;
  readonly cpuSpeed?: number;
  readonly memory?: number;
}

export interface Compute {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
}

export interface Nic {
  readonly id: string;
  readonly networkId: string;
  readonly networkOfferingId: string;
  readonly macAddress: string;
  readonly ipAddress: string | null;
  readonly isDefault: boolean;
  readonly deviceId: number;
  /** The network's VLAN when the NIC was created (CloudStack's broadcast URI); absent in older events. */
  readonly vlan?: number | null;
}

export type VolumeType = 'ROOT' | 'DATADISK';
/** CloudStack's Volume.State values an instance's volumes pass through here. */
export type VolumeState = 'Allocated' | 'Ready' | 'Destroy' | 'Expunged';

export interface Volume {
  readonly id: string;
  readonly name: string;
  readonly type: VolumeType;
  /** Bytes. */
  readonly size: number;
  readonly storagePoolId: string | null;
  readonly diskOfferingId: string | null;
  /** The template a ROOT volume was cloned from; null for data disks. */
  readonly templateId: string | null;
  readonly state: VolumeState;
  readonly deleteProtection: boolean;
  /**
   * The disk's file where an import took it in place (LOCAL or SHARED: absolute on the host), which
   * the instance's domain attaches and its expunge deletes; absent for vmledger's own disks
   * (`<pool>/<volumeId>.qcow2`).
   */
  readonly path?: string;
  /**
   * An import put the disk on its host before the instance's first start (copied there, or taken in
   * place at `path`): until a domain of the instance records it, the instance's expunge names it for
   * the host to delete (agent protocol's VolumeSpec.imported).
   */
  readonly imported?: true;
}

/** A volume the application has allocated (id, name, pool chosen) and asks the instance to own. */
export interface VolumeSpec {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly storagePoolId: string | null;
  readonly diskOfferingId: string | null;
}

/** CloudStack's `leaseactionexecution`: PENDING until the lease acts (DONE) or is disabled or cancelled, all final. */
export type LeaseExecution = 'PENDING' | 'DISABLED' | 'DONE' | 'CANCELLED';

export interface Lease {
  readonly duration: number | null;
  readonly expiryAction: LeaseExpiryAction | null;
  readonly expiryDate: string | null;
}

export type Details = Readonly<Record<string, string>>;
