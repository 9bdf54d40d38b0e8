// The hypervisor driver port: what an agent needs from one host. Implemented by the in-memory
// simulator and by libvirt over SSH; both pass `conformance.ts`. Every operation is idempotent in the
// state it leads to, because a command redelivered after an agent crash runs again.
import type { AgentCommandType, DomainSnapshotInfo, DomainSpec, HostCapability, PowerState, VmSnapshotKind, VolumeCopy, VolumeSpec } from './protocol.js';
import type {
  ConvertedDiskImport,
  ConvertedGuest,
  DiskImageReport,
  ImportedVolume,
  ProgressStage,
  RemoteHostLogin,
  RemoteVolumeCopy,
  UnmanagedDomain,
  VmwareGuestRef,
  VmwareHostRef,
} from '../../domain/agent-protocol/index.js';

/** What the host has to run domains on. */
export interface HostResources {
  readonly cpuNumber: number;
  /** MHz per core. */
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
}

export interface HostInfo extends HostResources {
  /** What the host can do beyond running domains (the heartbeat carries it to the orchestrator). */
  readonly capabilities: readonly HostCapability[];
}

/** A defined domain is either on or off; `missing` only describes a name the host does not know. */
export type DomainPowerState = Exclude<PowerState, 'missing'>;

export interface DomainSummary {
  readonly instanceName: string;
  readonly powerState: DomainPowerState;
}

/** What the host has defined for a domain: enough to check that define, scale and migrate took effect. */
export interface DomainDetails extends DomainSummary {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  /** In the order of the spec's volumes; bytes. */
  readonly disks: ReadonlyArray<{ readonly volumeId: string; readonly size: number }>;
  /** In the order of the spec's NICs. */
  readonly macs: readonly string[];
}

export interface StopOptions {
  /** Destroy at once instead of asking the guest (ACPI) to shut down. */
  readonly forced: boolean;
  /** How long a graceful shutdown may take before the stop fails with TIMEOUT. */
  readonly timeoutMs: number;
}

export interface RebootOptions {
  /** Reset instead of an ACPI reboot. */
  readonly forced: boolean;
}

export interface SnapshotOptions {
  readonly kind: VmSnapshotKind;
  /** Freeze the guest's file systems (through its agent) while the snapshot is taken. */
  readonly quiesce: boolean;
  readonly description: string | null;
}

/** A snapshot as the host keeps it: its place in the domain's snapshot tree. */
export interface DomainSnapshotDetails {
  readonly name: string;
  readonly kind: VmSnapshotKind;
  /** The snapshot this one was taken on top of; null for a root. */
  readonly parent: string | null;
  /** The one the domain's state descends from; at most one snapshot of a domain is current. */
  readonly current: boolean;
}

/** A succeeded snapshot: the domain's power state afterwards and the snapshot, with its size. */
export interface SnapshotTaken {
  readonly powerState: PowerState;
  readonly snapshot: DomainSnapshotInfo;
}

export interface PowerStateChange {
  readonly instanceName: string;
  readonly powerState: PowerState;
}

export type PowerStateListener = (change: PowerStateChange) => void;

/**
 * The domain an operation acts on: its name on the host, and the instance it must belong to. A driver
 * acts on a defined domain only when the record vmledger keeps in it names this instance, and fails
 * with NOT_OWNED otherwise (a domain of another instance, or one vmledger did not define), touching
 * nothing. A DomainSpec is a DomainRef.
 */
export interface DomainRef {
  readonly instanceId: string;
  readonly instanceName: string;
}

export const DRIVER_ERROR_CODES = [
  'TIMEOUT',
  'NOT_RUNNING',
  'NOT_FOUND',
  'INSUFFICIENT_CAPACITY',
  'INJECTED_FAULT',
  'REMOTE_COMMAND_FAILED',
  /** The command names something that is not its instance's: a domain or disk of another, or not of vmledger. */
  'NOT_OWNED',
  /** The host cannot do what is asked (a capability it lacks), so nothing was tried. */
  'UNSUPPORTED',
] as const;
export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number];

