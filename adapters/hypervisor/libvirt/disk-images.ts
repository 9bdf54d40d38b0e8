// The volumes' disk files on the host: qcow2 images under the storage path, a ROOT volume made from a
// template as a copy-on-write overlay on the template's image (CloudStack's KVM does the same on its
// primary storage), so creating it is instant and costs no space until the guest writes.
import { randomUUID } from 'node:crypto';
import { DriverError } from '../driver.js';
import type { VolumeSpec } from '../protocol.js';
import { templatePath, volumePath } from './domain-xml.js';
import type { HostCommands } from './host-commands.js';

export interface ImageInfo {
  /** Bytes the guest sees. */
  readonly virtualSize: number;
  readonly format: string;
}

/** `qemu-img info --output=json`. */
export function parseImageInfo(json: string): ImageInfo {
  let info: unknown;
  try {
    info = JSON.parse(json);
  } catch {
    throw new SyntaxError(`qemu-img info printed no JSON: ${JSON.stringify(json.slice(0, 200))}`);
  }
  const record = (typeof info === 'object' && info !== null ? info : {}) as Record<string, unknown>;
  const virtualSize = record['virtual-size'];
  const format = record['format'];
  if (typeof virtualSize !== 'number' || !Number.isSafeInteger(virtualSize) || typeof format !== 'string') {
    throw new SyntaxError(`qemu-img info gave no virtual size and format: ${JSON.stringify(json.slice(0, 200))}`);
  }
  return { virtualSize, format };
}

export class DiskImages {
  constructor(
    private readonly commands: HostCommands,
    private readonly storagePath: string,
  ) {}

  pathOf(volumeId: string): string {
    return volumePath(this.storagePath, volumeId);
  }

  /**
   * Creates the volume's disk unless it exists: an existing disk keeps its data (a restarted instance
   * keeps its root disk), whatever size the spec says now. The storage directory is not created: a
   * missing one means the storage is not mounted, and writing disks beside the mount point would lose
   * them. Resolves whether it created the disk.
   */
  async ensure(volume: VolumeSpec, path = this.pathOf(volume.volumeId)): Promise<boolean> {
    if (await this.exists(path)) return false;
    const backing =
      volume.type === 'ROOT' && volume.templateId !== null ? await this.template(volume.templateId) : null;
    const size = Math.max(volume.size, backing?.virtualSize ?? 0);
    // Created under a temporary name and renamed, so a crash mid-way never leaves a half-made disk that
    // the next start would take for the volume.
    const partial = `${path}.creating-${randomUUID().slice(0, 8)}`;
    const what = `creating the disk of volume ${volume.volumeId}`;
    try {
      await this.commands.run(
        ['qemu-img', 'create', '-q', '-f', 'qcow2', ...(backing ? ['-F', 'qcow2', '-b', backing.path] : []), partial, String(size)],
        what,
        { code: 'REMOTE_COMMAND_FAILED' },
      );
      // -n: a disk that appeared meanwhile is kept, not overwritten.
      await this.commands.run(['mv', '-n', '-T', '--', partial, path], what, { code: 'REMOTE_COMMAND_FAILED' });
    } finally {
      await this.commands.exec(['rm', '-f', '--', partial], `cleaning up after ${what}`).catch(() => undefined);
    }
    return true;
  }

  /**
   * Copies a disk to `to` as a standalone qcow2 image (`qemu-img convert` flattens a template
   * overlay), under a temporary name renamed at the end, as `ensure` does.
   */
  async copy(from: string, to: string, what: string): Promise<void> {
    const partial = `${to}.copying-${randomUUID().slice(0, 8)}`;
    try {
      await this.commands.run(['qemu-img', 'convert', '-q', '-O', 'qcow2', '--', from, partial], what, { code: 'REMOTE_COMMAND_FAILED' });
      await this.commands.run(['mv', '-n', '-T', '--', partial, to], what, { code: 'REMOTE_COMMAND_FAILED' });
    } finally {
      await this.commands.exec(['rm', '-f', '--', partial], `cleaning up after ${what}`).catch(() => undefined);
    }
  }

  /** Removes disk files; those already gone are fine. */
  async remove(paths: readonly string[]): Promise<void> {
    if (paths.length === 0) return;
    await this.commands.run(['rm', '-f', '--', ...paths], 'removing disk files', { code: 'REMOTE_COMMAND_FAILED' });
  }

  /** Reads one image's virtual size and format (shared lock: the image may be in use by a domain). */
  async info(path: string, what: string): Promise<ImageInfo> {
    const stdout = await this.commands.run(['qemu-img', 'info', '-U', '--output=json', '--', path], what, { code: 'REMOTE_COMMAND_FAILED' });
    try {
      return parseImageInfo(stdout);
    } catch (error) {
      throw new DriverError('REMOTE_COMMAND_FAILED', `${what} on libvirt host ${this.commands.hostId}: ${(error as Error).message}`);
    }
  }

  async exists(path: string): Promise<boolean> {
    const result = await this.commands.exec(['test', '-e', path], `looking for ${path}`);
    if (result.exitCode > 1) throw this.commands.failure(`looking for ${path}`, result, 'REMOTE_COMMAND_FAILED');
    return result.exitCode === 0;
  }

  private async template(templateId: string): Promise<ImageInfo & { path: string }> {
    const path = templatePath(this.storagePath, templateId);
    if (!(await this.exists(path))) {
      throw new DriverError(
        'NOT_FOUND',
        `template ${templateId} is not on libvirt host ${this.commands.hostId}: ${path} does not exist`,
        `expected the template's qcow2 image at ${path}`,
      );
    }
    const info = await this.info(path, `reading template ${templateId}`);
    if (info.format !== 'qcow2') {
      throw new DriverError('REMOTE_COMMAND_FAILED', `template ${templateId} on libvirt host ${this.commands.hostId} is ${info.format}, not qcow2: ${path}`);
    }
    return { ...info, path };
  }
}
