// The instance as its events leave it. `evolve` trusts the events it folds: every check happened
// when they were decided, so replaying history never fails on a rule that changed since.
import { emptyChain, linkOf, withCreated, withRemoved, withRequested, withReverted, withStatus, type VMSnapshotChain } from '../vmsnapshot/chain.js';
import type { AfterPurge, AfterStop, InstanceDeployed, InstanceEvent, InstanceImportRequested } from './events.js';
import type {
  Details,
  LeaseExecution,
  LeaseExpiryAction,
  Nic,
  ServiceOfferingSnapshot,
  TemplateSnapshot,
  Volume,
} from './model.js';
import type { VmState } from './state-machine.js';
import type { DiskImageImportSource, ExternalImportSource, VmwareImportSource } from './commands.js';

/** The job the instance is busy with; outcomes must name it, so a stale reply cannot settle a newer job. */
export type PendingOperation =
  | { readonly kind: 'start'; readonly jobId: string }
  | { readonly kind: 'stop'; readonly jobId: string; readonly forced: boolean; readonly afterStop: AfterStop | null }
  | { readonly kind: 'reboot'; readonly jobId: string }
  | { readonly kind: 'migrate'; readonly jobId: string; readonly sourceHostId: string | null; readonly targetHostId: string }
  | {
      readonly kind: 'scale';
      readonly jobId: string;
      readonly serviceOffering: ServiceOfferingSnapshot;
      readonly cpuNumber: number;
      readonly cpuSpeed: number;
      readonly memory: number;
    }
  | { readonly kind: 'expunge'; readonly jobId: string | null }
  /**
   * A VM snapshot task (behaviour §5.1): one at a time per instance, and nothing else moves the
   * instance meanwhile. A purge deletes every snapshot, then goes on with the destroy or unmanage it is for.
   */
  | {
      readonly kind: 'vmsnapshot';
      readonly jobId: string;
      readonly task: 'create' | 'revert' | 'delete' | 'purge';
      /** The snapshot the task is on; null for a purge, which takes them one after another. */
      readonly vmSnapshotId: string | null;
      readonly then: AfterPurge | null;
    }
  | {
      readonly kind: 'storageMigration';
      readonly jobId: string;
      readonly hostId: string;
      readonly migrations: readonly { readonly volumeId: string; readonly fromPoolId: string; readonly toPoolId: string; readonly fromPath: string; readonly toPath: string }[];
    }
  | { readonly kind: 'import'; readonly jobId: string; readonly hostId: string; readonly diskPositions: readonly number[]; readonly external?: ExternalImportSource; readonly diskImage?: DiskImageImportSource; readonly vmware?: VmwareImportSource }
  | { readonly kind: 'unmanage'; readonly jobId: string; readonly hostId: string | null; readonly preserveNics: boolean };

