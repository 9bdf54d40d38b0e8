// How an agent reaches and drives one KVM host: read from the agent's JSON configuration file, so every
// field is checked here and a mistake names the field it is in. Unknown fields are refused too: a
// misspelt optional field (`vncListen`) would otherwise fall back to its default without a word.
import { isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import { UUID } from '../../../domain/shared/instance-name.js';
import { parseHostKeyFingerprint } from '../../ssh/host-key.js';

/** How a domain's NICs reach the network. */
export type LibvirtNicConfig =
  /** QEMU's user-mode network (SLIRP): no host setup at all, no VLANs; for test beds. */
  | { readonly mode: 'user' }
  /**
   * Each NIC is a tap on `bridge`. A NIC with a VLAN gets an 802.1Q tag on its port, which libvirt
   * can only set on an Open vSwitch bridge (it then adds the `openvswitch` virtualport): with VLANs
   * in use, `bridge` must be an OVS bridge. A NIC on a network without a VLAN would join the bridge's
   * untagged segment, and is refused unless its network is listed in `untaggedNetworkIds` (a flat
   * network whose segment that bridge is).
   */
  | { readonly mode: 'bridge'; readonly bridge: string; readonly untaggedNetworkIds: readonly string[] };

export interface LibvirtHostConfig {
  /** The id of the host in vmledger: what commands name and migrations target. */
  readonly hostId: string;
  /** Where its sshd listens: a host name or an IP address. */
  readonly address: string;
  readonly sshPort: number;
  readonly username: string;
  readonly password?: string;
  /** A private key file on the agent's machine. */
  readonly privateKeyPath?: string;
  /** The host's pinned SSH host key, `SHA256:<base64>` as OpenSSH prints it. */
  readonly hostKeySha256: string;
  /** `kvm` on real hosts; `qemu` (TCG emulation) where KVM is unavailable, such as the test bed. */
  readonly domainType: 'kvm' | 'qemu';
  /** The directory on the host that holds `<volumeId>.qcow2` and `templates/<templateId>.qcow2`. */
  readonly storagePath: string;
  /**
   * Other hosts' storage paths as this host reaches them (shared storage mounted elsewhere): a domain
   * migrated here keeps its disks where they are. The driver touches disk files only directly inside
   * `storagePath` or one of these.
   */
  readonly sharedStoragePaths: readonly string[];
  /** How libvirt on another host reaches this one's libvirtd to migrate a domain here. */
  readonly migrationUri: string;
  /** The address on this host that QEMU listens on for incoming migration data. */
  readonly migrationAddress: string;
  /**
   * The address the domains' VNC consoles listen on. Only a loopback address unless `vncPasswordFile`
   * is set: a console without a password is the guest's keyboard for whoever reaches the port.
   */
  readonly vncListen: string;
  /** A file on the agent's machine holding the VNC consoles' password (VNC uses at most 8 characters). */
  readonly vncPasswordFile?: string;
  readonly nic: LibvirtNicConfig;
  /**
   * How this host takes an external host's disks (importVm): `auto` streams them (nbdkit's ssh
   * plugin) when the host has it, else converts on the source and copies (CloudStack's way); the
   * other two force one way. Default auto.
   */
  readonly remoteCopyMode: 'auto' | 'streamed' | 'cloudstack';
  /** How this host converts VMware guests (issue 17). */
  readonly conversion: LibvirtConversionConfig;
}

/**
 * virt-v2v on the host: the command (a name on the login shell's PATH, or an absolute path) and the
 * environment it runs in (CloudStack's agent.properties-driven convert env), e.g.
 * LIBGUESTFS_BACKEND=direct, and LIBGUESTFS_BACKEND_SETTINGS=force_tcg where there is no /dev/kvm.
 * Default: `virt-v2v` with LIBGUESTFS_BACKEND=direct (libvirt's backend would need the SSH agent's
 * environment passed through libvirtd).
 */
export interface LibvirtConversionConfig {
  readonly virtV2v: string;
  readonly env: Readonly<Record<string, string>>;
}

export const DEFAULT_CONVERSION_CONFIG: LibvirtConversionConfig = { virtV2v: 'virt-v2v', env: { LIBGUESTFS_BACKEND: 'direct' } };

export class LibvirtConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LibvirtConfigError';
  }
}

const FIELDS = new Set([
  'hostId',
  'address',
  'sshPort',
  'username',
  'password',
  'privateKeyPath',
  'hostKeySha256',
  'domainType',
  'storagePath',
  'sharedStoragePaths',
  'migrationUri',
  'migrationAddress',
  'vncListen',
  'vncPasswordFile',
  'nic',
  'remoteCopyMode',
  'conversion',
]);

