import { describe, expect, it } from 'vitest';
import { describeDisks, diskPathsOf, parseDomainXml } from '../../../adapters/hypervisor/libvirt/domain-definition.js';
import { metadataElement } from '../../../adapters/hypervisor/libvirt/domain-metadata.js';
import { unmanagedDomainOf } from '../../../adapters/hypervisor/libvirt/unmanaged-domains.js';
import { renderXml } from '../../../adapters/hypervisor/libvirt/xml-writer.js';
import { parseBlockInfo } from '../../../adapters/hypervisor/libvirt/virsh-output.js';

// A domain defined by hand (kvm-agent-notes §4): a qcow2 disk on virtio, a raw disk on scsi, a CD-ROM,
// two NICs (one on a VLAN-tagged bridge), a VNC password (dumpxml --security-info).
const BY_HAND = `<domain type='kvm'>
  <name>unmanaged-1</name>
  <uuid>0c0a4c3e-3f1a-4b8e-9d6f-2a1b3c4d5e6f</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <cputune><shares>2000</shares></cputune>
  <cpu mode='host-model'><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/unmanaged-1.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/data/unmanaged-1-data.img'/>
      <target dev='sdb' bus='scsi'/>
      <address type='drive' controller='0' bus='0' target='0' unit='1'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='bridge'>
      <mac address='52:54:00:AB:CD:01'/>
      <source bridge='br-guest'/>
      <vlan><tag id='300'/></vlan>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x03' function='0x0'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:ab:cd:02'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' port='-1' autoport='yes' passwd='secret12'/>
  </devices>
</domain>`;

const SIZES = `
 Target   Capacity     Allocation   Physical
---------------------------------------------
 vda      2147483648   200704       2147483648
 sdb      536870912    536870912    536870912
 hdc      -            -            -
`;

describe('unmanagedDomainOf', () => {
  it('reads a domain defined by hand as CloudStack\'s KVM agent does: disks only, NICs with VLAN and slot', () => {
    expect(unmanagedDomainOf(BY_HAND, 'stopped', parseBlockInfo(SIZES))).toEqual({
      name: 'unmanaged-1',
      powerState: 'PowerOff',
      cpuNumber: 2,
      cpuSpeed: 1000,
      cpuCoresPerSocket: 2,
      memory: 1024,
      osDisplayName: null,
      disks: [
        { diskId: '0', capacity: 2147483648, controller: 'virtio', controllerUnit: null, label: 'vda', imagePath: '/var/lib/libvirt/images/unmanaged-1.qcow2', position: 0, datastoreName: '/var/lib/libvirt/images', format: 'qcow2' },
        { diskId: '1', capacity: 536870912, controller: 'scsi', controllerUnit: 1, label: 'sdb', imagePath: '/srv/data/unmanaged-1-data.img', position: 1, datastoreName: '/srv/data', format: 'raw' },
      ],
      nics: [
        { nicId: '0', macAddress: '52:54:00:ab:cd:01', networkName: 'br-guest', vlanId: 300, pciSlot: 3, adapterType: 'virtio', ipAddress: null },
        { nicId: '1', macAddress: '52:54:00:ab:cd:02', networkName: 'default', vlanId: null, pciSlot: null, adapterType: 'virtio', ipAddress: null },
      ],
    });
  });

  it('gives the memory the guest has, not the most it could balloon to (vmledger defines domains with room to scale)', () => {
    const scalable = BY_HAND.replace("<memory unit='KiB'>1048576</memory>", "<memory unit='KiB'>4194304</memory>").replace("<currentMemory unit='KiB'>1048576</currentMemory>", "<currentMemory unit='KiB'>131072</currentMemory>");
    expect(unmanagedDomainOf(scalable, 'running', new Map())?.memory).toBe(128);
  });

  it('a running domain is PowerOn; a definition without cputune has no speed', () => {
    const plain = BY_HAND.replace('<cputune><shares>2000</shares></cputune>', '');
    expect(unmanagedDomainOf(plain, 'running', new Map())).toMatchObject({ powerState: 'PowerOn', cpuSpeed: 0, disks: [{ capacity: null }, { capacity: null }] });
  });

  it('a domain with vmledger\'s record is vmledger\'s: not unmanaged, whatever its name', () => {
    const owned = BY_HAND.replace(
      '<memory',
      `<metadata><vmledger:instance xmlns:vmledger="urn:vmledger:libvirt:domain:1" id="3f1c2a9e-7b6d-4c1a-9e2f-0a1b2c3d4e5f" cpuSpeed="1000"/></metadata><memory`,
    );
    expect(unmanagedDomainOf(owned, 'running', new Map())).toBeNull();
  });

  it('another program\'s metadata does not make a domain vmledger\'s', () => {
    const other = BY_HAND.replace('<memory', `<metadata><app:instance xmlns:app="http://example.org/app" id="x" cpuSpeed="1"/></metadata><memory`);
    expect(unmanagedDomainOf(other, 'stopped', new Map())?.name).toBe('unmanaged-1');
  });
});

describe('an adopted domain (after an import)', () => {
  // What ManageDomain leaves: vmledger's record naming the disks where they were found.
  const ROOT = '0a1b2c3d-0000-4000-8000-000000000001';
  const DATA = '0a1b2c3d-0000-4000-8000-000000000002';
  const spec = {
    instanceId: '3f1c2a9e-7b6d-4c1a-9e2f-0a1b2c3d4e5f',
    instanceName: 'unmanaged-1',
    cpuNumber: 2,
    cpuSpeed: 1000,
    memory: 1024,
    nics: [],
    volumes: [
      { volumeId: ROOT, type: 'ROOT' as const, size: 2147483648, templateId: null },
      { volumeId: DATA, type: 'DATADISK' as const, size: 536870912, templateId: null },
    ],
  };
  const adopted = new Map([
    [ROOT, '/var/lib/libvirt/images/unmanaged-1.qcow2'],
    [DATA, '/srv/data/unmanaged-1-data.img'],
  ]);
  const xml = BY_HAND.replace('<memory', `<metadata>${renderXml(metadataElement(spec, [], adopted))}</metadata><memory`);

  it('is vmledger\'s, and its record says which file is which volume\'s', () => {
    expect(unmanagedDomainOf(xml, 'running', new Map())).toBeNull();
    const defined = parseDomainXml(xml);
    expect(defined.record?.adoptedPaths).toEqual(adopted);
    expect(diskPathsOf(defined)).toEqual(new Map([[ROOT, '/var/lib/libvirt/images/unmanaged-1.qcow2'], [DATA, '/srv/data/unmanaged-1-data.img']]));
    expect(describeDisks(defined, parseBlockInfo(SIZES))).toEqual([
      { volumeId: ROOT, size: 2147483648 },
      { volumeId: DATA, size: 536870912 },
    ]);
    expect(defined.disks.map((disk) => disk.format)).toEqual(['qcow2', 'raw']);
  });

  it('given its root replaced by a restore, then the record still says which file was the former root\'s, for the next start or the destruction to remove', () => {
    const NEW_ROOT = '6c1f5f0e-0000-4000-8000-0000000000f3';
    const restored = { ...spec, volumes: [{ volumeId: NEW_ROOT, type: 'ROOT' as const, size: 2147483648, templateId: null }, spec.volumes[1]!] };
    const record = parseDomainXml(BY_HAND.replace('<memory', `<metadata>${renderXml(metadataElement(restored, [ROOT], adopted))}</metadata><memory`)).record;
    expect(record?.formerVolumeIds).toEqual([ROOT]);
    expect(record?.adoptedPaths).toEqual(adopted);
  });
});
