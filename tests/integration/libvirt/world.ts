// The world of the libvirt integration tests: a RabbitMQ broker of their own, the two libvirt hosts of
// the testbed (tests/testbed/libvirt.sh), the main job in a process of its own on that broker, and one
// `vmledger agent` process per host. Everything is real: tests talk GraphQL to the main job and look
// at the hypervisors with virsh inside the hosts' namespaces, not through the code under test.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GraphQLClient } from 'graphql-request';
import { AGENT_COMMAND_KEYS_FILE } from '../../../api/command-keys.js';
import { PROJECT_ROOT as root, launch, launchMainJob, until as pollUntil, type Launched } from '../../support/child-process.js';
import { libvirtTestbedLocation, readLibvirtTestbed, runInTestbedHost, testbedHostConfig, type LibvirtTestbed } from '../../testbed/libvirt-testbed.js';

const run = promisify(execFile);
export const ADMIN_KEY = 'libvirt-integration-admin-key-0123456789';

export type Testbed = LibvirtTestbed;

/** The testbed's description, when one is running (VMLEDGER_TEST_LIBVIRT names it; test:all always sets it). */
export function testbedFile(): string | undefined {
  const location = libvirtTestbedLocation();
  if (location.required && !location.present) throw new Error(`VMLEDGER_TEST_LIBVIRT names ${location.path}, which does not exist: is the testbed started?`);
  return location.present ? location.path : undefined;
}

export const readTestbed = readLibvirtTestbed;

let described: LibvirtTestbed | undefined;
function testbed(): LibvirtTestbed {
  described ??= readLibvirtTestbed(testbedFile()!);
  return described;
}

/** Runs argv as root inside a testbed host's namespace; `{domain}` in it stands for `domain`. */
export async function onHost(host: string, argv: readonly string[], domain = ''): Promise<{ stdout: string; stderr: string; code: number }> {
  const result = await runInTestbedHost(testbed(), host, argv, domain);
  return { stdout: result.stdout, stderr: result.stderr, code: result.exitCode };
}

/** What virsh on the host says of a domain: running, shut off, … or missing. */
export async function domainState(host: string, domain: string): Promise<string> {
  const result = await onHost(host, ['virsh', '-c', 'qemu:///system', 'domstate', domain]);
  return result.code === 0 ? result.stdout.trim() : 'missing';
}

/** One of the testbed's guest actions (powerOffFromInside, ignoreShutdown, readyCheck) on a domain. */
export async function guestAction(host: string, argv: readonly string[], domain: string): Promise<number> {
  return (await onHost(host, argv, domain)).code;
}

/** Polls `probe` until it gives a value; 90 s unless told. */
export function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  return pollUntil(what, probe, timeoutMs);
}

// ---- the broker ------------------------------------------------------------------------------------

/** A broker of this file's own, so that restarting it disturbs no other test file. */
export async function startBroker(port: number): Promise<string> {
  const { stdout } = await run('bash', [join(root, 'tests', 'testbed', 'rabbitmq.sh'), 'start', String(port)], { timeout: 180_000 });
  return stdout.trim().split('\n').at(-1)!;
}

export async function stopBroker(port: number): Promise<void> {
  await run('bash', [join(root, 'tests', 'testbed', 'rabbitmq.sh'), 'stop', String(port)], { timeout: 60_000 });
}

export async function brokerCtl(port: number, ...args: string[]): Promise<void> {
  await run('bash', [join(root, 'tests', 'testbed', 'rabbitmq.sh'), 'ctl', String(port), ...args], { timeout: 60_000 });
}

// ---- processes -------------------------------------------------------------------------------------

export type Process = Launched;

export interface MainJob extends Process {
  readonly client: GraphQLClient;
}

export async function startMainJob(dataDir: string, busUrl: string, env: NodeJS.ProcessEnv = {}): Promise<MainJob> {
  const { process: proc, url } = await launchMainJob({ VMLEDGER_DATA_DIR: dataDir, VMLEDGER_ADMIN_API_KEY: ADMIN_KEY, VMLEDGER_DEMO: '0', VMLEDGER_BUS_URL: busUrl, ...env });
  return { ...proc, client: new GraphQLClient(url, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } }) };
}

