// A VMware guest's .vmx (its configuration) and the VMDK descriptors it names, read into the shape a
// listing of unmanaged instances has (UnmanagedDomain), as virt-v2v's own `-i vmx` reads them
// (input_vmx.ml): `key = "value"` lines, keys case-insensitive, `|XX` hex escapes in values; disks are
// the `<bus><c>:<u>` devices with a hard-disk deviceType (or none, on SCSI) and a .vmdk fileName;
// NICs the `ethernetN` devices. Pure: the SSH source (esxi-ssh-source.ts) fetches the text.
import { posix } from 'node:path';
import type { UnmanagedDiskInfo, UnmanagedDomain, UnmanagedNicInfo } from '../../../domain/agent-protocol/index.js';

export type Vmx = ReadonlyMap<string, string>;

export class VmxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VmxError';
  }
}

/** `|22` → `"`, `|7C` → `|`: how VMware writes characters a quoted value cannot hold. */
function unescape(value: string): string {
  return value.replace(/\|([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The .vmx's keys (lower-cased) and values; a line that is not `key = value` is ignored, as VMware does. */
export function parseVmx(text: string): Vmx {
  const entries = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z0-9_.:-]+)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, key = '', rest = ''] = match;
    const quoted = /^"(.*)"\s*(?:#.*)?$/.exec(rest);
    entries.set(key.toLowerCase(), unescape(quoted ? (quoted[1] ?? '') : rest.replace(/\s+#.*$/, '').trim()));
  }
  return entries;
}

const isTrue = (value: string | undefined): boolean => value !== undefined && /^(true|yes|1)$/i.test(value);

function count(vmx: Vmx, key: string, fallback: number): number {
  const value = vmx.get(key);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new VmxError(`${key} = ${JSON.stringify(value.slice(0, 40))} is not a number`);
  return n;
}

/** The disk buses a .vmx can put a disk on, in the order virt-v2v numbers the disks (sda, sdb, …). */
export const VMX_BUSES = ['scsi', 'sata', 'nvme', 'ide'] as const;
export type VmxBus = (typeof VMX_BUSES)[number];

/** Device types of a hard disk per bus (lower-case); SCSI's may be left out (virt-v2v: None). */
const DISK_DEVICE_TYPES: Record<VmxBus, readonly (string | undefined)[]> = {
  scsi: ['disk', 'plaindisk', 'rawdisk', 'scsi-harddisk', undefined],
  sata: ['disk', 'plaindisk', 'rawdisk', 'ata-harddisk', 'sata-harddisk', undefined],
  nvme: ['disk', 'plaindisk', 'rawdisk', undefined],
  ide: ['ata-harddisk', 'disk', 'plaindisk', 'rawdisk'],
};

/** A hard disk the .vmx names. */
export interface VmxDisk {
  readonly bus: VmxBus;
  readonly controller: number;
  readonly unit: number;
  /** As the .vmx gives it: usually relative to the .vmx's directory. */
  readonly fileName: string;
  /** The controller's model: lsilogic, pvscsi, buslogic, … (SCSI only). */
  readonly controllerModel: string | null;
}

/** The .vmx's hard disks that are present, in virt-v2v's order (bus as VMX_BUSES, controller, unit). */
export function vmxDisks(vmx: Vmx): VmxDisk[] {
  const disks: VmxDisk[] = [];
  for (const [key, fileName] of vmx) {
    const match = /^(scsi|sata|nvme|ide)(\d+):(\d+)\.filename$/.exec(key);
    if (!match) continue;
    const bus = match[1] as VmxBus;
    const ns = `${bus}${match[2]}:${match[3]}`;
    // A device explicitly not present is not there; virt-v2v ignores `present`, VMware does not.
    if (vmx.has(`${ns}.present`) && !isTrue(vmx.get(`${ns}.present`))) continue;
    if (!DISK_DEVICE_TYPES[bus].includes(vmx.get(`${ns}.devicetype`)?.toLowerCase())) continue;
    if (!/\.vmdk$/i.test(fileName)) continue;
    const controller = Number(match[2]);
    disks.push({ bus, controller, unit: Number(match[3]), fileName, controllerModel: bus === 'scsi' ? (vmx.get(`scsi${controller}.virtualdev`) ?? null) : null });
  }
  const rank = (disk: VmxDisk) => [VMX_BUSES.indexOf(disk.bus), disk.controller, disk.unit] as const;
  return disks.sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
}

export interface VmxNic {
  readonly port: number;
  /** Lower-case; the static `address` or the generated one. */
  readonly mac: string | null;
  /** vmxnet3, e1000, e1000e, … (VMware's default when absent: e1000 on older hardware; null here). */
  readonly adapterType: string | null;
  /** The port group. */
  readonly networkName: string | null;
}

export function vmxNics(vmx: Vmx): VmxNic[] {
  const nics: VmxNic[] = [];
  for (const key of vmx.keys()) {
    const match = /^ethernet(\d+)\.present$/.exec(key);
    if (!match || !isTrue(vmx.get(key))) continue;
    const ns = `ethernet${match[1]}`;
    const type = vmx.get(`${ns}.addresstype`)?.toLowerCase();
    const mac = (type === 'static' ? vmx.get(`${ns}.address`) : vmx.get(`${ns}.generatedaddress`)) ?? vmx.get(`${ns}.address`) ?? vmx.get(`${ns}.generatedaddress`) ?? null;
    nics.push({ port: Number(match[1]), mac: mac === null ? null : mac.toLowerCase(), adapterType: vmx.get(`${ns}.virtualdev`)?.toLowerCase() ?? null, networkName: vmx.get(`${ns}.networkname`) ?? null });
  }
  return nics.sort((a, b) => a.port - b.port);
}

/** What a VMDK descriptor says: its capacity (bytes) and extents (files relative to the descriptor). */
export interface VmdkDescriptor {
  readonly createType: string | null;
  /** A delta disk of a snapshot (it names a parent). */
  readonly hasParent: boolean;
  readonly capacity: number;
  readonly extents: ReadonlyArray<{ readonly access: string; readonly sectors: number; readonly type: string; readonly fileName: string | null }>;
}

/** Longest descriptor read: a descriptor is a few hundred bytes; anything larger is a binary extent. */
export const MAX_DESCRIPTOR_BYTES = 64 * 1024;

export function parseVmdkDescriptor(text: string): VmdkDescriptor {
  if (!/^#\s*Disk DescriptorFile/im.test(text) && !/^createType\s*=/im.test(text)) throw new VmxError('not a VMDK descriptor');
  let createType: string | null = null;
  let hasParent = false;
  const extents: Array<VmdkDescriptor['extents'][number]> = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const type = /^createType\s*=\s*"?([^"]*)"?/i.exec(line);
    if (type) createType = type[1] ?? null;
    if (/^parentFileNameHint\s*=/i.test(line) || /^parentCID\s*=\s*(?!ffffffff\b)[0-9a-f]+/i.test(line)) hasParent = true;
    // RW 2254848 FLAT "v2vtest-flat.vmdk" 0   (ZERO extents have no file)
    const extent = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Z]+)(?:\s+"([^"]*)")?/.exec(line);
    if (extent) extents.push({ access: extent[1] ?? 'RW', sectors: Number(extent[2]), type: extent[3] ?? '', fileName: extent[4] ?? null });
  }
  if (extents.length === 0) throw new VmxError('the VMDK descriptor names no extent');
  return { createType, hasParent, capacity: extents.reduce((sum, extent) => sum + extent.sectors * 512, 0), extents };
}

