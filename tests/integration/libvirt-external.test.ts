// An external KVM host on the libvirt testbed (issue 16 items 3, 5 and 7): the testbed's third host,
// which vmledger does not manage and no agent serves, holds stopped domains; vmsForImport has the
// agent of kvm-a log in to it over SSH with the operator's password and list them, and importVm has
// it copy the two-disk, two-NIC domain's disks in each copy mode (streamed, then CloudStack's with
// the agent restarted in that mode): byte-identical copies, and the instance boots on kvm-a. The main job
// and the agents are processes of their own on RabbitMQ. A wrong password, unique to this test, is
// then searched for in everything the processes wrote: their output (log lines), every file of the
// main job's data directory (the event log, the read model, the secrets port's file) and the error.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
  writeAgentConfigs,
  type Cloud,
  type MainJob,
  type Process,
  type Testbed,
} from './libvirt/world.js';

const run = promisify(execFile);
const BROKER_PORT = 5678;
const file = testbedFile();
const MiB = 1024 * 1024;

const LIST = `query($zoneId: ID!, $host: String!, $username: String!, $password: String) {
  vmsForImport(zoneId: $zoneId, host: $host, username: $username, password: $password) { totalCount nodes {
    name host powerState cpuNumber memory disks { id capacity controller imagePath } nics { id macAddress adapterType } } } }`;

