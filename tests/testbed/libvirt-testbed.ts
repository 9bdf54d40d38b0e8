// The libvirt testbed (tests/testbed/libvirt.sh: two libvirt/QEMU hosts with their own sshd on
// loopback, and a tiny guest image) as the tests see it: where its description is, the driver
// configurations of its hosts, and how to act inside a host or a guest. Shared so that
// every test that drives real hosts reads the description one way.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLibvirtHostConfig, type LibvirtHostConfig } from '../../adapters/hypervisor/libvirt/config.js';

export interface TestbedHost {
  /** kvm-a, kvm-b: what `libvirt.sh exec` takes. */
  readonly name: string;
  readonly address: string;
  readonly sshPort: number;
  readonly username: string;
  readonly password: string;
  readonly privateKeyPath: string;
  readonly hostKeySha256: string;
  readonly storagePath: string;
  readonly domainType: 'kvm' | 'qemu';
  readonly migrationUri: string;
  readonly migrationAddress: string;
}

export interface TestbedGuest {
  /** A bootable qcow2 image that powers off on the ACPI power button. */
  readonly image: string;
  readonly virtualSizeBytes: number;
  readonly memoryMiB: number;
  /** argv to run inside the host, `{domain}` standing for the domain's name. */
  readonly powerOffFromInside: readonly string[];
  readonly ignoreShutdown: readonly string[];
  /** Exits 0 once the guest reacts to ACPI and the keys above. */
  readonly readyCheck: readonly string[];
  readonly bootSeconds: number;
}

/** The host vmledger does not manage (no agent): stopped domains to import from (issue 16 item 7). */
export interface ExternalTestbedHost {
  readonly name: string;
  readonly address: string;
  readonly sshPort: number;
  readonly username: string;
  readonly password: string;
  readonly hostKeySha256: string;
  readonly storagePath: string;
  /** ext-two: a bootable qcow2 root and a raw data disk, two NICs (`macs`); ext-raw, ext-vmdk: one disk of that format. */
  readonly domains: { readonly twoDisksTwoNics: string; readonly raw: string; readonly vmdk: string };
  readonly macs: readonly string[];
}

/**
 * The VMware (ESXi-style) host (issue 17): an sshd at its own address over a /vmfs/volumes tree, no
 * agent. `guests`: the .vmx of the real guest virt-v2v converts, of a blank two-disk two-NIC one, and
 * of one marked running (its .vmx.lck).
 */
export interface VmwareTestbedHost {
  readonly name: string;
  readonly address: string;
  readonly sshPort: number;
  readonly username: string;
  readonly password: string;
  readonly hostKeySha256: string;
  /** A directory every testbed host sees, writable by the hosts' user: the conversions' temporary location. */
  readonly tempPath: string;
  /** What virt-v2v needs here (no /dev/kvm): the drivers' `conversion.env`. */
  readonly conversionEnv: Readonly<Record<string, string>>;
  readonly guests: { readonly real: string; readonly multi: string; readonly running: string };
  readonly macs: { readonly real: string; readonly multi: readonly string[] };
}

export interface LibvirtTestbed {
  readonly hosts: readonly TestbedHost[];
  /** Absent in a description written before the VMware host existed. */
  readonly vmware?: VmwareTestbedHost;
  /** Absent in a description written before the external host existed. */
  readonly external?: ExternalTestbedHost;
  readonly guest: TestbedGuest;
  /** argv prefix that runs a command inside a host, `{host}` standing for its name. */
  readonly exec: readonly string[];
}

/**
 * Where the testbed's description is, and whether a test run demands it: `VMLEDGER_TEST_LIBVIRT`
 * names the file (the full test run sets it, and then a missing file is a failure), else the default
 * place `libvirt.sh start` writes it to (and then a missing file only means no testbed runs).
 */
