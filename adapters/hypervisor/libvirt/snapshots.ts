// What the libvirt driver writes and reads for VM snapshots: the snapshot XML CloudStack's KVM agent
// gives `snapshot-create` for a snapshot with memory, `virsh snapshot-info`, and the size qemu records
// for an internal snapshot. Internal qcow2 snapshots only: libvirt keeps their metadata (tree, current
// one, the domain's definition) in its snapshot directory, so they outlive a libvirtd restart.
import type { VmSnapshotKind } from '../protocol.js';
import { element, renderXml } from './xml-writer.js';
import { VirshOutputError } from './virsh-output.js';

/** `<domainsnapshot>` with the guest's memory saved inside the qcow2 (internal, "full system"). */
export function memorySnapshotXml(name: string, description: string | null): string {
  return renderXml(
    element(
      'domainsnapshot',
      {},
      element('name', {}, name),
      description === null ? null : element('description', {}, description),
      element('memory', { snapshot: 'internal' }),
    ),
  );
}

export interface SnapshotInfo {
  readonly name: string;
  readonly kind: VmSnapshotKind;
  readonly parent: string | null;
  readonly current: boolean;
}

function field(output: string, label: string): string {
  const line = output.split('\n').find((candidate) => candidate.startsWith(`${label}:`));
  if (line === undefined) throw new VirshOutputError(`the snapshot's ${label}`, output);
  return line.slice(label.length + 1).trim();
}

/**
 * `virsh snapshot-info`. The state is the domain's when the snapshot was taken: `running` (or
 * `paused`) for one with memory, `shutoff` for a disk-only one of a stopped domain.
 */
export function parseSnapshotInfo(output: string): SnapshotInfo {
  const state = field(output, 'State');
  const kind: VmSnapshotKind | undefined = state === 'running' || state === 'paused' ? 'DiskAndMemory' : state === 'shutoff' ? 'Disk' : undefined;
  if (kind === undefined) throw new VirshOutputError('the snapshot state', output);
  const parent = field(output, 'Parent');
  return { name: field(output, 'Name'), kind, parent: parent === '-' || parent === '' ? null : parent, current: field(output, 'Current') === 'yes' };
}

/** `virsh snapshot-list --name`: one name a line. */
export function parseSnapshotNames(output: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/**
 * The bytes qemu stored for the snapshot in one image (`qemu-img info --output=json`): its VM state,
 * the guest's RAM and device state. A disk-only internal snapshot stores none: it only holds on to
 * clusters the image has anyway, until they are overwritten. Undefined when the image has no such snapshot.
 */
export function snapshotStateSize(json: string, name: string): number | undefined {
  let info: unknown;
  try {
    info = JSON.parse(json);
  } catch {
    throw new SyntaxError(`qemu-img info printed no JSON: ${JSON.stringify(json.slice(0, 200))}`);
  }
  const snapshots = typeof info === 'object' && info !== null ? (info as Record<string, unknown>)['snapshots'] : undefined;
  if (!Array.isArray(snapshots)) return undefined;
  const found = snapshots.find((snapshot: unknown) => typeof snapshot === 'object' && snapshot !== null && (snapshot as Record<string, unknown>)['name'] === name) as
    | Record<string, unknown>
    | undefined;
  if (found === undefined) return undefined;
  const size = found['vm-state-size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new SyntaxError(`qemu-img info gave snapshot ${name} no vm-state-size`);
  return size;
}

/** libvirt's words for a snapshot name it does not have. */
export function isSnapshotNotFound(stderr: string): boolean {
  return /snapshot not found|no domain snapshot with matching name/i.test(stderr);
}
