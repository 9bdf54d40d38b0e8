// Facts about one instance, in the order they happened. Lifecycle events carry the state they
// leave the instance in, so read models never re-implement the state machine; `machineEventOf`
// names the §1.3 edge each one took, which is what the decider checked before emitting it.
import type { DomainEvent } from '../shared/decider.js';
import type { ExternalImportSource, PowerState, VmwareImportSource } from './commands.js';
import type { MachineEvent, VmState } from './state-machine.js';
import type { VMSnapshotType } from '../vmsnapshot/state-machine.js';
import type {
  Details,
  InstanceCaller,
  Lease,
  LeaseExpiryAction,
  Nic,
  ServiceOfferingSnapshot,
  TemplateSnapshot,
  Volume,
} from './model.js';
import { isUsageEventType, type UsageEvent } from './usage.js';

/** A destroy's arguments, kept while the instance's snapshots are deleted before it. */
export interface DestroyRequest {
  /** Absent from purges recorded before an unmanage could purge too: each of those was for a destroy. */
  readonly action?: 'destroy';
  readonly caller: InstanceCaller;
  readonly expunge: boolean;
  readonly volumeIds: readonly string[];
  readonly forceStop: boolean;
  readonly allowUserExpungeRecoverVm: boolean;
}

/** An unmanage's arguments, kept while the instance's snapshots are deleted before it. */
export interface UnmanageRequest {
  readonly action: 'unmanage';
  readonly caller: InstanceCaller;
  readonly preserveNics: boolean;
}

/**
 * What the instance's VM snapshots are deleted for (CloudStack deletes them before a destroy, bug
 * #3212, and before an unmanage, §4.8): once the last one is gone, it goes on in the same job.
 */
export type AfterPurge = DestroyRequest | UnmanageRequest;

/**
 * Work a stop request promises to finish once the instance is down. It names its own job: a forced
 * stop may take the stop over, but the destroy or restore still belongs to the job that asked for it.
 */
export type AfterStop =
  | { readonly action: 'destroy'; readonly jobId: string; readonly expunge: boolean; readonly volumeIds: readonly string[] }
  | {
      readonly action: 'restore';
      readonly jobId: string;
      readonly template: TemplateSnapshot;
      readonly rootVolume: Volume;
      readonly expungeOldRoot: boolean;
    };

interface About {
  readonly instanceId: string;
}

export type InstanceDeployed = DomainEvent<
  'InstanceDeployed',
  About & {
    readonly name: string;
    readonly displayName: string;
    readonly instanceName: string;
    readonly group: string | null;
    readonly accountId: string;
    readonly domainId: string;
    readonly zoneId: string;
    readonly hypervisorType: string;
    readonly serviceOffering: ServiceOfferingSnapshot;
    readonly cpuNumber: number;
    readonly cpuSpeed: number;
    readonly memory: number;
    readonly template: TemplateSnapshot;
    readonly nics: readonly Nic[];
    readonly volumes: readonly Volume[];
    readonly affinityGroupIds: readonly string[];
    readonly userData: string | null;
    readonly details: Details;
    readonly haEnabled: boolean;
    readonly dynamicallyScalable: boolean;
    readonly lease: Lease;
    readonly startVm: boolean;
    readonly requestedHostId: string | null;
    readonly jobId: string;
    readonly created: string;
    readonly state: 'Stopped';
  }
>;

export type InstanceStartRequested = DomainEvent<
  'InstanceStartRequested',
  About & {
    readonly jobId: string;
    readonly requestedHostId: string | null;
    /** The cluster a deployment's first start is confined to (absent from events written before it existed). */
    readonly requestedClusterId?: string | null;
    readonly considerLastHost: boolean;
    readonly lastHostId: string | null;
    readonly state: 'Starting';
  }
>;
export type InstanceStartRetried = DomainEvent<
  'InstanceStartRetried',
  About & { readonly jobId: string; readonly hostId: string; readonly reason: string; readonly state: 'Starting' }
>;
export type InstanceStarted = DomainEvent<
  'InstanceStarted',
  About & { readonly jobId: string; readonly hostId: string; readonly state: 'Running' }
>;
/** Volumes that had no pool are stored on these pools from now on (reserved there by the start saga). */
export type InstanceVolumesPlaced = DomainEvent<
  'InstanceVolumesPlaced',
  About & { readonly jobId: string; readonly placements: readonly { readonly volumeId: string; readonly storagePoolId: string }[] }
