// What the orchestrator and the agents say to each other, declared once: the orchestrator's sagas
// build commands of these types, job events store them as they are (the log is the outbox), the
// agent parses and carries them out, and its replies and reports come back in these shapes. Every
// command carries a commandId that its reply repeats, so a redelivered command or reply is
// recognised and applied once. The queues and the bus envelope are the adapters' business
// (`adapters/hypervisor/protocol.ts`); this is only what the messages say.

export type PowerState = 'running' | 'stopped' | 'missing';

export interface NicSpec {
  readonly nicId: string;
  readonly networkId: string;
  readonly mac: string;
  readonly ip: string | null;
  readonly vlan: number | null;
  readonly deviceId: number;
}

export interface VolumeSpec {
  readonly volumeId: string;
  readonly type: 'ROOT' | 'DATADISK';
  /** Bytes. */
  readonly size: number;
  /** The template a ROOT volume is created from. */
  readonly templateId: string | null;
  /**
   * The volume's file when an import took it in place (LOCAL or SHARED), absolute on the host: the
   * domain attaches it (never creates it) and the instance's destruction deletes it. Absent: the
   * host's own `<storage>/<volumeId>.qcow2`.
   */
  readonly path?: string;
  /**
   * The disk was on the host before the instance's first start: an import copied it there (from an
   * external host, or VMware's conversion: the host's own `<volumeId>.qcow2`) or took it in place
   * (`path`, which implies it). Until a domain of the instance records it, only the orchestrator's
   * signed command says it is the instance's: a start attaches it (never makes it) and a destruction
   * deletes it even where no domain of the instance is defined.
   */
  readonly imported?: true;
}

/** Everything a host needs to define and run an instance's domain. */
export interface DomainSpec {
  readonly instanceId: string;
  /** The hypervisor-side name (CloudStack's instanceName, e.g. i-2-14-VM). */
  readonly instanceName: string;
  readonly cpuNumber: number;
  /** MHz. */
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
  readonly nics: readonly NicSpec[];
  readonly volumes: readonly VolumeSpec[];
}

interface CommandBase {
  readonly commandId: string;
  /** The host whose agent must carry it out. */
  readonly hostId: string;
}

/**
 * The instance a command about an existing domain acts on: the agent acts only on a domain whose
 * vmledger record names this instance, so a command can never reach a domain vmledger did not
 * define for it, whatever name it gives.
 */
interface DomainCommandBase extends CommandBase {
  readonly instanceId: string;
  readonly instanceName: string;
}

export interface StartDomain extends CommandBase {
  readonly type: 'StartDomain';
  readonly domain: DomainSpec;
}

/** Graceful (ACPI) unless forced; a graceful stop that times out is reported as failed. */
export interface StopDomain extends DomainCommandBase {
  readonly type: 'StopDomain';
  readonly forced: boolean;
  readonly timeoutMs: number;
}

export interface RebootDomain extends DomainCommandBase {
  readonly type: 'RebootDomain';
  readonly forced: boolean;
}

export interface MigrateDomain extends DomainCommandBase {
  readonly type: 'MigrateDomain';
  readonly targetHostId: string;
}

/** Removes the domain and its disks from the host; a missing domain is success. */
export interface DestroyDomain extends DomainCommandBase {
  readonly type: 'DestroyDomain';
  readonly volumes: readonly VolumeSpec[];
}

export interface ScaleDomain extends DomainCommandBase {
  readonly type: 'ScaleDomain';
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
}

/**
 * CloudStack's VM snapshot types: `Disk` holds the disks only, `DiskAndMemory` the running guest's
 * memory as well (so reverting to it leaves the instance running, reverting to a disk one leaves it stopped).
 */
export type VmSnapshotKind = 'Disk' | 'DiskAndMemory';

/**
 * Takes a snapshot of the domain on the host under `snapshotName`, the host-side name the
 * orchestrator makes as CloudStack does (`<instanceName>_VS_<yyyyMMddHHmmss>`). A snapshot of that
 * name that exists already is success, so a redelivered command does not take a second one.
 */
export interface CreateDomainSnapshot extends DomainCommandBase {
  readonly type: 'CreateDomainSnapshot';
  readonly snapshotName: string;
  readonly kind: VmSnapshotKind;
  /** Ask the guest agent to flush and freeze its file systems first. */
  readonly quiesce: boolean;
  readonly description: string | null;
}

