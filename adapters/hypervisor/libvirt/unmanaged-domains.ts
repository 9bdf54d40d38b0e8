// Domains on a managed host that vmledger does not manage, read from `virsh dumpxml --security-info`
// and `virsh domblkinfo --all` the way CloudStack's LibvirtGetUnmanagedInstancesCommandWrapper reads
// them (kvm-agent-notes §4). "Not managed" means: the definition carries no vmledger record
// (domain-metadata.ts), whatever the domain is called; a domain that has one is vmledger's, and is
// never listed, so it cannot be imported twice.
import { posix } from 'node:path';
import type { UnmanagedDiskInfo, UnmanagedDomain, UnmanagedNicInfo } from '../../../domain/agent-protocol/index.js';
import type { DomainPowerState } from '../driver.js';
import { readVmledgerRecord } from './domain-metadata.js';
import { attributeOf, childNodes, firstChild, parseXmlDocument, textOf, XmlReadError, type XmlNode } from './xml-reader.js';

const KIB_PER_UNIT: Readonly<Record<string, number>> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1_000_000 / 1024, g: 1024 * 1024, gib: 1024 * 1024, gb: 1_000_000_000 / 1024 };

function mebibytes(node: XmlNode | undefined): number {
  if (!node) throw new XmlReadError('the domain definition has no <memory>');
  const factor = KIB_PER_UNIT[(attributeOf(node, 'unit') ?? 'KiB').toLowerCase()];
  const value = Number(textOf(node));
  if (factor === undefined || !Number.isFinite(value)) throw new XmlReadError('the domain definition has an unreadable <memory>');
  return Math.round((value * factor) / 1024);
}

function wholeOrNull(text: string | undefined): number | null {
  if (text === undefined || text === '') return null;
  // PCI slots are written in hex (0x03).
  const value = text.startsWith('0x') ? Number.parseInt(text.slice(2), 16) : Number(text);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** The file, block device or network name behind a disk. */
function sourceOf(disk: XmlNode): string | null {
  const source = firstChild(disk, 'source');
  if (!source) return null;
  return attributeOf(source, 'file') ?? attributeOf(source, 'dev') ?? attributeOf(source, 'name') ?? attributeOf(source, 'volume') ?? null;
}

function disksOf(devices: XmlNode, capacities: ReadonlyMap<string, number>): UnmanagedDiskInfo[] {
  return childNodes(devices, 'disk')
    .filter((disk) => (attributeOf(disk, 'device') ?? 'disk') === 'disk')
    .map((disk, position) => {
      const target = firstChild(disk, 'target') ?? {};
      const label = attributeOf(target, 'dev') ?? '';
      const imagePath = sourceOf(disk);
      const address = firstChild(disk, 'address');
      return {
        diskId: String(position),
        capacity: capacities.get(label) ?? null,
        controller: attributeOf(target, 'bus') ?? 'virtio',
        controllerUnit: address ? wholeOrNull(attributeOf(address, 'unit')) : null,
        label,
        imagePath,
        position,
        datastoreName: imagePath !== null && imagePath.startsWith('/') ? posix.dirname(imagePath) : null,
        format: attributeOf(firstChild(disk, 'driver') ?? {}, 'type') ?? null,
      };
    });
}

function nicsOf(devices: XmlNode): UnmanagedNicInfo[] {
  return childNodes(devices, 'interface').map((nic, position) => {
    const source = firstChild(nic, 'source') ?? {};
    const tag = firstChild(firstChild(nic, 'vlan') ?? {}, 'tag');
    const address = firstChild(nic, 'address');
    return {
      nicId: String(position),
      macAddress: (attributeOf(firstChild(nic, 'mac') ?? {}, 'address') ?? '').toLowerCase(),
      networkName: attributeOf(source, 'bridge') ?? attributeOf(source, 'network') ?? attributeOf(source, 'dev') ?? null,
      vlanId: tag ? wholeOrNull(attributeOf(tag, 'id')) : null,
      pciSlot: address && attributeOf(address, 'type') === 'pci' ? wholeOrNull(attributeOf(address, 'slot')) : null,
      adapterType: attributeOf(firstChild(nic, 'model') ?? {}, 'type') ?? null,
      ipAddress: attributeOf(firstChild(nic, 'ip') ?? {}, 'address') ?? null,
    };
  });
}

/**
 * The domain as a listing of unmanaged instances shows it; null when its definition has a vmledger
 * record (vmledger manages it). `capacities`: `virsh domblkinfo --all`, bytes by target device.
 */
export function unmanagedDomainOf(xml: string, powerState: DomainPowerState, capacities: ReadonlyMap<string, number>): UnmanagedDomain | null {
  const domain = parseXmlDocument(xml, 'domain');
  const metadata = firstChild(domain, 'metadata');
  if (metadata && readVmledgerRecord(metadata) !== null) return null;
  const name = textOf(firstChild(domain, 'name') ?? {});
  if (name === '') throw new XmlReadError('the domain definition has no <name>');
  const vcpu = firstChild(domain, 'vcpu');
  const cpuNumber = wholeOrNull(vcpu ? (attributeOf(vcpu, 'current') ?? textOf(vcpu)) : undefined) ?? 0;
  const shares = wholeOrNull(textOf(firstChild(firstChild(domain, 'cputune') ?? {}, 'shares') ?? {}));
  const topology = firstChild(firstChild(domain, 'cpu') ?? {}, 'topology');
  const devices = firstChild(domain, 'devices') ?? {};
  return {
    name,
    powerState: powerState === 'running' ? 'PowerOn' : 'PowerOff',
    cpuNumber,
    // CloudStack: cpuSpeed = shares / cores, only when <cputune> says.
    cpuSpeed: shares !== null && cpuNumber > 0 ? Math.floor(shares / cpuNumber) : 0,
    cpuCoresPerSocket: topology ? wholeOrNull(attributeOf(topology, 'cores')) : null,
    // What the guest has (`currentMemory`): CloudStack reads the maximum, which for a domain that
    // vmledger defined is its scaling limit, not its size.
    memory: mebibytes(firstChild(domain, 'currentMemory') ?? firstChild(domain, 'memory')),
    osDisplayName: null,
    disks: disksOf(devices, capacities),
    nics: nicsOf(devices),
  };
}
