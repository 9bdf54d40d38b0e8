// What the libvirt driver reads of a disk image an import from local or shared storage would take in
// place (adapters/hypervisor/libvirt/disk-image-inspection.ts): qemu-img info's fields, and which paths
// count as inside a pool.
import { describe, expect, it } from 'vitest';
import { isInside, isVmledgerFile, parseImageDetails } from '../../../adapters/hypervisor/libvirt/disk-image-inspection.js';

describe('parseImageDetails (qemu-img info --output=json)', () => {
  it('a standalone qcow2 image: its format and virtual size, no backing file, not encrypted', () => {
    expect(parseImageDetails('{"virtual-size": 67108864, "filename": "/p/a.qcow2", "format": "qcow2", "actual-size": 200704, "dirty-flag": false}')).toEqual({
      format: 'qcow2',
      virtualSize: 67108864,
      backingFile: null,
      encrypted: false,
    });
  });

  it('an overlay: its backing file, the full path when qemu-img gives it', () => {
    expect(parseImageDetails('{"virtual-size": 1, "format": "qcow2", "backing-filename": "base.qcow2", "full-backing-filename": "/p/base.qcow2"}').backingFile).toBe('/p/base.qcow2');
    expect(parseImageDetails('{"virtual-size": 1, "format": "qcow2", "backing-filename": "base.qcow2"}').backingFile).toBe('base.qcow2');
  });

  it('an encrypted image', () => {
    expect(parseImageDetails('{"virtual-size": 1, "format": "qcow2", "encrypted": true}').encrypted).toBe(true);
  });

  it.each(['not json', '{"format": "qcow2"}', '{"virtual-size": "1", "format": "qcow2"}'])('refuses output without a virtual size and format: %s', (output) => {
    expect(() => parseImageDetails(output)).toThrow(SyntaxError);
  });
});

describe('isInside', () => {
  it.each([
    ['/p/pool/a.qcow2', '/p/pool', true],
    ['/p/pool', '/p/pool', true],
    ['/p/pool/sub/a.qcow2', '/p/pool/', true],
    ['/p/pool2/a.qcow2', '/p/pool', false],
    ['/p/a.qcow2', '/p/pool', false],
  ] as const)('%s inside %s: %s', (path, dir, inside) => expect(isInside(path, dir)).toBe(inside));
});

describe('isVmledgerFile: the files the driver keeps itself, never imported in place', () => {
  const served = ['/srv/a/images', '/srv/shared'];
  it.each([
    ['/srv/a/images/0b6c1c1e-3f43-4a55-9d0e-1c2b3a4d5e6f.qcow2', true],
    ['/srv/shared/0b6c1c1e-3f43-4a55-9d0e-1c2b3a4d5e6f.qcow2', true],
    ['/srv/a/images/templates/0b6c1c1e-3f43-4a55-9d0e-1c2b3a4d5e6f.qcow2', true],
    ['/srv/a/images/templates/any.qcow2', true],
    ['/srv/a/images/import/0b6c1c1e-3f43-4a55-9d0e-1c2b3a4d5e6f.qcow2', false],
    ['/srv/a/images/golden.qcow2', false],
    ['/srv/other/0b6c1c1e-3f43-4a55-9d0e-1c2b3a4d5e6f.qcow2', false],
  ] as const)('%s: %s', (path, own) => expect(isVmledgerFile(path, served)).toBe(own));
});