>;
/** An offline volume migration (Stopped --StorageMigrationRequested--> Migrating). */
export type InstanceVolumeMigrationRequested = DomainEvent<
  'InstanceVolumeMigrationRequested',
  About & {
    readonly jobId: string;
    readonly hostId: string;
    readonly migrations: readonly { readonly volumeId: string; readonly fromPoolId: string; readonly toPoolId: string; readonly fromPath: string; readonly toPath: string }[];
    readonly state: 'Migrating';
  }
>;
/** The volumes are on their new pools (Migrating --AgentReportStopped--> Stopped, as CloudStack ends it). */
export type InstanceVolumesMigrated = DomainEvent<
  'InstanceVolumesMigrated',
  About & { readonly jobId: string; readonly migrations: readonly { readonly volumeId: string; readonly fromPoolId: string; readonly toPoolId: string }[]; readonly state: 'Stopped' }
>;
export type InstanceVolumeMigrationFailed = DomainEvent<
  'InstanceVolumeMigrationFailed',
  About & { readonly jobId: string; readonly reason: string; readonly state: 'Stopped' }
>;
export type InstanceStartFailed = DomainEvent<
  'InstanceStartFailed',
  About & { readonly jobId: string; readonly reason: string; readonly state: 'Stopped' }
>;
/** A first start failed: CloudStack's only road into Error. All volumes are gone with it. */
export type InstanceErrored = DomainEvent<
  'InstanceErrored',
  About & { readonly jobId: string; readonly reason: string; readonly deletedVolumeIds: readonly string[]; readonly state: 'Error' }
>;

export type InstanceStopRequested = DomainEvent<
  'InstanceStopRequested',
  About & { readonly jobId: string; readonly forced: boolean; readonly afterStop: AfterStop | null; readonly state: 'Stopping' }
>;
export type InstanceStopped = DomainEvent<
  'InstanceStopped',
  About & { readonly jobId: string; readonly hostId: string | null; readonly state: 'Stopped' }
>;
export type InstanceStopFailed = DomainEvent<
  'InstanceStopFailed',
  About & { readonly jobId: string; readonly reason: string; readonly state: 'Running' }
>;

export type InstanceRebootRequested = DomainEvent<
  'InstanceRebootRequested',
  About & { readonly jobId: string; readonly forced: boolean; readonly hostId: string | null }
>;
export type InstanceRebooted = DomainEvent<'InstanceRebooted', About & { readonly jobId: string; readonly state: 'Running' }>;
export type InstanceRebootFailed = DomainEvent<'InstanceRebootFailed', About & { readonly jobId: string; readonly reason: string }>;

export type InstanceDestroyed = DomainEvent<
  'InstanceDestroyed',
  About & {
    readonly jobId: string;
    readonly expunge: boolean;
    /** ROOT and the data disks the caller listed. */
    readonly deletedVolumeIds: readonly string[];
    /** Data disks that leave the instance but live on, as CloudStack detaches them. */
    readonly detachedVolumeIds: readonly string[];
    readonly deletedVmSnapshotIds: readonly string[];
    /** Destroyed, or Expunging when an instance in Error is destroyed. */
    readonly state: 'Destroyed' | 'Expunging';
  }
>;
export type InstanceRecovered = DomainEvent<
  'InstanceRecovered',
  About & { readonly rootVolumeId: string | null; readonly state: 'Stopped' }
>;
export type InstanceExpungeRequested = DomainEvent<
  'InstanceExpungeRequested',
  About & { readonly jobId: string | null; readonly state: 'Expunging' }
>;
export type InstanceExpungeFailed = DomainEvent<
  'InstanceExpungeFailed',
  About & { readonly reason: string; readonly state: 'Expunging' }
>;
/** The hypervisor and storage are clean; the instance is gone from listings (CloudStack's `removed`). */
export type InstanceExpunged = DomainEvent<'InstanceExpunged', About>;

export type InstanceMigrationRequested = DomainEvent<
  'InstanceMigrationRequested',
  About & { readonly jobId: string; readonly sourceHostId: string | null; readonly targetHostId: string; readonly state: 'Migrating' }
>;
export type InstanceMigrated = DomainEvent<
  'InstanceMigrated',
  About & { readonly jobId: string; readonly sourceHostId: string | null; readonly hostId: string; readonly state: 'Running' }
>;
export type InstanceMigrationFailed = DomainEvent<
  'InstanceMigrationFailed',
  About & { readonly jobId: string; readonly reason: string; readonly state: 'Running' }
