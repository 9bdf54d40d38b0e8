// `virsh dumpxml` → what the host has defined for a domain, and from that (plus its power state and its
// disks' sizes) the port's DomainDetails.
import { basename } from 'node:path';
import type { DomainDetails, DomainPowerState } from '../driver.js';
import type { DomainSpec } from '../protocol.js';
import { readVmledgerRecord, type VmledgerRecord } from './domain-metadata.js';
import { attributeOf, childNodes, firstChild, parseXmlDocument, textOf, XmlReadError, type XmlNode } from './xml-reader.js';

export interface DefinedDisk {
  /** The guest device, e.g. `vda`: what `virsh domblkinfo` reports sizes by. */
  readonly target: string;
  /** The file behind it; null for a disk that is not a file (an empty CD-ROM drive, a network disk). */
  readonly path: string | null;
  /** The image format QEMU opens it as (`<driver type>`): qcow2, raw, … */
  readonly format: string | null;
}

export interface DefinedDomain {
  readonly instanceName: string;
  readonly uuid: string;
  /** vCPUs online (`current`). */
  readonly cpuNumber: number;
  readonly maxVcpus: number;
  /** MiB the guest has (`currentMemory`). */
  readonly memory: number;
  /** MiB the balloon can grow to (`memory`). */
  readonly maxMemory: number;
  readonly disks: readonly DefinedDisk[];
  /** Of the NICs, in their order. */
  readonly macs: readonly string[];
  /** The vmledger record; null for a domain vmledger did not define. */
  readonly record: VmledgerRecord | null;
}

const KIB_PER_UNIT: Readonly<Record<string, number>> = {
  b: 1 / 1024,
  bytes: 1 / 1024,
  k: 1,
  kib: 1,
  kb: 1000 / 1024,
  m: 1024,
  mib: 1024,
  mb: 1_000_000 / 1024,
  g: 1024 * 1024,
  gib: 1024 * 1024,
  gb: 1_000_000_000 / 1024,
};

/** An amount of memory in MiB; libvirt writes KiB unless told otherwise. */
function mebibytes(node: XmlNode | undefined, what: string): number {
  if (!node) throw new XmlReadError(`the domain definition has no <${what}>`);
  const unit = (attributeOf(node, 'unit') ?? 'KiB').toLowerCase();
  const factor = KIB_PER_UNIT[unit];
  const value = Number(textOf(node));
  if (factor === undefined || !Number.isFinite(value)) throw new XmlReadError(`the domain definition has an unreadable <${what}>`);
  return Math.round((value * factor) / 1024);
}

function wholeNumber(text: string | undefined, what: string): number {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(value) || value < 0) {
    throw new XmlReadError(`the domain definition has an unreadable ${what}`);
  }
  return value;
}

/** Parses `virsh dumpxml` output (live or `--inactive`). */
export function parseDomainXml(xml: string): DefinedDomain {
  const domain = parseXmlDocument(xml, 'domain');
  const name = firstChild(domain, 'name');
  if (!name || textOf(name) === '') throw new XmlReadError('the domain definition has no <name>');
  const vcpu = firstChild(domain, 'vcpu');
  if (!vcpu) throw new XmlReadError('the domain definition has no <vcpu>');
  const maxVcpus = wholeNumber(textOf(vcpu), '<vcpu>');
  const devices = firstChild(domain, 'devices') ?? {};
  const metadata = firstChild(domain, 'metadata');
  const maxMemory = mebibytes(firstChild(domain, 'memory'), 'memory');
  const current = firstChild(domain, 'currentMemory');
  return {
    instanceName: textOf(name),
    uuid: textOf(firstChild(domain, 'uuid') ?? {}),
    cpuNumber: attributeOf(vcpu, 'current') === undefined ? maxVcpus : wholeNumber(attributeOf(vcpu, 'current'), '<vcpu current>'),
    maxVcpus,
    memory: current ? mebibytes(current, 'currentMemory') : maxMemory,
    maxMemory,
    disks: childNodes(devices, 'disk')
      .filter((disk) => (attributeOf(disk, 'device') ?? 'disk') === 'disk')
      .map((disk) => ({
        target: attributeOf(firstChild(disk, 'target') ?? {}, 'dev') ?? '',
        path: attributeOf(firstChild(disk, 'source') ?? {}, 'file') ?? null,
        format: attributeOf(firstChild(disk, 'driver') ?? {}, 'type') ?? null,
      })),
    macs: childNodes(devices, 'interface').map((nic) => attributeOf(firstChild(nic, 'mac') ?? {}, 'address') ?? ''),
    record: metadata ? readVmledgerRecord(metadata) : null,
  };
}

