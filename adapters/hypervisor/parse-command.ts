// Checks a bus message against the AgentCommand contract before an agent acts on it. A message that
// does not fit is never retried (it cannot get better). When it still says which command it is (its
// commandId, hostId and type), the agent answers it with a failure carrying the reason, so the job
// fails at once; otherwise nobody waits on it by name and the agent dead-letters it.
import type { BusMessage } from '../bus/port.js';
import type { JsonValue } from '../eventstore/port.js';
import {
  isAgentCommandType,
  type AgentCommand,
  type AgentCommandOf,
  type AgentCommandType,
  type DomainSpec,
  type NicSpec,
  type SealedPassword,
  type VmwareGuestRef,
  type VmSnapshotKind,
  type VolumeCopy,
  type VolumeSpec,
} from '../../domain/agent-protocol/index.js';
import { isIP } from 'node:net';
import { normalizeMac } from '../../domain/network/addressing.js';
import { ADOPTED_DOMAIN_NAME, INSTANCE_NAME, MAX_VM_SNAPSHOT_NAME, UUID, UUID_SOURCE, VM_SNAPSHOT_NAME, instanceNameOfVmSnapshot } from '../../domain/shared/instance-name.js';
import { Malformed, array, flag, integer, integerOrNull, isObject, matching, object, oneOf, plainTextOrNull, type JsonObject } from './json-fields.js';

/** What a command that could not be read still says about itself: enough to address a reply. */
export interface CommandEnvelope {
  readonly commandId: string;
  readonly hostId: string;
  readonly type: AgentCommandType;
  /** The domain it names, when that much could be read. */
  readonly instanceName: string | undefined;
}

export type ParsedCommand =
  | { readonly ok: true; readonly command: AgentCommand }
  | { readonly ok: false; readonly reason: string; readonly envelope: CommandEnvelope | undefined };

// What a command vmledger sends can hold, and nothing more. Every value ends up in a virsh or
// qemu-img command line, a file name or a domain definition on the host, so each has the exact form
// the orchestrator gives it (ids are UUIDs, names are made by internalName) and a bound.

/** A command's id: its job's id (a UUID, or `expunge-<instance id>`) and its number in the job (commandIdOf). */
const COMMAND_ID = new RegExp(`^(?:expunge-)?${UUID_SOURCE}\\.[0-9]{1,6}$`);
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
/** More NICs or disks than a domain's PCI slots could take. */
export const MAX_NICS = 32;
export const MAX_VOLUMES = 64;
/** A day: the longest graceful stop VMLEDGER_GRACEFUL_STOP_MS allows. */
export const MAX_TIMEOUT_MS = 86_400_000;
export const MAX_CPU_NUMBER = 1024;
/** MHz per core. */
export const MAX_CPU_SPEED = 1_000_000;
/** MiB: 16 TiB. */
export const MAX_MEMORY = 16 * 1024 * 1024;
/** Bytes: 1 PiB. */
export const MAX_VOLUME_SIZE = 2 ** 50;
/** CloudStack's vsDescription limit. */
export const MAX_SNAPSHOT_DESCRIPTION = 255;
const SNAPSHOT_KINDS: readonly VmSnapshotKind[] = ['Disk', 'DiskAndMemory'];

const uuid = (value: JsonValue | undefined, path: string): string => matching(value, path, UUID, 'a lower-case UUID');
const uuidOrNull = (value: JsonValue | undefined, path: string): string | null => (value === null ? null : uuid(value, path));

/**
 * An instance's hypervisor-side name: one of the form vmledger makes (internalName), or the name of a
 * domain an import adopted (ADOPTED_DOMAIN_NAME), which keeps its name, as CloudStack keeps it, even
 * when it is the vmledger name of the instance it was unmanaged from. Either way it is safe on a
 * command line and in a file name; whose domain it is, the driver checks against the vmledger record
 * in the domain before it acts (NOT_OWNED otherwise), which no name can forge.
 */
function instanceName(value: JsonValue | undefined, path: string): string {
  if (typeof value === 'string' && !INSTANCE_NAME.test(value) && ADOPTED_DOMAIN_NAME.test(value)) return value;
  return matching(value, path, INSTANCE_NAME, 'an instance name i-<account id>-<instance id>-<suffix>, or an imported domain name');
}

