// Import and unmanage on the libvirt testbed (issue 16 items 1, 2 and 8): a domain defined on kvm-a by
// hand is listed and imported with its MAC and power state, runs as an instance on its own disk, is
// unmanaged running and comes back; an instance vmledger deployed is unmanaged stopped and comes
// back Stopped. The main job and the agents are processes of their own on RabbitMQ; what the hosts
// hold is checked with virsh inside them.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEPLOY,
  createCloud,
  domainState,
  guestAction,
  job,
  onHost,
  readTestbed,
  scratchDir,
  seedTemplates,
  startAgentProcess,
  startBroker,
  startMainJob,
  stopBroker,
  testbedFile,
  until,
  usageOf,
  writeAgentConfigs,
  type Cloud,
  type MainJob,
  type Process,
  type Testbed,
} from './libvirt/world.js';

const run = promisify(execFile);
const BROKER_PORT = 5677;
const file = testbedFile();

interface Imported {
  readonly id: string;
  readonly instanceName: string;
  readonly state: string;
  readonly hostId: string | null;
  readonly lastHostId: string | null;
  readonly nics: ReadonlyArray<{ readonly macAddress: string }>;
  readonly volumes: ReadonlyArray<{ readonly id: string; readonly type: string; readonly size: number }>;
}

const VM = 'id instanceName state hostId lastHostId nics { macAddress } volumes { id type size }';
const LIST = `query($clusterId: ID!, $name: String) { unmanagedInstances(clusterId: $clusterId, name: $name) { nodes {
  name hostId powerState cpuNumber memory disks { id capacity controller imagePath } nics { id macAddress adapterType } } } }`;
const IMPORT = `mutation($clusterId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $hostName: String, $nicNetworkList: [NicNetworkInput!]) {
  importUnmanagedInstance(clusterId: $clusterId, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, hostName: $hostName,
    nicNetworkList: $nicNetworkList) { id } }`;
const UNMANAGE = `mutation($id: ID!) { unmanageVirtualMachine(id: $id) { id } }`;