export interface Instance {
  readonly exists: true;
  readonly id: string;
  /** The hostname. */
  readonly name: string;
  readonly displayName: string;
  readonly instanceName: string;
  readonly state: VmState;
  readonly zoneId: string;
  readonly hostId: string | null;
  readonly lastHostId: string | null;
  readonly hypervisorType: string;
  readonly serviceOfferingId: string;
  readonly serviceOffering: ServiceOfferingSnapshot;
  readonly templateId: string;
  readonly template: TemplateSnapshot;
  readonly osTypeId: string;
  readonly accountId: string;
  readonly domainId: string;
  readonly group: string | null;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  readonly deleteProtection: boolean;
  readonly haEnabled: boolean;
  readonly dynamicallyScalable: boolean;
  readonly leaseDuration: number | null;
  readonly leaseExpiryAction: LeaseExpiryAction | null;
  readonly leaseExpiryDate: string | null;
  /** Null for an instance deployed without a lease. */
  readonly leaseExecution: LeaseExecution | null;
  /** The STOP or DESTROY job the expired lease opened; it settles the lease when its outcome is recorded. */
  readonly leaseActionJobId: string | null;
  readonly details: Details;
  readonly userData: string | null;
  readonly nics: readonly Nic[];
  readonly volumes: readonly Volume[];
  readonly affinityGroupIds: readonly string[];
  readonly created: string;
  /** Deployed with startVm: its first start failing means the deployment failed (→ Error). */
  readonly startVmOnDeploy: boolean;
  readonly everStarted: boolean;
  /** The instance's VM snapshots, not removed, and which is current. */
  readonly vmSnapshotChain: VMSnapshotChain;
  readonly vmSnapshotIds: readonly string[];
  readonly vmSnapshotCount: number;
  readonly expunged: boolean;
  readonly pending: PendingOperation | null;
  /**
   * When a job's outcome or a power report last settled the domain's power state (see PowerSettled):
   * a power report taken before then is ignored. Null until one did, and for histories recorded
   * before settlements were timed, whose reports are all followed as they always were.
   */
  readonly powerSettledAt: string | null;
  /** The unmanaged instance an imported one continues (absent on instances recorded before imports). */
  readonly importedFrom?: string | null;
  /** Unmanaged (it left vmledger, `expunged` too); with `nicsKept` its NICs keep their addresses. */
  readonly unmanaged?: boolean;
  readonly nicsKept?: boolean;
}

export interface NoInstance {
  readonly exists: false;
  /** Set once its deployment was abandoned: the instance can no longer be recorded. */
  readonly abandoned?: { readonly jobId: string; readonly reason: string };
}

export type InstanceState = NoInstance | Instance;

export const initialInstanceState: InstanceState = { exists: false };

export function rootVolumeOf(instance: Instance): Volume | undefined {
  return instance.volumes.find((volume) => volume.type === 'ROOT');
}

const readied = (volumes: readonly Volume[]): Volume[] =>
  volumes.map((volume) => (volume.state === 'Allocated' ? { ...volume, state: 'Ready' } : volume));

function leftHost(instance: Instance): Instance {
  // A snapshot task outlives a power report: its job still settles it (stop and start wait for it).
  const pending = instance.pending?.kind === 'vmsnapshot' ? instance.pending : null;
  return { ...instance, state: 'Stopped', lastHostId: instance.hostId ?? instance.lastHostId, hostId: null, pending };
}

function withChain(instance: Instance, chain: VMSnapshotChain): Instance {
  const vmSnapshotIds = chain.links.map((link) => link.id);
  return { ...instance, vmSnapshotChain: chain, vmSnapshotIds, vmSnapshotCount: vmSnapshotIds.length };
}

/** Destroyed with the instance without a delete of their own: gone from the chain. */
function withSnapshots(instance: Instance, vmSnapshotIds: readonly string[]): Instance {
  const keep = new Set(vmSnapshotIds);
  const chain = instance.vmSnapshotChain;
  return withChain(instance, { links: chain.links.filter((l) => keep.has(l.id)), currentId: chain.currentId !== null && keep.has(chain.currentId) ? chain.currentId : null });
}

/** The instance a deployment brings into being. */
export function instanceFromDeployment(event: InstanceDeployed): Instance {
  const d = event.data;
  return {
    exists: true,
    id: d.instanceId,
    name: d.name,
    displayName: d.displayName,
    instanceName: d.instanceName,
    state: d.state,
    zoneId: d.zoneId,
    hostId: null,
    lastHostId: null,
    hypervisorType: d.hypervisorType,
    serviceOfferingId: d.serviceOffering.id,
    serviceOffering: d.serviceOffering,
    templateId: d.template.id,
    template: d.template,
    osTypeId: d.template.osTypeId,
    accountId: d.accountId,
    domainId: d.domainId,
    group: d.group,
    cpuNumber: d.cpuNumber,
    cpuSpeed: d.cpuSpeed,
    memory: d.memory,
    deleteProtection: false,
    haEnabled: d.haEnabled,
    dynamicallyScalable: d.dynamicallyScalable,
    leaseDuration: d.lease.duration,
    leaseExpiryAction: d.lease.expiryAction,
    leaseExpiryDate: d.lease.expiryDate,
    leaseExecution: d.lease.expiryDate === null ? null : 'PENDING',
    leaseActionJobId: null,
    details: d.details,
    userData: d.userData,
    nics: d.nics,
    volumes: d.volumes,
    affinityGroupIds: d.affinityGroupIds,
    created: d.created,
    startVmOnDeploy: d.startVm,
    everStarted: false,
    vmSnapshotChain: emptyChain,
    vmSnapshotIds: [],
    vmSnapshotCount: 0,
    powerSettledAt: null,
    expunged: false,
    pending: null,
  };
}

