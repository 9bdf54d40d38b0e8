// The HypervisorDriver for a KVM/QEMU host reached over SSH: `virsh` against the host's system
// libvirtd for domains, `qemu-img` for disks. The host is the only record: every operation reads the
// domain's state there first and acts from what it finds, so running one twice (a command redelivered
// after an agent crash) ends in the same state, and an agent restart loses nothing.
import { posix } from 'node:path';
import {
  DriverError,
  unsupportedSnapshot,
  type DomainDetails,
  type DomainRef,
  type DomainSnapshotDetails,
  type DomainSummary,
  type HostInfo,
  type HostResources,
  type HypervisorDriver,
  type PowerStateListener,
  type RebootOptions,
  type RemoteVolumesCopy,
  type SnapshotOptions,
  type SnapshotTaken,
  type StopOptions,
  type ConvertedDisksImport,
  type ProgressListener,
  type VmwareConversion,
} from '../driver.js';
import { hostOf, openVmwareSource, VmwareSourceError, type VmwareCredential } from '../vmware/index.js';
import { canConvert, convertVmwareGuest, importConvertedDisks } from './vmware-conversion.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { DomainSpec, HostCapability, PowerState, VmSnapshotKind, VolumeCopy, VolumeSpec } from '../protocol.js';
import { LineSplitter } from '../../ssh/line-splitter.js';
import { SshConnection } from '../../ssh/ssh-connection.js';
import type { LibvirtHostConfig } from './config.js';
import { DiskImages } from './disk-images.js';
import { metadataFragment, recordedVolumeIds, VMLEDGER_METADATA_NAMESPACE, VMLEDGER_METADATA_PREFIX } from './domain-metadata.js';
import { unmanagedDomainOf } from './unmanaged-domains.js';
import { listRemoteStoppedDomains } from './remote-domains.js';
import { copyRemoteDiskPartially, nameCopy, removePartialCopies } from './remote-disk-copy.js';
import { inspectDiskImage, isInside } from './disk-image-inspection.js';
import { renderXml } from './xml-writer.js';
import type { ConvertedGuest, DiskImageReport, ImportedVolume, RemoteHostLogin, UnmanagedDomain, VmwareHostRef } from '../../../domain/agent-protocol/index.js';
import { diskPathsOf, domainDetails, parseDomainXml, specOf, type DefinedDomain, type OwnedDomain } from './domain-definition.js';
import { buildDomainXml, cpuShares, DomainSpecError, type DomainPlacement } from './domain-xml.js';
import { HostCommands, VIRSH } from './host-commands.js';
import { PowerStateWatch, type EventStream } from './power-state-watch.js';
import { isSnapshotNotFound, memorySnapshotXml, parseSnapshotInfo, parseSnapshotNames, snapshotStateSize, type SnapshotInfo } from './snapshots.js';
import {
  parseBlockInfo,
  parseDomainList,
  parseDomainState,
  parseLifecycleEvent,
  parseNodeInfo,
  type LifecycleEvent,
} from './virsh-output.js';

/** How this host reaches another one to live-migrate a domain there. */
export interface MigrationPeer {
  /** The target's libvirtd, as libvirt on this host connects to it (e.g. qemu+ssh://…/system). */
  readonly migrationUri: string;
  /** The target address QEMU sends the migration stream to (and the target listens on). */
  readonly migrationAddress: string;
}

export interface LibvirtDriverOptions {
  readonly config: LibvirtHostConfig;
  /**
   * The SSH connection to the host. Without one the driver opens its own from `config` and closes it
   * in `close()`; a given one stays the caller's to close.
   */
  readonly connection?: SshConnection;
  /** The other hosts a domain can be migrated to, by host id; undefined for an unknown host. */
  readonly peers: (hostId: string) => MigrationPeer | undefined;
  /** How often all power states are read besides libvirt's events. Default 3 s. */
  readonly powerStatePollIntervalMs?: number;
  /** How often a graceful stop looks whether the guest is off yet. Default 250 ms. */
  readonly shutdownPollIntervalMs?: number;
  /** How long a live migration may take. Default 30 minutes. */
  readonly migrationTimeoutMs?: number;
  /** Problems in the background (the power-state watch) that have no caller; default: ignored. */
  readonly onBackgroundError?: (error: unknown) => void;
  /** The VNC consoles' password, read from the host's vncPasswordFile; never logged. */
  readonly vncPassword?: string;
}

/**
 * The snapshots this driver takes: internal qcow2 ones, of a running domain with its memory and of a
 * stopped one disk-only, as CloudStack's KVM agent does. Never a disk-only snapshot of a running
 * domain: that takes an external snapshot, which libvirt before 9.7 cannot revert (and this driver
 * does not take external snapshots on any version).
 */
