// DomainSpec + the host's settings → the libvirt domain XML that defines it. Pure: the same inputs give
// the same document, so redefining a stopped domain from an unchanged spec changes nothing.
import { v5 as uuidv5 } from 'uuid';
import type { HostResources } from '../driver.js';
import type { DomainSpec, NicSpec, VolumeSpec } from '../protocol.js';
import type { LibvirtHostConfig } from './config.js';
import { metadataElement } from './domain-metadata.js';
import { element, renderXml, type XmlElement } from './xml-writer.js';

/** A spec this builder cannot turn into a domain; the message names the field. */
export class DomainSpecError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'DomainSpecError';
  }
}

/** The namespace of the UUIDs derived from instance ids that are not UUIDs themselves. */
const DOMAIN_UUID_NAMESPACE = '6f1d3c2e-8b0a-5c47-9e3a-1d5b7f20c8a4';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The domain's UUID: the instance id itself when it is a UUID (so `virsh dominfo` shows the id an
 * operator knows), else a name-based UUID of it — stable, so a redefinition keeps the domain's identity.
 */
export function domainUuid(instanceId: string): string {
  return UUID.test(instanceId) ? instanceId.toLowerCase() : uuidv5(instanceId, DOMAIN_UUID_NAMESPACE);
}

/** How far a running domain can be scaled without a restart. */
export interface ScalingLimits {
  readonly maxVcpus: number;
  /** MiB. */
  readonly maxMemory: number;
}

/** Memory a running domain can grow to by deflating its balloon, as a multiple of its current memory. */
export const MEMORY_HEADROOM_FACTOR = 4;

/**
 * vCPUs: as many as the host has cores (QEMU starts that many hot-pluggable vCPU slots, `current` of
 * them online): a domain never usefully has more vCPUs than the host has cores, and any scale-up an
 * orchestrator would place on this host is then possible live.
 * Memory: live scaling works by the balloon, so the domain is started with `<memory>` as the ceiling
 * and `<currentMemory>` as what it gets. The ceiling is 4× the memory, capped by the host's memory:
 * guest RAM is allocated lazily (under TCG and KVM alike), but a guest without a balloon driver would
 * see and may touch the whole ceiling, so it is kept to a bounded multiple rather than the host's size.
 * Growing beyond the ceiling needs a stop (a stopped domain is redefined with a new ceiling).
 */
export function scalingLimits(resources: { readonly cpuNumber: number; readonly memory: number }, host: HostResources): ScalingLimits {
  return {
    maxVcpus: Math.max(resources.cpuNumber, host.cpuNumber),
    maxMemory: Math.max(resources.memory, Math.min(resources.memory * MEMORY_HEADROOM_FACTOR, host.memory)),
  };
}

/** libvirt's cpu shares range (cgroup v1 cpu.shares; libvirt maps it onto cgroup v2 cpu.weight). */
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

/** CloudStack's KVM weighting: a domain's CPU share is its cores × MHz per core. */
export function cpuShares(cpuNumber: number, cpuSpeed: number): number {
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, cpuNumber * cpuSpeed));
}

/** Where a volume's disk lives on the host: `<storagePath>/<volumeId>.qcow2`. */
export function volumePath(storagePath: string, volumeId: string): string {
  return `${storagePath}/${requireFileName(volumeId, 'volumeId')}.qcow2`;
}

export function templatePath(storagePath: string, templateId: string): string {
  return `${storagePath}/templates/${requireFileName(templateId, 'templateId')}.qcow2`;
}

/** Ids become file names: they must not be able to point anywhere else. */
function requireFileName(id: string, field: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(id)) {
    throw new DomainSpecError(`${field} ${JSON.stringify(id)} cannot be a file name (letters, digits, '.', '_', '-'; not starting with '.' or '-')`);
  }
  return id;
}

