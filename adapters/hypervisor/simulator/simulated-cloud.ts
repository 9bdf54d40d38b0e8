// The simulator hypervisor (CloudStack ships one for the same purpose): hosts with capacity, domains
// with power states, disks and NICs, configurable delays and injected faults. The hosts live in one
// SimulatedCloud so a live migration can hand a domain from one host to another, and their disks live
// on the cloud's shared primary storage, so they outlive stops and migrations as NFS-backed disks do.
import { posix } from 'node:path';
import type { SimulatorOperation } from '../../../domain/host/host.js';
import {
  DriverError,
  missingConverter,
  unsupportedSnapshot,
  type ConvertedDisksImport,
  type ProgressListener,
  type ProgressUpdate,
  type VmwareConversion,
  type DomainDetails,
  type DomainPowerState,
  type DomainRef,
  type DomainSnapshotDetails,
  type DomainSummary,
  type HostInfo,
  type HostResources,
  type HypervisorDriver,
  type PowerStateChange,
  type PowerStateListener,
  type RemoteVolumesCopy,
  type RebootOptions,
  type SnapshotOptions,
  type SnapshotTaken,
  type StopOptions,
} from '../driver.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { DomainSpec, HostCapability, NicSpec, PowerState, VmSnapshotKind, VolumeCopy, VolumeSpec } from '../protocol.js';
import { SnapshotTree } from './snapshot-tree.js';
import type { ConvertedGuest, DiskImageReport, ImportedVolume, RemoteHostLogin, UnmanagedDiskInfo, UnmanagedDomain, UnmanagedNicInfo, VmwareHostRef } from '../../../domain/agent-protocol/index.js';
import { schedule, sleep } from './timers.js';
import { hostOf } from '../vmware/source.js';

/**
 * What a simulated host can do unless told otherwise: every kind of snapshot (a simulated host has no
 * libvirt to be too old), but no conversion, which needs virt-v2v.
 */
export const DEFAULT_SIMULATOR_CAPABILITIES: readonly HostCapability[] = ['snapshot.memory', 'snapshot.disk.stopped', 'snapshot.disk.running'];

export interface SimulatorHostConfig extends HostResources {
  /** Default DEFAULT_SIMULATOR_CAPABILITIES. */
  readonly capabilities?: readonly HostCapability[];
  readonly startDelayMs?: number;
  readonly stopDelayMs?: number;
  /** How long taking, reverting to or deleting a snapshot takes. Default 0. */
  readonly snapshotDelayMs?: number;
  readonly failOn?: readonly SimulatorOperation[];
  /**
   * How long a VMware conversion takes (export and virt-v2v together), told as progress in steps;
   * default 0. Only a host with the `instance.conversion` capability converts.
   */
  readonly conversionDelayMs?: number;
}

/** `starting` and `stopping` hold the host's capacity while their delay runs. */
type Phase = 'stopped' | 'starting' | 'running' | 'stopping';

/**
 * A domain vmledger did not define, as a test or the demo puts it on a simulated host (an operator's
 * `virsh define`): what `listUnmanagedDomains` reports of it, and what an import adopts.
 */
export interface UnmanagedDomainDefinition {
  readonly name: string;
  readonly running: boolean;
  readonly cpuNumber: number;
  /** MHz per core; 0 when the definition does not say. */
  readonly cpuSpeed?: number;
  readonly cpuCoresPerSocket?: number | null;
  /** MiB. */
  readonly memory: number;
  readonly osDisplayName?: string | null;
  readonly disks: ReadonlyArray<{ readonly capacity: number | null; readonly controller?: string; readonly path?: string }>;
  readonly nics: ReadonlyArray<{ readonly mac: string; readonly vlan?: number | null; readonly model?: string; readonly bridge?: string; readonly ip?: string | null }>;
}

/** What a domain without a vmledger record looks like to a listing. */
interface ForeignLook {
  readonly cpuCoresPerSocket: number | null;
  readonly osDisplayName: string | null;
  readonly disks: readonly UnmanagedDiskInfo[];
  readonly nics: readonly UnmanagedNicInfo[];
}

interface SimDomain {
  readonly instanceName: string;
  /** Null for a domain with no vmledger record (defined by somebody else, or unmanaged). */
  instanceId: string | null;
  /** For a domain with no record: its devices as a listing reports them. */
  foreign: ForeignLook | null;
  /** The NICs of the spec it was defined or adopted from. */
  nicSpecs: readonly NicSpec[];
  cpuNumber: number;
  cpuSpeed: number;
  memory: number;
  disks: readonly string[];
  /** Volumes the domain had and no longer attaches: still the instance's, removed with it. */
  readonly formerDisks: readonly string[];
  readonly macs: readonly string[];
  phase: Phase;
  /** Set while a graceful stop waits, so a guest powering off by itself ends the wait. */
  onPoweredOff: (() => void) | null;
  /** Kept across stops, starts and migrations, as libvirt keeps a domain's snapshot metadata; gone with the domain. */
  readonly snapshots: SnapshotTree;
}

/**
 * A host's domains by name, with an index of whose disk each volume is, so that refusing a start
 * that would attach another domain's disk costs a lookup per volume, not a scan of every domain.
 */
class DomainTable {
  private readonly byName = new Map<string, SimDomain>();
  private readonly diskOwners = new Map<string, SimDomain>();

  get(instanceName: string): SimDomain | undefined {
    return this.byName.get(instanceName);
  }

  has(instanceName: string): boolean {
    return this.byName.has(instanceName);
  }

  values(): IterableIterator<SimDomain> {
    return this.byName.values();
  }

  set(instanceName: string, domain: SimDomain): void {
    this.delete(instanceName);
    this.byName.set(instanceName, domain);
    for (const disk of [...domain.disks, ...domain.formerDisks]) this.diskOwners.set(disk, domain);
  }

  delete(instanceName: string): void {
    const domain = this.byName.get(instanceName);
    if (!domain) return;
    this.byName.delete(instanceName);
    for (const disk of [...domain.disks, ...domain.formerDisks]) if (this.diskOwners.get(disk) === domain) this.diskOwners.delete(disk);
  }

  /** The domain that has this volume as a disk (attached or former), if any. */
  ownerOfDisk(volumeId: string): SimDomain | undefined {
    return this.diskOwners.get(volumeId);
  }
}