function mac(value: JsonValue | undefined, path: string): string {
  const address = matching(value, path, MAC, 'a lower-case MAC address');
  if (normalizeMac(address) !== address) throw new Malformed(`${path} ${address} is a multicast address`);
  return address;
}

function ip(value: JsonValue | undefined, path: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > 45 || isIP(value) === 0) throw new Malformed(`${path} must be an IPv4 or IPv6 address or null`);
  return value;
}

/** No id twice in one list: one disk attached twice, or one NIC, is no spec vmledger makes. */
function distinct<T>(items: readonly T[], id: (item: T) => string, path: string): T[] {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(id(item))) throw new Malformed(`${path} lists ${id(item)} twice`);
    seen.add(id(item));
  }
  return [...items];
}

function nic(value: JsonValue, path: string): NicSpec {
  const o = object(value, path);
  return {
    nicId: uuid(o['nicId'], `${path}.nicId`),
    networkId: uuid(o['networkId'], `${path}.networkId`),
    mac: mac(o['mac'], `${path}.mac`),
    ip: ip(o['ip'], `${path}.ip`),
    vlan: integerOrNull(o['vlan'], `${path}.vlan`, 0, 4094),
    deviceId: integer(o['deviceId'], `${path}.deviceId`, 0, MAX_NICS - 1),
  };
}

function volume(value: JsonValue, path: string): VolumeSpec {
  const o = object(value, path);
  return {
    volumeId: uuid(o['volumeId'], `${path}.volumeId`),
    type: oneOf(o['type'], `${path}.type`, ['ROOT', 'DATADISK']),
    size: integer(o['size'], `${path}.size`, 0, MAX_VOLUME_SIZE),
    templateId: uuidOrNull(o['templateId'], `${path}.templateId`),
    ...(o['path'] === undefined || o['path'] === null ? {} : { path: directory(o['path'], `${path}.path`) }),
    ...(o['imported'] === undefined || !flag(o['imported'], `${path}.imported`) ? {} : { imported: true as const }),
  };
}

function volumes(value: JsonValue | undefined, path: string): VolumeSpec[] {
  const items = array(value, path, MAX_VOLUMES).map((item, i) => volume(item, `${path}[${i}]`));
  return distinct(items, (item) => item.volumeId, path);
}

function volumeCopies(value: JsonValue | undefined, path: string): VolumeCopy[] {
  const items = array(value, path, MAX_VOLUMES).map((item, i) => {
    const o = object(item, `${path}[${i}]`);
    return { ...volume(item, `${path}[${i}]`), fromPath: directory(o['fromPath'], `${path}[${i}].fromPath`), toPath: directory(o['toPath'], `${path}[${i}].toPath`) };
  });
  return distinct(items, (item) => item.volumeId, path);
}

/** An absolute path without whitespace or `..`, as a storage pool's (or a disk image's on one) must be. */
function directory(value: JsonValue | undefined, path: string): string {
  if (typeof value !== 'string' || !/^\/[^\s]*$/.test(value) || value.split('/').includes('..') || value.length > 4096) {
    throw new Malformed(`${path} must be an absolute directory path`);
  }
  return value;
}

function resources(o: JsonObject, path: string): { cpuNumber: number; cpuSpeed: number; memory: number } {
  return {
    cpuNumber: integer(o['cpuNumber'], `${path}cpuNumber`, 1, MAX_CPU_NUMBER),
    cpuSpeed: integer(o['cpuSpeed'], `${path}cpuSpeed`, 1, MAX_CPU_SPEED),
    memory: integer(o['memory'], `${path}memory`, 1, MAX_MEMORY),
  };
}

function domain(value: JsonValue | undefined, path: string): DomainSpec {
  const o = object(value, path);
  const instanceId = uuid(o['instanceId'], `${path}.instanceId`);
  const nics = array(o['nics'], `${path}.nics`, MAX_NICS).map((item, i) => nic(item, `${path}.nics[${i}]`));
  return {
    instanceId,
    instanceName: instanceName(o['instanceName'], `${path}.instanceName`),
    ...resources(o, `${path}.`),
    nics: distinct(nics, (item) => item.nicId, `${path}.nics`),
    volumes: volumes(o['volumes'], `${path}.volumes`),
  };
}

/** The domain a command about an existing domain names, and the instance it must belong to. */
function target(body: JsonObject): { instanceId: string; instanceName: string } {
  const instanceId = uuid(body['instanceId'], 'instanceId');
  return { instanceId, instanceName: instanceName(body['instanceName'], 'instanceName') };
}