/** `vmledger agent --config FILE`, as an operator runs it next to its hosts. */
export async function startAgentProcess(configFile: string): Promise<Process> {
  const { process: proc } = await launch(['--import', 'tsx', join(root, 'api', 'cli.ts'), 'agent', '--config', configFile], {}, /serving \d+ host/);
  return proc;
}

// ---- the cloud -------------------------------------------------------------------------------------

export interface Cloud {
  readonly zoneId: string;
  readonly clusterId: string;
  /** Testbed host name → host id. */
  readonly hostIds: ReadonlyMap<string, string>;
  readonly networkId: string;
  /** Boots the testbed's guest. */
  readonly guestTemplateId: string;
  /** A disk with nothing on it: the domain runs, nothing boots, nothing answers ACPI. */
  readonly blankTemplateId: string;
  readonly offeringId: string;
}

export async function createCloud(client: GraphQLClient, testbed: Testbed): Promise<Cloud> {
  const { createZone } = await client.request<{ createZone: { id: string } }>(`mutation { createZone(name: "kvm-zone", networkType: "Advanced") { id } }`);
  const zoneId = createZone.id;
  const { addCluster } = await client.request<{ addCluster: { id: string } }>(
    `mutation($zoneId: ID!) { addCluster(zoneId: $zoneId, name: "kvm-cluster", hypervisor: "KVM") { id } }`,
    { zoneId },
  );
  const hostIds = new Map<string, string>();
  for (const host of testbed.hosts) {
    const { addHost } = await client.request<{ addHost: { id: string } }>(
      `mutation($clusterId: ID!, $name: String!, $url: String!, $username: String!, $password: String!) {
        addHost(clusterId: $clusterId, name: $name, driver: "libvirt", cpuNumber: 8, cpuSpeed: 2000, memory: 8192, url: $url, username: $username, password: $password) { id } }`,
      { clusterId: addCluster.id, name: host.name, url: `ssh://${host.address}:${host.sshPort}`, username: host.username, password: host.password },
    );
    hostIds.set(host.name, addHost.id);
  }
  await client.request(`mutation($zoneId: ID!) { createStoragePool(zoneId: $zoneId, name: "kvm-primary", type: "NFS", url: "nfs://nfs.testbed.internal/export/primary") { id } }`, { zoneId });
  const { createNetwork } = await client.request<{ createNetwork: { id: string } }>(`mutation($zoneId: ID!) { createNetwork(zoneId: $zoneId, name: "kvm-l2", type: L2) { id } }`, { zoneId });
  const template = async (name: string, size: number): Promise<string> =>
    (
      await client.request<{ registerTemplate: { id: string } }>(
        `mutation($zoneId: ID!, $name: String!, $size: Float!) { registerTemplate(zoneId: $zoneId, name: $name, osType: "Other Linux (64-bit)",
          url: "https://images.invalid/vmledger-guest.qcow2", size: $size, format: "QCOW2", hypervisor: "KVM", isPublic: true) { id } }`,
        { zoneId, name, size },
      )
    ).registerTemplate.id;
  const guestTemplateId = await template('busybox-guest', testbed.guest.virtualSizeBytes);
  const blankTemplateId = await template('blank-disk', 64 * 1024 * 1024);
  const { createServiceOffering } = await client.request<{ createServiceOffering: { id: string } }>(
    `mutation($memory: Int!) { createServiceOffering(name: "kvm-tiny", cpuNumber: 1, cpuSpeed: 500, memory: $memory) { id } }`,
    { memory: testbed.guest.memoryMiB },
  );
  return { zoneId, clusterId: addCluster.id, hostIds, networkId: createNetwork.id, guestTemplateId, blankTemplateId, offeringId: createServiceOffering.id };
}

/** Templates are files in each host's storage (as an operator seeds them): the guest, and a blank disk. */
export async function seedTemplates(testbed: Testbed, cloud: Cloud): Promise<void> {
  for (const host of testbed.hosts) {
    const dir = join(host.storagePath, 'templates');
    mkdirSync(dir, { recursive: true });
    copyFileSync(testbed.guest.image, join(dir, `${cloud.guestTemplateId}.qcow2`));
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, `${cloud.blankTemplateId}.qcow2`), '64M']);
  }
}