/** The disks and NICs a listing reports of a domain defined from `definition`. */
function foreignDevices(definition: UnmanagedDomainDefinition): { disks: UnmanagedDiskInfo[]; nics: UnmanagedNicInfo[] } {
  const disks: UnmanagedDiskInfo[] = definition.disks.map((disk, position) => {
    const path = disk.path ?? `/var/lib/libvirt/images/${definition.name}-${position}.qcow2`;
    return {
      diskId: String(position),
      capacity: disk.capacity,
      controller: disk.controller ?? 'virtio',
      controllerUnit: position,
      label: `vd${String.fromCharCode(97 + position)}`,
      imagePath: path,
      position,
      datastoreName: path.slice(0, path.lastIndexOf('/')) || '/',
      // As a definition would say it: the file's extension, qcow2 when it has none vmledger knows.
      format: /\.(raw|vmdk|qcow2)$/.exec(path)?.[1] ?? 'qcow2',
    };
  });
  const nics: UnmanagedNicInfo[] = definition.nics.map((nic, position) => ({
    nicId: String(position),
    macAddress: nic.mac,
    networkName: nic.bridge ?? (nic.vlan ? `br-vlan${nic.vlan}` : 'virbr0'),
    vlanId: nic.vlan ?? null,
    pciSlot: 3 + position,
    adapterType: nic.model ?? 'virtio',
    ipAddress: nic.ip ?? null,
  }));
  return { disks, nics };
}

/**
 * A KVM host vmledger does not manage (behaviour §4.6 `external`), as a test puts it next to the
 * simulated hosts: what an agent's SSH login to it would find.
 */
export interface ExternalHostDefinition {
  readonly port?: number;
  readonly username: string;
  readonly password: string;
  /** Its domains; only the stopped ones are listed. */
  readonly domains: readonly UnmanagedDomainDefinition[];
}

/**
 * A disk image a test or the demo puts on a simulated pool (an operator's `qemu-img create` or copy
 * there), for an import from local or shared storage: what a host's `qemu-img info` would tell.
 */
export interface DiskImageDefinition {
  /** Bytes the guest sees. */
  readonly virtualSize: number;
  /** Default qcow2. */
  readonly format?: string;
  readonly backingFile?: string | null;
  readonly encrypted?: boolean;
  /** A running QEMU holds it. */
  readonly locked?: boolean;
}

/**
 * A VMware (ESXi-style) host as a test puts it next to the simulated hosts: what an agent's SSH login
 * to it finds on its datastores. A running guest is listed PowerOn and refused by a conversion.
 */
export interface VmwareHostDefinition {
  readonly port?: number;
  readonly username: string;
  readonly password: string;
  readonly guests: ReadonlyArray<UnmanagedDomainDefinition & { readonly datastore?: string; readonly guestOs?: string }>;
}

/** The .vmx a simulated VMware guest is at. */
export function simulatedVmxPath(guest: { readonly name: string; readonly datastore?: string }): string {
  return `/vmfs/volumes/${guest.datastore ?? 'datastore1'}/${guest.name}/${guest.name}.vmx`;
}

export class SimulatedCloud {
  private readonly externalHosts = new Map<string, ExternalHostDefinition>();
  /** Disk images on the simulated pools by absolute path; every host sees every pool, as shared storage. */
  private readonly diskImages = new Map<string, DiskImageDefinition>();
  /** The image file an import took in place as a volume's disk, by volume id. */
  private readonly volumePaths = new Map<string, string>();
  private readonly vmwareHosts = new Map<string, VmwareHostDefinition>();
  /** Converted disks in temporary locations, by path: their virtual size. */
  private readonly convertedDisks = new Map<string, number>();
  private readonly hosts = new Map<string, SimulatorDriver>();
  private readonly storage = new Map<string, number>();
  /** The pool directory a volume's disk was copied to by an offline volume migration; absent: where it was created. */
  private readonly locations = new Map<string, string>();
  /** Keys are `hostId/instanceName`; a migration holds both hosts' keys. */
  readonly locks = new KeyedQueue();

  addHost(hostId: string, config: SimulatorHostConfig): SimulatorDriver {
    if (this.hosts.has(hostId)) throw new Error(`simulated host ${hostId} already exists`);
    const driver = new SimulatorDriver(hostId, config, this);
    this.hosts.set(hostId, driver);
    return driver;
  }

  host(hostId: string): SimulatorDriver | undefined {
    return this.hosts.get(hostId);
  }

  /** Puts an external KVM host at `address` (replacing one there). */
  addExternalHost(address: string, definition: ExternalHostDefinition): void {
    this.externalHosts.set(address, definition);
  }

  /**
   * Copies an external host's disks into the simulated storage as the volumes named (their size:
   * the source disk's capacity), after the same login checks as a listing.
   */
  copyRemoteDisks(copy: RemoteVolumesCopy): void {
    const disks = this.remoteDomains(copy.remote, copy.password).flatMap((domain) => domain.disks);
    const found = copy.volumes.map((volume) => {
      const disk = disks.find((candidate) => candidate.imagePath === volume.sourcePath);
      if (!disk) throw new DriverError('REMOTE_COMMAND_FAILED', `Failed to copy volume due to: ${volume.sourcePath} is not a disk of a stopped domain on ${copy.remote.host}`);
      return { volumeId: volume.volumeId, size: disk.capacity ?? 0 };
    });
    for (const { volumeId, size } of found) if (!this.storage.has(volumeId)) this.storage.set(volumeId, size);
  }