/** A VM snapshot's host-side name, which must be one of the command's own instance (vmSnapshotName). */
function snapshotName(value: JsonValue | undefined, instanceName: string): string {
  // Bounded before the pattern runs, so a huge value costs nothing.
  if (typeof value === 'string' && value.length > MAX_VM_SNAPSHOT_NAME) throw new Malformed(`snapshotName must be at most ${MAX_VM_SNAPSHOT_NAME} characters, has ${value.length}`);
  const name = matching(value, 'snapshotName', VM_SNAPSHOT_NAME, 'a VM snapshot name <instance name>_VS_<yyyyMMddHHmmss>');
  if (instanceNameOfVmSnapshot(name) !== instanceName) throw new Malformed(`snapshotName ${name} is not a snapshot of ${instanceName}`);
  return name;
}

/** The domain and snapshot a snapshot command names. */
function snapshotTarget(body: JsonObject): { instanceId: string; instanceName: string; snapshotName: string } {
  const domain = target(body);
  return { ...domain, snapshotName: snapshotName(body['snapshotName'], domain.instanceName) };
}

/** What every command has, read before its type's own fields. */
type Base<K extends AgentCommandType> = { readonly type: K; readonly commandId: string; readonly hostId: string };

/**
 * A reader per command type, mapped over the union's types: a command type without its reader does
 * not compile.
 */
const READERS: { readonly [K in AgentCommandType]: (base: Base<K>, body: JsonObject) => AgentCommandOf<K> } = {
  StartDomain: (base, body) => ({ ...base, domain: domain(body['domain'], 'domain') }),
  StopDomain: (base, body) => ({
    ...base,
    ...target(body),
    forced: flag(body['forced'], 'forced'),
    timeoutMs: integer(body['timeoutMs'], 'timeoutMs', 0, MAX_TIMEOUT_MS),
  }),
  RebootDomain: (base, body) => ({ ...base, ...target(body), forced: flag(body['forced'], 'forced') }),
  MigrateDomain: (base, body) => ({ ...base, ...target(body), targetHostId: uuid(body['targetHostId'], 'targetHostId') }),
  DestroyDomain: (base, body) => ({ ...base, ...target(body), volumes: volumes(body['volumes'], 'volumes') }),
  ScaleDomain: (base, body) => ({ ...base, ...target(body), ...resources(body, '') }),
  CreateDomainSnapshot: (base, body) => ({
    ...base,
    ...snapshotTarget(body),
    kind: oneOf(body['kind'], 'kind', SNAPSHOT_KINDS),
    quiesce: flag(body['quiesce'], 'quiesce'),
    description: plainTextOrNull(body['description'], 'description', MAX_SNAPSHOT_DESCRIPTION),
  }),
  RevertDomainSnapshot: (base, body) => ({ ...base, ...snapshotTarget(body), kind: oneOf(body['kind'], 'kind', SNAPSHOT_KINDS) }),
  DeleteDomainSnapshot: (base, body) => ({ ...base, ...snapshotTarget(body) }),
  CopyVolumes: (base, body) => ({ ...base, ...target(body), volumes: volumeCopies(body['volumes'], 'volumes') }),
  ManageDomain: (base, body) => managed(base, body),
  UnmanageDomain: (base, body) => ({ ...base, ...sameDomain(body), domain: domain(body['domain'], 'domain') }),
  CopyRemoteVolumes: (base, body) => remoteCopy(base, body),
  ConvertVmwareGuest: (base, body) => vmwareConversion(base, body),
  ImportConvertedDisks: (base, body) => convertedImport(base, body),
};

const REMOTE_HOST = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;
const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;
const FILE = /^\/[^\0\n]{1,4095}$/;

