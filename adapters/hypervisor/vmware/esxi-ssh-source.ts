// An ESXi-style VMware host read over SSH (the `esxi-ssh` source kind): the guests are the .vmx files
// of `/vmfs/volumes/<datastore>/<vm>/`, their disks the VMDK descriptors and extents those name.
// The agent logs in with the operator's password (held for the call only, never in an error) or its
// own key, reads the text files with `cat`, and streams the disks through itself into the conversion
// host. Like `virt-v2v -i vmx -it ssh`, it cannot take a guest with snapshots (delta disks).
import { posix } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import type { UnmanagedDomain, VmwareHostRef } from '../../../domain/agent-protocol/index.js';
import { SshConnection } from '../../ssh/ssh-connection.js';
import { SshError } from '../../ssh/errors.js';
import {
  MAX_DESCRIPTOR_BYTES,
  diskPath,
  parseVmdkDescriptor,
  parseVmx,
  vmwareGuestOf,
  vmxDisks,
  type ResolvedDisk,
  type Vmx,
} from './vmx.js';
import { VmwareSourceError, type ExportDestination, type ExportProgress, type ExportedGuest, type VmwareCredential, type VmwareGuestSource } from './source.js';

/** Where ESXi keeps its datastores. */
export const DATASTORES_ROOT = '/vmfs/volumes';
/** A .vmx is a few KiB; a bigger file is not one. */
const MAX_VMX_BYTES = 1024 * 1024;

function firstLine(text: string): string {
  return text.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? 'no error output';
}

export class EsxiSshSource implements VmwareGuestSource {
  private readonly connection: SshConnection;

  constructor(
    private readonly host: VmwareHostRef,
    credential: VmwareCredential,
  ) {
    // The host key cannot be pinned: the operator names the host by address only, as for KVM hosts.
    this.connection = new SshConnection({ host: host.host, port: host.port, username: host.username, hostKeySha256: null, readyTimeoutMs: 20_000, ...credential });
  }

  async connect(): Promise<void> {
    try {
      await this.connection.connect();
    } catch (error) {
      throw this.unreachable(error);
    }
  }

  private unreachable(error: unknown): VmwareSourceError {
    const why = error instanceof Error ? error.message : 'an unknown failure';
    return new VmwareSourceError(`Unable to connect to VMware host ${this.host.host}, please check the SSH connectivity (port ${this.host.port}) and the login, and retry: ${why}`);
  }

  private async read(path: string, maxBytes: number): Promise<string> {
    try {
      const result = await this.connection.exec(['head', '-c', String(maxBytes + 1), '--', path], { timeoutMs: 60_000 });
      if (result.exitCode !== 0) throw new VmwareSourceError(`Unable to read ${path} on VMware host ${this.host.host}: ${firstLine(result.stderr)}`);
      if (result.stdout.length > maxBytes) throw new VmwareSourceError(`${path} on VMware host ${this.host.host} is too large to be what it should be`);
      return result.stdout;
    } catch (error) {
      if (error instanceof SshError) throw this.unreachable(error);
      throw error;
    }
  }

  private async run(argv: readonly string[], what: string): Promise<string> {
    try {
      const result = await this.connection.exec(argv, { timeoutMs: 120_000 });
      if (result.exitCode !== 0) throw new VmwareSourceError(`Unable to ${what} on VMware host ${this.host.host}: ${firstLine(result.stderr)}`);
      return result.stdout;
    } catch (error) {
      if (error instanceof SshError) throw this.unreachable(error);
      throw error;
    }
  }

  /** Each .vmx of a datastore (`<datastore>/<vm>/<name>.vmx`) with whether its lock is there. */
  private async vmxFiles(): Promise<Array<{ path: string; locked: boolean }>> {
    const script = `for f in "$1"/*/*/*.vmx; do [ -f "$f" ] || continue; if [ -e "$f.lck" ]; then echo "L $f"; else echo "- $f"; fi; done`;
    const out = await this.run(['sh', '-c', script, 'sh', DATASTORES_ROOT], 'list the datastores');
    return out
      .split('\n')
      .filter((line) => line.length > 2)
      .map((line) => ({ locked: line.startsWith('L'), path: line.slice(2) }));
  }

  private async resolve(vmxPath: string, vmx: Vmx): Promise<ResolvedDisk[]> {
    const disks: ResolvedDisk[] = [];
    for (const disk of vmxDisks(vmx)) {
      const path = diskPath(vmxPath, disk.fileName);
      let descriptor = null;
      try {
        descriptor = parseVmdkDescriptor(await this.read(path, MAX_DESCRIPTOR_BYTES));
      } catch (error) {
        // A disk whose descriptor cannot be read is still listed, with its capacity unknown.
        if (!(error instanceof VmwareSourceError) && !(error instanceof Error && error.name === 'VmxError')) throw error;
      }
      disks.push({ ...disk, path, descriptor });
    }
    return disks;
  }

  private async guest(vmxPath: string, locked: boolean): Promise<{ guest: UnmanagedDomain; vmx: Vmx; disks: ResolvedDisk[] }> {
    const vmx = parseVmx(await this.read(vmxPath, MAX_VMX_BYTES));
    const disks = await this.resolve(vmxPath, vmx);
    return { guest: vmwareGuestOf(vmxPath, vmx, disks, locked), vmx, disks };
  }