>;

/** The agent's out-of-band power report moved the instance (CloudStack's power-state sync). */
export type InstancePowerStateReported = DomainEvent<
  'InstancePowerStateReported',
  About & {
    readonly hostId: string;
    readonly powerState: PowerState;
    readonly machineEvent: MachineEvent;
    /** The job whose operation the report settled (a start that came up, a stop that went down). */
    readonly settledJobId: string | null;
    readonly state: VmState;
  }
>;

export interface InstanceChanges {
  readonly displayName?: string;
  readonly group?: string | null;
  readonly osTypeId?: string;
  readonly deleteProtection?: boolean;
  readonly haEnabled?: boolean;
  readonly dynamicallyScalable?: boolean;
  readonly details?: Details;
}
/** The instance's affinity groups, the whole new set. */
export type InstanceAffinityGroupsUpdated = DomainEvent<'InstanceAffinityGroupsUpdated', About & { readonly affinityGroupIds: readonly string[] }>;
/** Only the fields that changed are present. */
export type InstanceUpdated = DomainEvent<'InstanceUpdated', About & { readonly changes: InstanceChanges }>;
export type InstanceVolumeUpdated = DomainEvent<
  'InstanceVolumeUpdated',
  About & { readonly volumeId: string; readonly deleteProtection: boolean }
>;

interface Sized {
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}
export type InstanceServiceOfferingChanged = DomainEvent<
  'InstanceServiceOfferingChanged',
  About & Sized & { readonly haEnabled: boolean; readonly dynamicallyScalable: boolean }
>;
export type InstanceScaleRequested = DomainEvent<'InstanceScaleRequested', About & Sized & { readonly jobId: string }>;
export type InstanceScaled = DomainEvent<'InstanceScaled', About & Sized & { readonly jobId: string; readonly state: 'Running' }>;
export type InstanceScaleFailed = DomainEvent<'InstanceScaleFailed', About & { readonly jobId: string; readonly reason: string }>;

export type InstanceRestored = DomainEvent<
  'InstanceRestored',
  About & {
    readonly jobId: string;
    readonly template: TemplateSnapshot;
    readonly oldRootVolumeId: string;
    readonly rootVolume: Volume;
    readonly expungeOldRoot: boolean;
    readonly dynamicallyScalable: boolean;
  }
>;

/** A VM snapshot task on the instance (behaviour §5.1): the chain moves only through these. */
interface SnapshotTask {
  readonly jobId: string;
  readonly vmSnapshotId: string;
}
/** The snapshot joins the chain as a child of the current one (`parentId`), and its task is under way. */
export type InstanceVMSnapshotRequested = DomainEvent<
  'InstanceVMSnapshotRequested',
  About &
    SnapshotTask & {
      /** The hypervisor's name for it, `<instanceName>_VS_<yyyyMMddHHmmss>`. */
      readonly name: string;
      readonly displayName: string;
      readonly description: string | null;
      readonly snapshotType: VMSnapshotType;
      readonly quiesce: boolean;
      readonly parentId: string | null;
    }
>;
export type InstanceVMSnapshotRevertRequested = DomainEvent<'InstanceVMSnapshotRevertRequested', About & SnapshotTask>;
export type InstanceVMSnapshotDeleteRequested = DomainEvent<'InstanceVMSnapshotDeleteRequested', About & SnapshotTask>;
/**
 * destroyVirtualMachine or unmanageVirtualMachine on an instance with snapshots: they are deleted
 * first, then the destroy (CloudStack bug #3212) or the unmanage goes on.
 */
export type InstanceVMSnapshotsPurgeRequested = DomainEvent<
  'InstanceVMSnapshotsPurgeRequested',
  About & { readonly jobId: string; readonly vmSnapshotIds: readonly string[]; readonly then: AfterPurge }
>;
export type InstanceVMSnapshotCreated = DomainEvent<'InstanceVMSnapshotCreated', About & SnapshotTask & { readonly sizeBytes: number }>;
export type InstanceVMSnapshotReverted = DomainEvent<'InstanceVMSnapshotReverted', About & SnapshotTask>;
export type InstanceVMSnapshotDeleted = DomainEvent<'InstanceVMSnapshotDeleted', About & SnapshotTask>;
/** A task that failed on the host: `status` is where the snapshot is left (Error, or Ready after a failed revert). */
export type InstanceVMSnapshotTaskFailed = DomainEvent<
  'InstanceVMSnapshotTaskFailed',
  About & SnapshotTask & { readonly task: 'create' | 'revert' | 'delete' | 'purge'; readonly reason: string; readonly status: 'Error' | 'Ready' }
