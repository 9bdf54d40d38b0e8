// VMware → KVM end to end on the libvirt testbed (issue 17), through GraphQL against the real stack:
// the main job on RabbitMQ, a `vmledger agent` process for kvm-a with virt-v2v configured, and the
// testbed's VMware host (an sshd at 127.0.0.5 over /vmfs/volumes holding a real debootstrapped
// guest). The guest is listed, converted on kvm-a (virt-v2v under TCG, ~3 min), imported into kvm-a's
// storage and started: the domain runs with virtio disks and the source's MAC, the volume is a qcow2
// in the pool, and the temporary files are gone. (The agent-level conversion, with the agent killed
// mid-way, is tests/integration/libvirt-vmware.test.ts.)
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_COMMAND_KEYS_FILE } from '../../api/command-keys.js';
import { testbedHost, testbedHostConfig } from '../testbed/libvirt-testbed.js';
import { onHost, readTestbed, scratchDir, startAgentProcess, startBroker, startMainJob, stopBroker, testbedFile, until, type MainJob, type Process, type Testbed } from './libvirt/world.js';

const BROKER_PORT = 5681;
const file = testbedFile();
const CONVERSION_WAIT_MS = 30 * 60_000;

interface ImportJob {
  id: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  step: string | null;
  progress: number | null;
  instanceId: string | null;
  error: { code: string; message: string } | null;
  result: { id: string; instanceName: string; state: string; nics: Array<{ macAddress: string }>; volumes: Array<{ id: string; type: string; storagePoolId: string | null }> } | null;
}

