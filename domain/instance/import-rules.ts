// CloudStack's mapping rules for importing a domain vmledger did not define (behaviour §4.5,
// UnmanagedVMsManagerImpl.importVirtualMachineInternal): which offering fits the domain, which of its
// disks is the root, and that each disk fits its offering. Pure: the control plane applies them to
// what the host's agent reported before anything is appended, and they are tested on their own. The
// messages are CloudStack's, word for word, so operators can search for them.
import { isRejection, reject, type Rejection } from '../shared/decider.js';
import type { Compute, CustomCompute, ServiceOfferingSnapshot } from './model.js';
import { resolveCompute } from './validation.js';

const GiB = 1024 ** 3;

/** What the rules read of the domain the host reported. */
export interface ImportedShape {
  readonly name: string;
  readonly running: boolean;
  readonly cpuNumber: number;
  /** MHz per core; 0 when the host does not know. */
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
}

export interface ImportedDisk {
  readonly diskId: string;
  /** Bytes; null when the host could not tell. */
  readonly capacity: number | null;
  readonly controller: string | null;
}

export interface MappedDiskOffering {
  readonly id: string;
  /** Bytes; null for a custom-size offering. */
  readonly diskSize: number | null;
}

export const importMessages = {
  offeringIncompatible: (vm: string, offering: string, reason: string) =>
    `Failed to import Unmanaged VM [${vm}] because the service offering [${offering}] is not compatible due to [${reason}].`,
  invalidCpu: (cores: number, vm: string) => `CPU cores [${cores}] is not valid for importing VM [${vm}].`,
  invalidMemory: (memory: number, vm: string) => `Memory [${memory}] is not valid for importing VM [${vm}].`,
  cpuMismatch: (offering: string, offered: number, cores: number, power: string) =>
    `Service offering (${offering}) ${offered} CPU cores do not match VM CPU cores ${cores} and VM is not in powered off state (Power state: ${power})`,
  memoryMismatch: (offering: string, offered: number, memory: number, power: string) =>
    `Service offering (${offering}) ${offered}MB memory does not match VM memory ${memory}MB and VM is not in powered off state (Power state: ${power})`,
  noDisks: (vm: string) => `No attached disks found for the unmanaged VM: ${vm}`,
  mappingCount: (disks: number, mappings: number) =>
    `VM has total ${disks} disks for which ${mappings} disk offering mappings provided. ${disks - 1} disks need a disk offering for import`,
  unmappedCount: (disks: number, unmapped: readonly string[]) =>
    `VM has total ${disks} disks, disk offering mapping not provided for ${unmapped.length} disks. Disk IDs that may need a disk offering - ${unmapped.join(', ')}`,
  noRootController: (vm: string) => `VM import failed. Unable to retrieve root disk details for VM: ${vm} `,
  unknownDisk: (disk: string, offering: string) => `Disk offering ID: ${offering} for disk ID: ${disk} is invalid`,
  diskSizeInvalid: (disk: string) => `Size of disk(ID: ${disk}) is found invalid during VM import`,
  fixedOfferingSizeInvalid: (offering: string) => `Size of fixed disk offering(ID: ${offering}) is found invalid during VM import`,
  offeringTooSmall: (offering: string, offeringGiB: number, disk: string, diskGiB: number) =>
    `Size of disk offering(ID: ${offering}) ${offeringGiB}GB is found less than the size of disk(ID: ${disk}) ${diskGiB}GB during VM import`,
  mixedControllers: (a: string, b: string) =>
    `Multiple data disk controllers of different type (${a}, ${b}) are not supported for import. Please make sure that all data disk controllers are of the same type`,
  mixedAdapters: (a: string, b: string) =>
    `Multiple network adapter of different type (${a}, ${b}) are not supported for import. Please make sure that all network adapters are of the same type`,
} as const;

/**
 * The compute the imported instance gets from `offering` (`getUnmanagedInstanceServiceOffering`): a
 * custom offering takes the domain's cores and memory (and speed, from `cpuSpeed` in details or the
 * domain's), within the offering's bounds; a fixed one must match a running domain exactly, and is
 * taken as it is by a stopped one (the next start gives the domain the offering's size).
 */