const SNAPSHOT_CAPABILITIES: readonly HostCapability[] = ['snapshot.memory', 'snapshot.disk.stopped'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An IPv6 literal goes in brackets inside a URI. */
function uriHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

export class LibvirtDriver implements HypervisorDriver {
  readonly hostId: string;
  private readonly config: LibvirtHostConfig;
  private readonly connection: SshConnection;
  private readonly ownsConnection: boolean;
  private readonly commands: HostCommands;
  private readonly disks: DiskImages;
  private readonly peers: LibvirtDriverOptions['peers'];
  /** Operations on one domain run one after another; different domains go on in parallel. */
  private readonly locks = new KeyedQueue();
  private readonly watch: PowerStateWatch;
  private readonly shutdownPollIntervalMs: number;
  private readonly migrationTimeoutMs: number;
  private readonly vncPassword: string | undefined;
  /** The host's cores and memory bound the domains' scaling limits; read once, they do not change. */
  private resources: Promise<HostResources> | null = null;

  constructor(options: LibvirtDriverOptions) {
    this.config = options.config;
    this.hostId = options.config.hostId;
    this.peers = options.peers;
    this.ownsConnection = options.connection === undefined;
    this.connection =
      options.connection ??
      new SshConnection({
        host: this.config.address,
        port: this.config.sshPort,
        username: this.config.username,
        hostKeySha256: this.config.hostKeySha256,
        ...(this.config.password === undefined ? {} : { password: this.config.password }),
        ...(this.config.privateKeyPath === undefined ? {} : { privateKeyPath: this.config.privateKeyPath }),
      });
    this.commands = new HostCommands(this.connection, this.hostId);
    this.disks = new DiskImages(this.commands, this.config.storagePath);
    this.shutdownPollIntervalMs = options.shutdownPollIntervalMs ?? 250;
    this.migrationTimeoutMs = options.migrationTimeoutMs ?? 30 * 60_000;
    this.vncPassword = options.vncPassword;
    const onError = options.onBackgroundError ?? (() => {});
    this.watch = new PowerStateWatch(
      { list: () => this.listed(), events: (onEvent) => this.lifecycleEvents(onEvent) },
      { pollIntervalMs: options.powerStatePollIntervalMs ?? 3_000, restartDelayMs: 1_000, onError },
    );
  }

  /** Stops the power-state watch and, when the driver opened it, the SSH connection. */
  async close(): Promise<void> {
    this.watch.close();
    if (this.ownsConnection) await this.connection.close();
  }

  async hostInfo(): Promise<HostInfo> {
    const [nodeInfo, converter] = await Promise.all([
      this.commands.virsh(['nodeinfo'], 'reading the host resources'),
      // virt-v2v as configured, and nbdkit, which it needs on Debian/Ubuntu (CloudStack checks both).
      canConvert(this.commands, this.config.conversion),
    ]);
    const resources = parseNodeInfo(nodeInfo);
    this.resources = Promise.resolve(resources);
    return { ...resources, capabilities: [...SNAPSHOT_CAPABILITIES, ...(converter ? (['instance.conversion'] as const) : [])] };
  }

  async startDomain(spec: DomainSpec): Promise<PowerState> {
    const name = spec.instanceName;
    return this.changing(name, async () => {
      const defined = await this.owned(spec);
      const state = defined ? await this.stateOf(name) : 'missing';
      if (state === 'running') return 'running';
      const host = await this.hostResources();
      this.requireFit(name, spec.cpuNumber, spec.cpuSpeed, spec.memory, host);
      // A domain defined here already (stopped) keeps its disks where they are: after a migration they
      // may be under the source host's mount of the shared storage.
      const existing = diskPathsOf(state === 'stopped' ? defined : null);
      const adoptedPaths = new Map(defined?.record.adoptedPaths ?? []);
      // A disk image an import took in place is the volume's file from its first start on, recorded
      // as adopted so every later command finds it; it must lie in storage this agent serves.
      for (const volume of spec.volumes) {
        if (volume.path !== undefined && !adoptedPaths.has(volume.volumeId)) adoptedPaths.set(volume.volumeId, this.servedImagePath(volume.volumeId, volume.path));
      }
      const diskPaths = new Map(spec.volumes.map((volume) => [volume.volumeId, this.diskPath(volume.volumeId, existing.get(volume.volumeId) ?? adoptedPaths.get(volume.volumeId), adoptedPaths)]));
      const recorded = defined ? recordedVolumeIds(defined.record) : new Set<string>();
      await this.requireDisksFree(spec, diskPaths, recorded);
      // Disks the instance no longer attaches (a root replaced by a restore or a volatile reset: the
      // orchestrator has deleted those volumes) stay recorded as its own until they are removed below;
      // one already removed is forgotten, so the record does not grow with every reset.
      const former = await this.formerDisks(recorded, diskPaths, recorded, adoptedPaths);
      const formerVolumeIds = [...former.keys()];
      const xml = this.domainXml(spec, host, { diskPaths, formerVolumeIds, adoptedPaths, ...(defined ? { uuid: defined.uuid } : {}) });
      // Defined (again, when it exists: a changed offering or disk list takes effect now) before its
      // disks are made, so every disk it gets is recorded as the instance's from the start and
      // whatever a crash leaves behind, the instance's destruction finds and removes.
      await this.commands.virsh(['define', '/dev/stdin'], `defining domain ${name}`, { stdin: xml });
      const created: string[] = [];
      try {
        for (const volume of spec.volumes) {
          const path = diskPaths.get(volume.volumeId)!;
          // An imported disk (copied here, or an image taken in place) is attached, never made: a
          // missing one is an error, not a blank disk.
          if (volume.path !== undefined || volume.imported) {
            if (!(await this.disks.exists(path))) throw new DriverError('NOT_FOUND', `the disk image ${path} of volume ${volume.volumeId} is not on libvirt host ${this.hostId}`);
            continue;
          }
          if (await this.disks.ensure(volume, path)) created.push(path);
        }
      } catch (error) {
        // A new domain that cannot have its disks is taken back, with the disks made for it.
        if (!defined) {
          await this.disks.remove(created).catch(() => undefined);
          await this.commands.virshResult(['undefine', '--domain', name], `undefining domain ${name}`).catch(() => undefined);
        }
        throw error;
      }
      await this.disks.remove([...former.values()]);
      const started = await this.commands.virshResult(['start', '--domain', name], `starting domain ${name}`);
      if (started.exitCode !== 0 && !/already (running|active)/i.test(started.stderr)) {
        throw this.commands.failure(`starting domain ${name}`, started);
      }
      return 'running';
    });
  }

  async stopDomain(domain: DomainRef, options: StopOptions): Promise<PowerState> {
    const { instanceName } = domain;
    return this.changing(instanceName, async () => {
      if (!(await this.owned(domain))) return 'missing';
      const state = await this.stateOf(instanceName);
      if (state !== 'running') return state;
      if (options.forced) {
        await this.destroy(instanceName);
        return 'stopped';
      }
      const asked = await this.commands.virshResult(['shutdown', '--domain', instanceName], `shutting down domain ${instanceName}`);
      if (asked.exitCode !== 0) {
        const failure = this.commands.failure(`shutting down domain ${instanceName}`, asked);
        // It went off (or away) between the read and the request: it is not running, as asked.
        if (failure.code === 'NOT_RUNNING') return 'stopped';
        if (failure.code === 'NOT_FOUND') return 'missing';
        throw failure;
      }
      const deadline = Date.now() + options.timeoutMs;
      for (;;) {
        const now = await this.stateOf(instanceName);
        if (now !== 'running') return now;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new DriverError(
            'TIMEOUT',
            `domain ${instanceName} did not shut down within ${options.timeoutMs} ms on libvirt host ${this.hostId}`,
            'the guest has not acted on the ACPI power-button request; it is still running',
          );
        }
        await sleep(Math.min(this.shutdownPollIntervalMs, left));
      }
    });
  }

  async rebootDomain(domain: DomainRef, options: RebootOptions): Promise<PowerState> {
    const { instanceName } = domain;
    return this.changing(instanceName, async () => {
      if (!(await this.owned(domain))) throw this.notDefined(instanceName);
      await this.requireRunning(instanceName);
      // `reboot` asks the guest (ACPI); `reset` is the reset button.
      const verb = options.forced ? 'reset' : 'reboot';
      await this.commands.virsh([verb, '--domain', instanceName], `${options.forced ? 'resetting' : 'rebooting'} domain ${instanceName}`);
      return 'running';
    });
  }

  async migrateDomain(domain: DomainRef, targetHostId: string): Promise<PowerState> {
    const { instanceName } = domain;
    if (targetHostId === this.hostId) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `cannot migrate domain ${instanceName} to the libvirt host it is on (${targetHostId})`);
    }
    const peer = this.peers(targetHostId);
    if (!peer) throw new DriverError('NOT_FOUND', `migration target ${targetHostId} is not a known libvirt host`);
    // Whatever happens, the domain is then not here (or a failure settles what is found).
    return this.changing(
      instanceName,
      async () => {
        const state = (await this.owned(domain)) ? await this.stateOf(instanceName) : 'missing';
        if (state === 'missing') {
          // A repeated command: the migration is done if the domain runs on the target. Asked through
          // the same libvirt connection the migration itself uses, so no other credentials are needed.
          if ((await this.peerState(peer, instanceName)) === 'running') return 'running';
          throw new DriverError('NOT_FOUND', `domain ${instanceName} is neither on libvirt host ${this.hostId} nor running on ${targetHostId}`);
        }
        if (state === 'stopped') throw this.notRunning(instanceName);
        // libvirt refuses to migrate a domain with snapshot metadata. Carrying it over (dump, delete
        // the metadata, migrate, redefine on the target) leaves a crash in between with snapshots
        // nobody can list or revert; the orchestrator refuses such a migration first anyway.
        const snapshots = await this.commands.virsh(['snapshot-list', '--domain', instanceName, '--name'], `listing the snapshots of domain ${instanceName}`);
        if (parseSnapshotNames(snapshots).length > 0) {
          throw new DriverError('UNSUPPORTED', `cannot migrate domain ${instanceName}: instance has VM snapshots; delete them before migrating`);
        }
        const address = uriHost(peer.migrationAddress);
        await this.commands.virsh(
          [
            'migrate',
            '--live',
            '--persistent',
            '--undefinesource',
            // The disks stay where they are: the storage path is shared storage, reachable from both hosts.
            '--unsafe',
            '--domain',
            instanceName,
            '--desturi',
            peer.migrationUri,
            '--migrateuri',
            `tcp://${address}`,
            '--listen-address',
            peer.migrationAddress,
          ],
          `migrating domain ${instanceName} to ${targetHostId}`,
          { timeoutMs: this.migrationTimeoutMs },
        );
        return 'running';
      },
      () => 'missing',
    );
  }

  // ---- VM snapshots: internal qcow2 snapshots, as CloudStack's KVM agent takes them ----

  async createDomainSnapshot(domain: DomainRef, snapshotName: string, options: SnapshotOptions): Promise<SnapshotTaken> {
    const { instanceName } = domain;
    // A snapshot pauses the guest for a moment but leaves its power state as it was.
    return this.locks.run([instanceName], async () => {
      const defined = await this.owned(domain);
      if (!defined) throw this.notDefined(instanceName);
      const state = await this.stateOf(instanceName);
      if (state === 'missing') throw this.notDefined(instanceName);
      // A redelivered command: its first run took the snapshot.
      if ((await this.snapshotInfo(instanceName, snapshotName)) === null) {
        const what = `taking snapshot ${snapshotName} of domain ${instanceName}`;
        if (options.kind === 'DiskAndMemory') {
          if (state !== 'running') {
            throw new DriverError('NOT_RUNNING', `a snapshot with memory needs a running domain; ${instanceName} is stopped on libvirt host ${this.hostId}`);
          }
          // CloudStack's LibvirtCreateVMSnapshotCommandWrapper: the memory saved inside the qcow2. The
          // guest is paused while it is written, so quiescing its file systems adds nothing.
          await this.commands.virsh(['snapshot-create', '--domain', instanceName, '--xmlfile', '/dev/stdin'], what, {
            stdin: memorySnapshotXml(snapshotName, options.description),
          });
        } else {
          // An internal disk-only snapshot of a running domain is refused by QEMU, and an external one
          // cannot be reverted before libvirt 9.7: refused here, before anything is taken.
          if (state === 'running') throw new DriverError('UNSUPPORTED', unsupportedSnapshot(instanceName, 'Disk', 'running', this.hostId));
          await this.commands.virsh(
            // `--description=…` in one word: a description that starts with `--` cannot read as an option.
            ['snapshot-create-as', '--domain', instanceName, '--name', snapshotName, ...(options.description === null ? [] : [`--description=${options.description}`])],
            what,
          );
        }
      }
      return { powerState: state, snapshot: { name: snapshotName, sizeBytes: await this.snapshotSize(defined, snapshotName) } };
    });
  }

  async revertDomainSnapshot(domain: DomainRef, snapshotName: string, kind: VmSnapshotKind): Promise<PowerState> {
    const { instanceName } = domain;
    return this.changing(instanceName, async () => {
      if (!(await this.owned(domain))) throw this.notDefined(instanceName);
      const snapshot = await this.snapshotInfo(instanceName, snapshotName);
      if (snapshot === null) throw new DriverError('NOT_FOUND', `domain ${instanceName} has no snapshot ${snapshotName} on libvirt host ${this.hostId}`);
      if (snapshot.kind !== kind) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `snapshot ${snapshotName} of ${instanceName} is a ${snapshot.kind} snapshot, not ${kind}`);
      }
      // The domain ends as the snapshot has it: running from its memory, or shut off with its disks.
      await this.commands.virsh(['snapshot-revert', '--domain', instanceName, '--snapshotname', snapshotName], `reverting domain ${instanceName} to snapshot ${snapshotName}`);
      return this.stateOf(instanceName);
    });
  }

  async deleteDomainSnapshot(domain: DomainRef, snapshotName: string): Promise<PowerState> {
    const { instanceName } = domain;
    return this.locks.run([instanceName], async () => {
      // A domain that is gone took its snapshots' metadata with it (undefine --snapshots-metadata),
      // and its disks are the destroy's business.
      if (!(await this.owned(domain))) return 'missing';
      const what = `deleting snapshot ${snapshotName} of domain ${instanceName}`;
      // Only this snapshot: its children move to its parent, and when it was current its parent is
      // current now (libvirt does what CloudStack's database does). QEMU deletes an internal snapshot
      // of a running domain itself, so the guest is not suspended around it as CloudStack does.
      const result = await this.commands.virshResult(['snapshot-delete', '--domain', instanceName, '--snapshotname', snapshotName], what);
      if (result.exitCode !== 0 && !isSnapshotNotFound(result.stderr)) throw this.commands.failure(what, result);
      return this.stateOf(instanceName);
    });
  }

  async listDomainSnapshots(instanceName: string): Promise<DomainSnapshotDetails[]> {
    const what = `listing the snapshots of domain ${instanceName}`;
    const result = await this.commands.virshResult(['snapshot-list', '--domain', instanceName, '--name'], what);
    if (result.exitCode !== 0) {
      const failure = this.commands.failure(what, result);
      if (failure.code === 'NOT_FOUND') return [];
      throw failure;
    }
    const found: SnapshotInfo[] = [];
    for (const name of parseSnapshotNames(result.stdout).sort()) {
      const info = await this.snapshotInfo(instanceName, name);
      if (info) found.push(info);
    }
    return found;
  }

  /** The snapshot as libvirt has it, or null when the domain has none of that name. */
  private async snapshotInfo(instanceName: string, snapshotName: string): Promise<SnapshotInfo | null> {
    const what = `reading snapshot ${snapshotName} of domain ${instanceName}`;
    const result = await this.commands.virshResult(['snapshot-info', '--domain', instanceName, '--snapshotname', snapshotName], what);
    if (result.exitCode !== 0) {
      if (isSnapshotNotFound(result.stderr)) return null;
      throw this.commands.failure(what, result);
    }
    try {
      return parseSnapshotInfo(result.stdout);
    } catch (error) {
      throw this.unreadable(`snapshot ${snapshotName} of domain ${instanceName}`, error);
    }
  }

  /**
   * What the snapshot takes on primary storage, for VMSNAPSHOT.ON_PRIMARY: the VM state qemu stored
   * for it in the domain's disks (qemu-img info's vm-state-size; `-U`, as QEMU holds the images of a
   * running domain). A disk-only internal snapshot has none. The same on every run, so a redelivered
   * command reports the size the first one did.
   */
  private async snapshotSize(domain: OwnedDomain, snapshotName: string): Promise<number> {
    let total = 0;
    for (const path of diskPathsOf(domain).values()) {
      const what = `reading the snapshots in disk ${path}`;
      const json = await this.commands.run(['qemu-img', 'info', '-U', '--output=json', '--', path], what, { code: 'REMOTE_COMMAND_FAILED' });
      try {
        total += snapshotStateSize(json, snapshotName) ?? 0;
      } catch (error) {
        throw this.unreadable(`the snapshots in disk ${path}`, error);
      }
    }
    return total;
  }

  async destroyDomain(domain: DomainRef, volumes: readonly VolumeSpec[]): Promise<void> {
    const { instanceName } = domain;
    await this.changing(
      instanceName,
      async () => {
        // Read first: after a migration the disk files may live under another host's storage path.
        const defined = await this.owned(domain);
        // A domain the host does not know leaves nothing here that is provably the instance's, but for
        // the disks an import put here before the instance ever started (copied from another host or
        // converted: its own `<volumeId>.qcow2`; or an image taken in place): the orchestrator's
        // signed command names them, and they go as any volume does (CloudStack deletes an imported
        // volume on expunge), unless a domain here attaches them. Deleting what is already gone is
        // nothing, so a command run again after a restart finishes the job.
        if (!defined) {
          const images: string[] = [];
          for (const volume of volumes) {
            if (volume.path !== undefined) images.push(this.servedImagePath(volume.volumeId, volume.path));
            else if (volume.imported) images.push(...(await this.ownDiskFiles(volume.volumeId)));
          }
          if (images.length > 0) {
            const users = await this.domainsUsing(images, instanceName);
            if (users.length > 0) throw new DriverError('NOT_OWNED', `the disk images of instance ${domain.instanceId} on libvirt host ${this.hostId} are attached by domain ${users.join(', ')}: they are left alone`);
            await this.disks.remove(images);
          }
          return 'missing' as const;
        }
        // Only disks the record says are the instance's, each checked before anything is done.
        const recorded = recordedVolumeIds(defined.record);
        const used = diskPathsOf(defined);
        // A root disk always goes with its domain: the list names the instance's root of now, while the
        // definition may still attach one a restore replaced without starting the domain since.
        const roots = defined.record.volumes.filter((volume) => volume.type === 'ROOT').map((volume) => volume.volumeId);
        const ids = new Set([...volumes.map((volume) => volume.volumeId).filter((id) => recorded.has(id)), ...roots]);
        const doomed = [...ids].map((id) => this.diskPath(id, used.get(id), defined.record.adoptedPaths));
        // And the disks of volumes it no longer attaches, which no volume list names any more.
        doomed.push(...(await this.formerDisks(defined.record.formerVolumeIds, used, new Set(defined.record.formerVolumeIds), defined.record.adoptedPaths)).values());
        await this.destroy(instanceName);
        // The disks go before the definition: a crash in between leaves the record that proves them
        // the instance's, and the repeated command finds it.
        await this.disks.remove(doomed);
        const gone = await this.commands.virshResult(
          ['undefine', '--managed-save', '--snapshots-metadata', '--checkpoints-metadata', '--nvram', '--domain', instanceName],
          `undefining domain ${instanceName}`,
        );
        if (gone.exitCode !== 0) {
          const failure = this.commands.failure(`undefining domain ${instanceName}`, gone);
          if (failure.code !== 'NOT_FOUND') throw failure;
        }
        return 'missing' as const;
      },
      () => 'missing',
    );
  }

  async scaleDomain(domain: DomainRef, cpuNumber: number, cpuSpeed: number, memory: number): Promise<PowerState> {
    const { instanceName } = domain;
    return this.changing(instanceName, async () => {
      const stored = await this.owned(domain);
      const state = stored ? await this.stateOf(instanceName) : 'missing';
      if (!stored || state === 'missing') throw this.notDefined(instanceName);
      const host = await this.hostResources();
      const scaled: DomainSpec = { ...specOf(stored), cpuNumber, cpuSpeed, memory };
      const xml = this.domainXml(scaled, host, { diskPaths: diskPathsOf(stored), formerVolumeIds: stored.record.formerVolumeIds, adoptedPaths: stored.record.adoptedPaths, uuid: stored.uuid });
      if (state === 'running') {
        this.requireFit(instanceName, cpuNumber, cpuSpeed, memory, host);
        await this.scaleLive(instanceName, cpuNumber, cpuSpeed, memory);
      }
      // The definition (what the domain gets at its next start) with the new resources and MHz; a
      // stopped domain also gets new scaling limits this way.
      await this.commands.virsh(['define', '/dev/stdin'], `redefining domain ${instanceName}`, { stdin: xml });
      return state;
    });
  }

  /**
   * An offline volume migration: each disk is copied with `qemu-img convert` into the new pool's
   * directory (one of the host's storage paths), the domain is redefined on the copies, and only
   * then are the originals removed, so a crash leaves the domain on one complete set of disks.
   */
  async copyVolumes(domain: DomainRef, volumes: readonly VolumeCopy[]): Promise<PowerState> {
    const { instanceName } = domain;
    return this.changing(instanceName, async () => {
      const stored = await this.owned(domain);
      const state = stored ? await this.stateOf(instanceName) : 'missing';
      if (!stored || state === 'missing') throw this.notDefined(instanceName);
      if (state !== 'stopped') {
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${instanceName} on libvirt host ${this.hostId} is ${state}; its volumes are copied only while it is stopped`);
      }
      const diskPaths = new Map(diskPathsOf(stored));
      const originals: string[] = [];
      for (const volume of volumes) {
        const from = diskPaths.get(volume.volumeId);
        if (from === undefined) throw new DriverError('NOT_OWNED', `volume ${volume.volumeId} is not a disk of domain ${instanceName} on libvirt host ${this.hostId}`);
        const to = this.diskPath(volume.volumeId, posix.join(volume.toPath, `${volume.volumeId}.qcow2`));
        if (from === to) continue;
        // A copy finished before a crash is kept; a half-made one never has the final name.
        if (!(await this.disks.exists(to))) await this.disks.copy(from, to, `copying volume ${volume.volumeId} to ${volume.toPath}`);
        diskPaths.set(volume.volumeId, to);
        originals.push(from);
      }
      if (originals.length === 0) return 'stopped';
      const host = await this.hostResources();
      // A copied volume's disk is vmledger's own file now; the others (a former one too) keep the file an import adopted.
      const moved = new Set(volumes.map((volume) => volume.volumeId));
      const adoptedPaths = new Map([...stored.record.adoptedPaths].filter(([volumeId]) => !moved.has(volumeId)));
      const xml = this.domainXml(specOf(stored), host, { diskPaths, formerVolumeIds: stored.record.formerVolumeIds, adoptedPaths });
      await this.commands.virsh(['define', '/dev/stdin'], `redefining domain ${instanceName} on its copied disks`, { stdin: xml });
      await this.disks.remove(originals);
      return 'stopped';
    });
  }

  async listDomains(): Promise<DomainSummary[]> {
    return this.listed();
  }

  // ---- import and unmanage (issue 16) ----

  async listUnmanagedDomains(name: string | null): Promise<UnmanagedDomain[]> {
    const listed = await this.listed();
    const wanted = name === null ? listed : listed.filter((domain) => domain.instanceName === name);
    if (name !== null && wanted.length === 0) throw new DriverError('NOT_FOUND', `VM ${name} not found on libvirt host ${this.hostId}`);
    const found: UnmanagedDomain[] = [];
    for (const { instanceName, powerState } of wanted) {
      const read = await this.unmanagedView(instanceName, powerState);
      if (read === 'gone') continue;
      if (read === null) {
        if (name !== null) throw new DriverError('NOT_OWNED', `VM ${name} on libvirt host ${this.hostId} is already managed`);
        continue;
      }
      found.push(read);
    }
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async listRemoteDomains(remote: RemoteHostLogin, password: string | null): Promise<UnmanagedDomain[]> {
    if (password !== null) return listRemoteStoppedDomains(remote, { password });
    if (this.config.privateKeyPath === undefined) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `Unable to connect to remote host ${remote.host}: no password given, and the agent has no key for host ${this.hostId} to log in with`);
    }
    return listRemoteStoppedDomains(remote, { privateKeyPath: this.config.privateKeyPath });
  }

  // ---- VMware → KVM (issue 17): vmware-conversion.ts ----

  /** The operator's password, else this driver's own key for its host. */
  private vmwareCredential(host: string, password: string | null): VmwareCredential {
    if (password !== null) return { password };
    if (this.config.privateKeyPath === undefined) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `Unable to connect to VMware host ${host}: no password given, and the agent has no key for host ${this.hostId} to log in with`);
    }
    return { privateKeyPath: this.config.privateKeyPath };
  }

  async listVmwareGuests(source: VmwareHostRef, password: string | null): Promise<UnmanagedDomain[]> {
    const vmware = openVmwareSource(source, this.vmwareCredential(source.host, password));
    try {
      return await vmware.listGuests();
    } catch (error) {
      if (error instanceof VmwareSourceError) throw new DriverError('REMOTE_COMMAND_FAILED', error.message, error.detail);
      throw error;
    } finally {
      await vmware.close();
    }
  }

  // Under the instance's lock (no domain changes, so the power-state watch is not told).
  async convertVmwareGuest(domain: DomainRef, conversion: VmwareConversion, progress: ProgressListener): Promise<ConvertedGuest> {
    return this.locks.run([domain.instanceName], async () => {
      const source = openVmwareSource(hostOf(conversion.source), this.vmwareCredential(conversion.source.host, conversion.password));
      try {
        return await convertVmwareGuest({ commands: this.commands, hostId: this.hostId, config: this.config.conversion, source }, conversion, progress);
      } finally {
        await source.close();
      }
    });
  }

  async importConvertedDisks(domain: DomainRef, conversion: ConvertedDisksImport, progress: ProgressListener): Promise<ImportedVolume[]> {
    return this.locks.run([domain.instanceName], async () => {
      // The instance's domain is defined here at its first start: a domain of that name would block it.
      // A clean-up (no disks) imports nothing, so such a domain must not keep the files there.
      if (conversion.disks.length > 0 && (await this.stateOf(domain.instanceName)) !== 'missing') {
        throw new DriverError('REMOTE_COMMAND_FAILED', `The import process failed for instance ${domain.instanceName}: a domain of that name is already defined on libvirt host ${this.hostId}`);
      }
      return importConvertedDisks(this.commands, this.hostId, this.config.storagePath, conversion, progress);
    });
  }

  async copyRemoteVolumes(domain: DomainRef, copy: RemoteVolumesCopy, progress: ProgressListener = () => undefined): Promise<PowerState> {
    return this.changing(domain.instanceName, async () => {
      if (copy.password === null) throw new DriverError('REMOTE_COMMAND_FAILED', `Failed to copy volume due to: no password for ${copy.remote.username}@${copy.remote.host}`);
      // The instance's domain is defined here at its first start: a domain of that name would block it.
      if ((await this.stateOf(domain.instanceName)) !== 'missing') {
        throw new DriverError('REMOTE_COMMAND_FAILED', `Failed to copy volume due to: a domain named ${domain.instanceName} is already defined on libvirt host ${this.hostId}`);
      }
      const targets = copy.volumes.map((volume) => ({ volume, to: this.disks.pathOf(volume.volumeId) }));
      // What a run of this command cut short left (its leash did not fire: a connection that hung).
      await removePartialCopies(this.commands, targets.map((target) => target.to));
      const made: Array<{ partialPath: string; to: string }> = [];
      try {
        for (const [i, { volume, to }] of targets.entries()) {
          const step = `Copying disk ${i + 1}/${copy.volumes.length}`;
          const share = 100 / copy.volumes.length;
          progress({ stage: 'copy', step, percent: i * share });
          // Copies named by a run that died before it answered are kept (a copy is named only once
          // every disk of the import is there and checked).
          if (await this.disks.exists(to)) continue;
          const copied = await copyRemoteDiskPartially(
            this.commands,
            {
              remote: copy.remote,
              password: copy.password,
              sourcePath: volume.sourcePath,
              sourceFormat: volume.sourceFormat,
              destinationPath: to,
              tmpPath: copy.tmpPath,
              timeoutMs: copy.timeoutMs,
              onBytes: (done, total) => progress({ stage: 'copy', step, percent: (i + (total > 0 ? Math.min(1, done / total) : 0)) * share }),
            },
            { ...(this.config.remoteCopyMode === 'auto' ? {} : { mode: this.config.remoteCopyMode }), guard: made.map((done) => done.partialPath) },
          );
          made.push({ partialPath: copied.partialPath, to });
        }
        // Named together at the end: an agent that dies before leaves partial copies only, which the
        // hosts remove themselves (leash.ts), not disks that look like a volume's.
        for (const { partialPath, to } of made) await nameCopy(this.commands, partialPath, to);
      } catch (error) {
        // The disks this import already copied go too: a failed import leaves nothing behind.
        await this.disks.remove(made.flatMap((done) => [done.partialPath, done.to])).catch(() => undefined);
        throw error;
      }
      return 'missing';
    });
  }

  async inspectDiskImage(poolPath: string, diskPath: string): Promise<DiskImageReport> {
    return inspectDiskImage(this.commands, this.storagePaths(), poolPath, diskPath, (paths) => this.domainsUsing(paths, null));
  }

  /** The storage this agent serves: its own, and the shared storage it mounts. */
  private storagePaths(): string[] {
    return [this.config.storagePath, ...this.config.sharedStoragePaths];
  }

  /** A disk image's path as a command gives it, if it is a normalized absolute path inside served storage. */
  private servedImagePath(volumeId: string, path: string): string {
    if (!posix.isAbsolute(path) || posix.normalize(path) !== path || !this.storagePaths().some((dir) => path !== dir && isInside(path, dir))) {
      throw new DriverError('NOT_OWNED', `the disk image ${path} of volume ${volumeId} is outside the storage of libvirt host ${this.hostId}: it is left alone`);
    }
    return path;
  }

  /** The domains defined here (but `except`) whose persistent definitions attach one of `paths`. */
  private async domainsUsing(paths: readonly string[], except: string | null): Promise<string[]> {
    const users: string[] = [];
    for (const { instanceName } of await this.listed()) {
      if (instanceName === except) continue;
      const defined = await this.definition(instanceName, true);
      if (defined?.disks.some((disk) => disk.path !== null && paths.includes(disk.path))) users.push(instanceName);
    }
    return users.sort();
  }

  async manageDomain(spec: DomainSpec, diskPositions: readonly number[]): Promise<PowerState> {
    const name = spec.instanceName;
    return this.changing(name, async () => {
      const defined = await this.definition(name, true);
      if (!defined) throw this.notDefined(name);
      if (defined.record !== null) {
        if (defined.record.instanceId === spec.instanceId) return this.stateOf(name);
        throw new DriverError('NOT_OWNED', `domain ${name} on libvirt host ${this.hostId} is managed already`, `its vmledger record names instance ${defined.record.instanceId}`);
      }
      const adoptedPaths = new Map<string, string>();
      for (const [i, volume] of spec.volumes.entries()) {
        const disk = defined.disks[diskPositions[i] ?? -1];
        if (disk === undefined) throw new DriverError('NOT_FOUND', `domain ${name} has no disk at position ${diskPositions[i]} for volume ${volume.volumeId}`);
        // What the driver can later start, stop and remove: a qcow2 file (its definitions open every disk as one).
        if (disk.path === null || !posix.isAbsolute(disk.path) || posix.normalize(disk.path) !== disk.path) {
          throw new DriverError('REMOTE_COMMAND_FAILED', `disk ${disk.target} of domain ${name} is not a file: vmledger's libvirt driver adopts file disks only`);
        }
        if (disk.format !== 'qcow2') {
          throw new DriverError('REMOTE_COMMAND_FAILED', `disk ${disk.target} of domain ${name} is ${disk.format ?? 'of no stated format'}: vmledger's libvirt driver adopts qcow2 disks only (convert it with qemu-img first)`);
        }
        adoptedPaths.set(volume.volumeId, disk.path);
      }
      const state = await this.stateOf(name);
      await this.setRecord(name, state, renderXml(metadataFragment(spec, [], adoptedPaths)));
      return state;
    });
  }

  async unmanageDomain(spec: DomainSpec): Promise<PowerState> {
    const name = spec.instanceName;
    return this.changing(name, async () => {
      let defined = await this.owned(spec).catch((error: unknown) => {
        // A domain without a record has been given up already: a repeat.
        if (error instanceof DriverError && error.code === 'NOT_OWNED') return 'foreign' as const;
        throw error;
      });
      if (defined === 'foreign') return this.stateOf(name);
      if (defined === null) {
        // A stopped instance whose domain this host no longer has: defined from vmledger's spec.
        const host = await this.hostResources();
        // A disk image imported in place is the volume's file (the instance never started to attach it).
        const adoptedPaths = new Map(spec.volumes.filter((volume) => volume.path !== undefined).map((volume) => [volume.volumeId, this.servedImagePath(volume.volumeId, volume.path!)]));
        const diskPaths = new Map(spec.volumes.map((volume) => [volume.volumeId, adoptedPaths.get(volume.volumeId) ?? this.diskPath(volume.volumeId)]));
        await this.commands.virsh(['define', '/dev/stdin'], `defining domain ${name}`, { stdin: this.domainXml(spec, host, { diskPaths, formerVolumeIds: [], adoptedPaths }) });
        defined = await this.owned(spec);
      }
      const state = await this.stateOf(name);
      // A transient domain (running, never defined) is made persistent first: it must outlive vmledger.
      const info = await this.commands.virsh(['dominfo', '--domain', name], `reading domain ${name}`);
      if (/^Persistent:\s+no/m.test(info)) {
        const live = await this.commands.virsh(['dumpxml', '--security-info', '--domain', name], `reading the definition of domain ${name}`);
        await this.commands.virsh(['define', '/dev/stdin'], `making domain ${name} persistent`, { stdin: live });
      }
      await this.setRecord(name, state, null);
      return state;
    });
  }

  /** Writes (or with null removes) vmledger's record in the persistent definition, and the live one of a running domain. */
  private async setRecord(name: string, state: PowerState, record: string | null): Promise<void> {
    const change = record === null ? ['--remove'] : ['--set', record];
    const scopes = state === 'running' ? ['--live', '--config'] : ['--config'];
    await this.commands.virsh(
      ['metadata', '--domain', name, '--uri', VMLEDGER_METADATA_NAMESPACE, '--key', VMLEDGER_METADATA_PREFIX, ...change, ...scopes],
      `${record === null ? 'removing vmledger\'s record from' : 'writing vmledger\'s record into'} domain ${name}`,
    );
  }

  /** The domain as unmanaged; null when it has a vmledger record, 'gone' when it vanished meanwhile. */
  private async unmanagedView(name: string, powerState: DomainSummary['powerState']): Promise<UnmanagedDomain | null | 'gone'> {
    const what = `reading domain ${name}`;
    const [xml, sizes] = await Promise.all([
      // The persistent definition (a transient domain's is its live one): what the domain is set to
      // have. The live one shows the memory QEMU holds, which a guest without a balloon driver never
      // gives back down to its size.
      this.commands.virshResult(['dumpxml', '--inactive', '--security-info', '--domain', name], what),
      this.commands.virshResult(['domblkinfo', '--all', '--domain', name], what),
    ]);
    for (const result of [xml, sizes]) {
      if (result.exitCode === 0) continue;
      const failure = this.commands.failure(what, result);
      if (failure.code === 'NOT_FOUND') return 'gone';
      throw failure;
    }
    try {
      return unmanagedDomainOf(xml.stdout, powerState, parseBlockInfo(sizes.stdout));
    } catch (error) {
      throw this.unreadable(`domain ${name}`, error);
    }
  }

  async describeDomain(instanceName: string): Promise<DomainDetails | null> {
    // The persistent definition: what the host has defined (and what a live scale also wrote there).
    const defined = await this.definition(instanceName, true);
    if (!defined) return null;
    const what = `reading the disk sizes of domain ${instanceName}`;
    const [state, sizes] = await Promise.all([this.stateOf(instanceName), this.commands.virshResult(['domblkinfo', '--all', '--domain', instanceName], what)]);
    if (sizes.exitCode !== 0) {
      const failure = this.commands.failure(what, sizes);
      // Undefined between the reads (destroyed, or migrated away): the host no longer knows it.
      if (failure.code === 'NOT_FOUND') return null;
      throw failure;
    }
    if (state === 'missing') return null;
    try {
      return domainDetails(defined, state, parseBlockInfo(sizes.stdout));
    } catch (error) {
      throw this.unreadable(`domain ${instanceName}`, error);
    }
  }

  onPowerStateChange(listener: PowerStateListener): () => void {
    return this.watch.subscribe(listener);
  }

  // ---- steps ----

  /** Runs a change of one domain under its lock, telling the power-state watch it is the driver's doing. */
  private changing<T extends PowerState>(
    instanceName: string,
    work: () => Promise<T>,
    leaves: (result: T) => PowerState = (result) => result,
  ): Promise<T> {
    return this.locks.run([instanceName], async () => {
      this.watch.begin(instanceName);
      let settled: PowerState | null = null;
      try {
        const result = await work();
        settled = leaves(result);
        return result;
      } catch (error) {
        settled = await this.stateOf(instanceName).catch(() => null);
        throw error;
      } finally {
        this.watch.settle(instanceName, settled);
      }
    });
  }

  private async stateOf(instanceName: string): Promise<PowerState> {
    const result = await this.commands.virshResult(['domstate', '--domain', instanceName], `reading the state of domain ${instanceName}`);
    if (result.exitCode !== 0) {
      const failure = this.commands.failure(`reading the state of domain ${instanceName}`, result);
      if (failure.code === 'NOT_FOUND') return 'missing';
      throw failure;
    }
    try {
      return parseDomainState(result.stdout);
    } catch (error) {
      throw this.unreadable(`the state of domain ${instanceName}`, error);
    }
  }

  /**
   * The domain's persistent definition, when the host has one, after checking it is the instance's:
   * its vmledger record must name the instance. Null when the host does not know the domain.
   * @throws DriverError NOT_OWNED for a domain of another instance, or one vmledger did not define.
   */
  private async owned(domain: DomainRef): Promise<OwnedDomain | null> {
    const defined = await this.definition(domain.instanceName, true);
    if (!defined) return null;
    const { record } = defined;
    if (record === null) {
      throw new DriverError('NOT_OWNED', `domain ${domain.instanceName} on libvirt host ${this.hostId} was not defined by vmledger: it is left alone`);
    }
    if (record.instanceId !== domain.instanceId) {
      throw new DriverError(
        'NOT_OWNED',
        `domain ${domain.instanceName} on libvirt host ${this.hostId} is not instance ${domain.instanceId}'s: it is left alone`,
        `its vmledger record names instance ${record.instanceId}`,
      );
    }
    return { ...defined, record };
  }

  /**
   * The disk file of a volume: where its domain's definition has it, else `<storagePath>/<volumeId>.qcow2`.
   * Either way it must be that file name directly inside the storage path or one of the shared ones,
   * or the file an import adopted for the volume as the vmledger record names it: a definition can
   * never lead the driver to create, attach or remove any other file.
   */
  /**
   * The disk files still present of the volumes a domain's record lists but no longer attaches, by
   * volume id: the file the record says an import adopted for it (an image taken in place, a domain's
   * disk an import adopted: CloudStack deletes a replaced root whatever made it), or else looked for
   * in every storage path (a volume may have been on any); only those the record proves the
   * instance's (`recorded`) and that no attached disk uses.
   */
  private async formerDisks(
    candidates: Iterable<string>,
    attached: ReadonlyMap<string, string>,
    recorded: ReadonlySet<string>,
    adopted: ReadonlyMap<string, string>,
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const attachedPaths = new Set(attached.values());
    for (const volumeId of new Set(candidates)) {
      if (attached.has(volumeId) || !recorded.has(volumeId)) continue;
      const own = adopted.get(volumeId);
      if (own !== undefined) {
        if (posix.isAbsolute(own) && posix.normalize(own) === own && !attachedPaths.has(own) && (await this.disks.exists(own))) found.set(volumeId, own);
        continue;
      }
      for (const dir of [this.config.storagePath, ...this.config.sharedStoragePaths]) {
        const path = posix.join(dir, `${volumeId}.qcow2`);
        if (!attachedPaths.has(path) && (await this.disks.exists(path))) {
          found.set(volumeId, path);
          break;
        }
      }
    }
    return found;
  }

  /** The volume's own disk files (`<volumeId>.qcow2`) present in the storage this agent serves. */
  private async ownDiskFiles(volumeId: string): Promise<string[]> {
    const found: string[] = [];
    for (const dir of this.storagePaths()) {
      const path = posix.join(dir, `${volumeId}.qcow2`);
      if (await this.disks.exists(path)) found.push(path);
    }
    return found;
  }

  private diskPath(volumeId: string, defined?: string, adopted: ReadonlyMap<string, string> = new Map()): string {
    if (defined !== undefined && adopted.get(volumeId) === defined && posix.isAbsolute(defined) && posix.normalize(defined) === defined) return defined;
    const path = defined ?? this.disks.pathOf(volumeId);
    const places = [this.config.storagePath, ...this.config.sharedStoragePaths].map((dir) => posix.join(dir, `${volumeId}.qcow2`));
    if (posix.normalize(path) !== path || !places.includes(path)) {
      throw new DriverError(
        'NOT_OWNED',
        `the disk of volume ${volumeId} on libvirt host ${this.hostId} is outside its storage paths: it is left alone`,
        `the domain's definition has it at ${path}`,
      );
    }
    return path;
  }

  /**
   * A volume the domain's record does not list yet (a new domain, or a disk added) may get a disk
   * that exists already: the same instance's from another host on the shared storage, or a leftover.
   * It must not be another domain's on this host. (Another host's domains are out of this host's
   * sight: there, only the orchestrator's signature on the command vouches for it.)
   */
  private async requireDisksFree(spec: DomainSpec, diskPaths: ReadonlyMap<string, string>, recorded: ReadonlySet<string>): Promise<void> {
    let others: DefinedDomain[] | null = null;
    for (const [volumeId, path] of diskPaths) {
      if (recorded.has(volumeId) || !(await this.disks.exists(path))) continue;
      others ??= await this.otherDefinitions(spec.instanceName);
      const holder = others.find(
        (other) =>
          other.record?.instanceId !== spec.instanceId &&
          ((other.record !== null && recordedVolumeIds(other.record).has(volumeId)) || other.disks.some((disk) => disk.path === path)),
      );
      if (holder) {
        throw new DriverError(
          'NOT_OWNED',
          `volume ${volumeId} of instance ${spec.instanceId} has a disk on libvirt host ${this.hostId} that another domain uses: it is left alone`,
          `${path} belongs to domain ${holder.instanceName}`,
        );
      }
    }
  }

  /** The persistent definitions of every domain on the host but `instanceName`. */
  private async otherDefinitions(instanceName: string): Promise<DefinedDomain[]> {
    const found: DefinedDomain[] = [];
    for (const { instanceName: other } of await this.listed()) {
      if (other === instanceName) continue;
      const defined = await this.definition(other, true);
      if (defined) found.push(defined);
    }
    return found;
  }

  private notDefined(instanceName: string): DriverError {
    return new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on libvirt host ${this.hostId}`);
  }

  private async requireRunning(instanceName: string): Promise<void> {
    const state = await this.stateOf(instanceName);
    if (state === 'missing') throw this.notDefined(instanceName);
    if (state === 'stopped') throw this.notRunning(instanceName);
  }

  private notRunning(instanceName: string): DriverError {
    return new DriverError('NOT_RUNNING', `domain ${instanceName} is not running on libvirt host ${this.hostId}`);
  }

  /** Hard power-off; a domain that is already off is fine. */
  private async destroy(instanceName: string): Promise<void> {
    const result = await this.commands.virshResult(['destroy', '--domain', instanceName], `destroying domain ${instanceName}`);
    if (result.exitCode === 0) return;
    const failure = this.commands.failure(`destroying domain ${instanceName}`, result);
    if (failure.code !== 'NOT_RUNNING' && failure.code !== 'NOT_FOUND') throw failure;
  }

  /** The domain's definition (`inactive`: the persistent one), or null when the host does not know it. */
  private async definition(instanceName: string, inactive: boolean): Promise<DefinedDomain | null> {
    const what = `reading the definition of domain ${instanceName}`;
    const result = await this.commands.virshResult(['dumpxml', ...(inactive ? ['--inactive'] : []), '--domain', instanceName], what);
    if (result.exitCode !== 0) {
      const failure = this.commands.failure(what, result);
      if (failure.code === 'NOT_FOUND') return null;
      throw failure;
    }
    try {
      return parseDomainXml(result.stdout);
    } catch (error) {
      throw this.unreadable(`the definition of domain ${instanceName}`, error);
    }
  }

  private async listed(): Promise<DomainSummary[]> {
    const output = await this.commands.virsh(['list', '--all'], 'listing the domains');
    try {
      return parseDomainList(output);
    } catch (error) {
      throw this.unreadable('the domain list', error);
    }
  }

  private async peerState(peer: MigrationPeer, instanceName: string): Promise<PowerState> {
    const what = `looking for domain ${instanceName} on the migration target`;
    const result = await this.commands.exec(['env', 'LC_ALL=C', 'virsh', '-c', peer.migrationUri, 'domstate', '--domain', instanceName], what);
    if (result.exitCode !== 0) {
      const failure = this.commands.failure(what, result);
      if (failure.code === 'NOT_FOUND') return 'missing';
      throw failure;
    }
    return parseDomainState(result.stdout);
  }

  /**
   * Changes a running domain's vCPUs, memory and CPU weight live and in its definition. The domain's
   * limits are checked first, so a change that cannot fit fails before anything was changed.
   */
  private async scaleLive(instanceName: string, cpuNumber: number, cpuSpeed: number, memory: number): Promise<void> {
    const live = await this.definition(instanceName, false);
    if (!live) throw new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on libvirt host ${this.hostId}`);
    if (cpuNumber > live.maxVcpus || memory > live.maxMemory) {
      throw new DriverError(
        'INSUFFICIENT_CAPACITY',
        `domain ${instanceName} cannot be scaled to ${cpuNumber} vCPUs and ${memory} MiB while it runs on libvirt host ${this.hostId}`,
        `it was started with room for ${live.maxVcpus} vCPUs and ${live.maxMemory} MiB; stop it to scale beyond that`,
      );
    }
    if (cpuNumber !== live.cpuNumber) {
      await this.commands.virsh(['setvcpus', '--live', '--config', '--domain', instanceName, '--count', String(cpuNumber)], `setting the vCPUs of domain ${instanceName}`);
    }
    if (memory !== live.memory) {
      await this.commands.virsh(['setmem', '--live', '--config', '--domain', instanceName, '--size', String(memory * 1024)], `setting the memory of domain ${instanceName}`);
    }
    // The weight's persistent part is in the definition written after this. Live, it needs the cpu
    // cgroup controller, which a host may run without (the testbed does): the weight is a scheduling
    // preference, not a resource the domain was promised, so it then takes effect at the next start.
    const weighted = await this.commands.virshResult(
      ['schedinfo', '--live', '--domain', instanceName, '--set', `cpu_shares=${cpuShares(cpuNumber, cpuSpeed)}`],
      `setting the CPU weight of domain ${instanceName}`,
    );
    if (weighted.exitCode !== 0 && !/cgroup CPU controller is not mounted|cgroup cpu is required/i.test(weighted.stderr)) {
      throw this.commands.failure(`setting the CPU weight of domain ${instanceName}`, weighted);
    }
  }

  private hostResources(): Promise<HostResources> {
    this.resources ??= this.hostInfo().catch((error: unknown) => {
      this.resources = null;
      throw error;
    });
    return this.resources;
  }

  /** What no domain on this host can have, however empty the host is. */
  private requireFit(instanceName: string, cpuNumber: number, cpuSpeed: number, memory: number, host: HostResources): void {
    const problems = [
      cpuNumber > host.cpuNumber ? `${cpuNumber} vCPUs > ${host.cpuNumber} cores` : null,
      cpuSpeed > host.cpuSpeed ? `${cpuSpeed} MHz > ${host.cpuSpeed} MHz per core` : null,
      memory > host.memory ? `${memory} MiB > ${host.memory} MiB of memory` : null,
    ].filter((problem): problem is string => problem !== null);
    if (problems.length > 0) {
      throw new DriverError('INSUFFICIENT_CAPACITY', `domain ${instanceName} does not fit on libvirt host ${this.hostId}`, problems.join('; '));
    }
  }

  private domainXml(spec: DomainSpec, host: HostResources, placement: Omit<DomainPlacement, 'vncPassword'>): string {
    try {
      return buildDomainXml(spec, this.config, host, { ...placement, ...(this.vncPassword === undefined ? {} : { vncPassword: this.vncPassword }) });
    } catch (error) {
      if (error instanceof DomainSpecError) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `cannot define domain ${spec.instanceName} on libvirt host ${this.hostId}: ${error.message}`);
      }
      throw error;
    }
  }

  /** Output the parsers could not make sense of (an unexpected libvirt version, a foreign domain). */
  private unreadable(what: string, error: unknown): DriverError {
    return new DriverError('REMOTE_COMMAND_FAILED', `cannot read ${what} on libvirt host ${this.hostId}`, error instanceof Error ? error.message : String(error));
  }

  /** `virsh event --loop` over SSH, under a pty so each event line arrives at once and the command dies with its channel. */
  private lifecycleEvents(onEvent: (event: LifecycleEvent) => void): EventStream {
    const lines = new LineSplitter((line) => {
      const event = parseLifecycleEvent(line);
      if (event) onEvent(event);
    });
    const remote = this.connection.stream([...VIRSH, 'event', '--loop', '--event', 'lifecycle'], {
      onStdout: (chunk) => lines.push(chunk),
      pty: true,
    });
    return { exited: remote.exited, stop: () => remote.stop() };
  }
}