export function libvirtTestbedLocation(env: NodeJS.ProcessEnv = process.env): { path: string; required: boolean; present: boolean } {
  const named = env['VMLEDGER_TEST_LIBVIRT'];
  const base = env['VMLEDGER_TESTBED_DIR'] || join(env['TMPDIR'] || '/tmp', 'vmledger-testbed');
  const path = named ? named : join(base, 'libvirt', 'testbed.json');
  return { path, required: Boolean(named), present: existsSync(path) };
}

type Json = Readonly<Record<string, unknown>>;

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} must be an object`);
  return value as Json;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${where} must be a non-empty string`);
  return value;
}

function number(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${where} must be a number`);
  return value;
}

function argv(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((word) => typeof word === 'string')) {
    throw new Error(`${where} must be a non-empty array of strings`);
  }
  return value as string[];
}

export function readLibvirtTestbed(path: string): LibvirtTestbed {
  const root = object(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
  const hosts = root['hosts'];
  if (!Array.isArray(hosts)) throw new Error(`${path}: hosts must be an array`);
  const guest = object(root['guest'], `${path}: guest`);
  const domainType = (value: unknown, where: string): 'kvm' | 'qemu' => {
    if (value !== 'kvm' && value !== 'qemu') throw new Error(`${where} must be kvm or qemu`);
    return value;
  };
  return {
    hosts: hosts.map((value, i) => {
      const host = object(value, `${path}: hosts[${i}]`);
      const at = (key: string): string => `${path}: hosts[${i}].${key}`;
      return {
        name: string(host['name'], at('name')),
        address: string(host['address'], at('address')),
        sshPort: number(host['sshPort'], at('sshPort')),
        username: string(host['username'], at('username')),
        password: string(host['password'], at('password')),
        privateKeyPath: string(host['privateKeyPath'], at('privateKeyPath')),
        hostKeySha256: string(host['hostKeySha256'], at('hostKeySha256')),
        storagePath: string(host['storagePath'], at('storagePath')),
        domainType: domainType(host['domainType'], at('domainType')),
        migrationUri: string(host['migrationUri'], at('migrationUri')),
        migrationAddress: string(host['migrationAddress'], at('migrationAddress')),
      };
    }),
    guest: {
      image: string(guest['image'], `${path}: guest.image`),
      virtualSizeBytes: number(guest['virtualSizeBytes'], `${path}: guest.virtualSizeBytes`),
      memoryMiB: number(guest['memoryMiB'], `${path}: guest.memoryMiB`),
      powerOffFromInside: argv(guest['powerOffFromInside'], `${path}: guest.powerOffFromInside`),
      ignoreShutdown: argv(guest['ignoreShutdown'], `${path}: guest.ignoreShutdown`),
      readyCheck: argv(guest['readyCheck'], `${path}: guest.readyCheck`),
      bootSeconds: number(guest['bootSeconds'] ?? 10, `${path}: guest.bootSeconds`),
    },
    ...(root['external'] === undefined ? {} : { external: externalHost(object(root['external'], `${path}: external`), `${path}: external`) }),
    ...(root['vmware'] === undefined ? {} : { vmware: vmwareHost(object(root['vmware'], `${path}: vmware`), `${path}: vmware`) }),
    exec: root['exec'] === undefined ? ['bash', 'tests/testbed/libvirt.sh', 'exec', '{host}', '--'] : argv(root['exec'], `${path}: exec`),
  };
}

function externalHost(host: Json, where: string): ExternalTestbedHost {
  const domains = object(host['domains'], `${where}.domains`);
  const macs = host['macs'];
  if (!Array.isArray(macs) || !macs.every((mac) => typeof mac === 'string')) throw new Error(`${where}.macs must be an array of strings`);
  return {
    name: string(host['name'], `${where}.name`),
    address: string(host['address'], `${where}.address`),
    sshPort: number(host['sshPort'], `${where}.sshPort`),
    username: string(host['username'], `${where}.username`),
    password: string(host['password'], `${where}.password`),
    hostKeySha256: string(host['hostKeySha256'], `${where}.hostKeySha256`),
    storagePath: string(host['storagePath'], `${where}.storagePath`),
    domains: {
      twoDisksTwoNics: string(domains['twoDisksTwoNics'], `${where}.domains.twoDisksTwoNics`),
      raw: string(domains['raw'], `${where}.domains.raw`),
      vmdk: string(domains['vmdk'], `${where}.domains.vmdk`),
    },
    macs: macs as string[],
  };
}

function vmwareHost(host: Json, where: string): VmwareTestbedHost {
  const guests = object(host['guests'], `${where}.guests`);
  const env = object(host['conversionEnv'], `${where}.conversionEnv`);
  const macs = object(host['macs'], `${where}.macs`);
  const multi = macs['multi'];
  if (!Array.isArray(multi) || !multi.every((mac) => typeof mac === 'string')) throw new Error(`${where}.macs.multi must be an array of strings`);
  return {
    name: string(host['name'], `${where}.name`),
    address: string(host['address'], `${where}.address`),
    sshPort: number(host['sshPort'], `${where}.sshPort`),
    username: string(host['username'], `${where}.username`),
    password: string(host['password'], `${where}.password`),
    hostKeySha256: string(host['hostKeySha256'], `${where}.hostKeySha256`),
    tempPath: string(host['tempPath'], `${where}.tempPath`),
    conversionEnv: Object.fromEntries(Object.entries(env).map(([name, value]) => [name, string(value, `${where}.conversionEnv.${name}`)])),
    guests: { real: string(guests['real'], `${where}.guests.real`), multi: string(guests['multi'], `${where}.guests.multi`), running: string(guests['running'], `${where}.guests.running`) },
    macs: { real: string(macs['real'], `${where}.macs.real`), multi: multi as string[] },
  };
}

export function testbedHost(testbed: LibvirtTestbed, name: string): TestbedHost {
  const host = testbed.hosts.find((candidate) => candidate.name === name);
  if (!host) throw new Error(`the libvirt testbed has no host ${name} (it has ${testbed.hosts.map((h) => h.name).join(', ')})`);
  return host;
}

/**
 * A testbed host as the driver's configuration, read the way an agent reads its file. `others`: the
 * hosts whose storage this one shares (the testbed's hosts all see each other's storage directories).
 */
export function testbedHostConfig(
  host: TestbedHost,
  hostId: string,
  login: { password?: boolean; privateKey?: boolean } = { privateKey: true },
  others: readonly TestbedHost[] = [],
): LibvirtHostConfig {
  return parseLibvirtHostConfig(
    {
      hostId,
      address: host.address,
      sshPort: host.sshPort,
      username: host.username,
      ...(login.password ? { password: host.password } : {}),
      ...(login.privateKey ? { privateKeyPath: host.privateKeyPath } : {}),
      hostKeySha256: host.hostKeySha256,
      domainType: host.domainType,
      storagePath: host.storagePath,
      sharedStoragePaths: others.filter((other) => other.name !== host.name).map((other) => other.storagePath),
      migrationUri: host.migrationUri,
      migrationAddress: host.migrationAddress,
      nic: { mode: 'user' },
    },
    `testbed host ${host.name}`,
  );
}

export interface InHostResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` (with `{domain}` replaced) inside testbed host `hostName`, as root. */
export function runInTestbedHost(testbed: LibvirtTestbed, hostName: string, command: readonly string[], domain = ''): Promise<InHostResult> {
  const [program, ...args] = [
    ...testbed.exec.map((word) => word.replaceAll('{host}', hostName)),
    ...command.map((word) => word.replaceAll('{domain}', domain)),
  ];
  // The description names the script itself, which is run by bash when it is not executable.
  const [file, argv] = isExecutable(program!) ? [program!, args] : ['bash', [program!, ...args]];
  return new Promise((resolve) => {
    execFile(file, argv, { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ exitCode: code, stdout, stderr });
    });
  });
}

function isExecutable(program: string): boolean {
  if (!program.includes('/')) return true; // found on the PATH
  try {
    accessSync(program, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