/** Reverts the domain to the snapshot; `kind` says the power state it ends in (see VmSnapshotKind). */
export interface RevertDomainSnapshot extends DomainCommandBase {
  readonly type: 'RevertDomainSnapshot';
  readonly snapshotName: string;
  readonly kind: VmSnapshotKind;
}

/** Deletes the snapshot, keeping its children (re-parented to its parent); a missing one is success. */
export interface DeleteDomainSnapshot extends DomainCommandBase {
  readonly type: 'DeleteDomainSnapshot';
  readonly snapshotName: string;
}

export type AgentCommand =
  | StartDomain
  | StopDomain
  | RebootDomain
  | MigrateDomain
  | DestroyDomain
  | ScaleDomain
  | CreateDomainSnapshot
  | RevertDomainSnapshot
  | DeleteDomainSnapshot
  | CopyVolumes
  | ManageDomain
  | UnmanageDomain
  | CopyRemoteVolumes
  | ConvertVmwareGuest
  | ImportConvertedDisks;
/** A volume to copy to another storage pool's directory on the host (an offline volume migration). */
export interface VolumeCopy extends VolumeSpec {
  /** The directory of the pool the volume is on now (its mount point on the host). */
  readonly fromPath: string;
  /** The directory of the pool it moves to. */
  readonly toPath: string;
}

/**
 * Copies a stopped domain's volumes into other pools' directories (libvirt: `qemu-img convert`),
 * points the domain at the copies and removes the originals. A volume already at its destination is
 * success, so a repeated command is harmless.
 */
export interface CopyVolumes extends DomainCommandBase {
  readonly type: 'CopyVolumes';
  readonly volumes: readonly VolumeCopy[];
}

// ---- Import and unmanage (issue 16) ----

/**
 * Takes over a domain vmledger did not define (an import): its definition gets vmledger's record for
 * the instance, naming which of its disks (by position among its disks) is which volume, so later
 * commands' ownership checks pass. Nothing else about the domain changes; a running one keeps running.
 * Resolves the domain's power state. Fails NOT_OWNED when the domain already has a record of another
 * instance, NOT_FOUND when the host does not know it; repeating a finished adoption succeeds.
 */
export interface ManageDomain extends DomainCommandBase {
  readonly type: 'ManageDomain';
  readonly domain: DomainSpec;
  /** For each of `domain.volumes`, in its order: the position of its disk among the domain's disks. */
  readonly diskPositions: readonly number[];
}

/**
 * Gives the instance's domain up (unmanage): the domain stays defined and persistent on the host,
 * running or not, with vmledger's record removed. A stopped instance's domain that the host does not
 * have is defined from `domain` first (CloudStack reconstructs it from its database). A domain with no
 * record is success (a repeat).
 */
export interface UnmanageDomain extends DomainCommandBase {
  readonly type: 'UnmanageDomain';
  readonly domain: DomainSpec;
}


/** One disk of an external host's domain, to become a volume of the instance on this host. */
export interface RemoteVolumeCopy {
  readonly volumeId: string;
  readonly sourcePath: string;
  /** As the domain's definition says: raw, qcow2, vmdk, … */
  readonly sourceFormat: string;
}

/**
 * Copies the disks of a stopped domain of an external host (behaviour §4.6 `external`,
 * CopyRemoteVolumeCommand) into this host's storage as the instance's volumes, as qcow2, each checked;
 * a failure leaves no file of this command on either host. No domain is defined: the instance's is
 * made at its first start. In the log the password is only `passwordRef` (the secrets port's
 * reference); the message on the bus carries it sealed for this command's id instead.
 */
export interface CopyRemoteVolumes extends DomainCommandBase {
  readonly type: 'CopyRemoteVolumes';
  readonly remote: { readonly host: string; readonly port: number; readonly username: string };
  readonly passwordRef: string | null;
  readonly password?: { readonly keyId: string; readonly box: string } | null;
  /** CloudStack's mode: where the source host converts to. */
  readonly tmpPath: string;
  /** `remote.kvm.instance.disks.copy.timeout` × 60 s, per disk. */
  readonly copyTimeoutMs: number;
  readonly volumes: readonly RemoteVolumeCopy[];
}

// ---- VMware → KVM conversion (issue 17, behaviour §4.7) ----

/** A password as it travels on the bus: sealed for the message's id (adapters/hypervisor/sealed-secret.ts). */
export interface SealedPassword {
  readonly keyId: string;
  readonly box: string;
}