/** A disk with its descriptor read (null: it could not be read, its capacity is unknown). */
export interface ResolvedDisk extends VmxDisk {
  /** Absolute, on the VMware host. */
  readonly path: string;
  readonly descriptor: VmdkDescriptor | null;
}

export function diskPath(vmxPath: string, fileName: string): string {
  return posix.isAbsolute(fileName) ? posix.normalize(fileName) : posix.join(posix.dirname(vmxPath), fileName);
}

/** `/vmfs/volumes/<datastore>/…` → the datastore; null outside a datastore. */
export function datastoreOf(path: string): string | null {
  return /^\/vmfs\/volumes\/([^/]+)\//.exec(path)?.[1] ?? null;
}

/**
 * The guest as a listing shows it. Power state: VMware holds `<vm>.vmx.lck` while the guest runs (a
 * lock directory on hosted products, a lock file on NFS datastores); without it the guest is off.
 */
export function vmwareGuestOf(vmxPath: string, vmx: Vmx, disks: readonly ResolvedDisk[], locked: boolean): UnmanagedDomain {
  const name = vmx.get('displayname') ?? posix.basename(vmxPath, '.vmx');
  const cpuNumber = count(vmx, 'numvcpus', 1);
  const coresPerSocket = vmx.has('cpuid.corespersocket') ? count(vmx, 'cpuid.corespersocket', 1) : null;
  const diskInfos: UnmanagedDiskInfo[] = disks.map((disk, position) => ({
    diskId: String(position),
    capacity: disk.descriptor?.capacity ?? null,
    controller: disk.bus,
    controllerUnit: disk.unit,
    label: `${disk.bus}${disk.controller}:${disk.unit}`,
    imagePath: disk.path,
    position,
    datastoreName: datastoreOf(disk.path),
    format: 'vmdk',
  }));
  const nics: UnmanagedNicInfo[] = vmxNics(vmx).map((nic, position) => ({
    nicId: String(position),
    macAddress: nic.mac ?? '',
    networkName: nic.networkName,
    vlanId: null,
    pciSlot: null,
    adapterType: nic.adapterType,
    ipAddress: null,
  }));
  return {
    name,
    powerState: locked ? 'PowerOn' : 'PowerOff',
    cpuNumber,
    cpuSpeed: 0,
    cpuCoresPerSocket: coresPerSocket,
    // VMware's default when memSize is absent is 32 MiB (virt-v2v assumes the same).
    memory: count(vmx, 'memsize', 32),
    osDisplayName: vmx.get('guestos') ?? null,
    disks: diskInfos,
    nics,
    vmxPath,
  };
}
