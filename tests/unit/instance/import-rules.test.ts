// CloudStack's mapping rules for an import (behaviour §4.5 steps 1, 3-5), each with its message.
import { describe, expect, it } from 'vitest';
import { checkAdapters, checkDiskImage, importCompute, isDiskPath, planDisks, type ImportedDisk, type InspectedImage } from '../../../domain/instance/import-rules.js';
import { isRejection } from '../../../domain/shared/decider.js';
import { GiB, custom, medium, small } from './fixtures.js';

const vm = (fields: Partial<Parameters<typeof importCompute>[1]> = {}) => ({ name: 'legacy', running: true, cpuNumber: 2, cpuSpeed: 1000, memory: 1024, ...fields });

describe('importCompute (getUnmanagedInstanceServiceOffering)', () => {
  it('a fixed offering matching a running domain exactly', () => {
    expect(importCompute(medium, vm(), undefined)).toEqual({ compute: { cpuNumber: 2, cpuSpeed: 1000, memory: 1024 }, custom: undefined });
  });

  it('any fixed offering for a stopped domain: the next start gives it the offering\'s size', () => {
    expect(importCompute(small, vm({ running: false, cpuNumber: 8, memory: 8192 }), undefined)).toMatchObject({ compute: { cpuNumber: 1, memory: 512 } });
  });

  it('a custom offering takes the domain\'s cores and memory, within its bounds', () => {
    expect(importCompute(custom, vm({ cpuNumber: 3, memory: 3072 }), undefined)).toEqual({
      compute: { cpuNumber: 3, cpuSpeed: 1000, memory: 3072 },
      custom: { cpuNumber: 3, memory: 3072 },
    });
  });

  it.each([
    ['cores that do not match a running domain', medium, vm({ cpuNumber: 4 }), `Service offering (${medium.id}) 2 CPU cores do not match VM CPU cores 4 and VM is not in powered off state (Power state: PowerOn)`],
    ['memory that does not match a running domain', medium, vm({ memory: 2048 }), `Service offering (${medium.id}) 1024MB memory does not match VM memory 2048MB and VM is not in powered off state (Power state: PowerOn)`],
    ['a domain with no cores', medium, vm({ cpuNumber: 0 }), 'CPU cores [0] is not valid for importing VM [legacy].'],
    ['a domain with no memory', medium, vm({ memory: 0 }), 'Memory [0] is not valid for importing VM [legacy].'],
    ['a custom offering whose bounds the domain exceeds', custom, vm({ cpuNumber: 16 }), 'Invalid cpu cores value, specify a value between 1 and 8'],
  ] as const)('refuses %s, in CloudStack\'s words', (_what, offering, domain, reason) => {
    const result = importCompute(offering, domain, undefined);
    expect(isRejection(result) && result.message).toBe(`Failed to import Unmanaged VM [legacy] because the service offering [${offering.id}] is not compatible due to [${reason}].`);
  });
});

const disk = (diskId: string, capacity: number | null, controller: string | null = 'virtio'): ImportedDisk => ({ diskId, capacity, controller });
const offering = (id: string, diskSize: number | null) => ({ id, diskSize });

describe('planDisks (getRootAndDataDisks, checkUnmanagedDiskAndOfferingForImport)', () => {
  it('the one disk without a mapping is the root, wherever it is', () => {
    const plan = planDisks('legacy', [disk('0', 2 * GiB), disk('1', 8 * GiB)], [{ disk: '0', offering: offering('do-5', 5 * GiB) }], GiB);
    expect(plan).toEqual({
      root: { diskId: '1', capacity: 8 * GiB, controller: 'virtio', position: 1, size: 8 * GiB },
      data: [{ diskId: '0', capacity: 2 * GiB, controller: 'virtio', position: 0, size: 2 * GiB, offeringId: 'do-5' }],
    });
  });

  it('a root whose capacity is unknown takes the default size; a data disk its offering\'s', () => {
    const plan = planDisks('legacy', [disk('0', null), disk('1', null)], [{ disk: '1', offering: offering('do-5', 5 * GiB) }], 2 * GiB);
    expect(!isRejection(plan) && [plan.root.size, plan.data[0]!.size]).toEqual([2 * GiB, 5 * GiB]);
  });

  it.each([
    ['no disks', [], [], 'No attached disks found for the unmanaged VM: legacy'],
    ['too few mappings', [disk('0', GiB), disk('1', GiB), disk('2', GiB)], [{ disk: '1', offering: offering('do', 5 * GiB) }], 'VM has total 3 disks for which 1 disk offering mappings provided. 2 disks need a disk offering for import'],
    ['a mapping of a disk the domain does not have', [disk('0', GiB), disk('1', GiB)], [{ disk: '7', offering: offering('do', 5 * GiB) }], 'Disk offering ID: do for disk ID: 7 is invalid'],
    ['a root without a controller', [disk('0', GiB, null), disk('1', GiB)], [{ disk: '1', offering: offering('do', 5 * GiB) }], 'VM import failed. Unable to retrieve root disk details for VM: legacy '],
    ['an offering smaller than its disk', [disk('0', GiB), disk('1', 3 * GiB)], [{ disk: '1', offering: offering('do', 2 * GiB) }], 'Size of disk offering(ID: do) 2GB is found less than the size of disk(ID: 1) 3GB during VM import'],
    ['a data disk of no size with a custom offering', [disk('0', GiB), disk('1', null)], [{ disk: '1', offering: offering('do', null) }], 'Size of disk(ID: 1) is found invalid during VM import'],
    ['a fixed offering of size 0', [disk('0', GiB), disk('1', GiB)], [{ disk: '1', offering: offering('do', 0) }], 'Size of fixed disk offering(ID: do) is found invalid during VM import'],
    [
      'data disks on two kinds of controller',
      [disk('0', GiB), disk('1', GiB, 'virtio'), disk('2', GiB, 'scsi')],
      [{ disk: '1', offering: offering('do', 5 * GiB) }, { disk: '2', offering: offering('do', 5 * GiB) }],
      'Multiple data disk controllers of different type (virtio, scsi) are not supported for import. Please make sure that all data disk controllers are of the same type',
    ],
  ] as const)('refuses %s', (_what, disks, mappings, message) => {
    const plan = planDisks('legacy', disks, mappings, GiB);
    expect(isRejection(plan) && plan.message).toBe(message);
  });
});