  /** What an SSH login to an external host finds, with the same failures a real one gives. */
  remoteDomains(remote: RemoteHostLogin, password: string | null): UnmanagedDomain[] {
    const external = this.externalHosts.get(remote.host);
    if (!external || (external.port ?? 22) !== remote.port) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `Unable to connect to remote host ${remote.host}, please check the SSH connectivity (port ${remote.port}) and the login, and retry: connect ECONNREFUSED`);
    }
    if (external.username !== remote.username || external.password !== password) {
      throw new DriverError(
        'REMOTE_COMMAND_FAILED',
        `Unable to connect to remote host ${remote.host}, please check the SSH connectivity (port ${remote.port}) and the login, and retry: authentication failed (All configured authentication methods failed)`,
      );
    }
    return external.domains
      .filter((definition) => !definition.running)
      .map((definition) => {
        const { disks, nics } = foreignDevices(definition);
        return {
          name: definition.name,
          powerState: 'PowerOff' as const,
          cpuNumber: definition.cpuNumber,
          cpuSpeed: definition.cpuSpeed ?? 0,
          cpuCoresPerSocket: definition.cpuCoresPerSocket ?? null,
          memory: definition.memory,
          osDisplayName: definition.osDisplayName ?? null,
          disks,
          nics,
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Puts a VMware host at `address` (replacing one there). */
  addVmwareHost(address: string, definition: VmwareHostDefinition): void {
    this.vmwareHosts.set(address, definition);
  }

  /** What an SSH login to a VMware host finds, with the same failures a real one gives. */
  vmwareGuests(source: VmwareHostRef, password: string | null): UnmanagedDomain[] {
    const vmware = this.vmwareHosts.get(source.host);
    const refused = `Unable to connect to VMware host ${source.host}, please check the SSH connectivity (port ${source.port}) and the login, and retry`;
    if (!vmware || (vmware.port ?? 22) !== source.port) throw new DriverError('REMOTE_COMMAND_FAILED', `${refused}: connect ECONNREFUSED`);
    if (vmware.username !== source.username || vmware.password !== password) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `${refused}: All configured authentication methods failed`);
    }
    return vmware.guests
      .map((guest) => {
        const vmxPath = simulatedVmxPath(guest);
        const dir = vmxPath.slice(0, vmxPath.lastIndexOf('/'));
        const { nics } = foreignDevices(guest);
        const disks: UnmanagedDiskInfo[] = guest.disks.map((disk, position) => ({
          diskId: String(position),
          capacity: disk.capacity,
          controller: disk.controller ?? 'scsi',
          controllerUnit: position,
          label: `${disk.controller ?? 'scsi'}0:${position}`,
          imagePath: disk.path ?? `${dir}/${guest.name}${position === 0 ? '' : `_${position}`}.vmdk`,
          position,
          datastoreName: guest.datastore ?? 'datastore1',
          format: 'vmdk',
        }));
        return {
          name: guest.name,
          powerState: guest.running ? ('PowerOn' as const) : ('PowerOff' as const),
          cpuNumber: guest.cpuNumber,
          cpuSpeed: guest.cpuSpeed ?? 0,
          cpuCoresPerSocket: guest.cpuCoresPerSocket ?? null,
          memory: guest.memory,
          osDisplayName: guest.guestOs ?? guest.osDisplayName ?? null,
          disks,
          nics: nics.map((nic) => ({ ...nic, vlanId: null, pciSlot: null, adapterType: nic.adapterType === 'virtio' ? 'vmxnet3' : nic.adapterType })),
          vmxPath,
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Converted disks a conversion left in a temporary location (tests check nothing is left behind). */
  convertedDiskPaths(): string[] {
    return [...this.convertedDisks.keys()].sort();
  }

  putConvertedDisk(path: string, size: number): void {
    this.convertedDisks.set(path, size);
  }

  /** The converted disk's size, taken out of the temporary location; undefined when it is not there. */
  takeConvertedDisk(path: string): number | undefined {
    const size = this.convertedDisks.get(path);
    this.convertedDisks.delete(path);
    return size;
  }

  removeConvertedDisks(prefix: string): void {
    for (const path of [...this.convertedDisks.keys()]) if (path.startsWith(prefix)) this.convertedDisks.delete(path);
  }

  /** Bytes, or undefined when the volume has no disk on primary storage. */
  diskSize(volumeId: string): number | undefined {
    return this.storage.get(volumeId);
  }

  /** Where a domain is defined, for tests that check a migration left no copy behind. */
  locate(instanceName: string): Array<{ hostId: string; powerState: DomainPowerState }> {
    const found: Array<{ hostId: string; powerState: DomainPowerState }> = [];
    for (const [hostId, driver] of this.hosts) {
      const state = driver.powerStateOf(instanceName);
      if (state !== 'missing') found.push({ hostId, powerState: state });
    }
    return found;
  }

  /** Puts a disk image at `path` (absolute: a pool's directory and the image's path in it). */
  addDiskImage(path: string, definition: DiskImageDefinition): void {
    this.diskImages.set(path, definition);
  }

  diskImage(path: string): DiskImageDefinition | undefined {
    return this.diskImages.get(path);
  }

  removeDiskImage(path: string): void {
    this.diskImages.delete(path);
  }

  /** The image file a volume's disk is, when an import took it in place. */
  volumePath(volumeId: string): string | undefined {
    return this.volumePaths.get(volumeId);
  }

  /**
   * Existing disks keep their data, as a restarted instance keeps its root disk. A volume imported in
   * place is its image file, which must be there: it is attached, never created.
   */
  ensureDisk(volume: VolumeSpec): void {
    if (volume.path !== undefined) {
      const image = this.diskImages.get(volume.path);
      if (!image) throw new DriverError('NOT_FOUND', `the disk image ${volume.path} of volume ${volume.volumeId} is not on its pool`);
      this.volumePaths.set(volume.volumeId, volume.path);
      if (!this.storage.has(volume.volumeId)) this.storage.set(volume.volumeId, image.virtualSize);
      return;
    }
    if (volume.imported && !this.storage.has(volume.volumeId)) throw new DriverError('NOT_FOUND', `the imported disk of volume ${volume.volumeId} is not on primary storage`);
    if (!this.storage.has(volume.volumeId)) this.storage.set(volume.volumeId, volume.size);
  }

  /** The volume's disk goes, and with it the image file an import took in place. */
  removeDisk(volumeId: string): void {
    this.storage.delete(volumeId);
    this.locations.delete(volumeId);
    const path = this.volumePaths.get(volumeId);
    if (path !== undefined) this.diskImages.delete(path);
    this.volumePaths.delete(volumeId);
  }

  /** The pool directory the volume's disk was moved to, or undefined for one never moved. */
  diskLocation(volumeId: string): string | undefined {
    return this.locations.get(volumeId);
  }

  /** The copy in `toPath` replaces the disk (in memory, the copy and the removal of the original are one step). */
  moveDisk(volumeId: string, toPath: string): void {
    this.locations.set(volumeId, toPath);
  }
}

function requireCount(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

const visible = (phase: Phase): DomainPowerState => (phase === 'running' || phase === 'stopping' ? 'running' : 'stopped');

/** One simulated host. Create it through `SimulatedCloud.addHost`. */
export class SimulatorDriver implements HypervisorDriver {
  private info: HostInfo;
  private startDelayMs: number;
  private stopDelayMs: number;
  private snapshotDelayMs: number;
  private conversionDelayMs: number;
  private failOn: ReadonlySet<SimulatorOperation>;
  private readonly domains = new DomainTable();
  private readonly listeners = new Set<PowerStateListener>();
  private readonly ignoringShutdown = new Set<string>();

  constructor(
    readonly hostId: string,
    config: SimulatorHostConfig,
    private readonly cloud: SimulatedCloud,
  ) {
    this.info = {
      cpuNumber: requireCount(config.cpuNumber, 'cpuNumber', 1),
      cpuSpeed: requireCount(config.cpuSpeed, 'cpuSpeed', 1),
      memory: requireCount(config.memory, 'memory', 1),
      capabilities: [...(config.capabilities ?? DEFAULT_SIMULATOR_CAPABILITIES)],
    };
    this.startDelayMs = requireCount(config.startDelayMs ?? 0, 'startDelayMs', 0);
    this.stopDelayMs = requireCount(config.stopDelayMs ?? 0, 'stopDelayMs', 0);
    this.snapshotDelayMs = requireCount(config.snapshotDelayMs ?? 0, 'snapshotDelayMs', 0);
    this.conversionDelayMs = requireCount(config.conversionDelayMs ?? 0, 'conversionDelayMs', 0);
    this.failOn = new Set(config.failOn ?? []);
  }

  // ---- test and operator hooks ----

  /** Changes the injected faults of later operations; running ones are not affected. */
  setFaults(failOn: readonly SimulatorOperation[]): void {
    this.failOn = new Set(failOn);
  }

  setDelays(delays: { startDelayMs?: number; stopDelayMs?: number; snapshotDelayMs?: number; conversionDelayMs?: number }): void {
    if (delays.startDelayMs !== undefined) this.startDelayMs = requireCount(delays.startDelayMs, 'startDelayMs', 0);
    if (delays.stopDelayMs !== undefined) this.stopDelayMs = requireCount(delays.stopDelayMs, 'stopDelayMs', 0);
    if (delays.snapshotDelayMs !== undefined) this.snapshotDelayMs = requireCount(delays.snapshotDelayMs, 'snapshotDelayMs', 0);
    if (delays.conversionDelayMs !== undefined) this.conversionDelayMs = requireCount(delays.conversionDelayMs, 'conversionDelayMs', 0);
  }

  /**
   * What the host can do from now on (virt-v2v installed on it, or removed): hosts added through the
   * API start with the defaults. Its next heartbeat reports it; until then the control plane's view
   * may differ, as a real host's may.
   */
  setCapabilities(capabilities: readonly HostCapability[]): void {
    this.info = { ...this.info, capabilities: [...capabilities] };
  }

  /** The guest of that name ignores ACPI shutdown requests (a hung or ACPI-less guest), until told otherwise. */
  ignoreShutdown(instanceName: string, ignore = true): void {
    if (ignore) this.ignoringShutdown.add(instanceName);
    else this.ignoringShutdown.delete(instanceName);
  }

  /** The guest shuts itself down: nobody asked the driver, so the power-state listeners hear of it. */
  powerOffFromInside(instanceName: string): void {
    const domain = this.domains.get(instanceName);
    if (!domain) throw new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on host ${this.hostId}`);
    if (visible(domain.phase) !== 'running') {
      throw new DriverError('NOT_RUNNING', `domain ${instanceName} is not running on host ${this.hostId}`);
    }
    domain.phase = 'stopped';
    domain.onPoweredOff?.();
    this.emit({ instanceName, powerState: 'stopped' });
  }

  /** Capacity held by running and transitioning domains. */
  allocated(): { cpuMhz: number; memory: number } {
    let cpuMhz = 0;
    let memory = 0;
    for (const domain of this.domains.values()) {
      if (domain.phase === 'stopped') continue;
      cpuMhz += domain.cpuNumber * domain.cpuSpeed;
      memory += domain.memory;
    }
    return { cpuMhz, memory };
  }

  powerStateOf(instanceName: string): PowerState {
    const domain = this.domains.get(instanceName);
    return domain ? visible(domain.phase) : 'missing';
  }

  // ---- the port ----

  async hostInfo(): Promise<HostInfo> {
    return { ...this.info, capabilities: [...this.info.capabilities] };
  }

  async startDomain(spec: DomainSpec): Promise<PowerState> {
    this.fault('START');
    return this.locked<PowerState>([this.key(spec.instanceName)], async () => {
      const existing = this.owned(spec);
      if (existing?.phase === 'running') return 'running';
      this.requireFit(spec.instanceName, spec, existing);
      this.requireDisksFree(spec);
      const defined = this.define(spec, 'starting', existing);
      // As libvirt's agent does at a start: the disks of volumes the domain no longer attaches (a root
      // a restore replaced, or an image an import took in place for it) are removed.
      for (const volumeId of defined.formerDisks) this.cloud.removeDisk(volumeId);
      const domain: SimDomain = { ...defined, formerDisks: [] };
      this.domains.set(spec.instanceName, domain);
      await sleep(this.startDelayMs);
      domain.phase = 'running';
      return 'running';
    });
  }

  /**
   * A domain the host runs already: a real host keeps its domains across a restart of the control
   * plane, the simulator keeps none, so the control plane hands them back. Running at once: no boot
   * delay, no injected fault, whatever the books say of its capacity.
   */
  adoptDomain(spec: DomainSpec): void {
    if (!this.domains.has(spec.instanceName)) this.define(spec, 'running');
  }

  private define(spec: DomainSpec, phase: SimDomain['phase'], previous?: SimDomain): SimDomain {
    for (const volume of spec.volumes) this.cloud.ensureDisk(volume);
    const attached = new Set(spec.volumes.map((volume) => volume.volumeId));
    const domain: SimDomain = {
      instanceName: spec.instanceName,
      instanceId: spec.instanceId,
      foreign: null,
      nicSpecs: spec.nics,
      cpuNumber: spec.cpuNumber,
      cpuSpeed: spec.cpuSpeed,
      memory: spec.memory,
      disks: spec.volumes.map((volume) => volume.volumeId),
      formerDisks: previous ? [...previous.disks, ...previous.formerDisks].filter((id) => !attached.has(id)) : [],
      macs: spec.nics.map((nic) => nic.mac),
      phase,
      onPoweredOff: null,
      snapshots: previous?.snapshots ?? new SnapshotTree(),
    };
    this.domains.set(spec.instanceName, domain);
    return domain;
  }

  async stopDomain(ref: DomainRef, options: StopOptions): Promise<PowerState> {
    this.fault('STOP');
    const { instanceName } = ref;
    return this.locked<PowerState>([this.key(instanceName)], async () => {
      const domain = this.owned(ref);
      if (!domain) return 'missing';
      if (domain.phase === 'stopped') return 'stopped';
      if (options.forced) {
        domain.phase = 'stopped';
        return 'stopped';
      }
      domain.phase = 'stopping';
      if (!(await this.shutdown(domain, options.timeoutMs))) {
        domain.phase = 'running';
        throw new DriverError(
          'TIMEOUT',
          `domain ${instanceName} did not shut down within ${options.timeoutMs} ms on host ${this.hostId}`,
          this.ignoringShutdown.has(instanceName) ? 'the guest ignores ACPI shutdown' : `shutdown takes ${this.stopDelayMs} ms`,
        );
      }
      domain.phase = 'stopped';
      return 'stopped';
    });
  }

  async rebootDomain(ref: DomainRef, options: RebootOptions): Promise<PowerState> {
    this.fault('REBOOT');
    const { instanceName } = ref;
    return this.locked<PowerState>([this.key(instanceName)], async () => {
      this.owned(ref);
      const domain = this.requireRunning(instanceName);
      // The domain stays running throughout, as libvirt shows a rebooting guest.
      await sleep(options.forced ? this.startDelayMs : this.stopDelayMs + this.startDelayMs);
      if (this.domains.get(instanceName) !== domain || domain.phase !== 'running') {
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${instanceName} powered off during the reboot`);
      }
      return 'running';
    });
  }

  async migrateDomain(ref: DomainRef, targetHostId: string): Promise<PowerState> {
    this.fault('MIGRATE');
    const { instanceName } = ref;
    const target = this.cloud.host(targetHostId);
    if (!target) throw new DriverError('NOT_FOUND', `target host ${targetHostId} is not known`);
    if (target === this) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `cannot migrate ${instanceName} to the host it is on (${targetHostId})`);
    }
    return this.locked<PowerState>([this.key(instanceName), target.key(instanceName)], async () => {
      const domain = this.owned(ref);
      // A repeated command finds the migration already done.
      if (!domain && target.domains.get(instanceName)?.phase === 'running') return 'running';
      const running = this.requireRunning(instanceName);
      const previous = target.domains.get(instanceName);
      if (previous && previous.phase !== 'stopped') {
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${instanceName} already runs on target host ${targetHostId}`);
      }
      target.requireFit(instanceName, running, previous);
      const copy: SimDomain = { ...running, phase: 'starting', onPoweredOff: null };
      target.domains.set(instanceName, copy);
      await sleep(this.startDelayMs);
      if (this.domains.get(instanceName) !== running || running.phase !== 'running') {
        if (previous) target.domains.set(instanceName, previous);
        else target.domains.delete(instanceName);
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${instanceName} powered off during the migration`);
      }
      this.domains.delete(instanceName);
      copy.phase = 'running';
      return 'running';
    });
  }

  async destroyDomain(ref: DomainRef, volumes: readonly VolumeSpec[]): Promise<void> {
    await this.locked([this.key(ref.instanceName)], async () => {
      const domain = this.owned(ref);
      if (!domain) {
        // Never started: a disk an import put here (copied, or an image taken in place) is the
        // instance's all the same, and goes with it unless a domain here attaches it.
        for (const volume of volumes) {
          if (volume.path !== undefined) {
            if (this.usersOf(volume.path).length === 0) this.cloud.removeDiskImage(volume.path);
          } else if (volume.imported && !this.domains.ownerOfDisk(volume.volumeId)) {
            this.cloud.removeDisk(volume.volumeId);
          }
        }
        return;
      }
      this.domains.delete(ref.instanceName);
      const recorded = new Set([...domain.disks, ...domain.formerDisks]);
      for (const volume of volumes) if (recorded.has(volume.volumeId)) this.cloud.removeDisk(volume.volumeId);
      // And the disks of volumes it no longer attaches, which no volume list names any more (libvirt's too).
      for (const volumeId of domain.formerDisks) this.cloud.removeDisk(volumeId);
    });
  }

  async copyVolumes(ref: DomainRef, volumes: readonly VolumeCopy[]): Promise<PowerState> {
    this.fault('MIGRATE');
    const { instanceName } = ref;
    return this.locked<PowerState>([this.key(instanceName)], async () => {
      const domain = this.owned(ref);
      if (!domain) throw new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on host ${this.hostId}`);
      if (domain.phase !== 'stopped') {
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${instanceName} on host ${this.hostId} is ${visible(domain.phase)}; its volumes are copied only while it is stopped`);
      }
      const disks = new Set([...domain.disks, ...domain.formerDisks]);
      for (const volume of volumes) {
        if (!disks.has(volume.volumeId)) throw new DriverError('NOT_OWNED', `volume ${volume.volumeId} is not a disk of domain ${instanceName} on host ${this.hostId}`);
        if (this.cloud.diskSize(volume.volumeId) === undefined) throw new DriverError('NOT_FOUND', `volume ${volume.volumeId} has no disk on primary storage`);
      }
      for (const volume of volumes) this.cloud.moveDisk(volume.volumeId, volume.toPath);
      return 'stopped';
    });
  }

  async scaleDomain(ref: DomainRef, cpuNumber: number, cpuSpeed: number, memory: number): Promise<PowerState> {
    const { instanceName } = ref;
    return this.locked<PowerState>([this.key(instanceName)], async () => {
      const domain = this.owned(ref);
      if (!domain) throw new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on host ${this.hostId}`);
      const wanted = { cpuNumber, cpuSpeed, memory };
      if (domain.phase !== 'stopped') this.requireFit(instanceName, wanted, domain);
      Object.assign(domain, wanted);
      return visible(domain.phase);
    });
  }

  async createDomainSnapshot(ref: DomainRef, snapshotName: string, options: SnapshotOptions): Promise<SnapshotTaken> {
    this.fault('SNAPSHOT');
    return this.locked<SnapshotTaken>([this.key(ref.instanceName)], async () => {
      const domain = this.requireDefined(ref);
      const powerState = visible(domain.phase);
      // A redelivered command: the snapshot was taken by its first run.
      const existing = domain.snapshots.get(snapshotName);
      if (existing) return { powerState, snapshot: { name: existing.name, sizeBytes: existing.sizeBytes } };
      this.requireSnapshotSupported(ref.instanceName, options.kind, powerState);
      await sleep(this.snapshotDelayMs);
      if (this.domains.get(ref.instanceName) !== domain || visible(domain.phase) !== powerState) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${ref.instanceName} changed power state while its snapshot ${snapshotName} was taken`);
      }
      // What qemu stores for a memory snapshot is the guest's RAM; a disk-only internal snapshot shares
      // the image's clusters until they are written, so it takes nothing yet.
      const sizeBytes = options.kind === 'DiskAndMemory' ? domain.memory * 1024 * 1024 : 0;
      const { cpuNumber, cpuSpeed, memory } = domain;
      domain.snapshots.add({ name: snapshotName, kind: options.kind, sizeBytes, description: options.description, image: { cpuNumber, cpuSpeed, memory } });
      return { powerState, snapshot: { name: snapshotName, sizeBytes } };
    });
  }

  async revertDomainSnapshot(ref: DomainRef, snapshotName: string, kind: VmSnapshotKind): Promise<PowerState> {
    this.fault('SNAPSHOT');
    return this.locked<PowerState>([this.key(ref.instanceName)], async () => {
      const domain = this.requireDefined(ref);
      const snapshot = domain.snapshots.get(snapshotName);
      if (!snapshot) throw new DriverError('NOT_FOUND', `domain ${ref.instanceName} has no snapshot ${snapshotName} on host ${this.hostId}`);
      if (snapshot.kind !== kind) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `snapshot ${snapshotName} of ${ref.instanceName} is a ${snapshot.kind} snapshot, not ${kind}`);
      }
      // The domain comes back as it was: running from the saved memory, or shut off with the disks.
      const running = kind === 'DiskAndMemory';
      if (running) this.requireFit(ref.instanceName, snapshot.image, domain);
      await sleep(this.snapshotDelayMs);
      if (this.domains.get(ref.instanceName) !== domain) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${ref.instanceName} went away while it was reverted to ${snapshotName}`);
      }
      Object.assign(domain, snapshot.image);
      domain.phase = running ? 'running' : 'stopped';
      domain.snapshots.revertTo(snapshotName);
      return visible(domain.phase);
    });
  }

  /**
   * Defines a domain vmledger does not manage (a test's or the demo's `virsh define`), running or not;
   * its disks are files outside vmledger's volumes. Replaces one of that name that has no record.
   */
  addUnmanagedDomain(definition: UnmanagedDomainDefinition): void {
    const existing = this.domains.get(definition.name);
    if (existing?.instanceId) throw new Error(`domain ${definition.name} on host ${this.hostId} is instance ${existing.instanceId}'s`);
    const { disks, nics } = foreignDevices(definition);
    this.domains.set(definition.name, {
      instanceName: definition.name,
      instanceId: null,
      foreign: { cpuCoresPerSocket: definition.cpuCoresPerSocket ?? null, osDisplayName: definition.osDisplayName ?? null, disks, nics },
      nicSpecs: [],
      cpuNumber: definition.cpuNumber,
      cpuSpeed: definition.cpuSpeed ?? 0,
      memory: definition.memory,
      disks: [],
      formerDisks: [],
      snapshots: new SnapshotTree(),
      macs: nics.map((nic) => nic.macAddress),
      phase: definition.running ? 'running' : 'stopped',
      onPoweredOff: null,
    });
  }

  async listUnmanagedDomains(name: string | null): Promise<UnmanagedDomain[]> {
    if (name !== null) {
      const domain = this.domains.get(name);
      if (!domain) throw new DriverError('NOT_FOUND', `VM ${name} not found on host ${this.hostId}`);
      if (domain.instanceId !== null) throw new DriverError('NOT_OWNED', `VM ${name} on host ${this.hostId} is already managed`);
      return [this.unmanagedView(domain)];
    }
    return [...this.domains.values()]
      .filter((domain) => domain.instanceId === null)
      .map((domain) => this.unmanagedView(domain))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async listRemoteDomains(remote: RemoteHostLogin, password: string | null): Promise<UnmanagedDomain[]> {
    return this.cloud.remoteDomains(remote, password);
  }

  async inspectDiskImage(poolPath: string, diskPath: string): Promise<DiskImageReport> {
    const path = posix.join(poolPath, diskPath);
    const image = this.cloud.diskImage(path);
    return {
      path,
      exists: image !== undefined,
      outsideStorage: false,
      format: image ? (image.format ?? 'qcow2') : null,
      virtualSize: image ? image.virtualSize : null,
      backingFile: image?.backingFile ?? null,
      encrypted: image?.encrypted ?? false,
      locked: image?.locked ?? false,
      usedBy: this.usersOf(path),
      // The simulator keeps its volumes' disks and templates off the pools' files.
      vmledgerFile: false,
    };
  }

  /** The domains here whose definitions attach the file: an unmanaged one's disk, or a volume imported in place. */
  private usersOf(path: string): string[] {
    return [...this.domains.values()]
      .filter((domain) => domain.foreign?.disks.some((disk) => disk.imagePath === path) || domain.disks.some((volumeId) => this.cloud.volumePath(volumeId) === path))
      .map((domain) => domain.instanceName)
      .sort();
  }

  // ---- VMware → KVM (issue 17) ----

  async listVmwareGuests(source: VmwareHostRef, password: string | null): Promise<UnmanagedDomain[]> {
    return this.cloud.vmwareGuests(source, password);
  }

  /** The steps a real conversion reports (adapters/hypervisor/libvirt/virt-v2v-output.ts), in simulated time. */
  private static readonly CONVERSION_STEPS: ReadonlyArray<readonly [ProgressUpdate['stage'], string, number]> = [
    ['export', 'Exporting', 0],
    ['export', 'Exported', 20],
    ['convert', 'Opening the source', 22],
    ['convert', 'Inspecting the source', 40],
    ['convert', 'Converting the guest to run on KVM', 46],
    ['convert', 'Copying disk 1/1', 86],
    ['convert', 'Converted', 100],
  ];

  async convertVmwareGuest(domain: DomainRef, conversion: VmwareConversion, progress: ProgressListener): Promise<ConvertedGuest> {
    return this.locked([this.key(domain.instanceName)], async () => {
      if (!this.info.capabilities.includes('instance.conversion')) throw new DriverError('UNSUPPORTED', missingConverter(this.hostId));
      const { source } = conversion;
      const guest = this.cloud.vmwareGuests(hostOf(source), conversion.password).find((candidate) => candidate.vmxPath === source.vmxPath);
      if (!guest) throw new DriverError('REMOTE_COMMAND_FAILED', `Cannot find VM ${source.vmxPath} on VMware host ${source.host}`);
      if (guest.powerState === 'PowerOn') throw new DriverError('REMOTE_COMMAND_FAILED', `VM ${guest.name} might be on standalone host and is Running, cannot be imported. Please shut it down before attempting the import`);
      const steps = SimulatorDriver.CONVERSION_STEPS;
      for (const [stage, step, percent] of steps) {
        progress({ stage, step: step === 'Exporting' ? `Exporting ${guest.name} from ${source.host}` : step, percent });
        if (percent < 100) await sleep(this.conversionDelayMs / (steps.length - 1));
      }
      const dir = conversion.tempPath.replace(/\/+$/, '');
      const disks = guest.disks.map((disk, position) => {
        const path = `${dir}/${conversion.outputName}-sd${String.fromCharCode(97 + position)}`;
        this.cloud.putConvertedDisk(path, disk.capacity ?? 0);
        return { position, path, virtualSize: disk.capacity ?? 0, format: 'qcow2', bus: 'virtio' };
      });
      return { disks, bootMode: 'BIOS' as const };
    });
  }

  async importConvertedDisks(domain: DomainRef, conversion: ConvertedDisksImport, progress: ProgressListener): Promise<ImportedVolume[]> {
    return this.locked([this.key(domain.instanceName)], async () => {
      // A clean-up (no disks) imports nothing: a domain of that name must not keep the files there.
      if (conversion.disks.length > 0 && this.domains.get(domain.instanceName)) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `The import process failed for instance ${domain.instanceName}: a domain of that name is already defined on host ${this.hostId}`);
      }
      const imported: ImportedVolume[] = [];
      for (const [i, disk] of conversion.disks.entries()) {
        progress({ stage: 'import', step: `Importing disk ${i + 1}/${conversion.disks.length}`, percent: (100 * i) / conversion.disks.length });
        const path = `${disk.toPath ?? '/var/lib/libvirt/images'}/${disk.volumeId}.qcow2`;
        const there = this.cloud.diskSize(disk.volumeId);
        if (there !== undefined) {
          imported.push({ volumeId: disk.volumeId, path, virtualSize: there, format: 'qcow2' });
          continue;
        }
        const size = this.cloud.takeConvertedDisk(disk.sourcePath);
        if (size === undefined) throw new DriverError('NOT_FOUND', `The import process failed on host ${this.hostId}: the converted disk ${disk.sourcePath} is not there`);
        this.cloud.ensureDisk({ volumeId: disk.volumeId, type: i === 0 ? 'ROOT' : 'DATADISK', size, templateId: null });
        if (disk.toPath !== null) this.cloud.moveDisk(disk.volumeId, disk.toPath);
        imported.push({ volumeId: disk.volumeId, path, virtualSize: size, format: 'qcow2' });
      }
      this.cloud.removeConvertedDisks(`${conversion.tempPath.replace(/\/+$/, '')}/${conversion.outputName}-`);
      progress({ stage: 'import', step: 'Imported', percent: 100 });
      return imported;
    });
  }

  async copyRemoteVolumes(domain: DomainRef, copy: RemoteVolumesCopy, progress: ProgressListener = () => undefined): Promise<PowerState> {
    if (this.domains.get(domain.instanceName)) throw new DriverError('REMOTE_COMMAND_FAILED', `Failed to copy volume due to: a domain named ${domain.instanceName} is already defined on host ${this.hostId}`);
    copy.volumes.forEach((_, i) => progress({ stage: 'copy', step: `Copying disk ${i + 1}/${copy.volumes.length}`, percent: (100 * i) / copy.volumes.length }));
    this.cloud.copyRemoteDisks(copy);
    progress({ stage: 'copy', step: 'Copied', percent: 100 });
    return 'missing';
  }

  async manageDomain(spec: DomainSpec, diskPositions: readonly number[]): Promise<PowerState> {
    return this.locked<PowerState>([this.key(spec.instanceName)], async () => {
      const domain = this.domains.get(spec.instanceName);
      if (!domain) throw new DriverError('NOT_FOUND', `domain ${spec.instanceName} is not defined on host ${this.hostId}`);
      if (domain.instanceId === spec.instanceId) return visible(domain.phase);
      if (domain.instanceId !== null || !domain.foreign) {
        throw new DriverError('NOT_OWNED', `domain ${spec.instanceName} on host ${this.hostId} is managed already`, `it is instance ${domain.instanceId}'s`);
      }
      const disks = domain.foreign.disks;
      spec.volumes.forEach((volume, i) => {
        const disk = disks[diskPositions[i] ?? -1];
        if (!disk) throw new DriverError('NOT_FOUND', `domain ${spec.instanceName} has no disk at position ${diskPositions[i]} for volume ${volume.volumeId}`);
        this.cloud.ensureDisk({ ...volume, size: disk.capacity ?? volume.size });
      });
      domain.instanceId = spec.instanceId;
      domain.foreign = null;
      domain.nicSpecs = spec.nics;
      domain.cpuSpeed = spec.cpuSpeed;
      this.domains.set(spec.instanceName, { ...domain, disks: spec.volumes.map((volume) => volume.volumeId) });
      return visible(domain.phase);
    });
  }

  async deleteDomainSnapshot(ref: DomainRef, snapshotName: string): Promise<PowerState> {
    this.fault('SNAPSHOT');
    return this.locked<PowerState>([this.key(ref.instanceName)], async () => {
      const domain = this.owned(ref);
      // Gone with its domain, or deleted by an earlier run of this command: either way there is none.
      if (!domain) return 'missing';
      if (domain.snapshots.get(snapshotName)) {
        await sleep(this.snapshotDelayMs);
        domain.snapshots.delete(snapshotName);
      }
      return visible(domain.phase);
    });
  }

  async unmanageDomain(spec: DomainSpec): Promise<PowerState> {
    return this.locked<PowerState>([this.key(spec.instanceName)], async () => {
      const domain = this.domains.get(spec.instanceName) ?? this.define(spec, 'stopped');
      if (domain.instanceId === null) return visible(domain.phase);
      if (domain.instanceId !== spec.instanceId) {
        throw new DriverError('NOT_OWNED', `domain ${spec.instanceName} on host ${this.hostId} is not instance ${spec.instanceId}'s`, `it is instance ${domain.instanceId}'s`);
      }
      const disks: UnmanagedDiskInfo[] = domain.disks.map((volumeId, position) => ({
        diskId: String(position),
        capacity: this.cloud.diskSize(volumeId) ?? null,
        controller: 'virtio',
        controllerUnit: position,
        label: `vd${String.fromCharCode(97 + position)}`,
        imagePath: `/var/lib/libvirt/images/${volumeId}.qcow2`,
        position,
        datastoreName: '/var/lib/libvirt/images',
      }));
      const nics: UnmanagedNicInfo[] = domain.nicSpecs.map((nic, position) => ({
        nicId: String(position),
        macAddress: nic.mac,
        networkName: nic.vlan ? `br-vlan${nic.vlan}` : 'virbr0',
        vlanId: nic.vlan,
        pciSlot: 3 + position,
        adapterType: 'virtio',
        ipAddress: nic.ip,
      }));
      domain.instanceId = null;
      domain.foreign = { cpuCoresPerSocket: null, osDisplayName: null, disks, nics };
      // The disks are no longer vmledger's volumes: they stay where they are, the domain's own files.
      this.domains.set(spec.instanceName, { ...domain, disks: [] });
      return visible(domain.phase);
    });
  }

  async listDomainSnapshots(instanceName: string): Promise<DomainSnapshotDetails[]> {
    return this.domains.get(instanceName)?.snapshots.list() ?? [];
  }

  private unmanagedView(domain: SimDomain): UnmanagedDomain {
    const foreign = domain.foreign ?? { cpuCoresPerSocket: null, osDisplayName: null, disks: [], nics: [] };
    return {
      name: domain.instanceName,
      powerState: visible(domain.phase) === 'running' ? 'PowerOn' : 'PowerOff',
      cpuNumber: domain.cpuNumber,
      cpuSpeed: domain.cpuSpeed,
      cpuCoresPerSocket: foreign.cpuCoresPerSocket,
      memory: domain.memory,
      osDisplayName: foreign.osDisplayName,
      disks: foreign.disks,
      nics: foreign.nics,
    };
  }

  async listDomains(): Promise<DomainSummary[]> {
    return [...this.domains.values()]
      .map((domain) => ({ instanceName: domain.instanceName, powerState: visible(domain.phase) }))
      .sort((a, b) => (a.instanceName < b.instanceName ? -1 : a.instanceName > b.instanceName ? 1 : 0));
  }

  async describeDomain(instanceName: string): Promise<DomainDetails | null> {
    const domain = this.domains.get(instanceName);
    if (!domain) return null;
    return {
      instanceName,
      powerState: visible(domain.phase),
      cpuNumber: domain.cpuNumber,
      cpuSpeed: domain.cpuSpeed,
      memory: domain.memory,
      disks: domain.disks.map((volumeId) => ({ volumeId, size: this.cloud.diskSize(volumeId) ?? 0 })),
      macs: [...domain.macs],
    };
  }

  onPowerStateChange(listener: PowerStateListener): () => void {
    // A wrapper, so the same function subscribed twice is two subscriptions with separate unsubscribes.
    const entry: PowerStateListener = (change) => listener(change);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  // ---- internals ----

  private key(instanceName: string): string {
    return `${this.hostId}/${instanceName}`;
  }

  private locked<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    return this.cloud.locks.run(keys, task);
  }

  private fault(operation: SimulatorOperation): void {
    if (this.failOn.has(operation)) {
      throw new DriverError('INJECTED_FAULT', `simulated ${operation} failure on host ${this.hostId}`, `failOn includes ${operation}`);
    }
  }

  /** The domain of that name when it is the instance's; undefined when the host does not know it. */
  private owned(ref: DomainRef): SimDomain | undefined {
    const domain = this.domains.get(ref.instanceName);
    if (domain && domain.instanceId !== ref.instanceId) {
      throw new DriverError('NOT_OWNED', `domain ${ref.instanceName} on host ${this.hostId} is not instance ${ref.instanceId}'s`, `it is instance ${domain.instanceId}'s`);
    }
    return domain;
  }

  /** No volume of the spec may be another instance's domain's disk on this host. */
  private requireDisksFree(spec: DomainSpec): void {
    for (const volume of spec.volumes) {
      const other = this.domains.ownerOfDisk(volume.volumeId);
      if (other && other.instanceId !== spec.instanceId) {
        throw new DriverError('NOT_OWNED', `volume ${volume.volumeId} of instance ${spec.instanceId} is a disk of another domain on host ${this.hostId}`, `domain ${other.instanceName} has it`);
      }
    }
  }

  private requireDefined(ref: DomainRef): SimDomain {
    const domain = this.owned(ref);
    if (!domain) throw new DriverError('NOT_FOUND', `domain ${ref.instanceName} is not defined on host ${this.hostId}`);
    return domain;
  }

  /**
   * What this host can snapshot, by its capabilities: memory only of a running domain (a stopped one
   * has none to save), disks of a running domain only where the host could revert such a snapshot.
   */
  private requireSnapshotSupported(instanceName: string, kind: VmSnapshotKind, powerState: DomainPowerState): void {
    if (kind === 'DiskAndMemory' && powerState !== 'running') {
      throw new DriverError('NOT_RUNNING', `a snapshot with memory needs a running domain; ${instanceName} is stopped on host ${this.hostId}`);
    }
    const needed: HostCapability = kind === 'DiskAndMemory' ? 'snapshot.memory' : powerState === 'running' ? 'snapshot.disk.running' : 'snapshot.disk.stopped';
    if (this.info.capabilities.includes(needed)) return;
    throw new DriverError('UNSUPPORTED', unsupportedSnapshot(instanceName, kind, powerState, this.hostId));
  }

  private requireRunning(instanceName: string): SimDomain {
    const domain = this.domains.get(instanceName);
    if (!domain) throw new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on host ${this.hostId}`);
    if (domain.phase !== 'running') throw new DriverError('NOT_RUNNING', `domain ${instanceName} is not running on host ${this.hostId}`);
    return domain;
  }

  /** CloudStack's host capacity check: cores, core speed, and the MHz and MiB left by the other domains. */
  private requireFit(
    instanceName: string,
    wanted: { readonly cpuNumber: number; readonly cpuSpeed: number; readonly memory: number },
    replacing: SimDomain | undefined,
  ): void {
    const { cpuNumber, cpuSpeed, memory } = this.info;
    const used = this.allocated();
    if (replacing && replacing.phase !== 'stopped') {
      used.cpuMhz -= replacing.cpuNumber * replacing.cpuSpeed;
      used.memory -= replacing.memory;
    }
    const freeMhz = cpuNumber * cpuSpeed - used.cpuMhz;
    const freeMemory = memory - used.memory;
    const needMhz = wanted.cpuNumber * wanted.cpuSpeed;
    if (wanted.cpuNumber > cpuNumber || wanted.cpuSpeed > cpuSpeed || needMhz > freeMhz || wanted.memory > freeMemory) {
      throw new DriverError(
        'INSUFFICIENT_CAPACITY',
        `host ${this.hostId} cannot fit ${instanceName}: it needs ${wanted.cpuNumber} × ${wanted.cpuSpeed} MHz and ${wanted.memory} MiB`,
        `host has ${cpuNumber} × ${cpuSpeed} MHz, ${freeMhz} MHz and ${freeMemory} MiB free`,
      );
    }
  }

  /** Resolves true once the guest is off, false when `timeoutMs` passes first. */
  private shutdown(domain: SimDomain, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      let cancel: () => void = () => {};
      const finish = (done: boolean): void => {
        cancel();
        domain.onPoweredOff = null;
        resolve(done);
      };
      domain.onPoweredOff = () => finish(true);
      const takesMs = this.ignoringShutdown.has(domain.instanceName) ? Number.POSITIVE_INFINITY : this.stopDelayMs;
      cancel = takesMs <= timeoutMs ? schedule(takesMs, () => finish(true)) : schedule(timeoutMs, () => finish(false));
    });
  }

  private emit(change: PowerStateChange): void {
    const failures: unknown[] = [];
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        failures.push(error);
      }
    }
    // Every listener hears of the change before a failing one is reported.
    if (failures.length > 0) throw new AggregateError(failures, 'a power-state listener failed');
  }
}