export function importCompute(
  offering: ServiceOfferingSnapshot,
  vm: ImportedShape,
  detailsCpuSpeed: number | undefined,
): { readonly compute: Compute; readonly custom: CustomCompute | undefined } | Rejection {
  const refuse = (reason: string) => reject('BAD_USER_INPUT', importMessages.offeringIncompatible(vm.name, offering.id, reason), 'serviceOfferingId');
  if (!(vm.cpuNumber > 0)) return refuse(importMessages.invalidCpu(vm.cpuNumber, vm.name));
  if (!(vm.memory > 0)) return refuse(importMessages.invalidMemory(vm.memory, vm.name));
  const power = vm.running ? 'PowerOn' : 'PowerOff';
  if (offering.customized) {
    const speed = offering.cpuSpeed === null ? (detailsCpuSpeed ?? (vm.cpuSpeed > 0 ? vm.cpuSpeed : undefined)) : undefined;
    const custom: CustomCompute = {
      ...(offering.cpuNumber === null ? { cpuNumber: vm.cpuNumber } : {}),
      ...(offering.memory === null ? { memory: vm.memory } : {}),
      ...(speed === undefined ? {} : { cpuSpeed: speed }),
    };
    const compute = resolveCompute(offering, custom);
    if (isRejection(compute)) return refuse(compute.message);
    // A custom offering with fixed parts must still fit a running domain as it is.
    if (vm.running && (compute.cpuNumber !== vm.cpuNumber || compute.memory !== vm.memory)) {
      return refuse(compute.cpuNumber !== vm.cpuNumber ? importMessages.cpuMismatch(offering.id, compute.cpuNumber, vm.cpuNumber, power) : importMessages.memoryMismatch(offering.id, compute.memory, vm.memory, power));
    }
    return { compute, custom };
  }
  const compute = resolveCompute(offering, undefined);
  if (isRejection(compute)) return refuse(compute.message);
  if (vm.running && compute.cpuNumber !== vm.cpuNumber) return refuse(importMessages.cpuMismatch(offering.id, compute.cpuNumber, vm.cpuNumber, power));
  if (vm.running && compute.memory !== vm.memory) return refuse(importMessages.memoryMismatch(offering.id, compute.memory, vm.memory, power));
  return { compute, custom: undefined };
}

export interface DiskPlan {
  readonly root: ImportedDisk & { readonly position: number; readonly size: number };
  readonly data: ReadonlyArray<ImportedDisk & { readonly position: number; readonly size: number; readonly offeringId: string }>;
}

const gib = (bytes: number): number => Math.ceil(bytes / GiB);

/**
 * The root disk and the data disks with their offerings (`getRootAndDataDisks` and
 * `checkUnmanagedDiskAndOfferingForImport`): every disk but one is mapped to a disk offering; the one
 * left is the root. `rootDefaultSize` stands for a root whose capacity the host could not tell.
 */
export function planDisks(
  vmName: string,
  disks: readonly ImportedDisk[],
  mappings: ReadonlyArray<{ readonly disk: string; readonly offering: MappedDiskOffering }>,
  rootDefaultSize: number,
): DiskPlan | Rejection {
  if (disks.length === 0) return reject('BAD_USER_INPUT', importMessages.noDisks(vmName), 'name');
  for (const [i, mapping] of mappings.entries()) {
    if (!disks.some((disk) => disk.diskId === mapping.disk)) {
      return reject('BAD_USER_INPUT', importMessages.unknownDisk(mapping.disk, mapping.offering.id), `dataDiskOfferingList[${i}].disk`);
    }
  }
  if (mappings.length !== disks.length - 1) return reject('BAD_USER_INPUT', importMessages.mappingCount(disks.length, mappings.length), 'dataDiskOfferingList');
  const mapped = new Map(mappings.map((m) => [m.disk, m.offering]));
  const unmapped = disks.filter((disk) => !mapped.has(disk.diskId));
  if (unmapped.length !== 1) return reject('BAD_USER_INPUT', importMessages.unmappedCount(disks.length, unmapped.map((d) => d.diskId)), 'dataDiskOfferingList');
  const rootDisk = unmapped[0]!;
  if (!rootDisk.controller) return reject('BAD_USER_INPUT', importMessages.noRootController(vmName), 'name');
  const position = (disk: ImportedDisk) => disks.indexOf(disk);
  const root = { ...rootDisk, position: position(rootDisk), size: rootDisk.capacity && rootDisk.capacity > 0 ? rootDisk.capacity : rootDefaultSize };
  const data: Array<DiskPlan['data'][number]> = [];
  for (const disk of disks) {
    const offering = mapped.get(disk.diskId);
    if (!offering) continue;
    const field = `dataDiskOfferingList[${mappings.findIndex((m) => m.disk === disk.diskId)}]`;
    // A data disk whose capacity the host could not tell takes its offering's size.
    const size = disk.capacity && disk.capacity > 0 ? disk.capacity : (offering.diskSize ?? 0);
    if (!(size > 0)) return reject('BAD_USER_INPUT', importMessages.diskSizeInvalid(disk.diskId), field);
    if (offering.diskSize !== null) {
      if (!(offering.diskSize > 0)) return reject('BAD_USER_INPUT', importMessages.fixedOfferingSizeInvalid(offering.id), field);
      // A larger offering is accepted; the disk is not resized.
      if (offering.diskSize < size) return reject('BAD_USER_INPUT', importMessages.offeringTooSmall(offering.id, gib(offering.diskSize), disk.diskId, gib(size)), field);
    }
    data.push({ ...disk, position: position(disk), size, offeringId: offering.id });
  }
  const controllers = [...new Set(data.map((disk) => disk.controller ?? ''))];
  if (controllers.length > 1) return reject('BAD_USER_INPUT', importMessages.mixedControllers(controllers[0]!, controllers[1]!), 'dataDiskOfferingList');
  return { root, data };
}