describe('checkAdapters', () => {
  it('takes NICs of one model, and refuses two models as CloudStack does', () => {
    expect(checkAdapters(['virtio', 'virtio', null])).toBeNull();
    expect(checkAdapters(['virtio', 'e1000'])?.message).toBe(
      'Multiple network adapter of different type (virtio, e1000) are not supported for import. Please make sure that all network adapters are of the same type',
    );
  });
});

describe('checkDiskImage (CheckVolumeCommand and checkVolume, behaviour §4.6 local/shared)', () => {
  const good: InspectedImage = { exists: true, outsideStorage: false, format: 'qcow2', virtualSize: 4 * GiB, backingFile: null, encrypted: false, locked: false, usedBy: [], vmledgerFile: false };
  const messages = (image: Partial<InspectedImage>) => checkDiskImage({ ...good, ...image }, 'pool-a', 'host-a').map((r) => [r.code, r.field, r.message]);

  it('a qcow2 image, there, alone, readable: no refusal', () => {
    expect(checkDiskImage(good, 'pool-a', 'host-a')).toEqual([]);
  });

  it.each([
    ['a file that is not there', { exists: false, format: null, virtualSize: null }, 'Disk not found or is invalid'],
    ['a file qemu-img cannot read', { format: null, virtualSize: null }, 'Disk not found or is invalid'],
    ['an image of no size', { virtualSize: 0 }, 'Disk not found or is invalid'],
    ['a raw image', { format: 'raw' }, 'Disk image is raw, not qcow2: only qcow2 images are imported from shared/local storage'],
    ['a locked image', { locked: true }, 'Locked volume cannot be imported or unmanaged.'],
    ['an encrypted image', { encrypted: true }, 'Encrypted volume cannot be imported or unmanaged.'],
    ['an image with a backing file', { backingFile: '/pool/base.qcow2' }, 'Volume with backing file cannot be imported or unmanaged.'],
    ['an image a domain attaches', { usedBy: ['web', 'db'] }, 'Disk image is already in use by domain web, db on host host-a'],
    ['a volume\'s or template\'s file vmledger keeps', { vmledgerFile: true, format: null, virtualSize: null }, 'Disk image is already in use'],
  ] as const)('refuses %s, naming diskPath', (_what, image, message) => {
    expect(messages(image)).toEqual([['BAD_USER_INPUT', 'diskPath', message]]);
  });

  it('given several faults, then each is refused, in CloudStack\'s order', () => {
    expect(messages({ locked: true, encrypted: true, backingFile: 'b', usedBy: ['web'] }).map(([, , message]) => message)).toEqual([
      'Locked volume cannot be imported or unmanaged.',
      'Encrypted volume cannot be imported or unmanaged.',
      'Volume with backing file cannot be imported or unmanaged.',
      'Disk image is already in use by domain web on host host-a',
    ]);
  });

  it('given a pool the host does not serve, then that alone is refused, naming storageId', () => {
    expect(messages({ outsideStorage: true, exists: false })).toEqual([
      ['BAD_USER_INPUT', 'storageId', 'Storage pool pool-a is not storage the agent of host host-a serves: its directory is neither the host\'s storage path nor a shared one it mounts'],
    ]);
  });
});

describe('isDiskPath (diskpath: relative to the pool, never leaving it)', () => {
  it.each(['web.qcow2', 'golden/db-1.qcow2', 'a/b/c_d+e@f.img'])('accepts %s', (path) => expect(isDiskPath(path)).toBe(true));
  it.each(['', '/etc/shadow', '../x.qcow2', 'a/../../x', './x', 'a//b', 'a/', 'a b.qcow2', 'a\nb', '$(rm)', 'x'.repeat(1025)])('refuses %j', (path) => expect(isDiskPath(path)).toBe(false));
});