>;

/** The deployment of this instance was given up before it recorded the instance (see AbandonDeployment). */
export type InstanceDeploymentAbandoned = DomainEvent<'InstanceDeploymentAbandoned', About & { readonly jobId: string; readonly reason: string }>;

/** The lease redefined by an update (behaviour §3.5): `duration` days from the update, PENDING again. */
export type LeaseUpdated = DomainEvent<
  'LeaseUpdated',
  About & { readonly duration: number; readonly expiryAction: LeaseExpiryAction; readonly expiryDate: string }
>;
/** `leaseDuration: -1` on an update: the lease will never act. */
export type LeaseDisabled = DomainEvent<'LeaseDisabled', About>;
/** The feature was turned off before the lease expired: it will never act, even if the feature comes back. */
export type LeaseCancelled = DomainEvent<'LeaseCancelled', About & { readonly name: string }>;
/** The lease ends within `instance.lease.expiryevent.daysbefore` days (one per expiring-event period). */
export type LeaseExpiring = DomainEvent<'LeaseExpiring', About & { readonly name: string; readonly expiryAction: LeaseExpiryAction; readonly expiryDate: string }>;
/**
 * The lease expired and acts through job `jobId`. `done`: the instance already is where the action
 * takes it (a STOP lease on a stopped instance), so the lease is DONE at once; otherwise it is DONE
 * when the job's stop or destroy is recorded, and a job that fails leaves it PENDING, to act again.
 */
export type LeaseExpired = DomainEvent<
  'LeaseExpired',
  About & { readonly name: string; readonly expiryAction: LeaseExpiryAction; readonly jobId: string; readonly done: boolean }
>;

// ---- Import and unmanage (issue 16) ----

/** The instance as an import records it, busy with the adoption of its domain on `hostId`. */
export type InstanceImportRequested = DomainEvent<
  'InstanceImportRequested',
  Omit<InstanceDeployed['data'], 'startVm' | 'requestedHostId' | 'lease'> & {
    readonly hostId: string;
    readonly diskPositions: readonly number[];
    /** The unmanaged instance this one continues, or null (CloudStack #11737 lost that link). */
    readonly importedFrom: string | null;
    /** An external host's domain, whose disks are copied to `hostId` (absent: a managed host's domain, adopted there). */
    readonly external?: ExternalImportSource;
    /** A VMware guest, converted and then imported on `hostId`. */
    readonly vmware?: VmwareImportSource;
  }
>;
export type InstanceImported = DomainEvent<'InstanceImported', About & { readonly jobId: string; readonly hostId: string; readonly state: 'Running' | 'Stopped' }>;
/** The adoption failed: the instance never was (its addresses and name are given back). */
export type InstanceImportFailed = DomainEvent<'InstanceImportFailed', About & { readonly jobId: string; readonly reason: string }>;
export type InstanceUnmanageRequested = DomainEvent<
  'InstanceUnmanageRequested',
  About & { readonly jobId: string; readonly hostId: string | null; readonly preserveNics: boolean }
>;
/** The instance left vmledger (CloudStack sets Expunging and removed); its domain stays on `hostId`. */
export type InstanceUnmanaged = DomainEvent<
  'InstanceUnmanaged',
  About & { readonly jobId: string; readonly hostId: string | null; readonly from: VmState; readonly preserveNics: boolean; readonly state: 'Expunging' }
>;
export type InstanceUnmanageFailed = DomainEvent<'InstanceUnmanageFailed', About & { readonly jobId: string; readonly reason: string }>;

