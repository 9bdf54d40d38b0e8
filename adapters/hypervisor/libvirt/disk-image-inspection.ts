// What a libvirt host finds of a disk image an import would take in place (behaviour §4.6
// `local`/`shared`, CloudStack's CheckVolumeCommand): whether the file is there inside storage the
// agent serves, `qemu-img info` of it, whether a running QEMU holds its lock, and which of the host's
// domains attach it. Reads only; the control plane applies the import's rules to the report.
import { posix } from 'node:path';
import type { DiskImageReport } from '../../../domain/agent-protocol/index.js';
import { DriverError } from '../driver.js';
import type { HostCommands } from './host-commands.js';
import { UUID_SOURCE } from '../../../domain/shared/instance-name.js';

/** The fields of `qemu-img info --output=json` an import reads. */
export interface ImageDetails {
  readonly format: string;
  readonly virtualSize: number;
  readonly backingFile: string | null;
  readonly encrypted: boolean;
}

export function parseImageDetails(json: string): ImageDetails {
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
  const backing = record['full-backing-filename'] ?? record['backing-filename'];
  return { format, virtualSize, backingFile: typeof backing === 'string' && backing !== '' ? backing : null, encrypted: record['encrypted'] === true };
}

/** Whether `path` (normalized, absolute) is `dir` or inside it. */
export function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

const VOLUME_FILE = new RegExp(`^${UUID_SOURCE}\\.qcow2$`);

/** `<storage>/<volumeId>.qcow2` (the driver's volume disks) or anything under `<storage>/templates/`. */
export function isVmledgerFile(path: string, served: readonly string[]): boolean {
  return served.some((dir) => (posix.dirname(path) === dir && VOLUME_FILE.test(posix.basename(path))) || isInside(path, posix.join(dir, 'templates')));
}

/** qemu-img's words when another process holds the image's write lock. */
const LOCKED = /Failed to get "?(write|shared)"? lock|Is another process using the image/i;

export async function inspectDiskImage(
  commands: HostCommands,
  served: readonly string[],
  poolPath: string,
  diskPath: string,
  domainsUsing: (paths: readonly string[]) => Promise<string[]>,
): Promise<DiskImageReport> {
  const path = posix.join(poolPath, diskPath);
  const report: DiskImageReport = { path, exists: false, outsideStorage: false, format: null, virtualSize: null, backingFile: null, encrypted: false, locked: false, usedBy: [], vmledgerFile: false };
  // Only storage this agent serves: a pool directory it does not know is not looked into.
  if (posix.normalize(poolPath) !== poolPath || !served.some((dir) => isInside(poolPath, dir))) return { ...report, outsideStorage: true };
  // The file itself, symbolic links resolved: it must be a regular file that stays inside the pool.
  const resolved = await commands.exec(['realpath', '-e', '--', path], `resolving ${path}`);
  const real = resolved.stdout.trim();
  if (resolved.exitCode !== 0 || !isInside(real, poolPath)) return report;
  const regular = await commands.exec(['test', '-f', real], `looking for ${real}`);
  if (regular.exitCode !== 0) return report;
  // A volume's disk or a template's image is vmledger's already: taking it would let an expunge
  // delete what another instance (or every instance cloned from the template) needs.
  if (isVmledgerFile(real, served)) return { ...report, exists: true, vmledgerFile: true };
  // Without -U first: qemu-img then takes the image's lock, which a running QEMU holds.
  const what = `reading disk image ${real}`;
  const locking = await commands.exec(['qemu-img', 'info', '--output=json', '--', real], what);
  const locked = locking.exitCode !== 0 && LOCKED.test(locking.stderr);
  const read = locking.exitCode === 0 ? locking : await commands.exec(['qemu-img', 'info', '-U', '--output=json', '--', real], what);
  const usedBy = await domainsUsing([...new Set([path, real])]);
  if (read.exitCode !== 0) return { ...report, exists: true, locked, usedBy };
  let details: ImageDetails;
  try {
    details = parseImageDetails(read.stdout);
  } catch (error) {
    throw new DriverError('REMOTE_COMMAND_FAILED', `${what} on libvirt host ${commands.hostId}: ${(error as Error).message}`);
  }
  return { ...report, exists: true, locked, usedBy, ...details };
}