/**
 * Whether the import leaves the instance's disks on its host before any domain of the instance is
 * defined there (copied from an external host, or taken in place), rather than adopting a domain that
 * attaches them: its volumes are then `imported`, so a destruction before the first start deletes them.
 * An import from VMware (its converted disks moved into the pool) is one too.
 */
function putsDisksOnHost(d: InstanceImportRequested['data']): boolean {
  return d.external !== undefined || d.diskImage !== undefined || d.vmware !== undefined;
}

/** The instance an import records: busy with adopting its domain until the host has answered. */
export function instanceFromImport(event: InstanceImportRequested): Instance {
  const d = event.data;
  const deployed = instanceFromDeployment({
    type: 'InstanceDeployed',
    data: { ...d, startVm: false, requestedHostId: d.hostId, lease: { duration: null, expiryAction: null, expiryDate: null } },
  });
  return {
    ...deployed,
    importedFrom: d.importedFrom,
    volumes: putsDisksOnHost(d) ? deployed.volumes.map((volume) => ({ ...volume, imported: true })) : deployed.volumes,
    pending: { kind: 'import', jobId: d.jobId, hostId: d.hostId, diskPositions: d.diskPositions, ...(d.external ? { external: d.external } : {}), ...(d.diskImage ? { diskImage: d.diskImage } : {}), ...(d.vmware ? { vmware: d.vmware } : {}) },
  };
}

