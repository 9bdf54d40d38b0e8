import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { LibvirtHostConfig } from '../../../adapters/hypervisor/libvirt/config.js';
import { parseDomainXml, specOf } from '../../../adapters/hypervisor/libvirt/domain-definition.js';
import {
  buildDomainXml,
  cpuShares,
  DomainSpecError,
  domainUuid,
  scalingLimits,
  virtioDiskName,
} from '../../../adapters/hypervisor/libvirt/domain-xml.js';
import type { DomainSpec } from '../../../adapters/hypervisor/protocol.js';

const HOST = { cpuNumber: 8, cpuSpeed: 2400, memory: 32768 };
const CONFIG: LibvirtHostConfig = {
  hostId: 'h-1',
  address: '10.0.0.11',
  sshPort: 22,
  username: 'vmhost',
  privateKeyPath: '/etc/vmledger/id',
  hostKeySha256: 'SHA256:PO4a8i/IcKjKetKTvMa6nOFeLTHuOJ72lPA53ZjKFvM',
  domainType: 'kvm',
  storagePath: '/mnt/primary',
  migrationUri: 'qemu+ssh://vmhost@10.0.0.11/system',
  migrationAddress: '10.0.0.11',
  vncListen: '127.0.0.1',
  sharedStoragePaths: [],
  // net-2 is a flat network on this bridge: its NICs join untagged.
  nic: { mode: 'bridge', bridge: 'cloudbr0', untaggedNetworkIds: ['net-2'] },
  remoteCopyMode: 'auto',
  conversion: { virtV2v: 'virt-v2v', env: {} },
};
const SPEC: DomainSpec = {
  instanceId: '3F1C2A9E-7B6D-4C1A-9E2F-0A1B2C3D4E5F',
  instanceName: 'i-2-14-VM',
  cpuNumber: 2,
  cpuSpeed: 1000,
  memory: 1024,
  nics: [
    { nicId: 'nic-1', networkId: 'net-1', mac: '02:00:0A:00:00:05', ip: '10.1.0.5', vlan: 200, deviceId: 0 },
    { nicId: 'nic-2', networkId: 'net-2', mac: '02:00:0a:00:00:06', ip: null, vlan: null, deviceId: 1 },
  ],
  volumes: [
    { volumeId: 'vol-data', type: 'DATADISK', size: 10 * 2 ** 30, templateId: null },
    { volumeId: 'vol-root', type: 'ROOT', size: 8 * 2 ** 30, templateId: 'tmpl-debian' },
  ],
};

type Node = Record<string, unknown> & { '@_id'?: string };
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ['disk', 'interface', 'vmledger:volume', 'vmledger:nic'].includes(name),
});
// Loosely typed on purpose: the assertions below say what shape is expected.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const parsed = (spec: DomainSpec = SPEC, config: LibvirtHostConfig = CONFIG) => (parser.parse(buildDomainXml(spec, config, HOST)) as { domain: Record<string, any> }).domain;

