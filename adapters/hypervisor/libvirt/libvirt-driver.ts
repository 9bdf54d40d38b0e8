// The HypervisorDriver for a KVM/QEMU host reached over SSH: `virsh` against the host's system
// libvirtd for domains, `qemu-img` for disks. The host is the only record: every operation reads the
// domain's state there first and acts from what it finds, so running one twice (a command redelivered
// after an agent crash) ends in the same state, and an agent restart loses nothing.
import {
  DriverError,
  type DomainDetails,
  type DomainSummary,
  type HostInfo,
  type HypervisorDriver,
  type PowerStateListener,
  type RebootOptions,
  type StopOptions,
} from '../driver.js';
import { KeyedQueue } from '../keyed-queue.js';
import type { DomainSpec, PowerState, VolumeSpec } from '../protocol.js';
import { LineSplitter } from '../../ssh/line-splitter.js';
import { SshConnection } from '../../ssh/ssh-connection.js';
import type { LibvirtHostConfig } from './config.js';
import { DiskImages } from './disk-images.js';
import { diskPathsOf, domainDetails, parseDomainXml, specOf, type DefinedDomain } from './domain-definition.js';
import { buildDomainXml, cpuShares, DomainSpecError } from './domain-xml.js';
import { HostCommands, VIRSH } from './host-commands.js';
import { PowerStateWatch, type EventStream } from './power-state-watch.js';
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
}

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
  /** The host's cores and memory bound the domains' scaling limits; read once, they do not change. */
  private resources: Promise<HostInfo> | null = null;

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
    const info = parseNodeInfo(await this.commands.virsh(['nodeinfo'], 'reading the host resources'));
    this.resources = Promise.resolve(info);
    return info;
  }

  async startDomain(spec: DomainSpec): Promise<PowerState> {
    const name = spec.instanceName;
    return this.changing(name, async () => {
      const state = await this.stateOf(name);
      if (state === 'running') return 'running';
      const host = await this.hostResources();
      this.requireFit(name, spec.cpuNumber, spec.cpuSpeed, spec.memory, host);
      // A domain defined here already (stopped) keeps its disks where they are: after a migration they
      // may be under the source host's mount of the shared storage.
      const paths = diskPathsOf(state === 'stopped' ? await this.definition(name, true) : null);
      const xml = this.domainXml(spec, host, paths);
      for (const volume of spec.volumes) await this.disks.ensure(volume, paths.get(volume.volumeId));
      // Defined again even when it exists (stopped): a changed offering or disk list takes effect now.
      await this.commands.virsh(['define', '/dev/stdin'], `defining domain ${name}`, { stdin: xml });
      const started = await this.commands.virshResult(['start', name], `starting domain ${name}`);
      if (started.exitCode !== 0 && !/already (running|active)/i.test(started.stderr)) {
        throw this.commands.failure(`starting domain ${name}`, started);
      }
      return 'running';
    });
  }

  async stopDomain(instanceName: string, options: StopOptions): Promise<PowerState> {
    return this.changing(instanceName, async () => {
      const state = await this.stateOf(instanceName);
      if (state !== 'running') return state;
      if (options.forced) {
        await this.destroy(instanceName);
        return 'stopped';
      }
      const asked = await this.commands.virshResult(['shutdown', instanceName], `shutting down domain ${instanceName}`);
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

  async rebootDomain(instanceName: string, options: RebootOptions): Promise<PowerState> {
    return this.changing(instanceName, async () => {
      await this.requireRunning(instanceName);
      // `reboot` asks the guest (ACPI); `reset` is the reset button.
      const verb = options.forced ? 'reset' : 'reboot';
      await this.commands.virsh([verb, instanceName], `${options.forced ? 'resetting' : 'rebooting'} domain ${instanceName}`);
      return 'running';
    });
  }

  async migrateDomain(instanceName: string, targetHostId: string): Promise<PowerState> {
    if (targetHostId === this.hostId) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `cannot migrate domain ${instanceName} to the libvirt host it is on (${targetHostId})`);
    }
    const peer = this.peers(targetHostId);
    if (!peer) throw new DriverError('NOT_FOUND', `migration target ${targetHostId} is not a known libvirt host`);
    // Whatever happens, the domain is then not here (or a failure settles what is found).
    return this.changing(
      instanceName,
      async () => {
        const state = await this.stateOf(instanceName);
        if (state === 'missing') {
          // A repeated command: the migration is done if the domain runs on the target. Asked through
          // the same libvirt connection the migration itself uses, so no other credentials are needed.
          if ((await this.peerState(peer, instanceName)) === 'running') return 'running';
          throw new DriverError('NOT_FOUND', `domain ${instanceName} is neither on libvirt host ${this.hostId} nor running on ${targetHostId}`);
        }
        if (state === 'stopped') throw this.notRunning(instanceName);
        const address = uriHost(peer.migrationAddress);
        await this.commands.virsh(
          [
            'migrate',
            '--live',
            '--persistent',
            '--undefinesource',
            // The disks stay where they are: the storage path is shared storage, reachable from both hosts.
            '--unsafe',
            instanceName,
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

  async destroyDomain(instanceName: string, volumes: readonly VolumeSpec[]): Promise<void> {
    await this.changing(
      instanceName,
      async () => {
        // Read first: after a migration the disk files may live under another host's storage path.
        const defined = await this.definition(instanceName, true);
        if (defined) {
          await this.destroy(instanceName);
          const gone = await this.commands.virshResult(
            ['undefine', '--managed-save', '--snapshots-metadata', '--checkpoints-metadata', '--nvram', instanceName],
            `undefining domain ${instanceName}`,
          );
          if (gone.exitCode !== 0) {
            const failure = this.commands.failure(`undefining domain ${instanceName}`, gone);
            if (failure.code !== 'NOT_FOUND') throw failure;
          }
        }
        const defining = diskPathsOf(defined);
        const paths = new Set<string>();
        for (const volume of volumes) {
          paths.add(this.disks.pathOf(volume.volumeId));
          const used = defining.get(volume.volumeId);
          if (used !== undefined) paths.add(used);
        }
        await this.disks.remove([...paths]);
        return 'missing' as const;
      },
      () => 'missing',
    );
  }

  async scaleDomain(instanceName: string, cpuNumber: number, cpuSpeed: number, memory: number): Promise<PowerState> {
    return this.changing(instanceName, async () => {
      const state = await this.stateOf(instanceName);
      if (state === 'missing') throw new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on libvirt host ${this.hostId}`);
      const host = await this.hostResources();
      const stored = await this.definition(instanceName, true);
      const spec = stored ? specOf(stored) : null;
      if (!spec) {
        throw new DriverError('REMOTE_COMMAND_FAILED', `domain ${instanceName} on libvirt host ${this.hostId} was not defined by vmledger and cannot be scaled`);
      }
      const scaled: DomainSpec = { ...spec, cpuNumber, cpuSpeed, memory };
      const xml = this.domainXml(scaled, host, diskPathsOf(stored));
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

  async listDomains(): Promise<DomainSummary[]> {
    return this.listed();
  }

  async describeDomain(instanceName: string): Promise<DomainDetails | null> {
    // The persistent definition: what the host has defined (and what a live scale also wrote there).
    const defined = await this.definition(instanceName, true);
    if (!defined) return null;
    const what = `reading the disk sizes of domain ${instanceName}`;
    const [state, sizes] = await Promise.all([this.stateOf(instanceName), this.commands.virshResult(['domblkinfo', instanceName, '--all'], what)]);
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
    const result = await this.commands.virshResult(['domstate', instanceName], `reading the state of domain ${instanceName}`);
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

  private async requireRunning(instanceName: string): Promise<void> {
    const state = await this.stateOf(instanceName);
    if (state === 'missing') throw new DriverError('NOT_FOUND', `domain ${instanceName} is not defined on libvirt host ${this.hostId}`);
    if (state === 'stopped') throw this.notRunning(instanceName);
  }

  private notRunning(instanceName: string): DriverError {
    return new DriverError('NOT_RUNNING', `domain ${instanceName} is not running on libvirt host ${this.hostId}`);
  }

  /** Hard power-off; a domain that is already off is fine. */
  private async destroy(instanceName: string): Promise<void> {
    const result = await this.commands.virshResult(['destroy', instanceName], `destroying domain ${instanceName}`);
    if (result.exitCode === 0) return;
    const failure = this.commands.failure(`destroying domain ${instanceName}`, result);
    if (failure.code !== 'NOT_RUNNING' && failure.code !== 'NOT_FOUND') throw failure;
  }

  /** The domain's definition (`inactive`: the persistent one), or null when the host does not know it. */
  private async definition(instanceName: string, inactive: boolean): Promise<DefinedDomain | null> {
    const what = `reading the definition of domain ${instanceName}`;
    const result = await this.commands.virshResult(['dumpxml', ...(inactive ? ['--inactive'] : []), instanceName], what);
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
    const result = await this.commands.exec(['env', 'LC_ALL=C', 'virsh', '-c', peer.migrationUri, 'domstate', instanceName], what);
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
      await this.commands.virsh(['setvcpus', instanceName, String(cpuNumber), '--live', '--config'], `setting the vCPUs of domain ${instanceName}`);
    }
    if (memory !== live.memory) {
      await this.commands.virsh(['setmem', instanceName, String(memory * 1024), '--live', '--config'], `setting the memory of domain ${instanceName}`);
    }
    // The weight's persistent part is in the definition written after this. Live, it needs the cpu
    // cgroup controller, which a host may run without (the testbed does): the weight is a scheduling
    // preference, not a resource the domain was promised, so it then takes effect at the next start.
    const weighted = await this.commands.virshResult(
      ['schedinfo', instanceName, '--live', `cpu_shares=${cpuShares(cpuNumber, cpuSpeed)}`],
      `setting the CPU weight of domain ${instanceName}`,
    );
    if (weighted.exitCode !== 0 && !/cgroup CPU controller is not mounted|cgroup cpu is required/i.test(weighted.stderr)) {
      throw this.commands.failure(`setting the CPU weight of domain ${instanceName}`, weighted);
    }
  }

  private hostResources(): Promise<HostInfo> {
    this.resources ??= this.hostInfo().catch((error: unknown) => {
      this.resources = null;
      throw error;
    });
    return this.resources;
  }

  /** What no domain on this host can have, however empty the host is. */
  private requireFit(instanceName: string, cpuNumber: number, cpuSpeed: number, memory: number, host: HostInfo): void {
    const problems = [
      cpuNumber > host.cpuNumber ? `${cpuNumber} vCPUs > ${host.cpuNumber} cores` : null,
      cpuSpeed > host.cpuSpeed ? `${cpuSpeed} MHz > ${host.cpuSpeed} MHz per core` : null,
      memory > host.memory ? `${memory} MiB > ${host.memory} MiB of memory` : null,
    ].filter((problem): problem is string => problem !== null);
    if (problems.length > 0) {
      throw new DriverError('INSUFFICIENT_CAPACITY', `domain ${instanceName} does not fit on libvirt host ${this.hostId}`, problems.join('; '));
    }
  }

  private domainXml(spec: DomainSpec, host: HostInfo, diskPaths: ReadonlyMap<string, string>): string {
    try {
      return buildDomainXml(spec, this.config, host, diskPaths);
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
