// What `qemu-img info` must say of a copied disk before it is taken (behaviour §4.6, CloudStack's
// checkVolume): a qcow2 with a virtual size, no backing file, not encrypted, each refusal in
// CloudStack's words.
import { describe, expect, it } from 'vitest';
import { checkCopiedVolume, extentList } from '../../../adapters/hypervisor/libvirt/remote-disk-copy.js';

const good = { format: 'qcow2', 'virtual-size': 67108864, 'actual-size': 16777216, 'dirty-flag': false };

describe('checkCopiedVolume', () => {
  it('given a standalone qcow2, then it is taken', () => {
    expect(checkCopiedVolume(good)).toBeNull();
  });

  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an encrypted image', { ...good, encrypted: true }, /^Encrypted volume cannot be imported or unmanaged\.$/],
    ['an image with a backing file', { ...good, 'backing-filename': '/srv/base.qcow2' }, /^Volume with backing file cannot be imported or unmanaged\.$/],
    ['an image with a full backing file only', { ...good, 'full-backing-filename': '/srv/base.qcow2' }, /^Volume with backing file cannot be imported or unmanaged\.$/],
    ['a raw image', { ...good, format: 'raw' }, /^Unable to copy volume of remote instance: the copy is raw, not qcow2$/],
    ['no virtual size', { format: 'qcow2' }, /no virtual size/],
  ];
  for (const [given, info, message] of refusals) {
    it(`given ${given}, then it is refused`, () => {
      expect(checkCopiedVolume(info)).toMatch(message);
    });
  }
});

// A raw disk streamed over SFTP crosses the link whole, holes included, unless nbdkit is told where
// its data is: the source host's `qemu-img map` lists the data extents only.
describe('extentList', () => {
  it('given qemu-img map of a sparse raw file, then each data extent is one `offset length` line (the rest are holes)', () => {
    const map = [
      'Offset          Length          Mapped to       File',
      '0               0x100000        0               /srv/vm/a b.raw',
      '0x200000        0x100000        0x200000        /srv/vm/a b.raw',
      '0x500000        0x100000        0x500000        /srv/vm/a b.raw',
      '',
    ].join('\n');
    expect(extentList(map)).toBe('0 1048576\n2097152 1048576\n5242880 1048576\n');
  });

  it('given a file that is all holes, then the list is empty (every byte reads as zero)', () => {
    expect(extentList('Offset          Length          Mapped to       File\n')).toBe('');
  });

  it('given output that is not qemu-img map\'s, then there is no list (every byte is read)', () => {
    expect(extentList('')).toBeNull();
    expect(extentList('qemu-img: Could not open \'/srv/x\': No such file or directory')).toBeNull();
    expect(extentList('Offset Length Mapped to File\nsomething else\n')).toBeNull();
  });
});