  async listGuests(): Promise<UnmanagedDomain[]> {
    await this.connect();
    const found: UnmanagedDomain[] = [];
    for (const { path, locked } of await this.vmxFiles()) {
      try {
        found.push((await this.guest(path, locked)).guest);
      } catch (error) {
        // One unreadable guest does not hide the others; a lost connection fails the listing.
        if (error instanceof VmwareSourceError && !/^Unable to connect/.test(error.message)) continue;
        if (error instanceof Error && error.name === 'VmxError') continue;
        throw error;
      }
    }
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async exportGuest(vmxPath: string, destination: ExportDestination, progress: ExportProgress, timeoutMs: number): Promise<ExportedGuest> {
    await this.connect();
    const locked = (await this.run(['sh', '-c', 'if [ -e "$1.lck" ]; then echo L; elif [ -f "$1" ]; then echo -; else echo M; fi', 'sh', vmxPath], `look for ${vmxPath}`)).trim();
    if (locked === 'M') throw new VmwareSourceError(`Cannot find VM ${vmxPath} on VMware host ${this.host.host}`);
    const { guest, vmx, disks } = await this.guest(vmxPath, locked === 'L');
    // CloudStack clones a running guest through vCenter; a lone ESXi host has no clone to take.
    if (guest.powerState === 'PowerOn') throw new VmwareSourceError(`VM ${guest.name} might be on standalone host and is Running, cannot be imported. Please shut it down before attempting the import`);
    const files = this.exportFiles(vmxPath, disks);
    const sizes = await this.sizes(files.map((file) => file.from));
    const total = sizes.reduce((sum, size) => sum + size, 0);
    let done = 0;
    progress(0, total);
    const started = Date.now();
    for (const file of files) {
      const left = Math.max(1_000, timeoutMs - (Date.now() - started));
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          done += chunk.length;
          progress(done, total);
          callback(null, chunk);
        },
      });
      const pipe = new PassThrough();
      pipe.pipe(counted);
      const [sent] = await Promise.all([
        this.connection.exec(['cat', '--', file.from], { stdoutTo: pipe, timeoutMs: left }).catch((error: unknown) => {
          counted.destroy(error instanceof Error ? error : new Error(String(error)));
          throw error instanceof SshError ? this.unreachable(error) : error;
        }),
        destination.receive(file.to, counted),
      ]);
      if (sent.exitCode !== 0) throw new VmwareSourceError(`Export of VM ${guest.name} failed: reading ${file.from} on VMware host ${this.host.host}: ${firstLine(sent.stderr)}`);
    }
    const vmxFile = posix.basename(vmxPath);
    const local = localVmx(vmx, disks);
    const data = new PassThrough();
    data.end(local);
    await destination.receive(vmxFile, data);
    return { guest, vmxFile };
  }

  /** The disks' files, each to its own base name in the export directory. */
  private exportFiles(vmxPath: string, disks: readonly ResolvedDisk[]): Array<{ from: string; to: string }> {
    const files: Array<{ from: string; to: string }> = [];
    for (const disk of disks) {
      const { descriptor } = disk;
      if (descriptor === null) throw new VmwareSourceError(`Export of VM ${posix.basename(vmxPath, '.vmx')} failed: the disk ${disk.path} has no readable VMDK descriptor`);
      // virt-v2v's ssh transport cannot follow a snapshot chain either: consolidate first.
      if (descriptor.hasParent) {
        throw new VmwareSourceError(`Export of VM ${posix.basename(vmxPath, '.vmx')} failed: the disk ${disk.path} is a snapshot (delta) disk; delete or consolidate the guest's snapshots first`);
      }
      files.push({ from: disk.path, to: posix.basename(disk.path) });
      for (const extent of descriptor.extents) {
        if (extent.fileName === null) continue;
        files.push({ from: posix.join(posix.dirname(disk.path), extent.fileName), to: posix.basename(extent.fileName) });
      }
    }
    const names = new Set<string>();
    for (const file of files) {
      if (names.has(file.to)) throw new VmwareSourceError(`Export of VM ${posix.basename(vmxPath, '.vmx')} failed: two of its disk files are named ${file.to}`);
      names.add(file.to);
    }
    return files;
  }

  private async sizes(paths: readonly string[]): Promise<number[]> {
    if (paths.length === 0) return [];
    const out = await this.run(['stat', '-L', '-c', '%s', '--', ...paths], 'read the sizes of the disk files');
    return out.trim().split('\n').map(Number);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** The .vmx with each disk's fileName made its base name: the exported copy sits beside its disks. */
export function localVmx(vmx: Vmx, disks: readonly ResolvedDisk[]): string {
  const rewritten = new Map(vmx);
  for (const disk of disks) rewritten.set(`${disk.bus}${disk.controller}:${disk.unit}.filename`, posix.basename(disk.path));
  const quote = (value: string) => value.replace(/\|/g, '|7C').replace(/"/g, '|22');
  return [...rewritten].map(([key, value]) => `${key} = "${quote(value)}"`).join('\n') + '\n';
}