export class DriverError extends Error {
  constructor(
    readonly code: DriverErrorCode,
    message: string,
    /** What the host said, e.g. a remote command's stderr. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

/** Why a host refuses a snapshot it lacks the capability for, and what to ask for instead. */
export function unsupportedSnapshot(instanceName: string, kind: VmSnapshotKind, powerState: DomainPowerState, hostId: string): string {
  if (kind === 'DiskAndMemory') return `host ${hostId} cannot take snapshots with memory; take a disk-only snapshot of ${instanceName} while it is stopped`;
  if (powerState === 'running') {
    return (
      `host ${hostId} cannot take a disk-only snapshot of running ${instanceName}: it would need an external snapshot, which its libvirt cannot revert; ` +
      'take a snapshot with memory, or stop the instance first'
    );
  }
  return `host ${hostId} cannot take disk-only snapshots of stopped domains; start ${instanceName} and take a snapshot with memory`;
}

/**
 * Why a host without virt-v2v refuses a conversion: CloudStack's CheckConvertInstanceCommand message,
 * naming nbdkit as it does on Debian/Ubuntu.
 */
export function missingConverter(hostId: string): string {
  return `Cannot convert the instance from VMware as the virt-v2v binary is not found on host ${hostId}. Please install virt-v2v, nbdkit on the host before attempting the instance conversion.`;
}

/**
 * The driver operation each agent command asks for, keyed by the command's type. The port's
 * operations are mapped from the command types below, so a command type added to the protocol does
 * not compile until it has an operation here, and then not until the simulator and libvirt drivers
 * implement it (and the agent's handler table calls it: `adapters/hypervisor/agent-commands.ts`).
 */
interface CommandOperations {
  /**
   * Defines the domain from the spec (redefining a stopped one, so a changed offering takes effect),
   * creates the disks that do not exist yet (existing ones keep their data) and starts it.
   * A running domain is left alone. Resolves `running`.
   * @throws DriverError INSUFFICIENT_CAPACITY when the host cannot fit it; NOT_OWNED when a domain of
   * that name belongs to another instance, or a volume's disk is another domain's on this host.
   */
  StartDomain: (spec: DomainSpec) => Promise<PowerState>;
  /**
   * Resolves `stopped`, or `missing` when the host does not know the domain: either way it is not running.
   * @throws DriverError TIMEOUT when a graceful shutdown has not finished within `timeoutMs` (the domain keeps running).
   */
  StopDomain: (domain: DomainRef, options: StopOptions) => Promise<PowerState>;
  /**
   * Resolves `running`.
   * @throws DriverError NOT_RUNNING for a stopped domain, NOT_FOUND for an unknown one.
   */
  RebootDomain: (domain: DomainRef, options: RebootOptions) => Promise<PowerState>;
  /**
   * Live migration; afterwards the domain runs on the target and is gone from this host. Repeating a
   * finished migration succeeds. Resolves the domain's state on the target (`running`). A domain with
   * snapshots either takes them along (the simulator) or is refused with UNSUPPORTED (libvirt).
   * @throws DriverError NOT_RUNNING, NOT_FOUND (domain or target host), INSUFFICIENT_CAPACITY (target), UNSUPPORTED.
   */
  MigrateDomain: (domain: DomainRef, targetHostId: string) => Promise<PowerState>;
  /**
   * Destroys and undefines the domain with its snapshots and removes the disks of those of `volumes`
   * its record lists; whatever is already gone is success. A domain the host does not know has no disks to remove here.
   */
  DestroyDomain: (domain: DomainRef, volumes: readonly VolumeSpec[]) => Promise<void>;
  /**
   * Changes the domain's resources, live when it runs. Resolves its power state.
   * @throws DriverError NOT_FOUND, INSUFFICIENT_CAPACITY (a running domain that would not fit).
   */
  ScaleDomain: (domain: DomainRef, cpuNumber: number, cpuSpeed: number, memory: number) => Promise<PowerState>;
  /**
   * Takes an internal snapshot named `snapshotName` of the domain, which becomes its current one (a child
   * of the previous current). DiskAndMemory only of a running domain; Disk of a stopped one, and of a
   * running one only where the host has `snapshot.disk.running`. A snapshot of that name that exists
   * already is success (a redelivered command), with its size.
   * @throws DriverError NOT_FOUND (domain), NOT_RUNNING (DiskAndMemory of a stopped domain),
   * UNSUPPORTED (a Disk snapshot of a running domain on a host without `snapshot.disk.running`),
   * REMOTE_COMMAND_FAILED (what the host refused).
   */
  CreateDomainSnapshot: (domain: DomainRef, snapshotName: string, options: SnapshotOptions) => Promise<SnapshotTaken>;
  /**
   * Reverts the domain's disks (and memory) to the snapshot, which becomes current. Resolves the power
   * state it ends in: `running` for DiskAndMemory, `stopped` for Disk.
   * @throws DriverError NOT_FOUND (domain or snapshot).
   */
  RevertDomainSnapshot: (domain: DomainRef, snapshotName: string, kind: VmSnapshotKind) => Promise<PowerState>;
  /**
   * Deletes the snapshot; its children become its parent's, and when it was current its parent becomes
   * current. A snapshot (or domain) that is gone already is success. Resolves the domain's power state.
   */
  DeleteDomainSnapshot: (domain: DomainRef, snapshotName: string) => Promise<PowerState>;
  /**
   * Copies the stopped domain's volumes to their new pools, points the domain at the copies and
   * removes the originals; a volume already moved is success. Resolves the domain's power state.
   * @throws DriverError NOT_FOUND (domain or source disk), REMOTE_COMMAND_FAILED (a running domain, a failed copy).
   */
  CopyVolumes: (domain: DomainRef, volumes: readonly VolumeCopy[]) => Promise<PowerState>;
  /**
   * Adopts a domain vmledger did not define (import): records `spec` in it, `diskPositions[i]` being
   * the position among the domain's disks of `spec.volumes[i]`. Touches nothing else; resolves its
   * power state. Repeating it for the same instance succeeds.
   * @throws DriverError NOT_FOUND (no such domain), NOT_OWNED (it has a record of another instance).
   */
  ManageDomain: (spec: DomainSpec, diskPositions: readonly number[]) => Promise<PowerState>;
  /**
   * Gives the domain up (unmanage): it stays defined and persistent, running or not, without vmledger's
   * record. Defines it stopped from `spec` when the host does not have it. Resolves its power state.
   * A domain with no record (already given up) is success. @throws DriverError NOT_OWNED.
   */
  UnmanageDomain: (spec: DomainSpec) => Promise<PowerState>;
  /**
   * Copies the disks of an external host's stopped domain into this host's storage as the instance's
   * volumes (qcow2, checked), with the operator's login; defines no domain and resolves `missing`. A
   * volume already there is kept (a repeated command). On failure nothing this call wrote is left
   * on either host, and the message never holds the password.
   * Tells `progress` (stage `copy`) as each disk starts and, where the bytes pass through the agent
   * (CloudStack's mode), as they do.
   * @throws DriverError REMOTE_COMMAND_FAILED ("Failed to copy volume due to: …").
   */
  CopyRemoteVolumes: (domain: DomainRef, copy: RemoteVolumesCopy, progress?: ProgressListener) => Promise<PowerState>;
  /**
   * Exports the stopped VMware guest into the temporary location and converts it with virt-v2v (see
   * the ConvertVmwareGuest command), telling `progress` how far it has got. A conversion whose
   * output is there already is success. Whatever the outcome the export is removed; on failure the
   * converted output too. The password is never part of an error.
   * @throws DriverError UNSUPPORTED (no virt-v2v/nbdkit on the host, nothing tried), TIMEOUT,
   * REMOTE_COMMAND_FAILED (the source could not be read, virt-v2v failed: CloudStack's message).
   */
  ConvertVmwareGuest: (domain: DomainRef, conversion: VmwareConversion, progress: ProgressListener) => Promise<ConvertedGuest>;
  /**
   * Moves the converted disks into the destination storage as the volumes' files, checks each
   * (§4.6 checkVolume) and removes `<tempPath>/<outputName>*`. A volume already in place is kept.
   * On failure the volumes this call made are removed. Resolves the volumes in the command's order.
   * @throws DriverError NOT_FOUND (a converted disk missing), REMOTE_COMMAND_FAILED.
   */
  ImportConvertedDisks: (domain: DomainRef, conversion: ConvertedDisksImport, progress: ProgressListener) => Promise<ImportedVolume[]>;
}

/** What ConvertVmwareGuest is given, the password opened (null: the agent's own key). */
export interface VmwareConversion {
  readonly source: VmwareGuestRef;
  readonly password: string | null;
  readonly tempPath: string;
  readonly outputName: string;
  readonly timeoutMs: number;
  readonly extraParams: readonly string[];
}

export interface ConvertedDisksImport {
  readonly tempPath: string;
  readonly outputName: string;
  readonly disks: readonly ConvertedDiskImport[];
}

/** How far a long operation has got: `percent` of the whole operation (0–100). */
export interface ProgressUpdate {
  readonly stage: ProgressStage;
  readonly step: string;
  readonly percent: number;
}

/** Told as often as the driver likes; the agent sends on only what changed (adapters/hypervisor/progress.ts). */
export type ProgressListener = (update: ProgressUpdate) => void;

/** What CopyRemoteVolumes is given, the password opened. */
export interface RemoteVolumesCopy {
  readonly remote: RemoteHostLogin;
  readonly password: string | null;
  readonly tmpPath: string;
  readonly timeoutMs: number;
  readonly volumes: readonly RemoteVolumeCopy[];
}

/** `StartDomain` is carried out by `startDomain`, and so on: one operation per command type. */
type DriverOperations = { readonly [K in AgentCommandType as Uncapitalize<K>]: CommandOperations[K] };

export interface HypervisorDriver extends DriverOperations {
  /** The host this driver drives; the id a migration names as its target. */
  readonly hostId: string;
  hostInfo(): Promise<HostInfo>;
  listDomains(): Promise<DomainSummary[]>;
  /** Null when the host does not know the domain. */
  describeDomain(instanceName: string): Promise<DomainDetails | null>;
  /** The domain's snapshots by name (the orchestrator's names sort by time); none when the host does not know the domain. */
  listDomainSnapshots(instanceName: string): Promise<DomainSnapshotDetails[]>;
  /**
   * The domains defined here without a vmledger record, running and stopped, by name; with `name`,
   * only that one. @throws DriverError NOT_FOUND when `name` is unknown, NOT_OWNED when it is managed.
   */
  listUnmanagedDomains(name: string | null): Promise<UnmanagedDomain[]>;
  /**
   * The stopped domains of an external host this host reaches (behaviour §4.6 `external`), logging in
   * as `remote.username` with `password` (null: the driver's own key for its host). The password is
   * never part of an error. @throws DriverError with CloudStack's "Unable to connect to remote host…"
   * or "Unable to list stopped VMs on remote host…".
   */
  listRemoteDomains(remote: RemoteHostLogin, password: string | null): Promise<UnmanagedDomain[]>;
  /**
   * What is at `diskPath` inside the pool directory `poolPath` on this host (an import from local or
   * shared storage, behaviour §4.6): whether it is there, its image info, and the domains here that
   * use it. Reads only. A pool directory the host does not serve is reported, not looked into.
   */
  inspectDiskImage(poolPath: string, diskPath: string): Promise<DiskImageReport>;
  /**
   * The guests on a VMware host's datastores (ListVmwareGuests), running and stopped, by name, each
   * with its `vmxPath`; logging in with `password` (null: the driver's own key). The password is
   * never part of an error. @throws DriverError REMOTE_COMMAND_FAILED ("Unable to connect…", "Unable to list…").
   */
  listVmwareGuests(source: VmwareHostRef, password: string | null): Promise<UnmanagedDomain[]>;
  /**
   * Tells the listener about changes nobody asked this driver for (a guest that powers itself off).
   * Returns the unsubscribe function.
   */
  onPowerStateChange(listener: PowerStateListener): () => void;
}
