// What the GraphQL layer asks of the application: one method per operation of API.md, taking the
// authenticated caller and already-typed arguments. Everything behind it (read models, command
// handlers, sagas) is invisible to the resolvers, which only translate.
import type { Connection, PageRequest } from '../../projections/pagination.js';
import type { VirtualMachineView } from '../../projections/instances/view.js';
import type { InstanceFilter } from '../../projections/instances/queries.js';
import type { EventView } from '../../projections/events/queries.js';
import type { UsageEventView } from '../../projections/usage/queries.js';
import type { UsageRecordType, UsageRecordView } from '../../projections/usage-records/index.js';
import type { OsType } from '../../domain/os-type/index.js';
import type { OsTypeListArgs } from './os-types.js';
import type { CreateVMScheduleArgs, UpdateVMScheduleArgs, VMScheduleListArgs } from './instances/schedules.js';
import type { VMScheduleView } from '../../projections/schedules/index.js';
import type { AffinityGroupListArgs, CreateAffinityGroupArgs, DeleteAffinityGroupArgs } from './affinity.js';
import type { AffinityGroupListing } from '../../projections/affinity/index.js';
import type { CreateVMSnapshotArgs, VMSnapshotListArgs } from './instances/vmsnapshots.js';
import type { VMSnapshotView } from '../../projections/vmsnapshots/index.js';
import type { Caller } from '../../domain/account/index.js';
import type { LeaseExpiryAction } from '../../domain/offering/index.js';
import type { ImportUnmanagedInstanceArgs, UnmanagedInstancesArgs, UnmanagedInstanceView } from './instances/import.js';
import type { ExternalInstanceView, ImportVmArgs, VmsForImportArgs } from './instances/import-external.js';
import type { ImportVmTaskView, ImportVmTasksArgs } from './instances/import-vm-tasks.js';
import type { ImportVmPreviewView } from './instances/import-plan.js';

/** Who is calling, resolved from the API key. */
export type { Caller, Role } from '../../domain/account/index.js';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'INVALID_STATE'
  | 'NOT_FOUND'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'CONFLICT'
  | 'INSUFFICIENT_CAPACITY'
  | 'INTERNAL_ERROR';

/** CloudStack's numeric error code for each of ours (API.md). */
export const CLOUDSTACK_ERROR_CODES: Readonly<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 431,
  INVALID_STATE: 431,
  NOT_FOUND: 431,
  FORBIDDEN: 531,
  UNAUTHENTICATED: 401,
  CONFLICT: 530,
  INSUFFICIENT_CAPACITY: 533,
  INTERNAL_ERROR: 530,
};

/** A refusal the caller should see as it is: a code, CloudStack's number, a message, the offending argument. */
export class ApiError extends Error {
  readonly errorCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.errorCode = CLOUDSTACK_ERROR_CODES[code];
  }
}

export type JobStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface JobView {
  readonly id: string;
  readonly cmd: string;
  readonly status: JobStatus;
  /** 0–100: the progress of the workflow step it is at, 100 once it ended. */
  readonly progress: number | null;
  /** The workflow step it is at (null before its first, e.g. a deploy without a start). */
  readonly step: string | null;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
  readonly error: { readonly code: string; readonly errorCode: number; readonly message: string } | null;
  /** The instance as of completion. */
  readonly result: VirtualMachineView | null;
  readonly instanceId: string | null;
  readonly accountId: string;
}

export interface JobListArgs extends PageRequest {
  readonly instanceId?: string | null;
  readonly accountId?: string | null;
  readonly cmd?: string | null;
  readonly status?: JobStatus | null;
}

export type { LeaseExpiryAction };
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface DeployArgs {
  readonly zoneId: string;
  readonly serviceOfferingId: string;
  readonly templateId: string;
  readonly name?: string | null;
  readonly displayName?: string | null;
  readonly group?: string | null;
  readonly networkIds?: readonly string[] | null;
  readonly hostId?: string | null;
  readonly clusterId?: string | null;
  readonly startVm?: boolean | null;
  readonly affinityGroupIds?: readonly string[] | null;
  readonly affinityGroupNames?: readonly string[] | null;
  readonly keyPairs?: readonly string[] | null;
  readonly userData?: string | null;
  readonly details?: Readonly<Record<string, string>> | null;
  readonly leaseDuration?: number | null;
  readonly leaseExpiryAction?: LeaseExpiryAction | null;
  readonly account?: string | null;
  readonly domainId?: string | null;
  readonly clientToken?: string | null;
}

