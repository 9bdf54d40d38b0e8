// What may be asked of one instance. Requests come from API callers; Record* commands are the
// outcomes sagas and agents report back. Everything a decision needs travels on the command.
import type {
  InstanceCaller,
  Compute,
  CustomCompute,
  Details,
  LeaseExpiryAction,
  Nic,
  ServiceOfferingSnapshot,
  TemplateSnapshot,
  VolumeSpec,
} from './model.js';
import type { VMScheduleAction } from '../schedule/schedule.js';

interface Base {
  readonly instanceId: string;
  /** ISO-8601 UTC from the caller's clock; stamps state and usage records. */
  readonly at: string;
}

interface Requested extends Base {
  readonly caller: InstanceCaller;
}

/** Asynchronous operations carry the id of the job the API handed back, so outcomes can close it. */
interface Job {
  readonly jobId: string;
}

export interface DeployInstance extends Requested, Job {
  readonly type: 'DeployInstance';
  /** The hostname; defaults to `VM-<instance id>` as CloudStack's `instance.name` does. */
  readonly name?: string | null;
  readonly displayName?: string | null;
  /** The hypervisor's name for the domain; defaults to `i-<account id>-<instance id>-VM`. */
  readonly instanceName?: string | null;
  readonly group?: string | null;
  readonly accountId: string;
  readonly domainId: string;
  readonly zoneId: string;
  readonly hypervisorType: string;
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly customCompute?: CustomCompute;
  readonly template: TemplateSnapshot;
  readonly rootVolume: VolumeSpec;
  readonly dataVolumes: readonly VolumeSpec[];
  readonly nics: readonly Nic[];
  readonly startVm: boolean;
  /** Explicit placement; root admin only. */
  readonly hostId?: string | null;
  /** Placement within one cluster for the first start; root admin only. */
  readonly clusterId?: string | null;
  readonly affinityGroupIds: readonly string[];
  readonly userData?: string | null;
  readonly details?: Details;
  /** The deploy-time `dynamicscalingenabled` flag (CloudStack default true). */
  readonly dynamicScalingEnabled?: boolean;
  /** The lease as the request gives it (-1: none, even when the offering has one). */
  readonly leaseDuration?: number | null;
  readonly leaseExpiryAction?: LeaseExpiryAction | null;
  /** The service offering's lease, which a request without one inherits. */
  readonly offeringLease?: { readonly duration: number | null; readonly expiryAction: LeaseExpiryAction | null };
  /** `instance.lease.enabled` when the request was made: while it is off, no lease is applied at all. */
  readonly leaseFeatureEnabled?: boolean;
}

export interface StartInstance extends Requested, Job {
  readonly type: 'StartInstance';
  /** A host the caller insists on; root admin only. Otherwise the planner picks. */
  readonly hostId?: string | null;
  readonly considerLastHost: boolean;
}

export interface StopInstance extends Requested, Job {
  readonly type: 'StopInstance';
  readonly forced: boolean;
}

export interface RebootInstance extends Requested, Job {
  readonly type: 'RebootInstance';
  readonly forced: boolean;
}

export interface DestroyInstance extends Requested, Job {
  readonly type: 'DestroyInstance';
  readonly expunge: boolean;
  /** Data disks to delete with the instance; the others are detached and kept (CloudStack). */
  readonly volumeIds: readonly string[];
  /** `vm.destroy.forcestop`: how a running instance is stopped before it is destroyed. */
  readonly forceStop: boolean;
  /** `allow.user.expunge.recover.vm` for the caller's account. */
  readonly allowUserExpungeRecoverVm: boolean;
}

export interface RecoverInstance extends Requested {
  readonly type: 'RecoverInstance';
  readonly allowUserExpungeRecoverVm: boolean;
}

export interface ExpungeInstance extends Requested {
  readonly type: 'ExpungeInstance';
  readonly allowUserExpungeRecoverVm: boolean;
}

export interface MigrateInstance extends Requested, Job {
  readonly type: 'MigrateInstance';
  readonly targetHostId: string;
}

/** updateVMAffinityGroup: replaces the instance's groups (behaviour §6.3; stopped instances only). */
export interface UpdateAffinityGroups extends Requested {
  readonly type: 'UpdateAffinityGroups';
  readonly affinityGroupIds: readonly string[];
}

/** Its group was deleted: the instance leaves it, whatever its state (running instances are unaffected). */
export interface LeaveAffinityGroup extends Base {
  readonly type: 'LeaveAffinityGroup';
  readonly affinityGroupId: string;
}