interface Listed {
  name: string;
  host: string;
  powerState: string;
  cpuNumber: number;
  memory: number;
  disks: Array<{ id: string; capacity: number | null; controller: string; imagePath: string | null }>;
  nics: Array<{ id: string; macAddress: string; adapterType: string | null }>;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe.skipIf(file === undefined)('an external KVM host (needs the libvirt testbed: tests/testbed/libvirt.sh start, or VMLEDGER_TEST_LIBVIRT; see README)', () => {
  let testbed: Testbed;
  let busUrl: string;
  let ownBroker = false;
  let scratch: ReturnType<typeof scratchDir>;
  let main: MainJob;
  let cloud: Cloud;
  const agents: Process[] = [];
  let configs: Map<string, string>;

  beforeAll(async () => {
    testbed = readTestbed(file!);
    if (!testbed.external) throw new Error(`${file} describes no external host: restart the testbed (tests/testbed/libvirt.sh start)`);
    scratch = scratchDir();
    busUrl = process.env['VMLEDGER_TEST_AMQP_URL'] ?? '';
    if (busUrl === '') {
      busUrl = await startBroker(BROKER_PORT);
      ownBroker = true;
    }
    main = await startMainJob(join(scratch.dir, 'data'), busUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '45000' });
    cloud = await createCloud(main.client, testbed);
    await seedTemplates(testbed, cloud);
    configs = writeAgentConfigs(testbed, cloud, busUrl, scratch.dir, join(scratch.dir, 'data'));
    for (const host of testbed.hosts) agents.push(await startAgentProcess(configs.get(host.name)!));
    await until('the hosts to be Up', async () => {
      const { hosts } = await main.client.request<{ hosts: { nodes: Array<{ status: string }> } }>(`{ hosts(first: 10) { nodes { status } } }`);
      return hosts.nodes.every((host) => host.status === 'Up') ? true : undefined;
    });
  }, 300_000);

  afterAll(async () => {
    for (const agent of agents) await agent.kill('SIGKILL');
    await main?.kill('SIGKILL');
    if (ownBroker) await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch?.remove();
  }, 120_000);

  const external = () => testbed.external!;
  const list = async (password: string): Promise<Listed[]> =>
    (
      await main.client.request<{ vmsForImport: { nodes: Listed[]; totalCount: number } }>(LIST, {
        zoneId: cloud.zoneId,
        host: `${external().address}:${external().sshPort}`,
        username: external().username,
        password,
      })
    ).vmsForImport.nodes;

  it('given the external host\'s stopped domains, when listed with its login, then each is offered with its disks (by format) and NICs', async () => {
    const listed = await list(external().password);
    const { domains, macs } = external();
    expect(listed.map((vm) => vm.name).sort()).toEqual([domains.twoDisksTwoNics, domains.raw, domains.vmdk].sort());
    const two = listed.find((vm) => vm.name === domains.twoDisksTwoNics)!;
    expect(two).toMatchObject({ host: external().address, powerState: 'PowerOff', cpuNumber: 1, memory: testbed.guest.memoryMiB });
    expect(two.disks.map((d) => [d.id, d.capacity, d.controller, d.imagePath])).toEqual([
      ['0', testbed.guest.virtualSizeBytes, 'virtio', join(external().storagePath, 'ext-two-root.qcow2')],
      ['1', 32 * MiB, 'virtio', join(external().storagePath, 'ext-two-data.raw')],
    ]);
    expect(two.nics.map((n) => [n.id, n.macAddress, n.adapterType])).toEqual([
      ['0', macs[0], 'virtio'],
      ['1', macs[1], 'virtio'],
    ]);
    expect(listed.find((vm) => vm.name === domains.vmdk)!.disks.map((d) => d.imagePath)).toEqual([join(external().storagePath, 'ext-vmdk-root.vmdk')]);
  });

  it('given a started domain on the external host, then it is not offered (only stopped domains are)', async () => {
    const { domains } = external();
    expect((await onHost(external().name, ['virsh', '-c', 'qemu:///system', 'start', domains.raw])).code).toBe(0);
    try {
      expect((await list(external().password)).map((vm) => vm.name)).not.toContain(domains.raw);
    } finally {
      await onHost(external().name, ['virsh', '-c', 'qemu:///system', 'destroy', domains.raw]);
    }
  });

  it('given a wrong password, then the login is refused, and the password is in no error, log line, event or file the main job keeps', async () => {
    const wrong = `wrong-${Math.random().toString(36).slice(2)}-external-canary`;
    const failure = await list(wrong).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeDefined();
    const text = JSON.stringify((failure as { response?: unknown }).response ?? String(failure));
    expect(text).toMatch(/Failed to list VMs, due to: Unable to connect to remote host 127\.0\.0\.4/);
    expect(text).toMatch(/authentication failed/);
    expect(text.includes(wrong)).toBe(false);
    for (const proc of [main, ...agents]) expect(proc.output().includes(wrong), 'a process logged the password').toBe(false);
    for (const path of filesUnder(join(scratch.dir, 'data'))) expect(readFileSync(path).includes(wrong), `${path} holds the password`).toBe(false);
  });

  const IMPORT = `mutation($zoneId: ID!, $name: String!, $serviceOfferingId: ID!, $templateId: ID, $host: String, $username: String, $password: String,
    $nicNetworkList: [NicNetworkInput!], $dataDiskOfferingList: [DataDiskOfferingInput!]) {
    importVm(zoneId: $zoneId, importSource: EXTERNAL, name: $name, serviceOfferingId: $serviceOfferingId, templateId: $templateId, host: $host,
      username: $username, password: $password, nicNetworkList: $nicNetworkList, dataDiskOfferingList: $dataDiskOfferingList) { id } }`;
  interface ImportedVm {
    id: string;
    state: string;
    instanceName: string;
    nics: Array<{ macAddress: string }>;
    volumes: Array<{ id: string; type: string; size: number }>;
  }
  const importedVm = async (id: string): Promise<ImportedVm> =>
    (await main.client.request<{ virtualMachine: ImportedVm }>(`query($id: ID!) { virtualMachine(id: $id) { id state instanceName nics { macAddress } volumes { id type size } } }`, { id })).virtualMachine;
  const kvmA = () => testbed.hosts.find((host) => host.name === 'kvm-a')!;
  const identical = async (copy: string, source: string, format: string): Promise<boolean> =>
    (await run('qemu-img', ['compare', '-q', '-f', 'qcow2', '-F', format, copy, source]).then(() => 0, (error: { code?: number }) => error.code ?? 1)) === 0;

  /** kvm-a's agent again, its copies forced to `mode`. */
  const restartAgentOfA = async (mode: 'streamed' | 'cloudstack'): Promise<void> => {
    const file = configs.get('kvm-a')!;
    const config = JSON.parse(readFileSync(file, 'utf8')) as { hosts: Array<Record<string, unknown>> };
    config.hosts[0]!['remoteCopyMode'] = mode;
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    const index = testbed.hosts.findIndex((host) => host.name === 'kvm-a');
    await agents[index]!.kill('SIGTERM');
    agents[index] = await startAgentProcess(file);
  };

  for (const mode of ['streamed', 'cloudstack'] as const) {
    it(`given the two-disk, two-NIC domain, when imported with copies ${mode}, then its disks are byte-identical qcow2 copies on kvm-a, and it starts there and boots`, async () => {
      await restartAgentOfA(mode);
      const { domains, macs } = external();
      const { createDiskOffering } = await main.client.request<{ createDiskOffering: { id: string } }>(
        `mutation($name: String!) { createDiskOffering(name: $name, diskSize: 1) { id } }`,
        { name: `ext-data-${mode}` },
      );
      const done = await job(
        main.client,
        IMPORT,
        {
          zoneId: cloud.zoneId,
          name: domains.twoDisksTwoNics,
          serviceOfferingId: cloud.offeringId,
          templateId: cloud.guestTemplateId,
          host: `${external().address}:${external().sshPort}`,
          username: external().username,
          password: external().password,
          nicNetworkList: [{ nic: '0', network: cloud.networkId }, { nic: '1', network: cloud.networkId }],
          dataDiskOfferingList: [{ disk: '1', diskOffering: createDiskOffering.id }],
        },
        300_000,
      );
      expect(done.error).toBeNull();
      const vm = await importedVm(done.instanceId!);
      expect(vm.state).toBe('Stopped');
      expect(vm.nics.map((nic) => nic.macAddress)).toEqual([...macs]);
      const [root, data] = vm.volumes;
      expect([root!.type, data!.type]).toEqual(['ROOT', 'DATADISK']);
      expect(await identical(join(kvmA().storagePath, `${root!.id}.qcow2`), join(external().storagePath, 'ext-two-root.qcow2'), 'qcow2')).toBe(true);
      expect(await identical(join(kvmA().storagePath, `${data!.id}.qcow2`), join(external().storagePath, 'ext-two-data.raw'), 'raw')).toBe(true);
      // Nothing left behind on either side: no partial copy on kvm-a, no converted file on the source.
      expect(readdirSync(kvmA().storagePath).filter((name) => name.includes('.part-'))).toEqual([]);
      expect(readdirSync('/tmp').filter((name) => name.startsWith('vmledger-import-'))).toEqual([]);

      const started = await job(main.client, `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: vm.id });
      expect(started.error).toBeNull();
      expect(await domainState('kvm-a', vm.instanceName)).toBe('running');
      await until(`${vm.instanceName} to boot`, async () => ((await guestAction('kvm-a', testbed.guest.readyCheck, vm.instanceName)) === 0 ? true : undefined), 120_000);
      // Gone again, so the next mode imports the same domain afresh.
      const destroyed = await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: vm.id });
      expect(destroyed.error).toBeNull();
    }, 420_000);
  }

  it('given the domain imported and never started, when expunged, then its copied root disk is gone from kvm-a\'s storage (the data disk, detached by the destruction as CloudStack does, stays)', async () => {
    const { domains } = external();
    const { createDiskOffering } = await main.client.request<{ createDiskOffering: { id: string } }>(`mutation { createDiskOffering(name: "ext-data-idle", diskSize: 1) { id } }`);
    const done = await job(
      main.client,
      IMPORT,
      {
        zoneId: cloud.zoneId,
        name: domains.twoDisksTwoNics,
        serviceOfferingId: cloud.offeringId,
        templateId: cloud.guestTemplateId,
        host: `${external().address}:${external().sshPort}`,
        username: external().username,
        password: external().password,
        nicNetworkList: [{ nic: '0', network: cloud.networkId }, { nic: '1', network: cloud.networkId }],
        dataDiskOfferingList: [{ disk: '1', diskOffering: createDiskOffering.id }],
      },
      300_000,
    );
    expect(done.error).toBeNull();
    const vm = await importedVm(done.instanceId!);
    const copies = vm.volumes.map((volume) => `${volume.id}.qcow2`);
    expect(readdirSync(kvmA().storagePath).filter((name) => copies.includes(name)).sort()).toEqual([...copies].sort());
    const destroyed = await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: vm.id });
    expect(destroyed.error).toBeNull();
    expect(readdirSync(kvmA().storagePath).filter((name) => copies.includes(name))).toEqual([`${vm.volumes[1]!.id}.qcow2`]);
    expect(await domainState('kvm-a', vm.instanceName)).toBe('missing');
  }, 420_000);
});