/** The volume a disk file belongs to: its file name is `<volumeId>.qcow2` (see `volumePath`). */
export function volumeIdOf(path: string): string {
  return basename(path).replace(/\.qcow2$/, '');
}

/** The volume of a disk file of this domain: an adopted one by its record, vmledger's own by its name. */
function volumeOfDisk(defined: DefinedDomain, path: string): string {
  for (const [volumeId, adopted] of defined.record?.adoptedPaths ?? []) if (adopted === path) return volumeId;
  return volumeIdOf(path);
}

/**
 * The disks of a domain as the port describes them: the recorded volumes in the spec's order (a
 * domain vmledger did not define: its file disks in device order), each with its size in bytes.
 * `capacities` gives each disk's virtual size by target device.
 */
export function describeDisks(defined: DefinedDomain, capacities: ReadonlyMap<string, number>): DomainDetails['disks'] {
  const files = defined.disks.filter((disk): disk is DefinedDisk & { path: string } => disk.path !== null);
  const ids = defined.record ? defined.record.volumes.map((volume) => volume.volumeId) : files.map((disk) => volumeOfDisk(defined, disk.path));
  return ids.map((volumeId) => {
    const disk = files.find((candidate) => volumeOfDisk(defined, candidate.path) === volumeId);
    const size = disk ? capacities.get(disk.target) : undefined;
    if (size === undefined) throw new XmlReadError(`domain ${defined.instanceName} has no disk for volume ${volumeId}`);
    return { volumeId, size };
  });
}

export function domainDetails(
  defined: DefinedDomain,
  powerState: DomainPowerState,
  capacities: ReadonlyMap<string, number>,
): DomainDetails {
  return {
    instanceName: defined.instanceName,
    powerState,
    cpuNumber: defined.cpuNumber,
    // Without a record (a domain vmledger did not define), the MHz per core is not known.
    cpuSpeed: defined.record?.cpuSpeed ?? 0,
    memory: defined.memory,
    disks: describeDisks(defined, capacities),
    macs: defined.macs,
  };
}

/** Where each of the domain's volumes has its disk file, by volume id. */
export function diskPathsOf(defined: DefinedDomain | null): Map<string, string> {
  const paths = new Map<string, string>();
  for (const disk of defined?.disks ?? []) if (disk.path !== null) paths.set(volumeOfDisk(defined!, disk.path), disk.path);
  return paths;
}

/** A domain with a vmledger record: one vmledger defined. */
export type OwnedDomain = DefinedDomain & { readonly record: VmledgerRecord };

/** The spec a vmledger domain was defined from, with its current resources; null without a record. */
export function specOf(defined: OwnedDomain): DomainSpec;
export function specOf(defined: DefinedDomain): DomainSpec | null;
export function specOf(defined: DefinedDomain): DomainSpec | null {
  const { record } = defined;
  if (!record) return null;
  return {
    instanceId: record.instanceId,
    instanceName: defined.instanceName,
    cpuNumber: defined.cpuNumber,
    cpuSpeed: record.cpuSpeed,
    memory: defined.memory,
    nics: record.nics,
    volumes: record.volumes,
  };
}