export interface UpdateInstance extends Requested {
  readonly type: 'UpdateInstance';
  readonly displayName?: string;
  readonly group?: string | null;
  readonly osTypeId?: string;
  readonly deleteProtection?: boolean;
  readonly haEnable?: boolean;
  readonly isDynamicallyScalable?: boolean;
  /** Replaces the instance's details (CloudStack semantics), except what a non-admin may not touch. */
  readonly details?: Details;
  /** `user.vm.denied.details` */
  readonly userDeniedDetails: readonly string[];
  /** `user.vm.readonly.details` */
  readonly userReadOnlyDetails: readonly string[];
  /** `enable.dynamic.scale.vm` in the instance's zone. */
  readonly enableDynamicScaleVm: boolean;
  /** The lease arguments as given (behaviour §3.5): a duration in days from `at`, or -1 to disable the lease. */
  readonly leaseDuration?: number | null;
  readonly leaseExpiryAction?: string | null;
  /** `instance.lease.enabled`: while it is off the lease arguments count for nothing (once checked). */
  readonly leaseFeatureEnabled?: boolean;
}

/**
 * The lease scheduler's look at one instance (behaviour §3.7): at or after its expiry a PENDING lease
 * acts, once, with a STOP or DESTROY job `jobId` (opened by the caller when the command appends).
 */
export interface ActOnLease extends Requested, Job {
  readonly type: 'ActOnLease';
  readonly leaseFeatureEnabled: boolean;
}

/**
 * A schedule's fire (behaviour §5.2): its action as a job `jobId` by the system, when it fits the
 * instance's state (START a Stopped instance; STOP, REBOOT and their forced forms a Running one).
 */
export interface RunScheduledAction extends Requested, Job {
  readonly type: 'RunScheduledAction';
  readonly action: VMScheduleAction;
  readonly scheduleId: string;
}

/** The expiring-event scheduler: VM.LEASE.EXPIRING for a lease that ends within `daysBefore` days of `at`. */
export interface AnnounceLeaseExpiry extends Base {
  readonly type: 'AnnounceLeaseExpiry';
  readonly daysBefore: number;
}

/** `instance.lease.enabled` turned off: a PENDING lease not yet expired at `at` is cancelled for good. */
export interface CancelLease extends Base {
  readonly type: 'CancelLease';
}

export interface UpdateVolume extends Requested {
  readonly type: 'UpdateVolume';
  readonly volumeId: string;
  readonly deleteProtection: boolean;
}

export interface ChangeServiceOffering extends Requested {
  readonly type: 'ChangeServiceOffering';
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly customCompute?: CustomCompute;
}

export interface ScaleInstance extends Requested, Job {
  readonly type: 'ScaleInstance';
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly customCompute?: CustomCompute;
  /** `enable.dynamic.scale.vm` in the instance's zone. */
  readonly enableDynamicScaleVm: boolean;
}

export interface RestoreInstance extends Requested, Job {
  readonly type: 'RestoreInstance';
  /** The instance's own template or another one. */
  readonly template: TemplateSnapshot;
  /** The new ROOT volume, already sized by the application (template, offering or explicit size). */
  readonly rootVolume: VolumeSpec;
  /** Expunge the replaced root volume instead of leaving it in Destroy. */
  readonly expunge: boolean;
}

export interface RecordStartSucceeded extends Base, Job {
  readonly type: 'RecordStartSucceeded';
  readonly hostId: string;
}

/** The saga gave up on one host and tries another (CloudStack's OperationRetry). */
export interface RecordStartRetried extends Base, Job {
  readonly type: 'RecordStartRetried';
  readonly hostId: string;
  readonly reason: string;
}

/** A volume an offline migration moves, with the pools' directories on the host that copies it. */
export interface VolumeMigration {
  readonly volumeId: string;
  readonly storagePoolId: string;
  readonly fromPath: string;
  readonly toPath: string;
}

/** migrateVirtualMachineWithVolume of a stopped instance: its host copies the volumes to other pools. */
export interface MigrateVolumes extends Requested, Job {
  readonly type: 'MigrateVolumes';
  /** The host that copies: the one the stopped instance's domain is defined on (its last host). */
  readonly hostId: string;
  readonly migrations: readonly VolumeMigration[];
}

export interface RecordVolumesMigrated extends Base, Job {
  readonly type: 'RecordVolumesMigrated';
}

export interface RecordVolumeMigrationFailed extends Base, Job {
  readonly type: 'RecordVolumeMigrationFailed';
  readonly reason: string;
}

/** The start saga reserved pools for the volumes that had none, on the host it chose. */
export interface RecordVolumesPlaced extends Base, Job {
  readonly type: 'RecordVolumesPlaced';
  readonly placements: readonly VolumePlacement[];
}

export interface VolumePlacement {
  readonly volumeId: string;
  readonly storagePoolId: string;
}

export interface RecordStartFailed extends Base, Job {
  readonly type: 'RecordStartFailed';
  readonly reason: string;
}

export interface RecordStopSucceeded extends Base, Job {
  readonly type: 'RecordStopSucceeded';
}

