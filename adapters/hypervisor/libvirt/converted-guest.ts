// The libvirt XML virt-v2v writes beside the converted disks (`-o local`: `<tempPath>/<name>.xml`),
// read for what the import step needs: each disk's file and bus in order (sda, sdb, …: the source's
// disk order), and whether the guest boots with UEFI (a firmware loader). It has no MACs: the
// workflow re-applies the source's, as CloudStack's sanitizeConvertedInstance does.
import { attributeOf, childNodes, firstChild, parseXmlDocument } from './xml-reader.js';

export interface ConvertedXml {
  readonly disks: ReadonlyArray<{ readonly path: string; readonly bus: string }>;
  readonly bootMode: 'BIOS' | 'UEFI';
}

export function parseConvertedXml(xml: string): ConvertedXml {
  const domain = parseXmlDocument(xml, 'domain');
  const devices = firstChild(domain, 'devices');
  const disks = (devices ? childNodes(devices, 'disk') : [])
    .filter((disk) => (attributeOf(disk, 'device') ?? 'disk') === 'disk')
    .map((disk) => {
      const source = firstChild(disk, 'source');
      const target = firstChild(disk, 'target');
      return { path: (source && attributeOf(source, 'file')) ?? '', bus: (target && attributeOf(target, 'bus')) ?? 'virtio' };
    })
    .filter((disk) => disk.path !== '');
  const os = firstChild(domain, 'os');
  const uefi = os !== undefined && (firstChild(os, 'loader') !== undefined || attributeOf(os, 'firmware') === 'efi');
  return { disks, bootMode: uefi ? 'UEFI' : 'BIOS' };
}