/**
 * Where a VMware guest is read from, by kind: the port that lets a vCenter (or ovftool) source be
 * added later as another kind without touching the workflow. `esxi-ssh`: an ESXi-style host whose
 * datastores (`/vmfs/volumes/<datastore>/<vm>/<vm>.vmx` and its VMDKs) the agent reads over SSH, with
 * the operator's password or, when none is given, the agent's own key.
 */
export interface EsxiSshGuest {
  readonly kind: 'esxi-ssh';
  /** Name or address. */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** The guest's .vmx on that host, as the listing gave it (UnmanagedDomain.vmxPath). */
  readonly vmxPath: string;
}

export type VmwareGuestRef = EsxiSshGuest;

/**
 * Converts a stopped VMware guest on the conversion host (CloudStack's ConvertInstanceCommand): the
 * agent exports the guest (its .vmx and VMDKs, descriptor and extent) into `<tempPath>/<outputName>.export/`,
 * then runs `virt-v2v -i vmx … -o local -os <tempPath> -of qcow2 -on <outputName>`, which writes
 * `<tempPath>/<outputName>-sda…` and `<outputName>.xml` there. The export is removed whatever the
 * outcome; on failure the converted output too. A conversion whose output is all there already is
 * success (a redelivery after the reply was lost). Progress goes out as AgentProgress while it runs.
 * In the log the password is only `passwordRef`; on the bus it is sealed for this command's id.
 */
export interface ConvertVmwareGuest extends DomainCommandBase {
  readonly type: 'ConvertVmwareGuest';
  readonly source: VmwareGuestRef;
  readonly passwordRef: string | null;
  readonly password?: SealedPassword | null;
  /** The temporary location on the conversion host (a directory; NFS when another host imports). */
  readonly tempPath: string;
  /** virt-v2v's `-on`: the converted files' prefix, a UUID the workflow picks. */
  readonly outputName: string;
  /** `convert.vmware.instance.to.kvm.timeout` × 3600 s, for export and conversion together. */
  readonly timeoutMs: number;
  /**
   * Further virt-v2v arguments, already split on spaces and checked against
   * `convert.vmware.instance.to.kvm.extra.params.allowed(.list)` by the orchestrator.
   */
  readonly extraParams: readonly string[];
}

/** One converted disk to become a volume on the import host. */
export interface ConvertedDiskImport {
  readonly volumeId: string;
  /** The converted qcow2 (ConvertedDisk.path), on the temporary location the import host sees. */
  readonly sourcePath: string;
  /** The destination pool's directory; null: the host's own storage. */
  readonly toPath: string | null;
}

/**
 * Moves the converted disks into the destination storage as the instance's volumes (CloudStack's
 * ImportConvertedInstanceCommand, possibly on another host than the conversion), checks each (qemu-img
 * info: qcow2, no backing file, not encrypted or locked — §4.6's checkVolume) and removes what is left
 * of the conversion (`<tempPath>/<outputName>*`). No domain is defined: the instance's is made at its
 * first start. A volume already in place is kept (a redelivery); on failure the volumes this command
 * made are removed and the converted files are left for a retry or the workflow's clean-up.
 * With no disks it only removes what is left of the conversion: that is the workflow's clean-up.
 */
export interface ImportConvertedDisks extends DomainCommandBase {
  readonly type: 'ImportConvertedDisks';
  readonly tempPath: string;
  readonly outputName: string;
  readonly disks: readonly ConvertedDiskImport[];
}

/** A disk virt-v2v wrote, as a succeeded ConvertVmwareGuest reports it. */
export interface ConvertedDisk {
  /** Its position among the source guest's disks (the order of the .vmx's disks, as listed). */
  readonly position: number;
  /** The qcow2 on the temporary location. */
  readonly path: string;
  /** Bytes the guest sees. */
  readonly virtualSize: number;
  readonly format: string;
  /** The bus the generated domain XML gives it (virtio when the guest has the drivers). */
  readonly bus: string;
}

/**
 * What the import step needs from a conversion. MACs are not here: virt-v2v's XML has none, so the
 * workflow re-applies the source's (CloudStack's sanitizeConvertedInstance).
 */
export interface ConvertedGuest {
  readonly disks: readonly ConvertedDisk[];
  /** From the generated XML's `<os>`: UEFI when it has a firmware loader. */
  readonly bootMode: 'BIOS' | 'UEFI';
}

/** A volume a succeeded ImportConvertedDisks made. */
export interface ImportedVolume {
  readonly volumeId: string;
  readonly path: string;
  readonly virtualSize: number;
  readonly format: string;
}

export type AgentCommandType = AgentCommand['type'];

export type AgentCommandOf<K extends AgentCommandType> = Extract<AgentCommand, { readonly type: K }>;