export function evolveInstance(state: InstanceState, event: InstanceEvent): InstanceState {
  if (event.type === 'InstanceDeployed') return instanceFromDeployment(event);
  if (event.type === 'InstanceImportRequested') return instanceFromImport(event);
  if (event.type === 'InstanceDeploymentAbandoned') return state.exists ? state : { exists: false, abandoned: { jobId: event.data.jobId, reason: event.data.reason } };
  if (!state.exists) return state;
  const instance = powerSettledBy(leaseSettledBy(state, event), event);

  switch (event.type) {
    case 'InstanceImported': {
      // CloudStack's importVM: a running domain's host is its host; a stopped one's is its last host.
      const running = event.data.state === 'Running';
      return {
        ...instance,
        state: event.data.state,
        hostId: running ? event.data.hostId : null,
        lastHostId: running ? null : event.data.hostId,
        everStarted: true,
        volumes: readied(instance.volumes),
        pending: null,
      };
    }
    case 'InstanceImportFailed':
      return { ...instance, expunged: true, volumes: instance.volumes.map((v) => ({ ...v, state: 'Expunged' })), pending: null };
    case 'InstanceUnmanageRequested':
      return { ...instance, pending: { kind: 'unmanage', jobId: event.data.jobId, hostId: event.data.hostId, preserveNics: event.data.preserveNics } };
    case 'InstanceUnmanaged':
      return {
        ...instance,
        state: event.data.state,
        hostId: null,
        lastHostId: event.data.hostId ?? instance.lastHostId,
        expunged: true,
        unmanaged: true,
        nicsKept: event.data.preserveNics,
        volumes: instance.volumes.map((v) => ({ ...v, state: 'Expunged' })),
        pending: null,
      };
    case 'InstanceUnmanageFailed':
      return { ...instance, pending: null };
    case 'InstanceStartRequested':
      return {
        ...instance,
        state: event.data.state,
        hostId: event.data.requestedHostId,
        pending: { kind: 'start', jobId: event.data.jobId },
      };
    case 'InstanceStartRetried':
      return { ...instance, hostId: event.data.hostId };
    case 'InstanceStarted':
      return {
        ...instance,
        state: event.data.state,
        hostId: event.data.hostId,
        lastHostId: event.data.hostId,
        everStarted: true,
        volumes: readied(instance.volumes),
        pending: null,
      };
    case 'InstanceStartFailed':
      return { ...instance, state: event.data.state, hostId: null, pending: null };
    case 'InstanceVolumeMigrationRequested':
      return {
        ...instance,
        state: event.data.state,
        pending: { kind: 'storageMigration', jobId: event.data.jobId, hostId: event.data.hostId, migrations: event.data.migrations },
      };
    case 'InstanceVolumesMigrated': {
      const pools = new Map(event.data.migrations.map((m) => [m.volumeId, m.toPoolId]));
      return {
        ...instance,
        state: event.data.state,
        volumes: instance.volumes.map((v) => ({ ...v, storagePoolId: pools.get(v.id) ?? v.storagePoolId })),
        pending: null,
      };
    }
    case 'InstanceVolumeMigrationFailed':
      return { ...instance, state: event.data.state, pending: null };
    case 'InstanceVolumesPlaced': {
      const pools = new Map(event.data.placements.map((p) => [p.volumeId, p.storagePoolId]));
      return { ...instance, volumes: instance.volumes.map((v) => ({ ...v, storagePoolId: pools.get(v.id) ?? v.storagePoolId })) };
    }
    case 'InstanceErrored': {
      const deleted = new Set(event.data.deletedVolumeIds);
      return {
        ...instance,
        state: event.data.state,
        volumes: instance.volumes.map((v) => (deleted.has(v.id) ? { ...v, state: 'Destroy' } : v)),
        pending: null,
      };
    }
    case 'InstanceStopRequested':
      return {
        ...instance,
        state: event.data.state,
        pending: { kind: 'stop', jobId: event.data.jobId, forced: event.data.forced, afterStop: event.data.afterStop },
      };
    case 'InstanceStopped':
      return leftHost(instance);
    case 'InstanceStopFailed':
      return { ...instance, state: event.data.state, pending: null };
    case 'InstanceRebootRequested':
      return { ...instance, pending: { kind: 'reboot', jobId: event.data.jobId } };
    case 'InstanceRebooted':
    case 'InstanceRebootFailed':
    case 'InstanceScaleFailed':
    case 'InstanceExpungeFailed':
      return { ...instance, pending: null };
    case 'InstanceDestroyed': {
      const deleted = new Set(event.data.deletedVolumeIds);
      const detached = new Set(event.data.detachedVolumeIds);
      const gone = new Set(event.data.deletedVmSnapshotIds);
      const volumes = instance.volumes
        .filter((v) => !detached.has(v.id) && !(deleted.has(v.id) && v.type === 'DATADISK'))
        .map((v) => (deleted.has(v.id) ? { ...v, state: 'Destroy' as const } : v));
      const pending = event.data.state === 'Expunging' ? ({ kind: 'expunge', jobId: event.data.jobId } as const) : null;
      return withSnapshots(
        { ...instance, state: event.data.state, volumes, hostId: null, pending },
        instance.vmSnapshotIds.filter((id) => !gone.has(id)),
      );
    }
    case 'InstanceRecovered': {
      const rootState = instance.everStarted ? 'Ready' : 'Allocated';
      return {
        ...instance,
        state: event.data.state,
        volumes: instance.volumes.map((v) => (v.id === event.data.rootVolumeId ? { ...v, state: rootState } : v)),
        pending: null,
      };
    }
    case 'InstanceExpungeRequested':
      return { ...instance, state: event.data.state, pending: { kind: 'expunge', jobId: event.data.jobId } };
    case 'InstanceExpunged':
      return {
        ...instance,
        expunged: true,
        volumes: instance.volumes.map((v) => ({ ...v, state: 'Expunged' })),
        pending: null,
      };
    case 'InstanceMigrationRequested':
      return {
        ...instance,
        state: event.data.state,
        pending: {
          kind: 'migrate',
          jobId: event.data.jobId,
          sourceHostId: event.data.sourceHostId,
          targetHostId: event.data.targetHostId,
        },
      };
    case 'InstanceMigrated':
      return { ...instance, state: event.data.state, hostId: event.data.hostId, pending: null };
    case 'InstanceMigrationFailed':
      return { ...instance, state: event.data.state, pending: null };
    case 'InstancePowerStateReported': {
      const to = event.data.state;
      if (to === 'Stopped') return leftHost(instance);
      if (to !== 'Running') return { ...instance, state: to, pending: null };
      // A report inside Running keeps whatever job is in flight; one that ends a transition settles it.
      const pending = instance.state === 'Running' ? instance.pending : null;
      return {
        ...instance,
        state: to,
        hostId: event.data.hostId,
        lastHostId: event.data.hostId,
        everStarted: true,
        volumes: readied(instance.volumes),
        pending,
      };
    }
    case 'InstanceUpdated':
      return { ...instance, ...event.data.changes };
    case 'InstanceAffinityGroupsUpdated':
      return { ...instance, affinityGroupIds: event.data.affinityGroupIds };
    case 'LeaseUpdated':
      return {
        ...instance,
        leaseDuration: event.data.duration,
        leaseExpiryAction: event.data.expiryAction,
        leaseExpiryDate: event.data.expiryDate,
        leaseExecution: 'PENDING',
        leaseActionJobId: null,
      };
    case 'LeaseDisabled':
      return { ...instance, leaseExecution: 'DISABLED' };
    case 'LeaseCancelled':
      return { ...instance, leaseExecution: 'CANCELLED' };
    case 'LeaseExpiring':
      return instance;
    case 'LeaseExpired':
      return { ...instance, leaseActionJobId: event.data.jobId, leaseExecution: event.data.done ? 'DONE' : 'PENDING' };
    case 'InstanceVolumeUpdated':
      return {
        ...instance,
        volumes: instance.volumes.map((v) =>
          v.id === event.data.volumeId ? { ...v, deleteProtection: event.data.deleteProtection } : v,
        ),
      };
    case 'InstanceServiceOfferingChanged':
      return {
        ...instance,
        serviceOfferingId: event.data.serviceOffering.id,
        serviceOffering: event.data.serviceOffering,
        cpuNumber: event.data.cpuNumber,
        cpuSpeed: event.data.cpuSpeed,
        memory: event.data.memory,
        haEnabled: event.data.haEnabled,
        dynamicallyScalable: event.data.dynamicallyScalable,
      };
    case 'InstanceScaleRequested':
      return {
        ...instance,
        pending: {
          kind: 'scale',
          jobId: event.data.jobId,
          serviceOffering: event.data.serviceOffering,
          cpuNumber: event.data.cpuNumber,
          cpuSpeed: event.data.cpuSpeed,
          memory: event.data.memory,
        },
      };
    case 'InstanceScaled':
      return {
        ...instance,
        serviceOfferingId: event.data.serviceOffering.id,
        serviceOffering: event.data.serviceOffering,
        cpuNumber: event.data.cpuNumber,
        cpuSpeed: event.data.cpuSpeed,
        memory: event.data.memory,
        pending: null,
      };
    case 'InstanceRestored':
      return {
        ...instance,
        templateId: event.data.template.id,
        template: event.data.template,
        osTypeId: event.data.template.osTypeId,
        dynamicallyScalable: event.data.dynamicallyScalable,
        volumes: [event.data.rootVolume, ...instance.volumes.filter((v) => v.id !== event.data.oldRootVolumeId)],
        pending: null,
      };
    case 'InstanceVMSnapshotRequested': {
      const { jobId, vmSnapshotId, name, displayName, snapshotType } = event.data;
      const chain = withRequested(instance.vmSnapshotChain, { id: vmSnapshotId, name, displayName, type: snapshotType });
      return withChain({ ...instance, pending: { kind: 'vmsnapshot', jobId, task: 'create', vmSnapshotId, then: null } }, chain);
    }
    case 'InstanceVMSnapshotRevertRequested': {
      const { jobId, vmSnapshotId } = event.data;
      const chain = withStatus(instance.vmSnapshotChain, vmSnapshotId, 'Reverting');
      return withChain({ ...instance, pending: { kind: 'vmsnapshot', jobId, task: 'revert', vmSnapshotId, then: null } }, chain);
    }
    case 'InstanceVMSnapshotDeleteRequested': {
      const { jobId, vmSnapshotId } = event.data;
      const chain = withStatus(instance.vmSnapshotChain, vmSnapshotId, 'Expunging');
      return withChain({ ...instance, pending: { kind: 'vmsnapshot', jobId, task: 'delete', vmSnapshotId, then: null } }, chain);
    }
    case 'InstanceVMSnapshotsPurgeRequested':
      return { ...instance, pending: { kind: 'vmsnapshot', jobId: event.data.jobId, task: 'purge', vmSnapshotId: null, then: event.data.then } };
    case 'InstanceVMSnapshotCreated':
      return withChain({ ...instance, pending: null }, withCreated(instance.vmSnapshotChain, event.data.vmSnapshotId, event.data.sizeBytes));
    case 'InstanceVMSnapshotReverted':
      return withChain({ ...instance, pending: null }, withReverted(instance.vmSnapshotChain, event.data.vmSnapshotId));
    case 'InstanceVMSnapshotDeleted': {
      // A purge goes on until the chain is empty; the destroy or unmanage it is for then settles it.
      const pending = instance.pending?.kind === 'vmsnapshot' && instance.pending.task === 'purge' ? instance.pending : null;
      return withChain({ ...instance, pending }, withRemoved(instance.vmSnapshotChain, event.data.vmSnapshotId));
    }
    case 'InstanceVMSnapshotTaskFailed': {
      const known = linkOf(instance.vmSnapshotChain, event.data.vmSnapshotId);
      const chain = known ? withStatus(instance.vmSnapshotChain, event.data.vmSnapshotId, event.data.status) : instance.vmSnapshotChain;
      return withChain({ ...instance, pending: null }, chain);
    }
    default:
      // Usage records describe what the facts above already did to the instance.
      return instance;
  }
}

/**
 * A PENDING lease whose STOP or DESTROY job has its outcome recorded is DONE: the instance stopped
 * (by the job's answer or by a power report that settled the job), or was destroyed, for that job.
 */
function powerSettledBy(instance: Instance, event: InstanceEvent): Instance {
  if (!('settledAt' in event.data) || typeof event.data.settledAt !== 'string') return instance;
  return { ...instance, powerSettledAt: event.data.settledAt };
}

function leaseSettledBy(instance: Instance, event: InstanceEvent): Instance {
  const jobId = instance.leaseActionJobId;
  if (instance.leaseExecution !== 'PENDING' || jobId === null) return instance;
  const settled =
    instance.leaseExpiryAction === 'STOP'
      ? (event.type === 'InstanceStopped' && event.data.jobId === jobId) ||
        (event.type === 'InstancePowerStateReported' && event.data.settledJobId === jobId && event.data.state === 'Stopped')
      : event.type === 'InstanceDestroyed' && event.data.jobId === jobId;
  return settled ? { ...instance, leaseExecution: 'DONE' } : instance;
}