export interface RecordStopFailed extends Base, Job {
  readonly type: 'RecordStopFailed';
  readonly reason: string;
}

export interface RecordRebootSucceeded extends Base, Job {
  readonly type: 'RecordRebootSucceeded';
}

export interface RecordRebootFailed extends Base, Job {
  readonly type: 'RecordRebootFailed';
  readonly reason: string;
}

export interface RecordMigrationSucceeded extends Base, Job {
  readonly type: 'RecordMigrationSucceeded';
  readonly hostId: string;
}

export interface RecordMigrationFailed extends Base, Job {
  readonly type: 'RecordMigrationFailed';
  readonly reason: string;
}

export interface RecordScaleSucceeded extends Base, Job {
  readonly type: 'RecordScaleSucceeded';
}

export interface RecordScaleFailed extends Base, Job {
  readonly type: 'RecordScaleFailed';
  readonly reason: string;
}

export interface RecordExpunged extends Base {
  readonly type: 'RecordExpunged';
}

export interface RecordExpungeFailed extends Base {
  readonly type: 'RecordExpungeFailed';
  readonly reason: string;
}

export type PowerState = 'running' | 'stopped' | 'shutdown';

/** A host's agent says, out of band, what power state it sees the instance's domain in. */
export interface RecordAgentReport extends Base {
  readonly type: 'RecordAgentReport';
  readonly hostId: string;
  readonly powerState: PowerState;
}

/** createVMSnapshot (behaviour §5.1): the instance claims the snapshot task and puts the snapshot in its chain. */
export interface RequestVMSnapshot extends Requested, Job {
  readonly type: 'RequestVMSnapshot';
  readonly vmSnapshotId: string;
  /** Null: the snapshot's own name, as CloudStack defaults it. */
  readonly displayName: string | null;
  readonly description: string | null;
  /** `snapshotMemory`: a DiskAndMemory snapshot, which only a Running instance can take. */
  readonly memory: boolean;
  /** `quiesceVm`: the guest's file systems are frozen while the snapshot is taken. */
  readonly quiesce: boolean;
  /** `vmsnapshot.max`. */
  readonly max: number;
}

export interface RequestVMSnapshotRevert extends Requested, Job {
  readonly type: 'RequestVMSnapshotRevert';
  readonly vmSnapshotId: string;
}

export interface RequestVMSnapshotDelete extends Requested, Job {
  readonly type: 'RequestVMSnapshotDelete';
  readonly vmSnapshotId: string;
}

/** What the snapshot's own stream says of it, for the usage and the revert the outcome records. */
export interface VMSnapshotFacts {
  readonly name: string;
  readonly sizeBytes: number;
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly compute: Compute;
}

/** The snapshot task of job `jobId` on `vmSnapshotId` succeeded on the host. */
export interface RecordVMSnapshotTaskSucceeded extends Base, Job {
  readonly type: 'RecordVMSnapshotTaskSucceeded';
  readonly vmSnapshotId: string;
  readonly snapshot: VMSnapshotFacts;
}

export interface RecordVMSnapshotTaskFailed extends Base, Job {
  readonly type: 'RecordVMSnapshotTaskFailed';
  readonly vmSnapshotId: string;
  readonly reason: string;
}

/**
 * A deployment that died before it recorded its instance is given up: this closes the instance's
 * stream to it, so a deployment still under way elsewhere cannot record the instance after its
 * name and addresses were given back.
 */
export interface AbandonDeployment extends Base {
  readonly type: 'AbandonDeployment';
  readonly jobId: string;
  readonly reason: string;
}

// ---- Import and unmanage (issue 16; behaviour §4.4, §4.5, §4.8) ----

/**
 * Brings a domain vmledger did not define under management (importUnmanagedInstance): the instance
 * is recorded busy with its import until the host's agent has adopted the domain. Every mapping rule
 * (offering, disks, NICs) was applied before; the command carries their outcome.
 */
/**
 * Where an external import's disks come from (behaviour §4.6 `external`): a host vmledger does not
 * manage, and for each volume (root first, then the data volumes) the source disk's file and format.
 * The password is only a reference into the secrets port, deleted when the import's job ends.
 */
export interface ExternalImportSource {
  readonly remote: { readonly host: string; readonly port: number; readonly username: string };
  readonly passwordRef: string | null;
  readonly tmpPath: string;
  readonly disks: readonly { readonly path: string; readonly format: string }[];
  /** `remote.kvm.instance.disks.copy.timeout` × 60 s. */
  readonly copyTimeoutMs: number;
}

/**
 * Where a VMware guest comes from and how it is converted (behaviour §4.7): a VMware host vmledger does
 * not manage (reached over SSH, its login's password only a reference into the secrets port, deleted
 * when the job ends), the guest, the host that converts it (virt-v2v) into a temporary directory of a
 * pool, and the host that imports the converted disks (`hostId` of the import). Chosen before the
 * import is recorded, so a replay never chooses again.
 */