export interface UpdateArgs {
  readonly id: string;
  readonly displayName?: string | null;
  readonly group?: string | null;
  readonly osTypeId?: string | null;
  readonly deleteProtection?: boolean | null;
  readonly leaseDuration?: number | null;
  readonly leaseExpiryAction?: LeaseExpiryAction | null;
  readonly details?: Readonly<Record<string, string>> | null;
  readonly haEnable?: boolean | null;
}

export interface InstanceListArgs extends InstanceFilter, PageRequest {}

export interface TimeWindowArgs extends PageRequest {
  readonly startDate?: string | null;
  readonly endDate?: string | null;
}

export interface UsageRecordsArgs extends PageRequest {
  readonly accountId?: string | null;
  readonly startDate: string;
  readonly endDate: string;
  readonly type?: UsageRecordType | null;
}

/** Root-admin infrastructure mutations take API.md's arguments as plain records; each returns the created node. */
export type InfrastructureArgs = Readonly<Record<string, unknown>>;

export interface ControlPlane {
  /** undefined for an unknown, disabled or malformed key. */
  authenticate(apiKey: string): Caller | undefined;

  // Instances: asynchronous operations return the job at once.
  deployVirtualMachine(caller: Caller, args: DeployArgs): Promise<JobView>;
  startVirtualMachine(caller: Caller, args: { id: string; hostId?: string | null; considerLastHost?: boolean | null }): Promise<JobView>;
  stopVirtualMachine(caller: Caller, args: { id: string; forced?: boolean | null }): Promise<JobView>;
  rebootVirtualMachine(caller: Caller, args: { id: string; forced?: boolean | null }): Promise<JobView>;
  destroyVirtualMachine(caller: Caller, args: { id: string; expunge?: boolean | null; volumeIds?: readonly string[] | null }): Promise<JobView>;
  migrateVirtualMachine(caller: Caller, args: { virtualMachineId: string; hostId?: string | null }): Promise<JobView>;
  migrateVirtualMachineWithVolume(
    caller: Caller,
    args: { virtualMachineId: string; hostId?: string | null; migrateTo: readonly { volume: string; pool: string }[] },
  ): Promise<JobView>;
  restoreVirtualMachine(caller: Caller, args: { virtualMachineId: string; templateId?: string | null; expunge?: boolean | null }): Promise<JobView>;
  scaleVirtualMachine(caller: Caller, args: { id: string; serviceOfferingId: string; details?: Readonly<Record<string, string>> | null }): Promise<JobView>;
  // Unmanage and import (root admin).
  unmanagedInstances(caller: Caller, args: UnmanagedInstancesArgs): Promise<Connection<UnmanagedInstanceView>>;
  importUnmanagedInstance(caller: Caller, args: ImportUnmanagedInstanceArgs): Promise<JobView>;
  unmanageVirtualMachine(caller: Caller, args: { id: string }): Promise<JobView>;
  vmsForImport(caller: Caller, args: VmsForImportArgs): Promise<Connection<ExternalInstanceView>>;
  importVm(caller: Caller, args: ImportVmArgs): Promise<JobView>;
  importVmTasks(caller: Caller, args: ImportVmTasksArgs): Connection<ImportVmTaskView>;
  importVmPreview(caller: Caller, args: ImportVmArgs): Promise<ImportVmPreviewView>;
  // Instances: synchronous operations.
  recoverVirtualMachine(caller: Caller, args: { id: string }): Promise<VirtualMachineView>;
  expungeVirtualMachine(caller: Caller, args: { id: string }): Promise<boolean>;
  updateVirtualMachine(caller: Caller, args: UpdateArgs): Promise<VirtualMachineView>;
  changeServiceForVirtualMachine(
    caller: Caller,
    args: { id: string; serviceOfferingId: string; details?: Readonly<Record<string, string>> | null },
  ): Promise<VirtualMachineView>;