/**
 * One agent config file per host, as `vmledger agent --config` reads it; each names the other host as
 * its migration peer and its storage as shared, and the main job's data directory's key file as its
 * command keys (what an operator copies to each agent's machine).
 */
export function writeAgentConfigs(testbed: Testbed, cloud: Cloud, busUrl: string, dir: string, dataDir: string): Map<string, string> {
  const commandKeysFile = join(dataDir, AGENT_COMMAND_KEYS_FILE);
  const files = new Map<string, string>();
  for (const host of testbed.hosts) {
    const peers = testbed.hosts
      .filter((other) => other !== host)
      .map((other) => ({ hostId: cloud.hostIds.get(other.name)!, migrationUri: other.migrationUri, migrationAddress: other.migrationAddress }));
    const file = join(dir, `agent-${host.name}.json`);
    const hosts = [testbedHostConfig(host, cloud.hostIds.get(host.name)!, undefined, testbed.hosts)];
    writeFileSync(file, JSON.stringify({ busUrl, heartbeatIntervalMs: 2_000, powerSyncIntervalMs: 5_000, commandKeysFile, hosts, peers }, null, 2), { mode: 0o600 });
    files.set(host.name, file);
  }
  return files;
}

export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-libvirt-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- GraphQL ---------------------------------------------------------------------------------------

export interface Job {
  readonly id: string;
  readonly status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  readonly instanceId: string | null;
  readonly error: { code: string; message: string } | null;
}

export interface Vm {
  readonly id: string;
  readonly instanceName: string;
  readonly state: string;
  readonly hostId: string | null;
}

const VM = 'id instanceName state hostId';

export async function vm(client: GraphQLClient, id: string): Promise<Vm | null> {
  return (await client.request<{ virtualMachine: Vm | null }>(`query($id: ID!) { virtualMachine(id: $id) { ${VM} } }`, { id })).virtualMachine;
}

/** Runs an async mutation (one returning an AsyncJob) and waits for its job to finish. */
export async function job(client: GraphQLClient, mutation: string, variables: Record<string, unknown>, timeoutMs = 120_000): Promise<Job> {
  const started = await client.request<Record<string, { id: string }>>(mutation, variables);
  const id = Object.values(started)[0]!.id;
  return until(
    `job ${id}`,
    async () => {
      const { asyncJob } = await client.request<{ asyncJob: Job }>(`query($id: ID!) { asyncJob(id: $id) { id status instanceId error { code message } } }`, { id });
      return asyncJob.status === 'PENDING' ? undefined : asyncJob;
    },
    timeoutMs,
  );
}

export const DEPLOY = `mutation($zoneId: ID!, $serviceOfferingId: ID!, $templateId: ID!, $networkIds: [ID!], $name: String!, $hostId: ID, $startVm: Boolean) {
  deployVirtualMachine(zoneId: $zoneId, serviceOfferingId: $serviceOfferingId, templateId: $templateId, networkIds: $networkIds, name: $name, hostId: $hostId, startVm: $startVm) { id instanceId } }`;

/** Usage event types of one resource, oldest first. */
export async function usageOf(client: GraphQLClient, resourceId: string): Promise<string[]> {
  const types: string[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = { usageEvents: { nodes: Array<{ type: string; resourceId: string }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const { usageEvents }: Page = await client.request<Page>(
      `query($after: String) { usageEvents(first: 500, after: $after) { nodes { type resourceId } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    types.push(...usageEvents.nodes.filter((event) => event.resourceId === resourceId).map((event) => event.type));
    if (!usageEvents.pageInfo.hasNextPage) return types;
    after = usageEvents.pageInfo.endCursor;
  }
}

export async function hostCapacity(client: GraphQLClient, id: string): Promise<{ status: string; cpuAllocated: number; memoryAllocated: number; reservationCount: number }> {
  const { hosts } = await client.request<{ hosts: { nodes: Array<{ id: string; status: string; cpuAllocated: number; memoryAllocated: number; reservationCount: number }> } }>(
    `{ hosts(first: 100) { nodes { id status cpuAllocated memoryAllocated reservationCount } } }`,
  );
  const host = hosts.nodes.find((node) => node.id === id);
  if (!host) throw new Error(`no host ${id}`);
  return host;
}