export interface VmwareImportSource {
  readonly remote: { readonly host: string; readonly port: number; readonly username: string };
  readonly passwordRef: string | null;
  /** The guest's name on the VMware host (its `displayName`). */
  readonly vmName: string;
  /** Its `.vmx` on the datastore, as the host's listing gave it. */
  readonly vmxPath: string;
  readonly convertHostId: string;
  /** The pool whose directory holds the exported and converted files until they are imported. */
  readonly temporary: { readonly poolId: string; readonly path: string };
  /** virt-v2v parameters the administrator allows (`convert.vmware.instance.to.kvm.extra.params.*`). */
  readonly extraParams: readonly string[];
  /** `convert.vmware.instance.to.kvm.timeout` × 3600 s: export and conversion together. */
  readonly convertTimeoutMs: number;
  /** The directory of the pool the volumes go to (their `storagePoolId`) on the import host. */
  readonly destinationPath: string;
}

export interface ImportInstance extends Requested, Job {
  readonly type: 'ImportInstance';
  readonly name: string;
  readonly displayName: string;
  /** The domain's own name on the host, kept (as CloudStack keeps it). */
  readonly instanceName: string;
  readonly accountId: string;
  readonly domainId: string;
  readonly zoneId: string;
  readonly hypervisorType: string;
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly customCompute?: CustomCompute;
  readonly template: TemplateSnapshot;
  readonly rootVolume: VolumeSpec;
  readonly dataVolumes: readonly VolumeSpec[];
  /** For the root volume then each data volume: the position of its disk among the domain's disks. */
  readonly diskPositions: readonly number[];
  readonly nics: readonly Nic[];
  readonly hostId: string;
  /** Whether the domain ran when it was listed: a running one must match a fixed offering exactly. */
  readonly powerState: PowerState;
  readonly details?: Details;
  /** The instance this domain was unmanaged from, if vmledger managed it before (CloudStack #11737). */
  readonly importedFrom: string | null;
  /** An import from an external host: its disks are copied to `hostId` first; no domain is adopted. */
  readonly external?: ExternalImportSource;
  /** A VMware guest, converted on `vmware.convertHostId` and imported on `hostId`; no domain is adopted. */
  readonly vmware?: VmwareImportSource;
}

/** The host's agent adopted the domain; `powerState` is the domain's as the host saw it then. */
export interface RecordImported extends Base, Job {
  readonly type: 'RecordImported';
  readonly powerState: PowerState;
}

export interface RecordImportFailed extends Base, Job {
  readonly type: 'RecordImportFailed';
  readonly reason: string;
}

/** unmanageVirtualMachine: the instance leaves vmledger; its domain stays on the host. */
export interface UnmanageInstance extends Requested, Job {
  readonly type: 'UnmanageInstance';
  /** `unmanage.vm.preserve.nics`: the NICs keep their MACs and addresses allocated. */
  readonly preserveNics: boolean;
}

export interface RecordUnmanaged extends Base, Job {
  readonly type: 'RecordUnmanaged';
}

export interface RecordUnmanageFailed extends Base, Job {
  readonly type: 'RecordUnmanageFailed';
  readonly reason: string;
}

export type InstanceCommand =
  | ImportInstance
  | RecordImported
  | RecordImportFailed
  | UnmanageInstance
  | RecordUnmanaged
  | RecordUnmanageFailed
  | DeployInstance
  | StartInstance
  | StopInstance
  | RebootInstance
  | DestroyInstance
  | RecoverInstance
  | ExpungeInstance
  | MigrateInstance
  | UpdateInstance
  | UpdateAffinityGroups
  | LeaveAffinityGroup
  | UpdateVolume
  | ChangeServiceOffering
  | ScaleInstance
  | RestoreInstance
  | RecordStartSucceeded
  | RecordStartRetried
  | RecordStartFailed
  | RecordVolumesPlaced
  | MigrateVolumes
  | RecordVolumesMigrated
  | RecordVolumeMigrationFailed
  | RecordStopSucceeded
  | RecordStopFailed
  | RecordRebootSucceeded
  | RecordRebootFailed
  | RecordMigrationSucceeded
  | RecordMigrationFailed
  | RecordScaleSucceeded
  | RecordScaleFailed
  | RecordExpunged
  | RecordExpungeFailed
  | RecordAgentReport
  | RequestVMSnapshot
  | RequestVMSnapshotRevert
  | RequestVMSnapshotDelete
  | RecordVMSnapshotTaskSucceeded
  | RecordVMSnapshotTaskFailed
  | AbandonDeployment
  | ActOnLease
  | AnnounceLeaseExpiry
  | CancelLease
  | RunScheduledAction;

export type InstanceCommandType = InstanceCommand['type'];