  virtualMachines(caller: Caller, args: InstanceListArgs): Connection<VirtualMachineView>;
  /** An instance's lease as it is shown now (behaviour §3.6): remaining days; nothing while the feature is off. */
  shownLease(view: Pick<VirtualMachineView, 'leaseDuration' | 'leaseExpiryAction' | 'leaseExpiryDate'>): Pick<VirtualMachineView, 'leaseDuration' | 'leaseExpiryAction' | 'leaseExpiryDate'>;
  virtualMachine(caller: Caller, id: string): VirtualMachineView | undefined;
  virtualMachineAsOf(caller: Caller, id: string, at: string): Promise<VirtualMachineView | undefined>;
  asyncJob(caller: Caller, id: string): JobView | undefined;
  asyncJobs(caller: Caller, args: JobListArgs): Connection<JobView>;

  createVMSchedule(caller: Caller, args: CreateVMScheduleArgs): Promise<VMScheduleView>;
  updateVMSchedule(caller: Caller, args: UpdateVMScheduleArgs): Promise<VMScheduleView>;
  /** How many schedules were deleted. */
  deleteVMSchedule(caller: Caller, args: { virtualMachineId: string; id?: string | null; ids?: readonly string[] | null }): Promise<number>;
  vmSchedules(caller: Caller, args: VMScheduleListArgs): Connection<VMScheduleView>;
  createAffinityGroup(caller: Caller, args: CreateAffinityGroupArgs): Promise<AffinityGroupListing>;
  deleteAffinityGroup(caller: Caller, args: DeleteAffinityGroupArgs): Promise<boolean>;
  updateVMAffinityGroup(caller: Caller, args: { id: string; affinityGroupIds?: readonly string[] | null; affinityGroupNames?: readonly string[] | null }): Promise<VirtualMachineView>;
  affinityGroups(caller: Caller, args: AffinityGroupListArgs): Connection<AffinityGroupListing>;
  createVMSnapshot(caller: Caller, args: CreateVMSnapshotArgs): Promise<JobView>;
  revertToVMSnapshot(caller: Caller, args: { vmSnapshotId: string }): Promise<JobView>;
  deleteVMSnapshot(caller: Caller, args: { vmSnapshotId: string }): Promise<JobView>;
  vmSnapshots(caller: Caller, args: VMSnapshotListArgs): Connection<VMSnapshotView>;
  /** Calls back on every change of the job the caller may see; returns the unsubscribe. */
  onJobUpdated(caller: Caller, id: string, listener: (job: JobView) => void): () => void;

  events(caller: Caller, args: TimeWindowArgs & { resourceId?: string | null; type?: string | null }): Connection<EventView>;
  usageEvents(caller: Caller, args: TimeWindowArgs & { accountId?: string | null; type?: string | null }): Connection<UsageEventView>;
  /** Usage records (CloudStack's usage server) overlapping [startDate, endDate), cut into days of `usage.timezone`. */
  usageRecords(caller: Caller, args: UsageRecordsArgs): Connection<UsageRecordView>;

  // Infrastructure and accounts (root admin): API.md's names and arguments.
  createZone(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  addCluster(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  addHost(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  createStoragePool(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  createNetwork(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  createServiceOffering(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  createDiskOffering(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  registerTemplate(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  createAccount(caller: Caller, args: InfrastructureArgs): Promise<unknown>;
  updateConfiguration(caller: Caller, args: { name: string; value: string; zoneId?: string | null }): Promise<unknown>;

  zones(caller: Caller, args: PageRequest): Connection<unknown>;
  clusters(caller: Caller, args: PageRequest & { zoneId?: string | null }): Connection<unknown>;
  hosts(caller: Caller, args: PageRequest & { zoneId?: string | null; clusterId?: string | null }): Connection<unknown>;
  storagePools(caller: Caller, args: PageRequest & { zoneId?: string | null }): Connection<unknown>;
  networks(caller: Caller, args: PageRequest & { zoneId?: string | null }): Connection<unknown>;
  serviceOfferings(caller: Caller, args: PageRequest): Connection<unknown>;
  diskOfferings(caller: Caller, args: PageRequest): Connection<unknown>;
  templates(caller: Caller, args: PageRequest & { zoneId?: string | null }): Connection<unknown>;
  accounts(caller: Caller, args: PageRequest): Connection<unknown>;
  configurations(caller: Caller, args: { name?: string | null; zoneId?: string | null }): unknown[];
  /** The guest OS types (CloudStack's listOsTypes), for every caller. */
  osTypes(caller: Caller, args: OsTypeListArgs): Connection<OsType>;

  /** Healthy when the log, the bus and the read model are up. */
  health(): Promise<{ ok: boolean; detail: Record<string, unknown> }>;
}