function remoteCopy(base: Base<'CopyRemoteVolumes'>, body: JsonObject): AgentCommandOf<'CopyRemoteVolumes'> {
  const remote = object(body['remote'], 'remote');
  const items = array(body['volumes'], 'volumes', MAX_VOLUMES).map((item, i) => {
    const o = object(item, `volumes[${i}]`);
    const sourcePath = matching(o['sourcePath'], `volumes[${i}].sourcePath`, FILE, 'an absolute file path');
    if (sourcePath.split('/').includes('..')) throw new Malformed(`volumes[${i}].sourcePath must not contain ..`);
    return {
      volumeId: uuid(o['volumeId'], `volumes[${i}].volumeId`),
      sourcePath,
      sourceFormat: matching(o['sourceFormat'], `volumes[${i}].sourceFormat`, /^[a-z0-9]{2,16}$/, 'a disk format'),
    };
  });
  return {
    ...base,
    ...target(body),
    remote: {
      host: matching(remote['host'], 'remote.host', REMOTE_HOST, 'a host name or address'),
      port: integer(remote['port'], 'remote.port', 1, 65_535),
      username: matching(remote['username'], 'remote.username', USER, 'a user name'),
    },
    // The log's reference never reaches an agent: the orchestrator sends the password sealed.
    passwordRef: null,
    password: sealedPassword(body['password']),
    tmpPath: directory(body['tmpPath'], 'tmpPath'),
    copyTimeoutMs: integer(body['copyTimeoutMs'], 'copyTimeoutMs', 1_000, MAX_TIMEOUT_MS),
    volumes: distinct(items, (item) => item.volumeId, 'volumes'),
  };
}

function sealedPassword(value: JsonValue | undefined): SealedPassword | null {
  if (value === undefined || value === null) return null;
  const password = object(value, 'password');
  return { keyId: matching(password['keyId'], 'password.keyId', /^[A-Za-z0-9._-]{1,64}$/, 'a key id'), box: matching(password['box'], 'password.box', /^[A-Za-z0-9_-]{1,2048}$/, 'base64url') };
}

/** A .vmx on a datastore: absolute, one line, no `..` (VMware's directory names may hold spaces). */
const VMX_PATH = /^\/[^\0\n\r]{1,4090}\.vmx$/;
/** One virt-v2v argument: an option or its value, nothing a shell or virt-v2v would read as more. */
const EXTRA_PARAM = /^[A-Za-z0-9][A-Za-z0-9=,._:/+@%-]{0,255}$|^--?[A-Za-z0-9][A-Za-z0-9=,._:/+@%-]{0,254}$/;
export const MAX_EXTRA_PARAMS = 32;
/**
 * virt-v2v's options the agent sets itself: input and output are the command's, so an extra
 * parameter must not name others (whatever the administrator's allow-list says).
 */
const AGENT_OWNED_V2V_OPTIONS = new Set(['i', 'ic', 'if', 'io', 'ip', 'it', 'o', 'oa', 'oc', 'of', 'on', 'oo', 'op', 'os', 'machine-readable', 'root']);

function extraParams(value: JsonValue | undefined): string[] {
  return array(value, 'extraParams', MAX_EXTRA_PARAMS).map((item, i) => {
    const param = matching(item, `extraParams[${i}]`, EXTRA_PARAM, 'a virt-v2v option or value');
    const option = /^--?([^=]+)/.exec(param)?.[1];
    if (option !== undefined && AGENT_OWNED_V2V_OPTIONS.has(option)) throw new Malformed(`extraParams[${i}] ${param} is set by the agent itself`);
    return param;
  });
}

function vmwareGuest(value: JsonValue | undefined): VmwareGuestRef {
  const source = object(value, 'source');
  const vmxPath = matching(source['vmxPath'], 'source.vmxPath', VMX_PATH, 'an absolute .vmx path');
  if (vmxPath.split('/').includes('..')) throw new Malformed('source.vmxPath must not contain ..');
  return {
    kind: oneOf(source['kind'], 'source.kind', ['esxi-ssh'] as const),
    host: matching(source['host'], 'source.host', REMOTE_HOST, 'a host name or address'),
    port: integer(source['port'], 'source.port', 1, 65_535),
    username: matching(source['username'], 'source.username', USER, 'a user name'),
    vmxPath,
  };
}

function vmwareConversion(base: Base<'ConvertVmwareGuest'>, body: JsonObject): AgentCommandOf<'ConvertVmwareGuest'> {
  return {
    ...base,
    ...target(body),
    source: vmwareGuest(body['source']),
    // The log's reference never reaches an agent: the orchestrator sends the password sealed.
    passwordRef: null,
    password: sealedPassword(body['password']),
    tempPath: directory(body['tempPath'], 'tempPath'),
    outputName: uuid(body['outputName'], 'outputName'),
    timeoutMs: integer(body['timeoutMs'], 'timeoutMs', 1_000, MAX_TIMEOUT_MS),
    extraParams: extraParams(body['extraParams']),
  };
}