describe('domain XML', () => {
  it('defines the domain from the spec and the host settings', () => {
    const domain = parsed();
    expect(domain['@_type']).toBe('kvm');
    expect(domain.name).toBe('i-2-14-VM');
    expect(domain.uuid).toBe('3f1c2a9e-7b6d-4c1a-9e2f-0a1b2c3d4e5f');
    expect(domain.os.type).toEqual({ '#text': 'hvm', '@_arch': 'x86_64', '@_machine': 'pc' });
    expect(domain.features).toEqual({ acpi: '', apic: '' });
    expect([domain.on_poweroff, domain.on_reboot, domain.on_crash]).toEqual(['destroy', 'restart', 'destroy']);
    expect(domain.devices.memballoon).toEqual({ '@_model': 'virtio' });
    expect(domain.devices.graphics).toMatchObject({ '@_type': 'vnc', '@_autoport': 'yes', '@_listen': '127.0.0.1', listen: { '@_address': '127.0.0.1' } });
  });

  it('gives the domain its vCPUs and memory with room to scale live, and CloudStack CPU shares', () => {
    const domain = parsed();
    expect(domain.vcpu).toEqual({ '#text': '8', '@_current': '2', '@_placement': 'static' });
    expect(domain.currentMemory).toEqual({ '#text': String(1024 * 1024), '@_unit': 'KiB' });
    expect(domain.memory).toEqual({ '#text': String(4 * 1024 * 1024), '@_unit': 'KiB' });
    expect(domain.cputune.shares).toBe('2000');
  });

  it('puts the root disk first and boots from it, as qcow2 files under the storage path', () => {
    const disks = parsed().devices.disk as Node[];
    expect(disks.map((disk) => [(disk['source'] as Node)['@_file'], (disk['target'] as Node)['@_dev'], (disk['target'] as Node)['@_bus']])).toEqual([
      ['/mnt/primary/vol-root.qcow2', 'vda', 'virtio'],
      ['/mnt/primary/vol-data.qcow2', 'vdb', 'virtio'],
    ]);
    expect(disks[0]!['boot']).toEqual({ '@_order': '1' });
    expect(disks[1]!['boot']).toBeUndefined();
    expect(disks[0]!['driver']).toMatchObject({ '@_name': 'qemu', '@_type': 'qcow2' });
  });

  it('bridges the NICs with their MACs, tagging the VLAN on an Open vSwitch port', () => {
    const nics = parsed().devices.interface as Node[];
    expect(nics[0]).toEqual({
      '@_type': 'bridge',
      mac: { '@_address': '02:00:0a:00:00:05' },
      source: { '@_bridge': 'cloudbr0' },
      virtualport: { '@_type': 'openvswitch' },
      vlan: { tag: { '@_id': '200' } },
      model: { '@_type': 'virtio' },
    });
    expect(nics[1]).toEqual({
      '@_type': 'bridge',
      mac: { '@_address': '02:00:0a:00:00:06' },
      source: { '@_bridge': 'cloudbr0' },
      model: { '@_type': 'virtio' },
    });
  });

  it('uses user-mode networking on a host configured for it (no VLAN there)', () => {
    const nics = parsed(SPEC, { ...CONFIG, domainType: 'qemu', nic: { mode: 'user' } }).devices.interface as Node[];
    expect(nics.map((nic) => nic['@_type'])).toEqual(['user', 'user']);
    expect(nics[0]!['vlan']).toBeUndefined();
  });

  it('records the spec in vmledger metadata, which reads back to the same spec', () => {
    const instance = parsed().metadata['vmledger:instance'];
    expect(instance['@_xmlns:vmledger']).toBe('urn:vmledger:libvirt:domain:1');
    expect(instance['@_cpuSpeed']).toBe('1000');
    expect((instance['vmledger:volume'] as Node[]).map((volume) => volume['@_id'])).toEqual(['vol-data', 'vol-root']);
    const defined = parseDomainXml(buildDomainXml(SPEC, CONFIG, HOST));
    expect(specOf(defined)).toEqual(SPEC);
  });

  it('escapes every value, so no name can break out of its element or attribute', () => {
    const hostile: DomainSpec = {
      ...SPEC,
      // No slash: libvirt refuses one in a domain name.
      instanceName: `x]]><on_crash>preserve<on_crash><!-- & 'y' "z"`,
      nics: [{ ...SPEC.nics[0]!, networkId: `net"/><vmledger:volume id="evil`, ip: '<ip>' }],
    };
    const domain = parsed(hostile);
    expect(domain.name).toBe(hostile.instanceName);
    expect(domain.on_crash).toBe('destroy');
    expect(domain.metadata['vmledger:instance']['vmledger:volume']).toHaveLength(2);
    expect(specOf(parseDomainXml(buildDomainXml(hostile, CONFIG, HOST)))).toEqual(hostile);
  });

  it('keeps newlines and tabs in attributes as characters, not as spaces', () => {
    const spec = { ...SPEC, nics: [{ ...SPEC.nics[0]!, networkId: 'a\nb\tc' }] };
    expect(specOf(parseDomainXml(buildDomainXml(spec, CONFIG, HOST)))?.nics[0]?.networkId).toBe('a\nb\tc');
  });

  it.each([
    ['a volume id that is a path', { volumes: [{ ...SPEC.volumes[1]!, volumeId: '../../etc/passwd' }] }, /volumeId "\.\.\/\.\.\/etc\/passwd" cannot be a file name/],
    ['a MAC that is not one', { nics: [{ ...SPEC.nics[0]!, mac: '02:00:00:00:00' }] }, /nics\[0\]\.mac "02:00:00:00:00" is not a MAC address/],
    ['a multicast MAC', { nics: [{ ...SPEC.nics[0]!, mac: '01:00:5e:00:00:01' }] }, /nics\[0\]\.mac 01:00:5e:00:00:01 is a multicast address/],
    ['a VLAN out of range', { nics: [{ ...SPEC.nics[0]!, vlan: 4095 }] }, /nics\[0\]\.vlan must be a VLAN id from 1 to 4094/],
    ['no vCPU', { cpuNumber: 0 }, /cpuNumber must be a positive integer/],
    ['a control character', { instanceName: 'i-\u0001' }, /cannot be written as XML: U\+0001/],
  ])('refuses %s with DomainSpecError', (_what, change, message) => {
    const attempt = () => buildDomainXml({ ...SPEC, ...change } as DomainSpec, CONFIG, HOST);
    expect(attempt).toThrow(DomainSpecError);
    expect(attempt).toThrow(message);
  });

  it('keeps the disk files a domain already has, and puts new ones under the storage path', () => {
    const xml = buildDomainXml(SPEC, CONFIG, HOST, { diskPaths: new Map([['vol-root', '/mnt/other-host/vol-root.qcow2']]) });
    expect(parseDomainXml(xml).disks.map((disk) => disk.path)).toEqual(['/mnt/other-host/vol-root.qcow2', '/mnt/primary/vol-data.qcow2']);
  });

  it('refuses a NIC without a VLAN on a bridge unless its network is listed as untagged', () => {
    const attempt = () => buildDomainXml(SPEC, { ...CONFIG, nic: { mode: 'bridge', bridge: 'cloudbr0', untaggedNetworkIds: [] } }, HOST);
    expect(attempt).toThrow(DomainSpecError);
    expect(attempt).toThrow(/nics\[1\] is on network net-2, which has no VLAN, and bridge cloudbr0 takes untagged NICs only of the networks listed in the host's nic.untaggedNetworkIds/);
    // VLAN 0 is 802.1Q's "priority only": untagged as well.
    expect(() => buildDomainXml({ ...SPEC, nics: [{ ...SPEC.nics[0]!, vlan: 0 }] }, CONFIG, HOST)).toThrow(/nics\[0\] is on network net-1, which has no VLAN/);
  });

  it('gives the VNC console the password the host has, and none without one', () => {
    expect(parsed().devices.graphics['@_passwd']).toBeUndefined();
    const graphics = (parser.parse(buildDomainXml(SPEC, CONFIG, HOST, { vncPassword: 's3cr&t' })) as { domain: Record<string, any> }).domain.devices.graphics;
    expect(graphics['@_passwd']).toBe('s3cr&t');
  });

  it('boots from the first disk when there is no ROOT volume', () => {
    const disks = parsed({ ...SPEC, volumes: [SPEC.volumes[0]!] }).devices.disk as Node[];
    expect(disks[0]!['boot']).toEqual({ '@_order': '1' });
  });
});

describe('domain XML helpers', () => {
  it('derives a stable UUID from an instance id that is not one', () => {
    expect(domainUuid('vm-1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(domainUuid('vm-1')).toBe(domainUuid('vm-1'));
    expect(domainUuid('vm-1')).not.toBe(domainUuid('vm-2'));
  });

  it('allows scaling up to the host cores and 4× the memory within the host', () => {
    expect(scalingLimits({ cpuNumber: 2, memory: 1024 }, HOST)).toEqual({ maxVcpus: 8, maxMemory: 4096 });
    expect(scalingLimits({ cpuNumber: 16, memory: 16384 }, HOST)).toEqual({ maxVcpus: 16, maxMemory: 32768 });
    expect(scalingLimits({ cpuNumber: 1, memory: 65536 }, HOST)).toEqual({ maxVcpus: 8, maxMemory: 65536 });
  });

  it('weights CPU by cores × MHz within libvirt bounds', () => {
    expect(cpuShares(2, 1000)).toBe(2000);
    expect(cpuShares(1, 1)).toBe(2);
    expect(cpuShares(64, 5000)).toBe(262_144);
  });

  it('names virtio disks as Linux does', () => {
    expect([0, 1, 25, 26, 27, 51, 52, 701, 702].map(virtioDiskName)).toEqual(['vda', 'vdb', 'vdz', 'vdaa', 'vdab', 'vdaz', 'vdba', 'vdzz', 'vdaaa']);
  });
});