describe.skipIf(file === undefined)('a VMware guest converted and imported through GraphQL on the libvirt testbed (needs tests/testbed/libvirt.sh start; see README)', () => {
  let testbed: Testbed;
  let scratch: ReturnType<typeof scratchDir>;
  let busUrl: string;
  let ownBroker = false;
  let main: MainJob;
  let agent: Process | undefined;
  let zoneId: string;
  let clusterId: string;
  let hostId: string;
  let networkId: string;
  let templateId: string;
  let offeringId: string;
  let destinationPoolId: string;
  let temporaryPoolId: string;
  let instance: { id: string; instanceName: string; volumeIds: string[] } | undefined;

  const vmware = () => testbed.vmware!;
  const kvmA = () => testbedHost(testbed, 'kvm-a');
  const request = <T>(query: string, variables: Record<string, unknown> = {}) => main.client.request<T>(query, variables);
  const virsh = (...args: string[]) => onHost('kvm-a', ['virsh', '-c', 'qemu:///system', ...args]);

  beforeAll(async () => {
    testbed = readTestbed(file!);
    if (!testbed.vmware) throw new Error(`${file} describes no VMware host: restart the testbed (tests/testbed/libvirt.sh start)`);
    scratch = scratchDir();
    busUrl = process.env['VMLEDGER_TEST_AMQP_URL'] ?? '';
    if (busUrl === '') {
      busUrl = await startBroker(BROKER_PORT);
      ownBroker = true;
    }
    const dataDir = join(scratch.dir, 'data');
    main = await startMainJob(dataDir, busUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '60000' });

    zoneId = (await request<{ createZone: { id: string } }>(`mutation { createZone(name: "v2v-zone", networkType: "Advanced") { id } }`)).createZone.id;
    clusterId = (await request<{ addCluster: { id: string } }>(`mutation($zoneId: ID!) { addCluster(zoneId: $zoneId, name: "v2v-cluster", hypervisor: "KVM") { id } }`, { zoneId })).addCluster.id;
    const a = kvmA();
    hostId = (
      await request<{ addHost: { id: string } }>(
        `mutation($clusterId: ID!, $url: String!, $username: String!, $password: String!) {
          addHost(clusterId: $clusterId, name: "kvm-a", driver: "libvirt", cpuNumber: 8, cpuSpeed: 2000, memory: 8192, url: $url, username: $username, password: $password) { id } }`,
        { clusterId, url: `ssh://${a.address}:${a.sshPort}`, username: a.username, password: a.password },
      )
    ).addHost.id;
    // The volumes' pool is kvm-a's storage directory (where its agent finds a volume to start it);
    // the conversion's temporary location is the directory the testbed shares with the VMware host's
    // side, as kvm-a's own (a local pool, so the volumes cannot be put there).
    destinationPoolId = (
      await request<{ createStoragePool: { id: string } }>(
        `mutation($zoneId: ID!, $clusterId: ID!, $path: String!) { createStoragePool(zoneId: $zoneId, clusterId: $clusterId, scope: "CLUSTER", name: "kvm-a-storage", type: "SharedMountPoint", path: $path) { id } }`,
        { zoneId, clusterId, path: a.storagePath },
      )
    ).createStoragePool.id;
    temporaryPoolId = (
      await request<{ createStoragePool: { id: string } }>(
        `mutation($zoneId: ID!, $hostId: ID!, $path: String!) { createStoragePool(zoneId: $zoneId, hostId: $hostId, name: "v2v-temp", type: "local", path: $path) { id } }`,
        { zoneId, hostId, path: vmware().tempPath },
      )
    ).createStoragePool.id;
    networkId = (await request<{ createNetwork: { id: string } }>(`mutation($zoneId: ID!) { createNetwork(zoneId: $zoneId, name: "v2v-l2", type: L2) { id } }`, { zoneId })).createNetwork.id;
    templateId = (
      await request<{ registerTemplate: { id: string } }>(
        `mutation($zoneId: ID!) { registerTemplate(zoneId: $zoneId, name: "v2v-debian", osType: "Debian GNU/Linux 12 (64-bit)",
          url: "https://images.invalid/debian.qcow2", size: 1073741824, format: "QCOW2", hypervisor: "KVM", isPublic: true) { id } }`,
        { zoneId },
      )
    ).registerTemplate.id;
    offeringId = (
      await request<{ createServiceOffering: { id: string } }>(
        `mutation { createServiceOffering(name: "v2v-custom", customized: true, cpuSpeed: 500, minCpuNumber: 1, maxCpuNumber: 4, minMemory: 256, maxMemory: 4096) { id } }`,
      )
    ).createServiceOffering.id;

    // kvm-a's agent, as an operator configures it: virt-v2v with what it needs here (no /dev/kvm).
    const config = join(scratch.dir, 'agent-kvm-a.json');
    const host = { ...testbedHostConfig(a, hostId, undefined, testbed.hosts), conversion: { virtV2v: 'virt-v2v', env: vmware().conversionEnv } };
    writeFileSync(
      config,
      JSON.stringify({ busUrl, heartbeatIntervalMs: 2_000, powerSyncIntervalMs: 5_000, commandKeysFile: join(dataDir, AGENT_COMMAND_KEYS_FILE), hosts: [host], peers: [] }, null, 2),
      { mode: 0o600 },
    );
    agent = await startAgentProcess(config);
    await until('kvm-a to report virt-v2v', async () => {
      const { hosts } = await request<{ hosts: { nodes: Array<{ id: string; status: string; capabilities: string[] }> } }>(`{ hosts(first: 50) { nodes { id status capabilities } } }`);
      const node = hosts.nodes.find((candidate) => candidate.id === hostId);
      return node?.status === 'Up' && node.capabilities.includes('instance.conversion') ? true : undefined;
    }, 120_000);
  }, 300_000);

  afterAll(async () => {
    if (instance) {
      await virsh('destroy', instance.instanceName);
      await virsh('undefine', instance.instanceName);
      await onHost('kvm-a', ['rm', '-f', ...instance.volumeIds.map((id) => join(kvmA().storagePath, `${id}.qcow2`))]);
    }
    await agent?.kill('SIGKILL');
    await main?.kill('SIGKILL');
    if (ownBroker) await stopBroker(BROKER_PORT).catch(() => undefined);
    scratch?.remove();
  }, 120_000);

  it('given the VMware host, when its guests are listed through GraphQL, then the real guest is there, powered off, with its MAC', async () => {
    const { vmsForImport } = await request<{ vmsForImport: { nodes: Array<{ name: string; powerState: string; cpuNumber: number; memory: number; nics: Array<{ macAddress: string }> }> } }>(
      `query($zoneId: ID!, $host: String!, $username: String!, $password: String) {
        vmsForImport(zoneId: $zoneId, host: $host, username: $username, password: $password, importSource: VMWARE) { nodes { name powerState cpuNumber memory nics { macAddress } } } }`,
      { zoneId, host: `${vmware().address}:${vmware().sshPort}`, username: vmware().username, password: vmware().password },
    );
    expect(vmsForImport.nodes.map((vm) => [vm.name, vm.powerState])).toEqual([
      ['multi', 'PowerOff'],
      ['running', 'PowerOn'],
      ['v2vtest', 'PowerOff'],
    ]);
    expect(vmsForImport.nodes.find((vm) => vm.name === 'v2vtest')).toMatchObject({ cpuNumber: 1, memory: 512, nics: [{ macAddress: vmware().macs.real }] });
  }, 120_000);

  it('given the real guest, when converted and imported on kvm-a and started, then the domain runs with virtio disks and the source\'s MAC, its volume a qcow2 in the pool, no temporary file left', async () => {
    const { importVm } = await request<{ importVm: { id: string } }>(
      `mutation($zoneId: ID!, $clusterId: ID!, $host: String!, $username: String!, $password: String!, $serviceOfferingId: ID!, $templateId: ID!,
        $networkId: ID!, $hostId: ID!, $poolId: ID!) {
        importVm(zoneId: $zoneId, importSource: VMWARE, clusterId: $clusterId, name: "v2vtest", host: $host, username: $username, password: $password,
          serviceOfferingId: $serviceOfferingId, templateId: $templateId, nicNetworkList: [{ nic: "0", network: $networkId }],
          convertInstanceHostId: $hostId, importInstanceHostId: $hostId, convertInstancePoolId: $poolId) { id } }`,
      {
        zoneId,
        clusterId,
        host: `${vmware().address}:${vmware().sshPort}`,
        username: vmware().username,
        password: vmware().password,
        serviceOfferingId: offeringId,
        templateId,
        networkId,
        hostId,
        poolId: temporaryPoolId,
      },
    );
    // The job as it moves: each distinct (step, progress) seen while polling.
    const seen: Array<{ step: string | null; progress: number | null }> = [];
    const job = await until(
      'the conversion job to end',
      async () => {
        const { asyncJob } = await request<{ asyncJob: ImportJob }>(
          `query($id: ID!) { asyncJob(id: $id) { id status step progress instanceId error { code message }
            result { id instanceName state nics { macAddress } volumes { id type storagePoolId } } } }`,
          { id: importVm.id },
        );
        const last = seen.at(-1);
        if (!last || last.step !== asyncJob.step || last.progress !== asyncJob.progress) seen.push({ step: asyncJob.step, progress: asyncJob.progress });
        return asyncJob.status === 'PENDING' ? undefined : asyncJob;
      },
      CONVERSION_WAIT_MS,
    );
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    const vm = job.result!;
    instance = { id: vm.id, instanceName: vm.instanceName, volumeIds: vm.volumes.map((v) => v.id) };
    expect(vm.state).toBe('Stopped');
    expect(vm.nics.map((nic) => nic.macAddress)).toEqual([vmware().macs.real]);
    expect(vm.volumes.map((v) => [v.type, v.storagePoolId])).toEqual([['ROOT', destinationPoolId]]);
    // Progress only rose, through virt-v2v's conversion, to 100.
    const progress = seen.map((s) => s.progress ?? 0);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(seen.map((s) => s.step)).toContain('CONVERTING');
    expect(seen.at(-1)?.progress).toBe(100);

    // The volume: a standalone qcow2 in kvm-a's storage; the conversion's files are gone.
    const volumePath = join(kvmA().storagePath, `${vm.volumes[0]!.id}.qcow2`);
    const info = JSON.parse((await onHost('kvm-a', ['qemu-img', 'info', '-U', '--output=json', volumePath])).stdout) as Record<string, unknown>;
    expect(info['format']).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();
    expect(readdirSync(vmware().tempPath).filter((name) => name.startsWith(vm.id))).toEqual([]);
    expect(existsSync(join(vmware().tempPath, `${vm.id}.export`))).toBe(false);

    // Started as any instance: the domain runs on kvm-a from that volume, on virtio, with the source's MAC.
    const { startVirtualMachine } = await request<{ startVirtualMachine: { id: string } }>(`mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: vm.id });
    const started = await until('the start to end', async () => {
      const { asyncJob } = await request<{ asyncJob: { status: string; error: { message: string } | null } }>(`query($id: ID!) { asyncJob(id: $id) { status error { message } } }`, { id: startVirtualMachine.id });
      return asyncJob.status === 'PENDING' ? undefined : asyncJob;
    }, 180_000);
    expect(started.status, JSON.stringify(started.error)).toBe('SUCCEEDED');
    await until('the domain to run', async () => ((await virsh('domstate', vm.instanceName)).stdout.trim() === 'running' ? true : undefined), 30_000);
    const xml = (await virsh('dumpxml', vm.instanceName)).stdout;
    const disks = [...xml.matchAll(/<disk type='file' device='disk'>[\s\S]*?<\/disk>/g)].map((match) => match[0]);
    expect(disks).toHaveLength(1);
    expect(disks[0]).toContain(`<source file='${volumePath}'`);
    expect(disks[0]).toMatch(/<target dev='vda' bus='virtio'\/>/);
    expect(xml).toContain(`<mac address='${vmware().macs.real}'/>`);
  }, CONVERSION_WAIT_MS + 300_000);
});