/** vda, vdb, …, vdz, vdaa, vdab, … as the Linux virtio-blk driver names them. */
export function virtioDiskName(index: number): string {
  let name = '';
  for (let n = index; n >= 0; n = Math.floor(n / 26) - 1) name = String.fromCharCode(97 + (n % 26)) + name;
  return `vd${name}`;
}

function positive(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new DomainSpecError(`${field} must be a positive integer, got ${value}`);
  return value;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

function macAddress(nic: NicSpec, field: string): string {
  if (!MAC.test(nic.mac)) throw new DomainSpecError(`${field}.mac ${JSON.stringify(nic.mac)} is not a MAC address`);
  const mac = nic.mac.toLowerCase();
  if (parseInt(mac.slice(0, 2), 16) % 2 === 1) throw new DomainSpecError(`${field}.mac ${mac} is a multicast address`);
  return mac;
}

/** ROOT first (the domain boots from it), the data disks after it in the spec's order. */
function diskOrder(volumes: readonly VolumeSpec[]): VolumeSpec[] {
  return [...volumes.filter((volume) => volume.type === 'ROOT'), ...volumes.filter((volume) => volume.type !== 'ROOT')];
}

function diskElement(volume: VolumeSpec, index: number, path: string, boot: boolean): XmlElement {
  return element(
    'disk',
    { type: 'file', device: 'disk' },
    // No cache mode: cache='none' needs O_DIRECT, which some storage (tmpfs) refuses.
    element('driver', { name: 'qemu', type: 'qcow2', discard: 'unmap' }),
    element('source', { file: path }),
    element('target', { dev: virtioDiskName(index), bus: 'virtio' }),
    boot ? element('boot', { order: 1 }) : null,
  );
}

/** A VLAN tag is a number 1–4094; 0 (802.1Q's "priority only") and null both mean untagged. */
function vlanTag(nic: NicSpec, field: string): number | null {
  if (nic.vlan === null || nic.vlan === 0) return null;
  if (!Number.isInteger(nic.vlan) || nic.vlan < 1 || nic.vlan > 4094) {
    throw new DomainSpecError(`${field}.vlan must be a VLAN id from 1 to 4094, got ${nic.vlan}`);
  }
  return nic.vlan;
}

function interfaceElement(nic: NicSpec, field: string, config: LibvirtHostConfig): XmlElement {
  const mac = element('mac', { address: macAddress(nic, field) });
  const model = element('model', { type: 'virtio' });
  if (config.nic.mode === 'user') {
    // User-mode networking has no layer-2 segment to tag: the VLAN is not applicable (test beds only).
    return element('interface', { type: 'user' }, mac, model);
  }
  const vlan = vlanTag(nic, field);
  // Untagged, the NIC would sit on the bridge's native segment with whatever else is there: only a
  // network the host's configuration names as untagged may do that.
  if (vlan === null && !config.nic.untaggedNetworkIds.includes(nic.networkId)) {
    throw new DomainSpecError(
      `${field} is on network ${nic.networkId}, which has no VLAN, and bridge ${config.nic.bridge} takes untagged NICs only of the networks listed in the host's nic.untaggedNetworkIds`,
    );
  }
  return element(
    'interface',
    { type: 'bridge' },
    mac,
    element('source', { bridge: config.nic.bridge }),
    // libvirt can tag a bridge port only on Open vSwitch; see LibvirtNicConfig.
    vlan === null ? null : element('virtualport', { type: 'openvswitch' }),
    vlan === null ? null : element('vlan', {}, element('tag', { id: vlan })),
    model,
  );
}

/** What the host adds to a spec: where existing disks are, what the instance had, the console's password. */
export interface DomainPlacement {
  /**
   * The disk of each volume that is not `<storagePath>/<volumeId>.qcow2`: a domain that was migrated
   * here keeps using its disks where they are on the shared storage, which another host may have
   * mounted elsewhere.
   */
  readonly diskPaths?: ReadonlyMap<string, string>;
  /** Volumes the instance's domain had here before and no longer attaches (see metadataElement). */
  readonly formerVolumeIds?: readonly string[];
  /** Disks an import adopted where they are (see metadataElement): kept in the record across redefinitions. */
  readonly adoptedPaths?: ReadonlyMap<string, string>;
  /**
   * The UUID of the definition this one replaces: libvirt redefines a domain only under its own UUID,
   * and an adopted domain's is not the one vmledger derives from the instance id.
   */
  readonly uuid?: string;
  /** The VNC console's password (the host's vncPasswordFile); without it the console has none. */
  readonly vncPassword?: string;
}

/**
 * The domain definition for `spec` on a host with `config` and resources `host`. A volume's disk is
 * `<storagePath>/<volumeId>.qcow2` unless `placement.diskPaths` names another file for it.
 * @throws DomainSpecError for a spec no domain can be defined from (the message names the field).
 */
export function buildDomainXml(spec: DomainSpec, config: LibvirtHostConfig, host: HostResources, placement: DomainPlacement = {}): string {
  const diskPaths = placement.diskPaths ?? new Map<string, string>();
  if (spec.instanceName === '' || spec.instanceName.includes('/')) {
    throw new DomainSpecError(`instanceName ${JSON.stringify(spec.instanceName)} cannot name a libvirt domain`);
  }
  const cpuNumber = positive(spec.cpuNumber, 'cpuNumber');
  const memory = positive(spec.memory, 'memory');
  positive(spec.cpuSpeed, 'cpuSpeed');
  spec.volumes.forEach((volume, i) => positive(volume.size, `volumes[${i}].size`));
  const limits = scalingLimits({ cpuNumber, memory }, host);
  const disks = diskOrder(spec.volumes);
  const bootIndex = Math.max(0, disks.findIndex((volume) => volume.type === 'ROOT'));

  const domain = element(
    'domain',
    { type: config.domainType },
    element('name', {}, spec.instanceName),
    element('uuid', {}, placement.uuid || domainUuid(spec.instanceId)),
    element('metadata', {}, metadataElement(spec, placement.formerVolumeIds, placement.adoptedPaths)),
    element('memory', { unit: 'KiB' }, String(limits.maxMemory * 1024)),
    element('currentMemory', { unit: 'KiB' }, String(memory * 1024)),
    element('vcpu', { placement: 'static', current: cpuNumber }, String(limits.maxVcpus)),
    element('cputune', {}, element('shares', {}, String(cpuShares(cpuNumber, spec.cpuSpeed)))),
    element('os', {}, element('type', { arch: 'x86_64', machine: 'pc' }, 'hvm')),
    // ACPI, so a graceful stop or reboot reaches the guest as a power-button press.
    element('features', {}, element('acpi'), element('apic')),
    element('clock', { offset: 'utc' }),
    element('on_poweroff', {}, 'destroy'),
    element('on_reboot', {}, 'restart'),
    element('on_crash', {}, 'destroy'),
    element(
      'devices',
      {},
      ...disks.map((volume, index) =>
        diskElement(volume, index, diskPaths.get(volume.volumeId) ?? volumePath(config.storagePath, volume.volumeId), index === bootIndex),
      ),
      ...spec.nics.map((nic, index) => interfaceElement(nic, `nics[${index}]`, config)),
      element('serial', { type: 'pty' }, element('target', { port: 0 })),
      element('console', { type: 'pty' }, element('target', { type: 'serial', port: 0 })),
      element(
        'graphics',
        { type: 'vnc', port: -1, autoport: 'yes', listen: config.vncListen, passwd: placement.vncPassword },
        element('listen', { type: 'address', address: config.vncListen }),
      ),
      element('memballoon', { model: 'virtio' }),
    ),
  );
  try {
    return renderXml(domain);
  } catch (error) {
    // A value with a character XML cannot carry (a control character in a name, say).
    throw new DomainSpecError(`the spec of ${JSON.stringify(spec.instanceName)} cannot be written as XML: ${(error as Error).message}`);
  }
}