type Fields = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string without control characters; `what` says what else it must be. */
function text(value: unknown, field: string, what = 'a non-empty string'): string {
  // Control characters have no place in a host name, path or URI, and would garble a command line.
  if (typeof value !== 'string' || value.trim() === '' || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new LibvirtConfigError(`${field} must be ${what}`);
  }
  return value;
}

function optional<T>(fields: Fields, key: string, read: (value: unknown) => T): T | undefined {
  return fields[key] === undefined ? undefined : read(fields[key]);
}

function port(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65_535) {
    throw new LibvirtConfigError(`${field} must be a TCP port number (1 to 65535)`);
  }
  return value;
}

function hostAddress(value: unknown, field: string): string {
  const address = text(value, field, 'a host name or IP address');
  if (/\s/.test(address)) throw new LibvirtConfigError(`${field} must be a host name or IP address, without spaces`);
  return address;
}

function absolutePath(value: unknown, field: string): string {
  const path = text(value, field, 'an absolute path');
  if (!isAbsolute(path)) throw new LibvirtConfigError(`${field} must be an absolute path, got a relative one`);
  // The storage path ends up inside XML and command lines and must name one fixed place.
  if (path.split('/').includes('..')) throw new LibvirtConfigError(`${field} must not contain '..'`);
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function pathList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new LibvirtConfigError(`${field} must be a list of absolute paths`);
  return value.map((path, i) => absolutePath(path, `${field}[${i}]`));
}

/** 127.0.0.0/8, ::1 or localhost: reachable from the host alone (an SSH tunnel for a console). */
function isLoopback(address: string): boolean {
  if (address === 'localhost' || address === '::1') return true;
  return isIP(address) === 4 && address.startsWith('127.');
}

function nicConfig(value: unknown, field: string): LibvirtNicConfig {
  if (!isRecord(value)) throw new LibvirtConfigError(`${field} must be an object: { "mode": "user" } or { "mode": "bridge", "bridge": "<name>" }`);
  if (value['mode'] === 'user') {
    const extra = Object.keys(value).filter((key) => key !== 'mode');
    if (extra.length > 0) throw new LibvirtConfigError(`${field}.${extra[0]} is not a field of a user-mode NIC configuration`);
    return { mode: 'user' };
  }
  if (value['mode'] === 'bridge') {
    const extra = Object.keys(value).filter((key) => key !== 'mode' && key !== 'bridge' && key !== 'untaggedNetworkIds');
    if (extra.length > 0) throw new LibvirtConfigError(`${field}.${extra[0]} is not a field of a bridge NIC configuration`);
    const bridge = text(value['bridge'], `${field}.bridge`, 'the name of a bridge on the host');
    // Linux interface names: at most 15 bytes, no slash, colon or whitespace.
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) {
      throw new LibvirtConfigError(`${field}.bridge must be a network interface name (1 to 15 of A-Z a-z 0-9 _ . -)`);
    }
    const untagged = value['untaggedNetworkIds'] ?? [];
    if (!Array.isArray(untagged) || !untagged.every((id) => typeof id === 'string' && UUID.test(id))) {
      throw new LibvirtConfigError(`${field}.untaggedNetworkIds must be a list of network ids (UUIDs)`);
    }
    return { mode: 'bridge', bridge, untaggedNetworkIds: untagged as string[] };
  }
  throw new LibvirtConfigError(`${field}.mode must be "user" or "bridge"`);
}

/**
 * Reads a libvirt host's configuration. `where` says where `value` came from (a file and a position in
 * it) and prefixes every error, e.g. `agent.json hosts[0].sshPort must be a TCP port number`.
 * Defaults: sshPort 22, domainType kvm, vncListen 127.0.0.1, no shared storage paths, no untagged networks.
 */
