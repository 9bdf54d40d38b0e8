// The vmledger record kept inside each domain's definition (libvirt's <metadata>, in a namespace of our
// own, which libvirt stores, migrates and returns untouched). It holds what libvirt has no field for —
// the MHz per core, which volume each disk file is — and the whole spec the domain was defined from, so
// the host alone can answer describeDomain and redefine a stopped domain with new resources; the agent
// keeps no state of its own that a restart could lose.
import type { DomainSpec, NicSpec, VolumeSpec } from '../protocol.js';
import { attributeOf, childNodes, elementEntries, XmlReadError, type XmlNode } from './xml-reader.js';
import { element, type XmlElement } from './xml-writer.js';

export const VMLEDGER_METADATA_NAMESPACE = 'urn:vmledger:libvirt:domain:1';
/** The prefix written; a reader goes by the namespace, whatever prefix a definition uses. */
export const VMLEDGER_METADATA_PREFIX = 'vmledger';

const prefixed = (prefix: string | null) => (name: string): string => (prefix === null ? name : `${prefix}:${name}`);

/**
 * `adoptedPaths`: the disk files of volumes that an import adopted where they were (not vmledger's
 * `<volumeId>.qcow2`), recorded so that the record alone says which file is which volume's.
 *
 * `formerVolumeIds`: volumes the instance's domain had here and no longer attaches (a root disk
 * replaced by a restore). They stay recorded as the instance's, so its destruction removes their disks
 * too, and no other domain's command can claim them.
 */
export function metadataElement(
  spec: DomainSpec,
  formerVolumeIds: readonly string[] = [],
  adoptedPaths: ReadonlyMap<string, string> = new Map(),
  prefix: string | null = VMLEDGER_METADATA_PREFIX,
): XmlElement {
  const tag = prefixed(prefix);
  return element(
    tag('instance'),
    { ...(prefix === null ? {} : { [`xmlns:${prefix}`]: VMLEDGER_METADATA_NAMESPACE }), id: spec.instanceId, cpuSpeed: spec.cpuSpeed },
    ...spec.volumes.map((volume) =>
      element(tag('volume'), {
        id: volume.volumeId,
        type: volume.type,
        size: volume.size,
        template: volume.templateId ?? undefined,
        path: adoptedPaths.get(volume.volumeId),
      }),
    ),
    ...spec.nics.map((nic) =>
      element(tag('nic'), {
        id: nic.nicId,
        network: nic.networkId,
        mac: nic.mac,
        ip: nic.ip ?? undefined,
        vlan: nic.vlan ?? undefined,
        device: nic.deviceId,
      }),
    ),
    // A former volume's adopted file keeps its path, so the record alone still finds it to remove.
    ...formerVolumeIds.map((id) => element(tag('former-volume'), { id, path: adoptedPaths.get(id) })),
  );
}

/**
 * The record as `virsh metadata --set` takes it: without a namespace, which libvirt gives it from
 * `--uri` (with `--key` as its prefix) and refuses to find already declared.
 */
export function metadataFragment(spec: DomainSpec, formerVolumeIds: readonly string[], adoptedPaths: ReadonlyMap<string, string>): XmlElement {
  return metadataElement(spec, formerVolumeIds, adoptedPaths, null);
}

/** The record as read back, with the spec's numbers and names (resources come from the domain itself). */
export interface VmledgerRecord {
  readonly instanceId: string;
  readonly cpuSpeed: number;
  readonly volumes: readonly VolumeSpec[];
  readonly nics: readonly NicSpec[];
  /** Volumes the domain no longer attaches but whose disks are still the instance's. */
  readonly formerVolumeIds: readonly string[];
  /** Disk files of adopted volumes (an import), attached or former, by volume id; vmledger's own are `<volumeId>.qcow2`. */
  readonly adoptedPaths: ReadonlyMap<string, string>;
}

/** Every volume whose disk the record says is the instance's: attached or not. */
export function recordedVolumeIds(record: VmledgerRecord): Set<string> {
  return new Set([...record.volumes.map((volume) => volume.volumeId), ...record.formerVolumeIds]);
}

function required(node: XmlNode, name: string, where: string): string {
  const value = attributeOf(node, name);
  if (value === undefined || value === '') throw new XmlReadError(`the vmledger metadata ${where} has no ${name}`);
  return value;
}

function count(node: XmlNode, name: string, where: string): number {
  const value = Number(required(node, name, where));
  if (!Number.isSafeInteger(value) || value < 0) throw new XmlReadError(`the vmledger metadata ${where} has a bad ${name}`);
  return value;
}

/**
 * Finds the vmledger record among a <metadata> element's children, by namespace whatever its prefix.
 * Null when the domain has none (it was not defined by vmledger).
 */
export function readVmledgerRecord(metadata: XmlNode): VmledgerRecord | null {
  for (const [key, nodes] of elementEntries(metadata)) {
    if (!key.endsWith(':instance')) continue;
    const prefix = key.slice(0, -':instance'.length);
    for (const node of nodes) {
      if (attributeOf(node, `xmlns:${prefix}`) !== VMLEDGER_METADATA_NAMESPACE) continue;
      // `virsh metadata --set` puts only the root element in the namespace; its children come back
      // unprefixed. A definition vmledger wrote whole has them prefixed.
      const children = (name: string): XmlNode[] => [...childNodes(node, `${prefix}:${name}`), ...childNodes(node, name)];
      return {
        instanceId: required(node, 'id', 'instance'),
        cpuSpeed: count(node, 'cpuSpeed', 'instance'),
        volumes: children('volume').map((volume) => {
          const type = required(volume, 'type', 'volume');
          if (type !== 'ROOT' && type !== 'DATADISK') throw new XmlReadError(`the vmledger metadata volume has a bad type ${type}`);
          return {
            volumeId: required(volume, 'id', 'volume'),
            type,
            size: count(volume, 'size', 'volume'),
            templateId: attributeOf(volume, 'template') ?? null,
          };
        }),
        nics: children('nic').map((nic) => ({
          nicId: required(nic, 'id', 'nic'),
          networkId: required(nic, 'network', 'nic'),
          mac: required(nic, 'mac', 'nic'),
          ip: attributeOf(nic, 'ip') ?? null,
          vlan: attributeOf(nic, 'vlan') === undefined ? null : count(nic, 'vlan', 'nic'),
          deviceId: count(nic, 'device', 'nic'),
        })),
        formerVolumeIds: children('former-volume').map((volume) => required(volume, 'id', 'former-volume')),
        adoptedPaths: new Map(
          [...children('volume'), ...children('former-volume')].flatMap((volume) => {
            const path = attributeOf(volume, 'path');
            return path === undefined ? [] : [[required(volume, 'id', 'volume'), path] as const];
          }),
        ),
      };
    }
  }
  return null;
}