/** All NICs of one adapter type (`getUnmanagedNicNetworkMap`). */
export function checkAdapters(adapters: ReadonlyArray<string | null>): Rejection | null {
  const types = [...new Set(adapters.filter((type): type is string => type !== null))];
  return types.length > 1 ? reject('BAD_USER_INPUT', importMessages.mixedAdapters(types[0]!, types[1]!), 'name') : null;
}

// ---- A disk image on a pool (behaviour §4.6 `local`/`shared`) ----

/**
 * `diskpath`: a file inside the pool's directory, named relative to it. Absolute paths, `..` and `.`
 * segments, empty segments and characters that do not belong in a file name a host shell or libvirt
 * would read are refused, so the path can never lead outside the pool.
 */
export const DISK_PATH = /^(?!\/)(?:[A-Za-z0-9_+@%=,:-][A-Za-z0-9._+@%=,:-]*)(?:\/[A-Za-z0-9_+@%=,:-][A-Za-z0-9._+@%=,:-]*)*$/;

export function isDiskPath(text: string): boolean {
  return text.length <= 1024 && DISK_PATH.test(text) && !text.split('/').some((segment) => segment === '.' || segment === '..');
}

export const diskImageMessages = {
  diskPathRequired: 'Disk Path is required for Import from shared/local storage',
  networkRequired: 'Network is required for Import from shared/local storage',
  storageRequired: 'Storage Pool is required for Import from shared/local storage',
  storageNotFound: 'Storage Pool not found',
  hostRequired: 'Host is required for Import from local storage',
  hostNotFound: 'Host not found',
  localPoolNotOnHost: 'Specified Local Storage Pool not found on Host',
  imageInUse: 'Disk image is already in use',
  storageTags: (offering: string, pool: string) => `Service offering: ${offering} storage tags are not compatible with selected storage pool: ${pool}`,
  networkNotFound: (network: string) => `Unable to find network by id ${network}`,
  networkZone: (network: string, zone: string) => `Network id=${network} doesn't belong to zone ${zone}`,
  invalidDiskPath: (path: string) =>
    `Invalid diskPath ${JSON.stringify(path.slice(0, 100))}: the image's path relative to the storage pool's directory (no leading '/', no '.' or '..')`,
  sharedPoolIsLocal: (pool: string) => `Storage pool ${pool} is local to a host: import from it with importSource LOCAL and its hostId`,
  notFound: 'Disk not found or is invalid',
  notQcow2: (format: string) => `Disk image is ${format}, not qcow2: only qcow2 images are imported from shared/local storage`,
  locked: 'Locked volume cannot be imported or unmanaged.',
  encrypted: 'Encrypted volume cannot be imported or unmanaged.',
  backingFile: 'Volume with backing file cannot be imported or unmanaged.',
  usedByDomain: (domains: readonly string[], host: string) => `Disk image is already in use by domain ${domains.join(', ')} on host ${host}`,
  outsideStorage: (pool: string, host: string) => `Storage pool ${pool} is not storage the agent of host ${host} serves: its directory is neither the host's storage path nor a shared one it mounts`,
} as const;

/** What a host reported of a disk image (domain/agent-protocol's DiskImageReport), as the rules read it. */
export interface InspectedImage {
  readonly exists: boolean;
  readonly outsideStorage: boolean;
  readonly format: string | null;
  readonly virtualSize: number | null;
  readonly backingFile: string | null;
  readonly encrypted: boolean;
  readonly locked: boolean;
  readonly usedBy: readonly string[];
  readonly vmledgerFile: boolean;
}

/**
 * CheckVolumeCommand's answer and `checkVolume` (behaviour §4.6): the image must be there, a qcow2
 * image qemu-img reads, with no backing file, not encrypted, not locked by a running QEMU, and used
 * by no domain of the host. Every failing rule, so a preview shows them all (an import takes the
 * first). `pool`/`host` name them in the messages.
 */
export function checkDiskImage(image: InspectedImage, pool: string, host: string): Rejection[] {
  const refuse = (message: string) => reject('BAD_USER_INPUT', message, 'diskPath');
  if (image.outsideStorage) return [reject('BAD_USER_INPUT', diskImageMessages.outsideStorage(pool, host), 'storageId')];
  // A volume's or template's file vmledger keeps: in use, as CloudStack says of a volume it has.
  if (image.vmledgerFile) return [refuse(diskImageMessages.imageInUse)];
  if (!image.exists || image.format === null || image.virtualSize === null || !(image.virtualSize > 0)) return [refuse(diskImageMessages.notFound)];
  return [
    image.format !== 'qcow2' ? refuse(diskImageMessages.notQcow2(image.format)) : null,
    image.locked ? refuse(diskImageMessages.locked) : null,
    image.encrypted ? refuse(diskImageMessages.encrypted) : null,
    image.backingFile !== null ? refuse(diskImageMessages.backingFile) : null,
    image.usedBy.length > 0 ? refuse(diskImageMessages.usedByDomain(image.usedBy, host)) : null,
  ].filter((rejection): rejection is Rejection => rejection !== null);
}
