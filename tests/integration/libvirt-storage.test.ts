// Storage on real libvirt hosts (the testbed of tests/testbed/libvirt.sh, over its RabbitMQ broker):
// an offline volume migration between two pools leaves a domain that boots from the new path, and a
// volatile root is really a new disk after a start and after a reboot. What is on the hosts is read
// with virsh and qemu-io inside the hosts' namespaces, not through vmledger.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  startMainJob,
  testbedFile,
  until,
  vm,
  writeAgentConfigs,
  type Cloud,
  type MainJob,
  type Process,
  type Testbed,
} from './libvirt/world.js';

const file = testbedFile();
const amqpUrl = process.env.VMLEDGER_TEST_AMQP_URL ?? '';
const GiB = 1024 ** 3;

describe.skipIf(file === undefined || amqpUrl === '')('storage pools on libvirt hosts (needs the testbed: tests/testbed/testbed.sh start; VMLEDGER_TEST_LIBVIRT and VMLEDGER_TEST_AMQP_URL)', () => {
  let testbed: Testbed;
  let scratch: ReturnType<typeof scratchDir>;
  let main: MainJob;
  let cloud: Cloud;
  let secondPool = '';
  let volatileOffering = '';
  const agents: Process[] = [];
  const A = 'kvm-a';
  const hostId = (name: string): string => cloud.hostIds.get(name)!;

  beforeAll(async () => {
    testbed = readTestbed(file!);
    scratch = scratchDir();
    const dataDir = join(scratch.dir, 'data');
    main = await startMainJob(dataDir, amqpUrl, { VMLEDGER_AGENT_TIMEOUT_MS: '60000', VMLEDGER_GRACEFUL_STOP_MS: '20000' });
    cloud = await createCloud(main.client, testbed);
    await seedTemplates(testbed, cloud);
    // The second pool is a directory every host of the testbed mounts: kvm-b's storage directory,
    // which each agent lists among its shared storage paths.
    const second = testbed.hosts.find((h) => h.name !== A)!;
    secondPool = (
      await main.client.request<{ createStoragePool: { id: string } }>(
        `mutation($z: ID!, $c: ID!, $p: String!, $cap: Float!) {
          createStoragePool(zoneId: $z, clusterId: $c, scope: "CLUSTER", name: "kvm-second", type: "SharedMountPoint", path: $p, capacityBytes: $cap) { id } }`,
        { z: cloud.zoneId, c: cloud.clusterId, p: second.storagePath, cap: 100 * GiB },
      )
    ).createStoragePool.id;
    volatileOffering = (
      await main.client.request<{ createServiceOffering: { id: string } }>(
        `mutation($memory: Int!) { createServiceOffering(name: "kvm-volatile", cpuNumber: 1, cpuSpeed: 500, memory: $memory, isVolatile: true) { id } }`,
        { memory: testbed.guest.memoryMiB },
      )
    ).createServiceOffering.id;
    const configs = writeAgentConfigs(testbed, cloud, amqpUrl, scratch.dir, dataDir);
    for (const host of testbed.hosts) agents.push(await startAgentProcess(configs.get(host.name)!));
  }, 240_000);

  afterAll(async () => {
    for (const agent of agents) await agent.kill('SIGKILL');
    await main?.kill('SIGKILL');
    for (const host of testbed?.hosts ?? []) {
      const listed = await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'list', '--all', '--name']);
      for (const name of listed.stdout.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('i-'))) {
        await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'destroy', name]);
        await onHost(host.name, ['virsh', '-c', 'qemu:///system', 'undefine', name]);
      }
    }
    scratch?.remove();
  }, 120_000);

  const deploy = async (name: string, offeringId = cloud.offeringId): Promise<{ id: string; instanceName: string }> => {
    const done = await job(main.client, DEPLOY, { zoneId: cloud.zoneId, serviceOfferingId: offeringId, templateId: cloud.guestTemplateId, networkIds: [cloud.networkId], name, hostId: hostId(A), startVm: true });
    expect(done.error).toBeNull();
    return { id: done.instanceId!, instanceName: (await vm(main.client, done.instanceId!))!.instanceName };
  };
  const guestReady = (domain: string): Promise<true> =>
    until(`the guest ${domain} to boot`, async () => ((await guestAction(A, testbed.guest.readyCheck, domain)) === 0 ? true : undefined), 120_000);
  /** The file the domain's one disk is, as virsh on the host defines it. */
  const diskOf = async (domain: string): Promise<string> => {
    const listed = await onHost(A, ['virsh', '-c', 'qemu:///system', 'domblklist', '--domain', domain, '--details']);
    const paths = listed.stdout.split('\n').flatMap((line) => line.trim().split(/\s+/)).filter((word) => word.endsWith('.qcow2'));
    expect(paths).toHaveLength(1);
    return paths[0]!;
  };
  const root = async (id: string): Promise<{ id: string; storagePoolId: string | null }> =>
    (await main.client.request<{ virtualMachine: { volumes: Array<{ id: string; type: string; storagePoolId: string | null }> } }>(`query($id: ID!) { virtualMachine(id: $id) { volumes { id type storagePoolId } } }`, { id }))
      .virtualMachine.volumes.find((v) => v.type === 'ROOT')!;
  const lifecycle = (mutation: 'stop' | 'start' | 'reboot', id: string) =>
    job(main.client, `mutation($id: ID!) { ${mutation}VirtualMachine(id: $id) { id } }`, { id }, 180_000);

  it('an offline volume migration between two pools leaves a domain that boots from the new path', async () => {
    const mover = await deploy('mover');
    await guestReady(mover.instanceName);
    expect((await lifecycle('stop', mover.id)).status).toBe('SUCCEEDED');
    const before = await diskOf(mover.instanceName);
    const volume = await root(mover.id);
    expect(before).toBe(join(testbed.hosts.find((h) => h.name === A)!.storagePath, `${volume.id}.qcow2`));

    const moved = await job(
      main.client,
      `mutation($id: ID!, $to: [MigrateVolumeInput!]!) { migrateVirtualMachineWithVolume(virtualMachineId: $id, migrateTo: $to) { id } }`,
      { id: mover.id, to: [{ volume: volume.id, pool: secondPool }] },
      180_000,
    );
    expect(moved.error).toBeNull();
    expect(await root(mover.id)).toMatchObject({ id: volume.id, storagePoolId: secondPool });
    const after = await diskOf(mover.instanceName);
    expect(after).toBe(join(testbed.hosts.find((h) => h.name !== A)!.storagePath, `${volume.id}.qcow2`));
    expect(existsSync(after)).toBe(true);
    expect(existsSync(before)).toBe(false);

    expect((await lifecycle('start', mover.id)).status).toBe('SUCCEEDED');
    await until('running', async () => ((await domainState(A, mover.instanceName)) === 'running' ? true : undefined), 15_000);
    await guestReady(mover.instanceName);
    expect(await diskOf(mover.instanceName)).toBe(after);
    expect((await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: mover.id })).status).toBe('SUCCEEDED');
    await until('the copy removed with the instance', async () => (existsSync(after) ? undefined : true), 30_000);
  }, 600_000);

  it('a volatile root is really a new disk after a start and after a reboot', async () => {
    const marker = ['-c', 'write -P 0x5a 40M 64k'];
    const hasMarker = async (path: string): Promise<boolean> => {
      const read = await onHost(A, ['qemu-io', '-U', '-r', '-c', 'read -P 0x5a 40M 64k', path]);
      return read.code === 0 && !/verification failed/i.test(read.stdout + read.stderr);
    };
    const present = async (path: string): Promise<boolean> => (await onHost(A, ['test', '-e', path])).code === 0;
    const guest = await deploy('volatile', volatileOffering);
    await guestReady(guest.instanceName);
    expect((await lifecycle('stop', guest.id)).status).toBe('SUCCEEDED');
    const first = await diskOf(guest.instanceName);
    expect((await onHost(A, ['qemu-io', ...marker, first])).code).toBe(0);
    expect(await hasMarker(first)).toBe(true);

    expect((await lifecycle('start', guest.id)).status).toBe('SUCCEEDED');
    const second = await diskOf(guest.instanceName);
    expect(second).not.toBe(first);
    expect(await hasMarker(second)).toBe(false);
    // The replaced root's disk is removed from the host, not left behind with each reset.
    expect(await present(first)).toBe(false);
    await guestReady(guest.instanceName);

    expect((await lifecycle('reboot', guest.id)).status).toBe('SUCCEEDED');
    const third = await diskOf(guest.instanceName);
    expect([first, second]).not.toContain(third);
    expect(await present(second)).toBe(false);
    await until('running', async () => ((await domainState(A, guest.instanceName)) === 'running' ? true : undefined), 15_000);
    await guestReady(guest.instanceName);
    expect((await job(main.client, `mutation($id: ID!) { destroyVirtualMachine(id: $id, expunge: true) { id } }`, { id: guest.id })).status).toBe('SUCCEEDED');
    expect(await present(third)).toBe(false);
  }, 600_000);
});