/**
 * A command as a saga asks for it, before its job numbers it. Distributive, so each command type
 * keeps its own fields (a plain Omit of the union would keep only the fields they share).
 */
export type UnnumberedAgentCommand = WithoutCommandId<AgentCommand>;

type WithoutCommandId<C> = C extends AgentCommand ? Omit<C, 'commandId'> : never;

export type AgentReplyError = { readonly message: string; readonly detail?: string };

/** A snapshot the host holds, as a succeeded CreateDomainSnapshot reports it. */
export interface DomainSnapshotInfo {
  readonly name: string;
  /** Bytes the snapshot takes on primary storage: the size CloudStack's VMSNAPSHOT.ON_PRIMARY usage carries. */
  readonly sizeBytes: number;
}

export interface AgentReply {
  readonly type: 'AgentReply';
  readonly commandId: string;
  readonly hostId: string;
  readonly command: AgentCommandType;
  readonly outcome: 'succeeded' | 'failed';
  /** The domain's power state after the command, as the host sees it. */
  readonly powerState: PowerState;
  /** For failures: what went wrong, with the remote command's stderr where there was one. */
  readonly error?: AgentReplyError;
  /** For a succeeded CreateDomainSnapshot: the snapshot taken (or found, on a redelivery). */
  readonly snapshot?: DomainSnapshotInfo;
  /** For a succeeded ConvertVmwareGuest: what it wrote. */
  readonly converted?: ConvertedGuest;
  /** For a succeeded ImportConvertedDisks: the volumes, in the command's order. */
  readonly volumes?: readonly ImportedVolume[];
}

/**
 * How far a long command has got, sent by the agent while it runs (a conversion, a remote copy), on
 * the reply path: the same queue as the command's reply, from the same agent, so every progress
 * message of a command arrives before its reply. Advisory: a lost one changes nothing, and a command
 * run again after an agent crash starts its progress again. Sent only when the integer percent or
 * the step changes.
 */
export interface AgentProgress {
  readonly type: 'AgentProgress';
  readonly commandId: string;
  readonly hostId: string;
  readonly command: AgentCommandType;
  /** The part of the command under way: export, convert (ConvertVmwareGuest), import, copy. */
  readonly stage: ProgressStage;
  /** What it is doing, e.g. virt-v2v's step line "Converting Debian GNU/Linux 12 to run on KVM". */
  readonly step: string;
  /** Of the whole command, 0–100, never lower than the run's previous one. */
  readonly percent: number;
  /** Counts this run's progress messages from 1, so a receiver can tell their order. */
  readonly seq: number;
  readonly at: string;
}

export type ProgressStage = 'export' | 'convert' | 'import' | 'copy';

export const PROGRESS_STAGES: readonly ProgressStage[] = ['export', 'convert', 'import', 'copy'];

/** Out-of-band power states, sent on every change and periodically (CloudStack's power-state sync). */
export interface PowerStateReport {
  readonly type: 'PowerStateReport';
  readonly hostId: string;
  readonly at: string;
  readonly domains: ReadonlyArray<{ readonly instanceName: string; readonly powerState: PowerState }>;
}

/**
 * What a host can do beyond running domains, as its agent finds out. `snapshot.memory`: DiskAndMemory
 * snapshots of a running domain; `snapshot.disk.stopped` / `snapshot.disk.running`: Disk snapshots of
 * a stopped / running domain (the latter needs external snapshots that libvirt < 9.7 cannot revert);
 * `instance.conversion`: the host can convert a foreign instance (virt-v2v).
 */
export type HostCapability = 'snapshot.memory' | 'snapshot.disk.stopped' | 'snapshot.disk.running' | 'instance.conversion';

/** Every capability this protocol knows, in one order (the order heartbeats list them in). */
export const HOST_CAPABILITIES: readonly HostCapability[] = ['snapshot.memory', 'snapshot.disk.stopped', 'snapshot.disk.running', 'instance.conversion'];

export function isHostCapability(value: unknown): value is HostCapability {
  return HOST_CAPABILITIES.some((capability) => capability === value);
}

export interface HostHeartbeat {
  readonly type: 'HostHeartbeat';
  readonly hostId: string;
  readonly at: string;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  readonly capabilities: readonly HostCapability[];
}

export type AgentReport = PowerStateReport | HostHeartbeat;

/** The domain a command is about. */
export function commandInstanceName(command: AgentCommand): string {
  return command.type === 'StartDomain' ? command.domain.instanceName : command.instanceName;
}