export function parseLibvirtHostConfig(value: unknown, where: string): LibvirtHostConfig {
  if (!isRecord(value)) throw new LibvirtConfigError(`${where} must be an object`);
  const field = (key: string): string => `${where}.${key}`;
  const unknown = Object.keys(value).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    throw new LibvirtConfigError(`${field(unknown[0]!)} is not a libvirt host setting (known: ${[...FIELDS].join(', ')})`);
  }

  const password = optional(value, 'password', (v) => {
    // Never echo the value: it is a secret.
    if (typeof v !== 'string' || v === '') throw new LibvirtConfigError(`${field('password')} must be a non-empty string`);
    return v;
  });
  const privateKeyPath = optional(value, 'privateKeyPath', (v) => absolutePath(v, field('privateKeyPath')));
  if (password === undefined && privateKeyPath === undefined) {
    throw new LibvirtConfigError(`${where} needs password or privateKeyPath to log in to the host`);
  }

  let hostKeySha256: string;
  try {
    hostKeySha256 = parseHostKeyFingerprint(text(value['hostKeySha256'], field('hostKeySha256')), field('hostKeySha256'));
  } catch (error) {
    if (error instanceof LibvirtConfigError) throw error;
    throw new LibvirtConfigError((error as Error).message);
  }

  const domainType = value['domainType'] ?? 'kvm';
  if (domainType !== 'kvm' && domainType !== 'qemu') {
    throw new LibvirtConfigError(`${field('domainType')} must be "kvm" (hardware virtualisation) or "qemu" (emulation)`);
  }

  const migrationUri = text(value['migrationUri'], field('migrationUri'), 'a libvirt connection URI');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(migrationUri)) {
    throw new LibvirtConfigError(`${field('migrationUri')} must be a libvirt connection URI such as qemu+ssh://user@host/system`);
  }

  const vncListen = value['vncListen'] === undefined ? '127.0.0.1' : hostAddress(value['vncListen'], field('vncListen'));
  const vncPasswordFile = optional(value, 'vncPasswordFile', (v) => absolutePath(v, field('vncPasswordFile')));
  if (vncPasswordFile === undefined && !isLoopback(vncListen)) {
    throw new LibvirtConfigError(
      `${field('vncListen')} ${vncListen} is not a loopback address: the VNC consoles have no password, so set vncPasswordFile or keep them on 127.0.0.1`,
    );
  }

  return {
    hostId: text(value['hostId'], field('hostId')),
    address: hostAddress(value['address'], field('address')),
    sshPort: value['sshPort'] === undefined ? 22 : port(value['sshPort'], field('sshPort')),
    username: text(value['username'], field('username'), 'a user name'),
    ...(password === undefined ? {} : { password }),
    ...(privateKeyPath === undefined ? {} : { privateKeyPath }),
    hostKeySha256,
    domainType,
    storagePath: absolutePath(value['storagePath'], field('storagePath')),
    sharedStoragePaths: pathList(value['sharedStoragePaths'], field('sharedStoragePaths')),
    migrationUri,
    migrationAddress: hostAddress(value['migrationAddress'], field('migrationAddress')),
    vncListen,
    ...(vncPasswordFile === undefined ? {} : { vncPasswordFile }),
    nic: nicConfig(value['nic'], field('nic')),
    remoteCopyMode: remoteCopyMode(value['remoteCopyMode'], field('remoteCopyMode')),
    conversion: conversionConfig(value['conversion'], field('conversion')),
  };
}

function conversionConfig(value: unknown, field: string): LibvirtConversionConfig {
  if (value === undefined) return DEFAULT_CONVERSION_CONFIG;
  if (!isRecord(value)) throw new LibvirtConfigError(`${field} must be an object: { "virtV2v": "virt-v2v", "env": { "LIBGUESTFS_BACKEND": "direct" } }`);
  const extra = Object.keys(value).filter((key) => key !== 'virtV2v' && key !== 'env');
  if (extra.length > 0) throw new LibvirtConfigError(`${field}.${extra[0]} is not a conversion setting (known: virtV2v, env)`);
  const virtV2v = value['virtV2v'] === undefined ? DEFAULT_CONVERSION_CONFIG.virtV2v : text(value['virtV2v'], `${field}.virtV2v`, 'a command name or an absolute path');
  if (!/^(?:\/[A-Za-z0-9._/-]+|[A-Za-z0-9._-]+)$/.test(virtV2v) || virtV2v.split('/').includes('..')) {
    throw new LibvirtConfigError(`${field}.virtV2v must be a command name or an absolute path (A-Z a-z 0-9 . _ - /)`);
  }
  const env = value['env'] === undefined ? DEFAULT_CONVERSION_CONFIG.env : value['env'];
  if (!isRecord(env)) throw new LibvirtConfigError(`${field}.env must be an object of environment variables`);
  for (const [name, setting] of Object.entries(env)) {
    if (!/^[A-Z_][A-Z0-9_]{0,63}$/.test(name)) throw new LibvirtConfigError(`${field}.env.${name} is not an environment variable name (A-Z 0-9 _)`);
    text(setting, `${field}.env.${name}`, 'a non-empty string without control characters');
  }
  return { virtV2v, env: env as Record<string, string> };
}

function remoteCopyMode(value: unknown, field: string): LibvirtHostConfig['remoteCopyMode'] {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'streamed' || value === 'cloudstack') return value;
  throw new LibvirtConfigError(`${field} must be auto, streamed or cloudstack`);
}