function convertedImport(base: Base<'ImportConvertedDisks'>, body: JsonObject): AgentCommandOf<'ImportConvertedDisks'> {
  const tempPath = directory(body['tempPath'], 'tempPath');
  const outputName = uuid(body['outputName'], 'outputName');
  const disks = array(body['disks'], 'disks', MAX_VOLUMES).map((item, i) => {
    const o = object(item, `disks[${i}]`);
    const sourcePath = matching(o['sourcePath'], `disks[${i}].sourcePath`, FILE, 'an absolute file path');
    // Only what the conversion wrote: <tempPath>/<outputName>-sdX.
    if (!sourcePath.startsWith(`${tempPath.replace(/\/+$/, '')}/${outputName}-`) || sourcePath.includes('/', tempPath.replace(/\/+$/, '').length + 1) || sourcePath.split('/').includes('..')) {
      throw new Malformed(`disks[${i}].sourcePath must be a converted disk ${outputName}-… in tempPath`);
    }
    return { volumeId: uuid(o['volumeId'], `disks[${i}].volumeId`), sourcePath, toPath: o['toPath'] === null ? null : directory(o['toPath'], `disks[${i}].toPath`) };
  });
  // No disks is the protocol's clean-up (domain/agent-protocol ImportConvertedDisks): it only removes <tempPath>/<outputName>-*.
  return { ...base, ...target(body), tempPath, outputName, disks: distinct(distinct(disks, (disk) => disk.volumeId, 'disks'), (disk) => disk.sourcePath, 'disks') };
}

/** The command's instance and the spec it carries must be one domain. */
function sameDomain(body: JsonObject): { instanceId: string; instanceName: string } {
  const named = target(body);
  const spec = object(body['domain'], 'domain');
  if (spec['instanceId'] !== named.instanceId || spec['instanceName'] !== named.instanceName) throw new Malformed('domain must be the spec of the instance the command names');
  return named;
}

function managed(base: Base<'ManageDomain'>, body: JsonObject): AgentCommandOf<'ManageDomain'> {
  const spec = domain(body['domain'], 'domain');
  const positions = array(body['diskPositions'], 'diskPositions', MAX_VOLUMES).map((item, i) => integer(item, `diskPositions[${i}]`, 0, MAX_VOLUMES - 1));
  if (positions.length !== spec.volumes.length) throw new Malformed(`diskPositions must give a position for each of the ${spec.volumes.length} volumes`);
  distinct(positions, String, 'diskPositions');
  return { ...base, ...sameDomain(body), domain: spec, diskPositions: positions };
}

// Generic in K, so the reader and the base it is given are of one command type without a cast.
function read<K extends AgentCommandType>(base: Base<K>, body: JsonObject): AgentCommandOf<K> {
  const reader: (base: Base<K>, body: JsonObject) => AgentCommandOf<K> = READERS[base.type];
  return reader(base, body);
}

function command(body: JsonObject): AgentCommand {
  const commandId = matching(body['commandId'], 'commandId', COMMAND_ID, 'a command id <job id>.<n>');
  const hostId = uuid(body['hostId'], 'hostId');
  const type = body['type'];
  if (!isAgentCommandType(type)) throw new Malformed(`type ${JSON.stringify(type ?? null)} is not an agent command`);
  return read({ commandId, hostId, type }, body);
}

/**
 * The envelope of a body that failed to parse, when its commandId, hostId and type are all well-formed
 * (the reply repeats them, so nothing else is echoed back).
 */
function envelopeOf(body: JsonValue): CommandEnvelope | undefined {
  if (!isObject(body)) return undefined;
  const { commandId, hostId, type, instanceName, domain } = body;
  if (typeof commandId !== 'string' || !COMMAND_ID.test(commandId) || typeof hostId !== 'string' || !UUID.test(hostId) || !isAgentCommandType(type)) return undefined;
  const named = isObject(domain) ? domain['instanceName'] : instanceName;
  return { commandId, hostId, type, instanceName: typeof named === 'string' && INSTANCE_NAME.test(named) ? named : undefined };
}

export function parseAgentCommand(message: BusMessage): ParsedCommand {
  try {
    if (!isObject(message.body)) throw new Malformed('the body must be an object');
    const parsed = command(message.body);
    if (message.type !== parsed.type) throw new Malformed(`message type ${message.type} differs from body type ${parsed.type}`);
    return { ok: true, command: parsed };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: error.message, envelope: envelopeOf(message.body) };
    throw error;
  }
}
