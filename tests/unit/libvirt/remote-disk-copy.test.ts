// What `qemu-img info` must say of a copied disk before it is taken (behaviour §4.6, CloudStack's
// checkVolume): a qcow2 with a virtual size, no backing file, not encrypted, each refusal in
// CloudStack's words.
import { describe, expect, it } from 'vitest';
import { checkCopiedVolume } from '../../../adapters/hypervisor/libvirt/remote-disk-copy.js';

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