describe.skipIf(file === undefined)('import and unmanage on libvirt hosts (needs the libvirt testbed: tests/testbed/libvirt.sh start, or VMLEDGER_TEST_LIBVIRT; see README)', () => {
  let testbed: Testbed;
  let busUrl: string;
  let ownBroker = false;
  let scratch: ReturnType<typeof scratchDir>;
  let main: MainJob;
  let cloud: Cloud;
  const agents: Process[] = [];
  const A = 'kvm-a';
  const BY_HAND = 'legacy-web';
  const MAC = '52:54:00:5e:16:01';
  const virsh = (...args: string[]) => onHost(A, ['virsh', '-c', 'qemu:///system', ...args]);

  beforeAll(async () => {
    testbed = readTestbed(file!);
    scratch = scratchDir();
    busUrl = process.env['VMLEDGER_TEST_AMQP_URL'] ?? '';
    if (busUrl === '') {
      busUrl = await startBroker(BROKER_PORT);
      ownBroker = true;
    }
    main = await startMainJob(join(scratch.dir, 'data'), busUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '45000', VMLEDGER_GRACEFUL_STOP_MS: '20000' });
    cloud = await createCloud(main.client, testbed);
    await main.client.request(`mutation { updateConfiguration(name: "ping.interval", value: "2") { name } }`);
    await seedTemplates(testbed, cloud);
    const configs = writeAgentConfigs(testbed, cloud, busUrl, scratch.dir, join(scratch.dir, 'data'));
    for (const host of testbed.hosts) agents.push(await startAgentProcess(configs.get(host.name)!));
    await until('the hosts to be Up', async () => {
      const { hosts } = await main.client.request<{ hosts: { nodes: Array<{ status: string }> } }>(`{ hosts(first: 10) { nodes { status } } }`);
      return hosts.nodes.every((host) => host.status === 'Up') ? true : undefined;
    });

    // An operator's domain on kvm-a, defined by hand: its own disk (a copy-on-write copy of the guest
    // image), a user-mode NIC with a MAC of its own, running.
    const host = testbed.hosts.find((candidate) => candidate.name === A)!;
    const disk = join(host.storagePath, `${BY_HAND}.qcow2`);
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', join(host.storagePath, 'templates', `${cloud.guestTemplateId}.qcow2`), disk]);
    const xml = join(host.storagePath, `${BY_HAND}.xml`);
    writeFileSync(
      xml,
      `<domain type='${host.domainType}'><name>${BY_HAND}</name><memory unit='MiB'>${testbed.guest.memoryMiB}</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk}'/><target dev='vda' bus='virtio'/></disk>
  <interface type='user'><mac address='${MAC}'/><model type='virtio'/></interface><serial type='pty'/><console type='pty'/></devices></domain>`,
    );
    expect((await virsh('define', xml)).code).toBe(0);
    expect((await virsh('start', BY_HAND)).code).toBe(0);
  }, 300_000);

  afterAll(async () => {
    for (const agent of agents) await agent.kill('SIGKILL');
    await main?.kill('SIGKILL');
    for (const host of testbed?.hosts ?? []) {
      const listed = await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'list', '--all', '--name']);
      for (const name of listed.stdout.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('i-') || line === BY_HAND)) {
        await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'destroy', name]);
        await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'undefine', name]);
      }
    }
    if (ownBroker) await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch?.remove();
  }, 120_000);

  const listed = async (name: string) =>
    (await main.client.request<{ unmanagedInstances: { nodes: Array<{ name: string; hostId: string; powerState: string; nics: Array<{ macAddress: string }>; disks: Array<{ capacity: number; imagePath: string }> }> } }>(LIST, { clusterId: cloud.clusterId, name }))
      .unmanagedInstances.nodes;
  const importIt = async (name: string, hostName: string): Promise<Imported> => {
    const done = await job(main.client, IMPORT, {
      clusterId: cloud.clusterId,
      name,
      serviceOfferingId: cloud.offeringId,
      templateId: cloud.guestTemplateId,
      hostName,
      nicNetworkList: [{ nic: '0', network: cloud.networkId }],
    });
    expect(done.error).toBeNull();
    return instance(done.instanceId!);
  };
  const instance = async (id: string): Promise<Imported> => (await main.client.request<{ virtualMachine: Imported }>(`query($id: ID!) { virtualMachine(id: $id) { ${VM} } }`, { id })).virtualMachine;
  const hasRecord = async (name: string): Promise<boolean> => (await virsh('dumpxml', '--inactive', name)).stdout.includes('urn:vmledger:libvirt:domain:1');
  const guestReady = (domain: string): Promise<true> =>
    until(`the guest ${domain} to boot`, async () => ((await guestAction(A, testbed.guest.readyCheck, domain)) === 0 ? true : undefined), 120_000);

  let web: Imported;

  it('lists the domain defined by hand, running, with its disk and MAC', async () => {
    const [found] = await listed(BY_HAND);
    expect(found).toMatchObject({ name: BY_HAND, hostId: cloud.hostIds.get(A), powerState: 'PowerOn' });
    expect(found!.nics.map((nic) => nic.macAddress)).toEqual([MAC]);
    expect(found!.disks).toEqual([expect.objectContaining({ capacity: testbed.guest.virtualSizeBytes, imagePath: expect.stringContaining(`${BY_HAND}.qcow2`) })]);
  }, 60_000);

  it('imports it: Running on kvm-a with its MAC, the domain now carries vmledger\'s record', async () => {
    web = await importIt(BY_HAND, 'legacy-web');
    expect(web).toMatchObject({ instanceName: BY_HAND, state: 'Running', hostId: cloud.hostIds.get(A) });
    expect(web.nics.map((nic) => nic.macAddress)).toEqual([MAC]);
    expect(await hasRecord(BY_HAND)).toBe(true);
    expect(await listed(BY_HAND)).toEqual([]);
    expect(await usageOf(main.client, web.id)).toEqual(['VM.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START']);
  }, 120_000);

  it('stops and starts it as any instance, on its own disk', async () => {
    await guestReady(BY_HAND);
    expect((await job(main.client, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: web.id })).status).toBe('SUCCEEDED');
    expect(await domainState(A, BY_HAND)).toBe('shut off');
    const started = await job(main.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: web.id });
    expect(started.error).toBeNull();
    expect((await virsh('domblklist', BY_HAND)).stdout).toContain(`${BY_HAND}.qcow2`);
    await until(`${BY_HAND} running`, async () => ((await domainState(A, BY_HAND)) === 'running' ? true : undefined), 15_000);
  }, 240_000);

  it('unmanages it running: the domain runs on, persistent, without the record, and is offered again; the usage once', async () => {
    expect((await job(main.client, UNMANAGE, { id: web.id })).status).toBe('SUCCEEDED');
    expect(await instance(web.id)).toBeNull();
    expect(await domainState(A, BY_HAND)).toBe('running');
    expect((await virsh('dominfo', BY_HAND)).stdout).toMatch(/Persistent:\s+yes/);
    expect(await hasRecord(BY_HAND)).toBe(false);
    expect((await listed(BY_HAND))[0]).toMatchObject({ powerState: 'PowerOn' });
    const usage = await usageOf(main.client, web.id);
    expect(usage.slice(-3)).toEqual(['NETWORK.OFFERING.REMOVE', 'VM.STOP', 'VM.DESTROY']);
    expect(usage.filter((type) => type === 'VM.DESTROY')).toHaveLength(1);
  }, 120_000);

  it('imports it back: a new instance, Running, same MAC', async () => {
    const back = await importIt(BY_HAND, 'legacy-web');
    expect(back.id).not.toBe(web.id);
    expect(back).toMatchObject({ state: 'Running', hostId: cloud.hostIds.get(A) });
    expect(back.nics.map((nic) => nic.macAddress)).toEqual([MAC]);
  }, 120_000);

  it('unmanages a stopped instance vmledger deployed: its domain stays defined, shut off, on kvm-a; it comes back Stopped with its MAC', async () => {
    const deployed = await job(main.client, DEPLOY, {
      zoneId: cloud.zoneId,
      serviceOfferingId: cloud.offeringId,
      templateId: cloud.guestTemplateId,
      networkIds: [cloud.networkId],
      name: 'made-here',
      hostId: cloud.hostIds.get(A),
      startVm: true,
    });
    expect(deployed.error).toBeNull();
    const made = await instance(deployed.instanceId!);
    await guestReady(made.instanceName);
    expect((await job(main.client, `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: made.id })).status).toBe('SUCCEEDED');
    expect((await job(main.client, UNMANAGE, { id: made.id })).status).toBe('SUCCEEDED');
    expect(await domainState(A, made.instanceName)).toBe('shut off');
    expect(await hasRecord(made.instanceName)).toBe(false);
    expect(await usageOf(main.client, made.id)).toEqual(['VM.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START', 'VM.STOP', 'NETWORK.OFFERING.REMOVE', 'VM.DESTROY']);

    const back = await importIt(made.instanceName, 'made-here');
    expect(back).toMatchObject({ instanceName: made.instanceName, state: 'Stopped', hostId: null, lastHostId: cloud.hostIds.get(A) });
    expect(back.nics.map((nic) => nic.macAddress)).toEqual(made.nics.map((nic) => nic.macAddress));
    const started = await job(main.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: back.id });
    expect(started.error).toBeNull();
    await guestReady(made.instanceName);
  }, 420_000);
});