export type InstanceDomainEvent =
  | InstanceImportRequested
  | InstanceImported
  | InstanceImportFailed
  | InstanceUnmanageRequested
  | InstanceUnmanaged
  | InstanceUnmanageFailed
  | InstanceDeployed
  | InstanceStartRequested
  | InstanceStartRetried
  | InstanceStarted
  | InstanceStartFailed
  | InstanceVolumesPlaced
  | InstanceVolumeMigrationRequested
  | InstanceVolumesMigrated
  | InstanceVolumeMigrationFailed
  | InstanceErrored
  | InstanceStopRequested
  | InstanceStopped
  | InstanceStopFailed
  | InstanceRebootRequested
  | InstanceRebooted
  | InstanceRebootFailed
  | InstanceDestroyed
  | InstanceRecovered
  | InstanceExpungeRequested
  | InstanceExpungeFailed
  | InstanceExpunged
  | InstanceMigrationRequested
  | InstanceMigrated
  | InstanceMigrationFailed
  | InstancePowerStateReported
  | InstanceUpdated
  | InstanceAffinityGroupsUpdated
  | InstanceVolumeUpdated
  | InstanceServiceOfferingChanged
  | InstanceScaleRequested
  | InstanceScaled
  | InstanceScaleFailed
  | InstanceRestored
  | InstanceVMSnapshotRequested
  | InstanceVMSnapshotRevertRequested
  | InstanceVMSnapshotDeleteRequested
  | InstanceVMSnapshotsPurgeRequested
  | InstanceVMSnapshotCreated
  | InstanceVMSnapshotReverted
  | InstanceVMSnapshotDeleted
  | InstanceVMSnapshotTaskFailed
  | InstanceDeploymentAbandoned
  | LeaseUpdated
  | LeaseDisabled
  | LeaseCancelled
  | LeaseExpiring
  | LeaseExpired;

/** Everything the instance decider appends: its facts and the usage records they cause. */
export type InstanceEvent = InstanceDomainEvent | UsageEvent;

/**
 * The §1.3 edge an event took, or null when the event does not move the lifecycle (updates,
 * snapshots, requests served inside Running, failures that leave Running untouched, expunge done).
 */
export function machineEventOf(event: InstanceDomainEvent): MachineEvent | null {
  switch (event.type) {
    case 'InstanceStartRequested':
      return 'StartRequested';
    case 'InstanceStartRetried':
      return 'OperationRetry';
    case 'InstanceStarted':
    case 'InstanceStopped':
    case 'InstanceMigrated':
    case 'InstanceRebooted':
    case 'InstanceScaled':
      return 'OperationSucceeded';
    case 'InstanceStartFailed':
    case 'InstanceStopFailed':
    case 'InstanceMigrationFailed':
    case 'InstanceExpungeFailed':
      return 'OperationFailed';
    case 'InstanceErrored':
      return 'OperationFailedToError';
    case 'InstanceStopRequested':
      return 'StopRequested';
    case 'InstanceDestroyed':
      return 'DestroyRequested';
    case 'InstanceRecovered':
      return 'RecoveryRequested';
    case 'InstanceExpungeRequested':
      return 'ExpungeOperation';
    case 'InstanceMigrationRequested':
      return 'MigrationRequested';
    case 'InstanceVolumeMigrationRequested':
      return 'StorageMigrationRequested';
    case 'InstanceVolumesMigrated':
    case 'InstanceVolumeMigrationFailed':
      return 'AgentReportStopped';
    case 'InstancePowerStateReported':
      return event.data.machineEvent;
    case 'InstanceImportRequested':
    case 'InstanceImported':
    case 'InstanceImportFailed':
    case 'InstanceUnmanageRequested':
    case 'InstanceUnmanaged':
    case 'InstanceUnmanageFailed':
    case 'InstanceDeployed':
    case 'InstanceVolumesPlaced':
    case 'InstanceRebootRequested':
    case 'InstanceRebootFailed':
    case 'InstanceExpunged':
    case 'InstanceUpdated':
    case 'InstanceAffinityGroupsUpdated':
    case 'InstanceVolumeUpdated':
    case 'InstanceServiceOfferingChanged':
    case 'InstanceScaleRequested':
    case 'InstanceScaleFailed':
    case 'InstanceRestored':
    case 'InstanceVMSnapshotRequested':
    case 'InstanceVMSnapshotRevertRequested':
    case 'InstanceVMSnapshotDeleteRequested':
    case 'InstanceVMSnapshotsPurgeRequested':
    case 'InstanceVMSnapshotCreated':
    case 'InstanceVMSnapshotReverted':
    case 'InstanceVMSnapshotDeleted':
    case 'InstanceVMSnapshotTaskFailed':
    case 'InstanceDeploymentAbandoned':
    case 'LeaseUpdated':
    case 'LeaseDisabled':
    case 'LeaseCancelled':
    case 'LeaseExpiring':
    case 'LeaseExpired':
      return null;
  }
}

export function isUsageEvent(event: InstanceEvent): event is UsageEvent {
  return isUsageEventType(event.type);
}
