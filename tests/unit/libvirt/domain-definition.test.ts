import { describe, expect, it } from 'vitest';
import { describeDisks, domainDetails, parseDomainXml, specOf } from '../../../adapters/hypervisor/libvirt/domain-definition.js';
import { XmlReadError } from '../../../adapters/hypervisor/libvirt/xml-reader.js';

// What libvirt 9 prints for a running vmledger domain (`virsh dumpxml`): our definition plus the ids,
// aliases, addresses, labels and defaults libvirt adds, and the metadata under the prefix it was given.
const LIVE = `<domain type='qemu' id='3'>
  <name>i-2-14-VM</name>
  <uuid>3f1c2a9e-7b6d-4c1a-9e2f-0a1b2c3d4e5f</uuid>
  <metadata>
    <vml:instance xmlns:vml="urn:vmledger:libvirt:domain:1" id="3f1c2a9e-7b6d-4c1a-9e2f-0a1b2c3d4e5f" cpuSpeed="500">
      <vml:volume id="vol-root" type="ROOT" size="67108864" template="tmpl-1"/>
      <vml:volume id="vol-data" type="DATADISK" size="16777216"/>
      <vml:nic id="nic-1" network="net &amp; co&#10;2" mac="02:aa:bb:cc:dd:01" vlan="100" device="0"/>
    </vml:instance>
    <other:thing xmlns:other="http://example.org/other" cpuSpeed="9"/>
  </metadata>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <cputune>
    <shares>500</shares>
  </cputune>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>qemu64</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/srv/kvm-a/images/vol-root.qcow2' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/srv/kvm-a/images/templates/tmpl-1.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <boot order='1'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' discard='unmap'/>
      <source file='/srv/kvm-a/images/vol-data.qcow2' index='1'/>
      <backingStore/>
      <target dev='vdb' bus='virtio'/>
      <alias name='virtio-disk1'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'>
      <alias name='usb'/>
    </controller>
    <interface type='user'>
      <mac address='02:aa:bb:cc:dd:01'/>
      <model type='virtio'/>
      <alias name='net0'/>
    </interface>
    <serial type='pty'>
      <source path='/dev/pts/3'/>
      <target type='isa-serial' port='0'>
        <model name='isa-serial'/>
      </target>
      <alias name='serial0'/>
    </serial>
    <graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1'>
      <listen type='address' address='127.0.0.1'/>
    </graphics>
    <memballoon model='virtio'>
      <alias name='balloon0'/>
    </memballoon>
  </devices>
  <seclabel type='dynamic' model='dac' relabel='yes'>
    <label>+64055:+64055</label>
    <imagelabel>+64055:+64055</imagelabel>
  </seclabel>
</domain>
`;

describe('dumpxml', () => {
  it('reads what the host defined, ignoring what libvirt added', () => {
    const defined = parseDomainXml(LIVE);
    expect(defined).toMatchObject({
      instanceName: 'i-2-14-VM',
      uuid: '3f1c2a9e-7b6d-4c1a-9e2f-0a1b2c3d4e5f',
      cpuNumber: 1,
      maxVcpus: 2,
      memory: 128,
      maxMemory: 512,
      disks: [
        { target: 'vda', path: '/srv/kvm-a/images/vol-root.qcow2' },
        { target: 'vdb', path: '/srv/kvm-a/images/vol-data.qcow2' },
      ],
      macs: ['02:aa:bb:cc:dd:01'],
    });
    expect(defined.record?.cpuSpeed).toBe(500);
    expect(defined.record?.nics[0]?.networkId).toBe('net & co\n2');
  });

  it('gives the port’s details in the spec’s volume order, with the disks’ sizes', () => {
    const capacities = new Map([
      ['vda', 67108864],
      ['vdb', 16777216],
    ]);
    expect(domainDetails(parseDomainXml(LIVE), 'running', capacities)).toEqual({
      instanceName: 'i-2-14-VM',
      powerState: 'running',
      cpuNumber: 1,
      cpuSpeed: 500,
      memory: 128,
      disks: [
        { volumeId: 'vol-root', size: 67108864 },
        { volumeId: 'vol-data', size: 16777216 },
      ],
      macs: ['02:aa:bb:cc:dd:01'],
    });
  });

  it('recovers the spec with the current resources', () => {
    expect(specOf(parseDomainXml(LIVE))).toEqual({
      instanceId: '3f1c2a9e-7b6d-4c1a-9e2f-0a1b2c3d4e5f',
      instanceName: 'i-2-14-VM',
      cpuNumber: 1,
      cpuSpeed: 500,
      memory: 128,
      nics: [{ nicId: 'nic-1', networkId: 'net & co\n2', mac: '02:aa:bb:cc:dd:01', ip: null, vlan: 100, deviceId: 0 }],
      volumes: [
        { volumeId: 'vol-root', type: 'ROOT', size: 67108864, templateId: 'tmpl-1' },
        { volumeId: 'vol-data', type: 'DATADISK', size: 16777216, templateId: null },
      ],
    });
  });

  it('reads a domain vmledger did not define: no record, disks by file name, MHz unknown', () => {
    const foreign = `<domain type='kvm'><name>web</name><memory unit='MiB'>256</memory><vcpu>2</vcpu>
      <devices><disk type='file' device='disk'><source file='/var/lib/libvirt/images/web.qcow2'/><target dev='vda'/></disk>
      <interface type='network'><mac address='52:54:00:12:34:56'/></interface></devices></domain>`;
    const defined = parseDomainXml(foreign);
    expect(defined).toMatchObject({ cpuNumber: 2, maxVcpus: 2, memory: 256, maxMemory: 256, record: null });
    expect(specOf(defined)).toBeNull();
    expect(domainDetails(defined, 'stopped', new Map([['vda', 1024]]))).toMatchObject({
      cpuSpeed: 0,
      disks: [{ volumeId: 'web', size: 1024 }],
      macs: ['52:54:00:12:34:56'],
    });
  });

  it('fails clearly on a recorded volume without a disk, and on what is not a domain', () => {
    expect(() => describeDisks(parseDomainXml(LIVE), new Map([['vda', 1]]))).toThrow(/no disk for volume vol-data/);
    expect(() => parseDomainXml('<network><name>default</name></network>')).toThrow(XmlReadError);
    expect(() => parseDomainXml('<domain><name>x</name')).toThrow(/not well-formed/);
    expect(() => parseDomainXml('<domain><name>x</name><memory unit="parsecs">1</memory><vcpu>1</vcpu></domain>')).toThrow(/unreadable <memory>/);
  });
});
